import CAMKit
import Foundation
import FuzzSupport

// `TorchCheckpoint.read(contentsOf:)` end to end: zip archive (ZIPFoundation), byte order,
// data.pkl through the restricted unpickler, storage sizes and strided views; inputs that
// start with the legacy magic number go through the pre-1.6 reader instead. The reader takes
// a path (it sniffs the file and memory-maps it), so each input is written to a scratch file.
let scratch = ScratchFile(named: "input.pth")

@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ bytes: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    scratch.write(fuzzInput(bytes, count))
    do {
        let dict = try TorchCheckpoint.read(contentsOf: scratch.url)
        for pair in dict.pairs {
            expect(pair.tensor.scalars.count == pair.tensor.shape.reduce(1, *), "tensor \(pair.key) does not fill its shape")
        }
    } catch {
        expectClearError(error, as: WeightsError.self, naming: scratch.url.path)
    }
    return 0
}

runFuzzer()
