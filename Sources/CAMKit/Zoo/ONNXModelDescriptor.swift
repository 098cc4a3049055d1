import Foundation

extension ModelDescriptor {
    /// An ONNX classifier as a catalog entry, for a zoo file's `"architecture": "onnx"` and for
    /// `explain --model FILE.onnx`.
    ///
    /// - Parameters:
    ///   - labelsURL: one class name per line; nil takes them from the file's metadata.
    ///   - preprocessing: nil means timm's ImageNet evaluation recipe at the size the file declares.
    ///   - layout: how to read token or channels-last layers where detection would be wrong.
    /// - Throws: when the labels cannot be had or their count differs from the model's classes.
    public static func onnx(name: String, url: URL, labelsURL: URL?, preprocessing: Preprocessing?,
                            layout: ActivationLayout? = nil, defaultLayer: String? = nil,
                            licence: String = "unknown") throws -> ModelDescriptor {
        let labels: [String]? = try labelsURL.map { try readLabelList($0) }
        // Loading is deferred to `load()`, but the listing needs a class count: from the
        // labels file, or from the model itself when the labels live in its metadata.
        let classes = labels?.count ?? 0
        return ModelDescriptor(
            name: name, architecture: "onnx", summary: "ONNX model \(url.lastPathComponent)" + (labels.map { ", \($0.count) classes" } ?? ""),
            classes: classes, licence: licence, defaultLayer: defaultLayer ?? "(found in the graph)", weightsURL: url,
            fetchHint: "export the model to \(url.path) (the README says how)"
        ) {
            let model = try GraphModel.onnx(contentsOf: url, inputSize: preprocessing.map { ($0.cropHeight, $0.cropWidth) },
                                            layout: layout)
            let names: [String]
            if let labels {
                names = labels
            } else if let fromFile = GraphModel.onnxLabels(of: (model.source as! ONNXGraphSource).model) {
                names = fromFile
            } else {
                throw ONNXImportError(file: url, node: nil, problem: "no labels: give a labels file (one class name per line)")
            }
            guard names.count == model.outputSize else {
                throw ONNXImportError(file: labelsURL ?? url, node: nil, problem:
                    "\(names.count) labels for a model with \(model.outputSize) classes (\(url.lastPathComponent))")
            }
            if let defaultLayer, model.layer(named: defaultLayer) == nil {
                throw ONNXImportError(file: url, node: nil, problem: "no layer named '\(defaultLayer)' (`explain layers \(url.path)` lists them)")
            }
            let recipe = preprocessing ?? .timm(inputSize: model.inputShape[2], cropPct: 0.875)
            return ExplainableModel(name: name, model: model, labels: names, preprocessing: recipe, defaultLayer: defaultLayer)
        }
    }
}

/// A labels file: one class name per line, blank lines ignored, in the model's class order.
public func readLabelList(_ url: URL) throws -> [String] {
    let text: String
    do { text = try BoundedRead.text(url, limit: 16 << 20) } catch {
        throw LabelListError(file: url, unreadable: "\(error)")
    }
    let labels = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    guard !labels.isEmpty else { throw LabelListError(file: url, unreadable: nil) }
    return labels
}

/// A labels file that cannot be read (`unreadable` says why) or that is empty (nil).
public struct LabelListError: Error, CustomStringConvertible {
    public let file: URL
    public let unreadable: String?
    public var description: String {
        unreadable.map { "cannot read the labels file \(file.path) (\($0))" } ?? "the labels file \(file.path) is empty"
    }
}
