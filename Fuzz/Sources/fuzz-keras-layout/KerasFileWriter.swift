import CFuzzHDF5
import Foundation
import FuzzSupport

/// Writes a Keras-like HDF5 file described by the fuzzer's bytes, through libhdf5's own
/// writing API: every file is well-formed HDF5, but its Keras layout is anything — missing or
/// malformed `model_config`, `layer_names` and `weight_names` of any type and string encoding,
/// names that point nowhere or twice at one key, datasets of any class, rank and shape (up to
/// ones that declare gigabytes and store nothing). Fuzzing with these reaches our reader's
/// checks and conversions without going through libhdf5's parser of damaged files.
struct KerasFileWriter {
    private var input: FuzzedBytes
    private let lcpl: hid_t

    static let layerNames = ["conv", "dw", "bn", "dense", "inner", "inner_conv"]
    static let classNames = ["Conv2D", "DepthwiseConv2D", "BatchNormalization", "Dense", "Functional", "Sequential", "ReLU"]
    static let params = ["kernel", "bias", "gamma", "beta", "moving_mean", "moving_variance", "depthwise_kernel", "embeddings"]

    init(_ bytes: [UInt8]) {
        input = FuzzedBytes(bytes)
        lcpl = H5Pcreate(fuzz_h5p_link_create())
        H5Pset_create_intermediate_group(lcpl, 1)
    }

    /// Writes the file; false when libhdf5 could not create it at all.
    mutating func write(to url: URL) -> Bool {
        defer { H5Pclose(lcpl) }
        let file = H5Fcreate(url.path, fuzz_h5f_acc_trunc(), fuzz_h5p_default(), fuzz_h5p_default())
        guard file >= 0 else { return false }
        defer { H5Fclose(file) }

        let layers = (0..<input.int(in: 0...5)).map { _ in name(from: Self.layerNames) }
        let classes = layers.map { _ in name(from: Self.classNames) }
        writeModelConfig(file, layers: layers, classes: classes)

        let inModelWeights = input.bool()
        let group = inModelWeights ? H5Gcreate2(file, "model_weights", lcpl, fuzz_h5p_default(), fuzz_h5p_default()) : H5Gopen2(file, "/", fuzz_h5p_default())
        guard group >= 0 else { return true }
        defer { H5Gclose(group) }
        writeStrings(group, "layer_names", layers)

        for layer in layers where !input.isExhausted {
            let layerGroup = H5Gcreate2(group, layer, lcpl, fuzz_h5p_default(), fuzz_h5p_default())
            guard layerGroup >= 0 else { continue }
            defer { H5Gclose(layerGroup) }
            let weights = (0..<input.int(in: 0...4)).map { _ -> String in
                if input.int(in: 0...7) == 0 { return input.string(maxLength: 16) }
                let owner = input.bool() ? layer : name(from: layers.isEmpty ? Self.layerNames : layers)
                return owner + "/" + name(from: Self.params) + (input.bool() ? ":0" : "")
            }
            writeStrings(layerGroup, "weight_names", weights)
            for weight in weights where input.int(in: 0...7) != 0 {
                writeDataset(layerGroup, weight)
            }
        }
        return true
    }

    /// One of `choices`, or now and then a name from the input.
    private mutating func name(from choices: [String]) -> String {
        input.int(in: 0...5) == 0 ? input.string(maxLength: 12) : input.pick(choices)
    }

