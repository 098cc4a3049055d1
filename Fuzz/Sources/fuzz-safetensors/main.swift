import CAMKit
import Foundation
import FuzzSupport

// `Safetensors.read(data:)` on arbitrary bytes: the header length, the header JSON, the
// offsets and the element decoding all run on what the fuzzer writes.
let file = URL(fileURLWithPath: "/fuzz/input.safetensors")

@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ bytes: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    do {
        _ = try Safetensors.read(data: fuzzInput(bytes, count), file: file)
    } catch {
        expectClearError(error, as: WeightsError.self, naming: file.path)
    }
    return 0
}

runFuzzer()
