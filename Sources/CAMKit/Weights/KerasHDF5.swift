import CHDF5
import Foundation

/// Why a Keras HDF5 weights file could not be read. Every message names the file, and the
/// layer or weight at fault when there is one.
public struct KerasHDF5Error: Error, CustomStringConvertible {
    public let file: URL
    public let layer: String?
    public let detail: String

    public var description: String {
        "\(file.path): " + (layer.map { "layer '\($0)': " } ?? "") + detail
    }
}

/// Reads the weights of a Keras model saved as HDF5 (`model.save("x.h5")`, Keras 2 or 3)
/// through libhdf5, into a `StateDict` with PyTorch layouts and names.
///
/// The file's `model_weights` group lists its layers in the `layer_names` attribute; each layer
/// group lists its datasets in `weight_names` (`dense/kernel`, or for a nested functional model
/// such as `mobilenetv2_1.00_160`, one entry per inner weight: `Conv1/kernel`, …). The layer
/// classes come from the `model_config` JSON. Key of a weight: the nested model's prefix (see
/// `nestedPrefixes`), the Keras layer name, and the PyTorch parameter name:
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
/// f64 are converted to float32 by libhdf5) with the rank their layer class needs.
public enum KerasHDF5 {
    /// libhdf5 as packaged by Debian is built without thread safety.
    private static let lock = NSLock()

    /// - Parameter nestedPrefixes: module path for each nested model's weights, e.g.
    ///   `["mobilenetv2_1.00_160": "backbone"]` (Keras model names may contain dots, which
    ///   module paths cannot). A nested model not listed keeps its Keras name.
    public static func read(contentsOf url: URL, nestedPrefixes: [String: String] = [:]) throws -> StateDict {
        try lock.withLock { try Reader(url).stateDict(nestedPrefixes: nestedPrefixes) }
    }

    /// Every layer of the saved model (nested ones included) with its Keras class, from the
    /// `model_config` attribute, in file order.
    public static func layerClasses(contentsOf url: URL) throws -> [(name: String, className: String)] {
        try lock.withLock { try Reader(url).layerClasses() }
    }

    private final class Reader {
        let url: URL
        let file: hid_t
        /// No dataset or attribute can hold more bytes than this: the bound for every allocation.
        let fileSize: UInt64

        init(_ url: URL) throws {
            self.url = url
            _ = H5open()
            _ = camkit_h5_silence_errors()
            guard FileManager.default.isReadableFile(atPath: url.path) else {
                throw KerasHDF5Error(file: url, layer: nil, detail: "cannot read file (missing or not readable)")
            }
            fileSize = ((try? FileManager.default.attributesOfItem(atPath: url.path))?[.size] as? NSNumber)?.uint64Value ?? 0
            guard H5Fis_hdf5(url.path) > 0 else {
                throw KerasHDF5Error(file: url, layer: nil, detail: "not an HDF5 file")
            }
            file = H5Fopen(url.path, camkit_h5f_acc_rdonly(), camkit_h5p_default())
            guard file >= 0 else { throw KerasHDF5Error(file: url, layer: nil, detail: "libhdf5 could not open the file") }
        }

        deinit { H5Fclose(file) }

        func fail(_ layer: String?, _ detail: String) -> KerasHDF5Error {
            KerasHDF5Error(file: url, layer: layer, detail: detail)
        }

        // MARK: attributes

        func hasAttribute(_ object: String, _ name: String) -> Bool {
            H5Aexists_by_name(file, object, name, camkit_h5p_default()) > 0
        }