    private mutating func writeModelConfig(_ file: hid_t, layers: [String], classes: [String]) {
        switch input.int(in: 0...4) {
        case 0:
            return
        case 1:
            writeStrings(file, "model_config", [input.string(maxLength: 64)])
        default:
            var entries: [[String: Any]] = zip(layers, classes).map { layer, className in
                var config: [String: Any] = ["name": layer]
                if ["Functional", "Sequential"].contains(className) {
                    config["layers"] = [["class_name": "Conv2D", "config": ["name": "inner_conv"]]]
                }
                return ["class_name": className, "config": config]
            }
            if input.bool() { entries.append(["class_name": 7, "config": ["name": []]]) }
            let root: [String: Any] = ["class_name": "Functional", "config": ["name": "model", "layers": entries]]
            let json = (try? JSONSerialization.data(withJSONObject: root)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
            writeStrings(file, "model_config", [json])
        }
    }

    /// A string-list attribute in one of the encodings h5py and Keras use, or in a wrong one.
    private mutating func writeStrings(_ object: hid_t, _ name: String, _ strings: [String]) {
        let scalar = strings.count == 1 && input.bool()
        var dims = [hsize_t(strings.count)]
        let space = scalar ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, &dims, nil)
        defer { H5Sclose(space) }
        switch input.int(in: 0...4) {
        case 0:
            return
        case 1: // variable-length UTF-8 (Keras 3, h5py's string_dtype)
            let type = H5Tcopy(fuzz_h5t_c_s1())
            defer { H5Tclose(type) }
            H5Tset_size(type, fuzz_h5t_variable())
            H5Tset_cset(type, H5T_CSET_UTF8)
            var pointers: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) }
            defer { pointers.forEach { free($0) } }
            let attr = H5Acreate2(object, name, type, space, fuzz_h5p_default(), fuzz_h5p_default())
            guard attr >= 0 else { return }
            H5Awrite(attr, type, &pointers)
            H5Aclose(attr)
        case 2: // no strings at all: h5py's empty list is a float array, here of any length
            var values = [Float](repeating: 1, count: strings.count)
            let attr = H5Acreate2(object, name, fuzz_h5t_native_float(), space, fuzz_h5p_default(), fuzz_h5p_default())
            guard attr >= 0 else { return }
            H5Awrite(attr, fuzz_h5t_native_float(), &values)
            H5Aclose(attr)
        default: // fixed length (Keras 2), null-padded or null-terminated, wide enough or cut
            let longest = strings.map(\.utf8.count).max() ?? 0
            let size = max(1, input.bool() ? longest : input.int(in: 1...max(1, longest)))
            let type = H5Tcopy(fuzz_h5t_c_s1())
            defer { H5Tclose(type) }
            H5Tset_size(type, size)
            H5Tset_strpad(type, input.bool() ? H5T_STR_NULLPAD : H5T_STR_NULLTERM)
            var buffer = [UInt8](repeating: 0, count: size * strings.count)
            for (i, string) in strings.enumerated() {
                for (j, byte) in string.utf8.prefix(size).enumerated() { buffer[i * size + j] = byte }
            }
            let attr = H5Acreate2(object, name, type, space, fuzz_h5p_default(), fuzz_h5p_default())
            guard attr >= 0 else { return }
            H5Awrite(attr, type, &buffer)
            H5Aclose(attr)
        }
    }

    /// A dataset at `path` (intermediate groups created) of a chosen class, rank and shape.
    /// Small ones are filled; large ones are left unwritten, so they declare their size but
    /// occupy nothing in the file.
    private mutating func writeDataset(_ group: hid_t, _ path: String) {
        let rank = input.pick([1, 1, 2, 4, 4, 0, 3, 9])
        var dims = (0..<rank).map { _ in hsize_t(input.pick([1, 2, 3, 0, 1 << 15, 1 << 31, 1 << 32])) }
        let space = H5Screate_simple(Int32(rank), &dims, nil)
        guard space >= 0 else { return }
        defer { H5Sclose(space) }
        let isString = input.int(in: 0...5) == 0
        let type: hid_t
        if isString {
            type = H5Tcopy(fuzz_h5t_c_s1())
            H5Tset_size(type, 4)
        } else {
            type = H5Tcopy(input.pick([fuzz_h5t_native_float(), fuzz_h5t_native_float(), fuzz_h5t_native_double(), fuzz_h5t_native_int32()]))
        }
        defer { H5Tclose(type) }
        let dataset = H5Dcreate2(group, path, type, space, lcpl, fuzz_h5p_default(), fuzz_h5p_default())
        guard dataset >= 0 else { return }
        defer { H5Dclose(dataset) }
        // Stops multiplying once past the size written, so nine axes of 2^32 cannot overflow.
        let count = dims.reduce(1) { $0 > 4096 ? $0 : $0 * Int($1) }
        if !isString && count <= 4096 {
            var values = (0..<count).map { Double($0) * 0.25 - Double(input.byte()) }
            H5Dwrite(dataset, fuzz_h5t_native_double(), fuzz_h5s_all(), fuzz_h5s_all(), fuzz_h5p_default(), &values)
        }
    }
}
