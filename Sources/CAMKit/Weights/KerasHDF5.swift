import Foundation

/// Why a Keras weights file could not be read. Every message names the file, and the layer or
/// weight at fault when there is one.
public struct KerasHDF5Error: Error, CustomStringConvertible {
    public let file: URL
    public let layer: String?
    public let detail: String

    public var description: String {
        "\(file.path): " + (layer.map { "layer '\($0)': " } ?? "") + detail
    }
}

/// Reads the weights of a Keras model into a `StateDict` with PyTorch layouts and names, from
/// an HDF5 file (`model.save("x.h5")`, Keras 2 or 3, or `save_weights`) or a Keras 3 `.keras`
/// archive, through CAMKit's own HDF5 reader (`HDF5File`), which checks every structure
/// against the file.
///
/// In an `.h5` file, the `model_weights` group lists its layers in the `layer_names`
/// attribute; each layer group lists its datasets in `weight_names` (`dense/kernel`, or for a
/// nested functional model such as `mobilenetv2_1.00_160`, one entry per inner weight:
/// `Conv1/kernel`, …). The layer classes come from the `model_config` JSON. A `.keras` file
/// holds the config as `config.json` and the weights in `model.weights.h5` by layer path
/// (`KerasArchive`). Key of a weight: the nested model's prefix (see `nestedPrefixes`), the
/// Keras layer name, and the PyTorch parameter name:
///
/// | Keras layer | Keras weight | key | layout |
/// |---|---|---|---|
/// | Conv2D | kernel (kh, kw, in, out) | `.weight` | (out, in, kh, kw) |
/// | DepthwiseConv2D | kernel / depthwise_kernel (kh, kw, in, m) | `.weight` | (in·m, 1, kh, kw) |
/// | Dense | kernel (in, out) | `.weight` | (out, in) |
/// | any | bias | `.bias` | as stored |
/// | BatchNormalization | gamma, beta, moving_mean, moving_variance | `.weight`, `.bias`, `.running_mean`, `.running_var` | as stored |
///
/// Anything else is an error naming the layer. Datasets must be floating point (f16, f32 and
/// f64, either byte order, are converted to float32) with the rank their layer class needs.
public enum KerasHDF5 {
    /// - Parameter nestedPrefixes: module path for each nested model's weights, e.g.
    ///   `["mobilenetv2_1.00_160": "backbone"]` (Keras model names may contain dots, which
    ///   module paths cannot). A nested model not listed keeps its Keras name.
    public static func read(contentsOf url: URL, nestedPrefixes: [String: String] = [:]) throws -> StateDict {
        if KerasArchive.isArchive(url) {
            return try KerasArchive(url).stateDict(nestedPrefixes: nestedPrefixes)
        }
        return try Reader(url).stateDict(nestedPrefixes: nestedPrefixes)
    }

    /// Every layer of the saved model (nested ones included) with its Keras class, from the
    /// `model_config` attribute (or a `.keras` file's `config.json`), in file order.
    public static func layerClasses(contentsOf url: URL) throws -> [(name: String, className: String)] {
        if KerasArchive.isArchive(url) {
            return try KerasArchive(url).layerClasses()
        }
        return try Reader(url).layerClasses()
    }

    /// Runs `body`, turning the HDF5 reader's errors into errors about `layer` of `file`.
    static func mapErrors<T>(_ file: URL, layer: String?, _ body: () throws -> T) throws -> T {
        do { return try body() } catch let error as HDF5Error {
            let inner = error.file == file ? "" : error.file.lastPathComponent + ": "
            throw KerasHDF5Error(file: file, layer: layer, detail: inner + error.detail)
        }
    }

