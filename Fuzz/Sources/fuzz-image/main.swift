import CAMKit
import Foundation
import FuzzSupport

// `ImageDecoder` on arbitrary bytes: the signature sniffing, then libjpeg or libpng through
// the CImageCodecs wrapper (whose C code is instrumented too), then the EXIF orientation.
// The pixel limit is lowered so that a header claiming a huge picture is refused quickly
// instead of making every such input allocate hundreds of megabytes.
let name = "fuzz-input"
let decoder = ImageDecoder(maxPixels: 4_000_000)

@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ bytes: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    do {
        let image = try decoder.decode(data: fuzzInput(bytes, count), name: name)
        expect(image.width > 0 && image.height > 0 && image.pixels.count == image.width * image.height * 3,
               "decoded a \(image.width)×\(image.height) image with \(image.pixels.count) bytes")
    } catch {
        expectClearError(error, as: ImageError.self, naming: name)
    }
    return 0
}

runFuzzer()
