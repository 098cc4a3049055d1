@testable import CAMKit
import Foundation
import FuzzSupport

// The restricted unpickler on raw pickle bytes, then the search for a state dict in what it
// built — the two steps both checkpoint formats share, without the zip layer in the way.
let file = URL(fileURLWithPath: "/fuzz/data.pkl")

@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ bytes: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let input = [UInt8](fuzzInput(bytes, count))
    do {
        let unpickled = try Unpickler.load(input, file: file)
        _ = try withExtendedLifetime(unpickled) { try TorchCheckpoint.findStateDict(unpickled.root, file: file) }
    } catch {
        expectClearError(error, as: WeightsError.self, naming: file.path)
    }
    return 0
}

runFuzzer()
