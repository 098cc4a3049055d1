import CAMKit
import CFuzzHDF5
import Foundation
import FuzzSupport

/// What both Keras fuzzers ask of the readers on any file: `read` and `layerClasses` give a
/// result whose tensors fill their shapes or a clear error naming the file, and every HDF5
/// handle they open is closed again.
public func checkKerasReaders(at url: URL) {
    let openBefore = fuzz_h5_open_objects()
    do {
        let dict = try KerasHDF5.read(contentsOf: url)
        for pair in dict.pairs {
            expect(pair.tensor.scalars.count == pair.tensor.shape.reduce(1, *), "tensor \(pair.key) does not fill its shape")
        }
    } catch {
        expectClearError(error, as: KerasHDF5Error.self, naming: url.path)
    }
    do {
        _ = try KerasHDF5.layerClasses(contentsOf: url)
    } catch {
        expectClearError(error, as: KerasHDF5Error.self, naming: url.path)
    }
    let openAfter = fuzz_h5_open_objects()
    expect(openAfter == openBefore, "the reader left \(openAfter - openBefore) HDF5 objects open")
}