        /// A string or string-array attribute, fixed-length or variable-length.
        func strings(_ object: String, _ name: String, layer: String?) throws -> [String] {
            guard hasAttribute(object, name) else { throw fail(layer, "no attribute '\(name)' on '\(object)'") }
            let attr = H5Aopen_by_name(file, object, name, camkit_h5p_default(), camkit_h5p_default())
            guard attr >= 0 else { throw fail(layer, "cannot open attribute '\(name)' on '\(object)'") }
            defer { H5Aclose(attr) }
            let type = H5Aget_type(attr)
            defer { H5Tclose(type) }
            let space = H5Aget_space(attr)
            defer { H5Sclose(space) }
            let count = Int(H5Sget_simple_extent_npoints(space))
            guard count >= 0 else { throw fail(layer, "attribute '\(name)' has no extent") }
            guard UInt64(count) <= fileSize else {
                throw fail(layer, "attribute '\(name)' on '\(object)' declares \(count) strings, more than the \(fileSize)-byte file can hold")
            }
            // h5py stores an empty list (a layer without weights) as an empty float array.
            if count == 0 { return [] }
            guard H5Tget_class(type) == H5T_STRING else { throw fail(layer, "attribute '\(name)' on '\(object)' is not a string") }
            let memType = H5Tcopy(camkit_h5t_c_s1())
            defer { H5Tclose(memType) }
            if H5Tis_variable_str(type) > 0 {
                H5Tset_size(memType, camkit_h5t_variable())
                var pointers = [UnsafeMutablePointer<CChar>?](repeating: nil, count: count)
                guard H5Aread(attr, memType, &pointers) >= 0 else { throw fail(layer, "cannot read attribute '\(name)'") }
                defer { for p in pointers { if let p { H5free_memory(p) } } }
                return pointers.map { $0.map { String(cString: $0) } ?? "" }
            } else {
                let size = H5Tget_size(type)
                guard size > 0 else { throw fail(layer, "attribute '\(name)' has string size 0") }
                let (total, overflow) = count.multipliedReportingOverflow(by: size)
                guard !overflow, UInt64(total) <= fileSize else {
                    throw fail(layer, "attribute '\(name)' on '\(object)' declares \(count) strings of \(size) bytes, more than the \(fileSize)-byte file can hold")
                }
                // Null-padded, as h5py writes fixed-length strings: a null-terminated memory
                // type of the same size would drop the last character of the longest one.
                H5Tset_size(memType, size)
                H5Tset_strpad(memType, H5T_STR_NULLPAD)
                var bytes = [UInt8](repeating: 0, count: count * size)
                guard H5Aread(attr, memType, &bytes) >= 0 else { throw fail(layer, "cannot read attribute '\(name)'") }
                return (0..<count).map { i in
                    let slice = bytes[i * size ..< (i + 1) * size].prefix { $0 != 0 }
                    return String(decoding: slice, as: UTF8.self)
                }
            }
        }

        // MARK: model_config

        func layerClasses() throws -> [(name: String, className: String)] {
            guard let json = try strings("/", "model_config", layer: nil).first,
                  let root = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any] else {
                throw fail(nil, "no readable model_config attribute (is this a Keras model file?)")
            }
            var out: [(String, String)] = []
            func walk(_ node: [String: Any]) {
                guard let className = node["class_name"] as? String, let config = node["config"] as? [String: Any] else { return }
                if let name = config["name"] as? String { out.append((name, className)) }
                for layer in config["layers"] as? [[String: Any]] ?? [] { walk(layer) }
            }
            walk(root)
            return out
        }

        // MARK: weights

        func stateDict(nestedPrefixes: [String: String]) throws -> StateDict {
            let group = hasAttribute("/", "layer_names") ? "/" : "/model_weights"
            guard hasAttribute(group, "layer_names") else {
                throw fail(nil, "no model_weights group with a layer_names attribute (not a Keras HDF5 model or weights file)")
            }
            let classes = Dictionary(try layerClasses().map { ($0.name, $0.className) }, uniquingKeysWith: { a, _ in a })
            var pairs: [(String, Tensor)] = []
            var seen = Set<String>()
            for layer in try strings(group, "layer_names", layer: nil) {
                let layerPath = (group == "/" ? "" : group) + "/" + layer
                let weightNames = try strings(layerPath, "weight_names", layer: layer)
                if weightNames.isEmpty { continue }
                let isNested = classes[layer].map { ["Functional", "Model", "Sequential"].contains($0) } ?? false
                let prefix = isNested ? (nestedPrefixes[layer] ?? layer) + "." : ""
                for weightName in weightNames {
                    var parts = weightName.split(separator: "/").map(String.init)
                    if let last = parts.last, let colon = last.lastIndex(of: ":") { parts[parts.count - 1] = String(last[..<colon]) }
                    guard parts.count >= 2 else { throw fail(layer, "weight name '\(weightName)' has no layer part") }
                    let owner = parts[parts.count - 2], param = parts[parts.count - 1]
                    let ownerClass = classes[owner] ?? classes[layer] ?? "?"
                    let (stored, dims) = try dataset(layerPath + "/" + weightName, layer: owner)
                    let (name, tensor) = try convert(stored, dims: dims, className: ownerClass, param: param, layer: owner)
                    let key = prefix + owner + "." + name
                    guard seen.insert(key).inserted else { throw fail(owner, "two weights map to the key '\(key)'") }
                    pairs.append((key, tensor))
                }
            }
            return StateDict(pairs, source: url)
        }

