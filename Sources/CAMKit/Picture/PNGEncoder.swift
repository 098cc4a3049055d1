import CImageCodecs
import Foundation

/// How pictures become PNG files: libpng with a zlib level and a row filter of our choosing.
/// A gallery writes a few PNGs per photo, and libpng's defaults (level 6, adaptive filters,
/// what Cairo uses) spend most of a photo's drawing time on the last few percent of size;
/// `standard` is chosen for speed at a size close to theirs (see its note).
public struct PNGEncoder: Sendable, Equatable {
    /// The row filter libpng applies before compressing (PNG's filter types).
    public enum RowFilter: Int32, Sendable, CaseIterable {
        case none = 0x08, sub = 0x10, up = 0x20, average = 0x40, paeth = 0x80
        /// libpng's default: per row, whichever filter looks smallest.
        case adaptive = 0xF8
    }

    /// zlib's level, 0 (store) … 9 (smallest).
    public var level: Int
    public var filter: RowFilter

    public init(level: Int, filter: RowFilter) {
        precondition((0...9).contains(level), "zlib levels are 0...9, got \(level)")
        self.level = level
        self.filter = filter
    }

    /// Level 1 with the up filter. On a 1600 × 1200 overlay of a grainy 3 MP photo (as
    /// scripts/gallery_speed.sh makes them) it encoded about 12× faster than libpng's default
    /// (level 6, adaptive filters) for a file 20 % larger; levels 2 and 3 took 1.5–2× as long
    /// for 3–7 % less, and the other filters were slower (paeth, adaptive) or larger (none, sub).
    public static let standard = PNGEncoder(level: 1, filter: .up)

    /// `image` as an 8-bit RGB PNG, pixel for pixel; `destination` names it in errors.
    public func encode(_ image: RGBImage, destination: String = "in-memory picture") throws -> Data {
        guard image.width > 0, image.height > 0 else { throw RenderError.emptyFigure("a \(image.width)×\(image.height) picture") }
        var encoded = cic_encoded()
        let status = image.pixels.withUnsafeBufferPointer {
            cic_encode_png($0.baseAddress, Int32(image.width), Int32(image.height), Int32(level), filter.rawValue, &encoded)
        }
        guard status == Int32(CIC_OK.rawValue), let bytes = encoded.data else {
            let message = withUnsafeBytes(of: encoded.message) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            throw RenderError.pngEncoding(destination: destination, reason: status == Int32(CIC_OUT_OF_MEMORY.rawValue) ? "out of memory" : message)
        }
        defer { cic_free(bytes) }
        return Data(bytes: bytes, count: encoded.size)
    }
}
