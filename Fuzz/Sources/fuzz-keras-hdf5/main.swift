import Foundation
import FuzzSupport
import KerasFuzzing

// `KerasHDF5.read(contentsOf:)` on a mutated HDF5 file: libhdf5 parses the container, our
// reader validates model_config, layer_names, weight_names, dataset classes, ranks and shapes
// and converts the layouts, and must close every handle it opened. libhdf5 itself is not
// instrumented, and it crashes on some damaged files; see docs/FUZZING.md.
var scratch = ScratchFile(named: "input.h5")

@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ bytes: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    scratch.advance()
    scratch.write(fuzzInput(bytes, count))
    checkKerasReaders(at: scratch.url)
    return 0
}

runFuzzer()