        /// A floating-point dataset as float32, with its dims.
        func dataset(_ path: String, layer: String) throws -> ([Float], [Int]) {
            let ds = H5Dopen2(file, path, camkit_h5p_default())
            guard ds >= 0 else { throw fail(layer, "dataset '\(path)' listed in weight_names does not exist") }
            defer { H5Dclose(ds) }
            let type = H5Dget_type(ds)
            defer { H5Tclose(type) }
            guard H5Tget_class(type) == H5T_FLOAT else {
                throw fail(layer, "dataset '\(path)' is not floating point (class \(H5Tget_class(type).rawValue))")
            }
            let space = H5Dget_space(ds)
            defer { H5Sclose(space) }
            let rank = Int(H5Sget_simple_extent_ndims(space))
            guard rank >= 0 && rank <= 8 else { throw fail(layer, "dataset '\(path)' has rank \(rank)") }
            var dims = [hsize_t](repeating: 0, count: max(rank, 1))
            H5Sget_simple_extent_dims(space, &dims, nil)
            let shape = dims.prefix(rank).map { Int(clamping: $0) }
            // The product is checked as it grows: the file's dims can multiply past Int.max.
            let count = shape.reduce(1) { total, d in
                let (product, overflow) = total.multipliedReportingOverflow(by: d)
                return overflow || product >= 1 << 31 ? 1 << 31 : product
            }
            guard count > 0 && count < (1 << 31) else { throw fail(layer, "dataset '\(path)' has shape \(shape)") }
            try checkStored(ds, path: path, bytes: UInt64(count) * UInt64(H5Tget_size(type)), layer: layer)
            var values = [Float](repeating: 0, count: count)
            let status = values.withUnsafeMutableBytes {
                H5Dread(ds, camkit_h5t_native_float(), camkit_h5s_all(), camkit_h5s_all(), camkit_h5p_default(), $0.baseAddress)
            }
            guard status >= 0 else { throw fail(layer, "libhdf5 could not read dataset '\(path)'") }
            return (values, shape)
        }

        /// Refuses a dataset whose bytes are not all in the file, before anything is allocated
        /// for it: HDF5 lets a tiny file declare a huge dataset (chunks never written read as
        /// the fill value) or place contiguous data past its end. Keras never compresses weights.
        func checkStored(_ ds: hid_t, path: String, bytes: UInt64, layer: String) throws {
            let stored = H5Dget_storage_size(ds)
            guard stored >= bytes, stored <= fileSize else {
                throw fail(layer, "dataset '\(path)' holds \(bytes) bytes, but \(stored) are stored in the \(fileSize)-byte file (compressed and partly written datasets are not read)")
            }
            let offset = UInt64(H5Dget_offset(ds))
            if offset != UInt64.max, offset > fileSize || bytes > fileSize - offset {
                throw fail(layer, "dataset '\(path)' has \(bytes) bytes at offset \(offset), past the end of the \(fileSize)-byte file")
            }
        }

        /// The PyTorch parameter name and layout of a Keras weight.
        func convert(_ v: [Float], dims: [Int], className: String, param: String, layer: String) throws -> (String, Tensor) {
            func need(_ rank: Int) throws {
                guard dims.count == rank else {
                    throw fail(layer, "\(className) \(param) should have rank \(rank), has shape \(dims)")
                }
            }
            switch (className, param) {
            case (_, "bias"):
                try need(1)
                return ("bias", Tensor(shape: dims, scalars: v))
            case ("BatchNormalization", _):
                let names = ["gamma": "weight", "beta": "bias", "moving_mean": "running_mean", "moving_variance": "running_var"]
                guard let name = names[param] else { throw fail(layer, "unknown BatchNormalization weight '\(param)'") }
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
                throw fail(layer, "\(className) weight '\(param)' (shape \(dims)) has no PyTorch equivalent in this reader")
            }
        }
    }
}