    /// Every layer of a Keras config (`model_config` or `config.json`) with its class and config.
    static func layers(ofConfig json: String, file: URL, source: String) throws -> [(name: String, className: String, config: [String: Any])] {
        guard let root = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any] else {
            throw KerasHDF5Error(file: file, layer: nil, detail: "\(source) is not a JSON object (is this a Keras model file?)")
        }
        var out: [(String, String, [String: Any])] = []
        // Keras nests models a few levels at most; the cap keeps a hostile config off the stack.
        func walk(_ node: [String: Any], depth: Int) throws {
            guard depth < 64 else { throw KerasHDF5Error(file: file, layer: nil, detail: "\(source) nests models more than 64 deep") }
            guard let className = node["class_name"] as? String, let config = node["config"] as? [String: Any] else { return }
            if let name = config["name"] as? String { out.append((name, className, config)) }
            for layer in config["layers"] as? [[String: Any]] ?? [] { try walk(layer, depth: depth + 1) }
        }
        try walk(root, depth: 0)
        return out
    }

    static func isNested(_ className: String?) -> Bool {
        className.map { ["Functional", "Model", "Sequential"].contains($0) } ?? false
    }

    private final class Reader {
        let url: URL
        let file: HDF5File

        init(_ url: URL) throws {
            self.url = url
            file = try KerasHDF5.mapErrors(url, layer: nil) { try HDF5File(contentsOf: url) }
        }

        func fail(_ layer: String?, _ detail: String) -> KerasHDF5Error {
            KerasHDF5Error(file: url, layer: layer, detail: detail)
        }

        /// A string or string-array attribute, or nil when the object or attribute is missing.
        func strings(_ objectPath: String, _ name: String, layer: String?) throws -> [String]? {
            try KerasHDF5.mapErrors(url, layer: layer) {
                try file.object(at: objectPath)?.attribute(named: name)?.strings()
            }
        }

        func layerClasses() throws -> [(name: String, className: String)] {
            try configLayers().map { ($0.name, $0.className) }
        }

        func configLayers() throws -> [(name: String, className: String, config: [String: Any])] {
            guard let json = try strings("/", "model_config", layer: nil)?.first else {
                throw fail(nil, "no readable model_config attribute (is this a Keras model file?)")
            }
            return try KerasHDF5.layers(ofConfig: json, file: url, source: "the model_config attribute")
        }

        func stateDict(nestedPrefixes: [String: String]) throws -> StateDict {
            var group = "/"
            var layerNames = try strings("/", "layer_names", layer: nil)
            if layerNames == nil {
                group = "/model_weights"
                layerNames = try strings(group, "layer_names", layer: nil)
            }
            guard let layerNames else {
                throw fail(nil, "no model_weights group with a layer_names attribute (not a Keras HDF5 model or weights file)")
            }
            let classes = Dictionary(try layerClasses().map { ($0.name, $0.className) }, uniquingKeysWith: { a, _ in a })
            var pairs: [(String, Tensor)] = []
            var seen = Set<String>()
            for layer in layerNames {
                let layerPath = (group == "/" ? "" : group) + "/" + layer
                guard let weightNames = try strings(layerPath, "weight_names", layer: layer) else {
                    throw fail(layer, "no attribute 'weight_names' on '\(layerPath)'")
                }
                let prefix = KerasHDF5.isNested(classes[layer]) ? (nestedPrefixes[layer] ?? layer) + "." : ""
                for weightName in weightNames {
                    var parts = weightName.split(separator: "/").map(String.init)
                    if let last = parts.last, let colon = last.lastIndex(of: ":") { parts[parts.count - 1] = String(last[..<colon]) }
                    guard parts.count >= 2 else { throw fail(layer, "weight name '\(weightName)' has no layer part") }
                    let owner = parts[parts.count - 2], param = parts[parts.count - 1]
                    let ownerClass = classes[owner] ?? classes[layer] ?? "?"
                    let path = layerPath + "/" + weightName
                    let stored = try KerasHDF5.mapErrors(url, layer: owner) { () throws -> ([Float], [Int])? in
                        guard let dataset = try file.object(at: path)?.dataset() else { return nil }
                        return (try dataset.readFloats(), dataset.shape)
                    }
                    guard let (values, dims) = stored else { throw fail(owner, "dataset '\(path)' listed in weight_names does not exist") }
                    let (name, tensor) = try KerasHDF5.convert(values, dims: dims, className: ownerClass, param: param, layer: owner, file: url, path: path)
                    let key = prefix + owner + "." + name
                    guard seen.insert(key).inserted else { throw fail(owner, "two weights map to the key '\(key)'") }
                    pairs.append((key, tensor))
                }
            }
            return StateDict(pairs, source: url)
        }
    }

    /// The PyTorch parameter name and layout of a Keras weight.
    static func convert(_ v: [Float], dims: [Int], className: String, param: String, layer: String, file: URL, path: String) throws -> (String, Tensor) {
        func fail(_ detail: String) -> KerasHDF5Error { KerasHDF5Error(file: file, layer: layer, detail: detail) }
        guard !dims.contains(0) else { throw fail("dataset '\(path)' has shape \(dims)") }
        func need(_ rank: Int) throws {
            guard dims.count == rank else { throw fail("\(className) \(param) should have rank \(rank), has shape \(dims)") }
        }
        switch (className, param) {
        case (_, "bias"):
            try need(1)
            return ("bias", Tensor(shape: dims, scalars: v))
        case ("BatchNormalization", _):
            let names = ["gamma": "weight", "beta": "bias", "moving_mean": "running_mean", "moving_variance": "running_var"]
            guard let name = names[param] else { throw fail("unknown BatchNormalization weight '\(param)'") }
            try need(1)
            return (name, Tensor(shape: dims, scalars: v))
        case ("Conv2D", "kernel"):
            try need(4)
            let (kh, kw, cin, cout) = (dims[0], dims[1], dims[2], dims[3])
            var out = [Float](repeating: 0, count: v.count)
            for y in 0..<kh { for x in 0..<kw { for i in 0..<cin { for o in 0..<cout {
                out[((o * cin + i) * kh + y) * kw + x] = v[((y * kw + x) * cin + i) * cout + o]
            } } } }
            return ("weight", Tensor(shape: [cout, cin, kh, kw], scalars: out))
        case ("DepthwiseConv2D", "kernel"), ("DepthwiseConv2D", "depthwise_kernel"):
            try need(4)
            let (kh, kw, cin, mult) = (dims[0], dims[1], dims[2], dims[3])
            var out = [Float](repeating: 0, count: v.count)
            for y in 0..<kh { for x in 0..<kw { for i in 0..<cin { for m in 0..<mult {
                out[((i * mult + m) * kh + y) * kw + x] = v[((y * kw + x) * cin + i) * mult + m]
            } } } }
            return ("weight", Tensor(shape: [cin * mult, 1, kh, kw], scalars: out))
        case ("Dense", "kernel"):
            try need(2)
            let (cin, cout) = (dims[0], dims[1])
            var out = [Float](repeating: 0, count: v.count)
            for i in 0..<cin { for o in 0..<cout { out[o * cin + i] = v[i * cout + o] } }
            return ("weight", Tensor(shape: [cout, cin], scalars: out))
        default:
            throw fail("\(className) weight '\(param)' (shape \(dims)) has no PyTorch equivalent in this reader")
        }
    }
}
