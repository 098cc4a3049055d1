import Foundation

extension GraphModel {
    /// An ONNX image classifier, ready to explain: read, checked for operators we run,
    /// specialised to its input size, its layers named and its default layer found.
    ///
    /// - Parameters:
    ///   - inputSize: (height, width), needed when the file leaves them open.
    ///   - layout: how token or channels-last layers are read, where detection would be wrong.
    /// - Throws: `ONNXError` for a damaged file, `ONNXImportError` for a model we cannot run.
    public static func onnx(contentsOf url: URL, inputSize: (Int, Int)? = nil, channels: Int = 3,
                            layout: ActivationLayout? = nil) throws -> GraphModel {
        let source = try ONNXGraphSource(model: try ONNXModel.load(contentsOf: url))
        let shape: [Int]
        if let (h, w) = inputSize {
            shape = [1, channels, h, w]
        } else if let declared = source.declaredInputShape {
            shape = declared
        } else {
            throw ONNXImportError(file: url, node: nil, problem:
                "the model does not fix its input height and width; give the input size (preprocessing) it expects")
        }
        let graph = try source.graph(forInputShape: shape)
        let layers = ONNXLayerNaming.layers(of: source.model, in: graph, override: layout)
        guard let value = ONNXLayerNaming.defaultValue(in: graph) else {
            throw ONNXImportError(file: url, node: nil, problem:
                "no global pooling before the classifier, so there is no default layer: name one (`explain layers` lists them)")
        }
        let name = graph.names[value]
        // The outermost module that hands the value on (`layer4`, not `layer4.1.act2`), else the value's name.
        let candidates = layers.filter { $0.isModulePath && graph.value(named: $0.value) == value }
        let defaultLayer = candidates.min { ($0.name.count, $0.name) < ($1.name.count, $1.name) }?.name ?? name
        return try GraphModel(source: source, inputShape: shape, layers: layers, defaultLayer: defaultLayer)
    }

    /// Class names the file carries in its metadata (`labels` or `classes`: a JSON list of
    /// strings, or one name per line), if any.
    public static func onnxLabels(of model: ONNXModel) -> [String]? {
        for key in ["labels", "classes", "class_names"] {
            guard let text = model.metadata[key] else { continue }
            if let data = text.data(using: .utf8), let list = try? JSONDecoder().decode([String].self, from: data) { return list }
            let lines = text.split(whereSeparator: \.isNewline).map(String.init)
            if !lines.isEmpty { return lines }
        }
        return nil
    }
}
