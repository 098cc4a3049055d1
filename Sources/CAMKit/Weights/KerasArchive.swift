import Foundation
import ZIPFoundation

/// A Keras 3 `.keras` file: a zip archive of `config.json` (the model's structure),
/// `metadata.json` and `model.weights.h5` (the weights, read by `HDF5File`).
///
/// The weights file holds one group per layer under `layers/` (nested models have their own
/// `layers/`), named after the layer's class rather than the layer, with the layer's name in
/// the `name` attribute of its `vars` group and its variables as datasets `0`, `1`, … in the
/// order the layer creates them. Layers are matched by that name to the config, which gives
/// each variable's meaning (a Conv2D without bias has only its kernel). The archive gets the
/// `.pth` reader's checks: ZIP64 fields in range, stored (uncompressed) entries whose sizes
/// fit the file, checksums.
struct KerasArchive {
    let url: URL
    private let config: String
    private let weights: HDF5File

    /// Whether the file is a zip archive (a `.keras` file) rather than HDF5, by its first bytes.
    static func isArchive(_ url: URL) -> Bool {
        guard let handle = try? FileHandle(forReadingFrom: url) else { return false }
        defer { try? handle.close() }
        return (try? handle.read(upToCount: 4)) == Data([0x50, 0x4B, 0x03, 0x04])
    }

    init(_ url: URL) throws {
        self.url = url
        func fail(_ detail: String) -> KerasHDF5Error { KerasHDF5Error(file: url, layer: nil, detail: detail) }
        let data: Data
        do { data = try BoundedRead.data(url, limit: HDF5File.maxFileSize) } catch {
            throw fail("cannot read file (\(error))")
        }
        if let bad = data.withUnsafeBytes({ ZIP64Check.firstBadField(in: $0) }) { throw fail("damaged zip archive: \(bad)") }
        let archive: Archive
        do { archive = try Archive(url: url, accessMode: .read) } catch { throw fail("not a zip archive") }
        func entry(_ name: String, limit: Int) throws -> [UInt8] {
            guard let entry = archive[name] else { throw fail("not a Keras 3 archive: it has no \(name)") }
            do {
                return try TorchCheckpoint.extract(entry, from: archive, file: url, fileSize: UInt64(data.count), limit: limit)
            } catch let error as WeightsError {
                // The message without its leading "<file>: ", which this error adds again.
                throw fail(String(error.description.dropFirst(url.path.count + 2)))
            }
        }
        config = String(decoding: try entry("config.json", limit: 1 << 26), as: UTF8.self)
        let weightsBytes = try entry("model.weights.h5", limit: HDF5File.maxFileSize)
        weights = try KerasHDF5.mapErrors(url, layer: nil) {
            try HDF5File(bytes: weightsBytes, url: url.appendingPathComponent("model.weights.h5"))
        }
    }

    func layerClasses() throws -> [(name: String, className: String)] {
        try KerasHDF5.layers(ofConfig: config, file: url, source: "config.json").map { ($0.name, $0.className) }
    }

    func stateDict(nestedPrefixes: [String: String]) throws -> StateDict {
        let layers = try KerasHDF5.layers(ofConfig: config, file: url, source: "config.json")
        let configs = Dictionary(layers.map { ($0.name, ($0.className, $0.config)) }, uniquingKeysWith: { a, _ in a })
        var pairs: [(String, Tensor)] = []
        var layerOf: [String] = []  // the layer of each pair
        var seen = Set<String>()
        var visited = Set<UInt64>()  // layer groups, by object: hard links can make cycles
        try KerasHDF5.mapErrors(url, layer: nil) {
            guard let root = try weights.object(at: "/layers") else { return }
            try walk(root, nestedIn: nil, depth: 0)
        }

        /// Each layer group under `group`, depth first, with the nested model it belongs to.
        func walk(_ group: HDF5Object, nestedIn model: String?, depth: Int) throws {
            guard depth < 64 else { throw KerasHDF5Error(file: url, layer: nil, detail: "model.weights.h5 nests layers more than 64 deep") }
            for link in try group.links() {
                guard let layerGroup = try group.child(named: link.name) else { continue }
                guard visited.insert(layerGroup.address).inserted else {
                    throw KerasHDF5Error(file: url, layer: nil, detail: "model.weights.h5 links to the layer group '\(layerGroup.path)' twice")
                }
                guard let vars = try layerGroup.child(named: "vars"),
                      let name = try vars.attribute(named: "name")?.strings().first else { continue }
                let (className, config) = configs[name] ?? ("?", [:])
                if KerasHDF5.isNested(className) {
                    if let inner = try layerGroup.child(named: "layers") {
                        try walk(inner, nestedIn: name, depth: depth + 1)
                    }
                    continue
                }
                try add(vars, layer: name, className: className, config: config, nestedIn: model)
            }
        }

        func add(_ vars: HDF5Object, layer: String, className: String, config: [String: Any], nestedIn model: String?) throws {
            let count = try vars.links().count
            if count == 0 { return }
            let params = try KerasArchive.variableNames(className: className, config: config, count: count, file: url, layer: layer)
            let prefix = model.map { (nestedPrefixes[$0] ?? $0) + "." } ?? ""
            for (index, param) in params.enumerated() {
                let path = vars.path + "/\(index)"
                guard let dataset = try vars.child(named: String(index))?.dataset() else {
                    throw KerasHDF5Error(file: url, layer: layer, detail: "model.weights.h5 has no dataset '\(path)'")
                }
                let values = try KerasHDF5.mapErrors(url, layer: layer) { try dataset.readFloats() }
                let (name, tensor) = try KerasHDF5.convert(values, dims: dataset.shape, className: className, param: param,
                                                           layer: layer, file: url, path: path)
                let key = prefix + layer + "." + name
                guard seen.insert(key).inserted else { throw KerasHDF5Error(file: url, layer: layer, detail: "two weights map to the key '\(key)'") }
                pairs.append((key, tensor))
                layerOf.append(layer)
            }
        }

        // Groups are listed by name (`batch_normalization`, `conv2d`, …); the keys follow the
        // config's layer order instead, as an `.h5` file's do.
        let order = Dictionary(layers.enumerated().map { ($0.element.name, $0.offset) }, uniquingKeysWith: { a, _ in a })
        let sorted = pairs.enumerated().sorted { a, b in
            let (x, y) = (order[layerOf[a.offset]] ?? Int.max, order[layerOf[b.offset]] ?? Int.max)
            return x != y ? x < y : a.offset < b.offset
        }
        return StateDict(sorted.map(\.element), source: url)
    }

    /// The Keras names of a layer's variables, in the order Keras 3 creates them.
    static func variableNames(className: String, config: [String: Any], count: Int, file: URL, layer: String) throws -> [String] {
        func flag(_ key: String) -> Bool { config[key] as? Bool ?? true }
        let names: [String]
        switch className {
        case "Conv2D", "DepthwiseConv2D", "Dense":
            names = ["kernel"] + (flag("use_bias") ? ["bias"] : [])
        case "BatchNormalization":
            names = (flag("scale") ? ["gamma"] : []) + (flag("center") ? ["beta"] : []) + ["moving_mean", "moving_variance"]
        default:
            throw KerasHDF5Error(file: file, layer: layer, detail: "\(className) has \(count) weights, which have no PyTorch equivalent in this reader")
        }
        guard names.count == count else {
            throw KerasHDF5Error(file: file, layer: layer, detail: "\(className) should have \(names.count) weights (\(names.joined(separator: ", "))), model.weights.h5 has \(count)")
        }
        return names
    }
}
