import CFuzzHDF5
import Foundation
import FuzzSupport
import KerasFuzzing

// `KerasHDF5.read` and `layerClasses` on files that libhdf5 wrote itself (KerasFileWriter):
// our validation of model_config, layer_names, weight_names, dataset classes, ranks and
// shapes, the layout conversions, and the closing of every handle, fuzzed apart from
// libhdf5's parser of damaged files (which fuzz-keras-hdf5 reaches, docs/FUZZING.md).
var scratch = ScratchFile(named: "layout.h5")
_ = H5open()
_ = fuzz_h5_silence_errors()

@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ bytes: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    scratch.advance()
    var writer = KerasFileWriter([UInt8](fuzzInput(bytes, count)))
    guard writer.write(to: scratch.url) else { return 0 }
    checkKerasReaders(at: scratch.url)
    return 0
}

runFuzzer()
