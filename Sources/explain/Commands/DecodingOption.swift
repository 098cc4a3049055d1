import ArgumentParser
import CAMKit

/// `--max-megapixels`: the largest photo `images` and `gallery` decode, checked from the header
/// before any pixel is allocated, so a decompression bomb costs nothing.
struct DecodingOption: ParsableArguments {
    @Option(name: .customLong("max-megapixels"),
            help: ArgumentHelp("Largest photo to decode, in megapixels (width × height, from its header); larger ones are reported and skipped.",
                               valueName: "mp"))
    var maxMegapixels: Double = 100

    func validate() throws {
        guard maxMegapixels > 0, maxMegapixels <= 10_000 else {
            throw ValidationError("--max-megapixels must be in (0, 10000], got \(maxMegapixels)")
        }
    }

    func decoder() -> ImageDecoder { ImageDecoder(maxPixels: Int(maxMegapixels * 1_000_000)) }
}
