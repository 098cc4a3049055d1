import CAMKit
import Foundation
import FuzzSupport

// `KerasHDF5.read(contentsOf:)` and `layerClasses` on mutated Keras files: `.h5` (CAMKit's
// HDF5 reader: superblock, object headers, groups, heaps, B-trees, attributes, chunks and
// filters, then the Keras mapping of model_config, layer_names, weight_names, dataset types,
// ranks and shapes) and `.keras` archives (the zip checks, config.json, model.weights.h5).
// Each must give tensors that fill their shapes or a clear error naming the file.
var scratch = ScratchFile(named: "input.h5")

@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ bytes: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    scratch.advance()
    scratch.write(fuzzInput(bytes, count))
    do {
        let dict = try KerasHDF5.read(contentsOf: scratch.url)
        for pair in dict.pairs {
            expect(pair.tensor.scalars.count == pair.tensor.shape.reduce(1, *), "tensor \(pair.key) does not fill its shape")
        }
    } catch {
        expectClearError(error, as: KerasHDF5Error.self, naming: scratch.url.path)
    }
    do {
        _ = try KerasHDF5.layerClasses(contentsOf: scratch.url)
    } catch {
        expectClearError(error, as: KerasHDF5Error.self, naming: scratch.url.path)
    }
    return 0
}

runFuzzer()
