import CAMKit
import Foundation
import FuzzSupport

// `ZooFile(contentsOf:)` on arbitrary JSON: decoding, backbone and preprocessing fields,
// architectures, duplicate names. A labels file sits next to the scratch zoo file so that
// entries naming "labels.txt" get past the labels check; weights are never loaded here.
let scratch = ScratchFile(named: "zoo.json")
try! "cat\ndog\n".write(to: scratch.sibling(named: "labels.txt"), atomically: true, encoding: .utf8)

@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ bytes: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    scratch.write(fuzzInput(bytes, count))
    do {
        let zoo = try ZooFile(contentsOf: scratch.url)
        for descriptor in zoo.descriptors {
            expect(descriptor.classes == 2, "model \(descriptor.name) has \(descriptor.classes) classes from a 2-line labels file")
        }
    } catch {
        expectClearError(error, as: ZooFileError.self, naming: scratch.url.path)
    }
    return 0
}

runFuzzer()
