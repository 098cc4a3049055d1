import CAMKit
import Foundation
import FuzzSupport

// `LabelsFile(text:)`, and with it `CSV.parse`, on arbitrary text. Bytes that are not UTF-8
// are replaced as `String(decoding:)` does; reading a file refuses them before parsing.
let name = "fuzz-labels.csv"

@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ bytes: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let text = String(decoding: fuzzInput(bytes, count), as: UTF8.self)
    do {
        let labels = try LabelsFile(text: text, name: name)
        for (file, truth) in labels.labels {
            expect(!file.isEmpty && !truth.alternatives.isEmpty, "row for '\(file)' accepted without a file or a breed")
        }
    } catch {
        expectClearError(error, as: LabelsFileError.self, naming: name)
    }
    return 0
}

runFuzzer()
