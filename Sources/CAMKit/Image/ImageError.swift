/// Why a photo could not be turned into an `RGBImage`. Every case names the file (or the
/// name given for in-memory data); `description` is a sentence for the user.
public enum ImageError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The file could not be read at all.
    case unreadable(name: String, reason: String)
    /// Zero bytes.
    case empty(name: String)
    /// The first bytes are neither a JPEG nor a PNG signature.
    case unknownFormat(name: String)
    /// The data ends before the image does.
    case truncated(name: String, format: String, detail: String)
    /// The decoder rejected the data.
    case corrupt(name: String, format: String, detail: String)
    /// A valid file this decoder does not handle.
    case unsupported(name: String, format: String, detail: String)
    /// The header declares more pixels than `ImageDecoder.maxPixels`; nothing was allocated.
    case tooLarge(name: String, width: Int, height: Int, limit: Int)
    case outOfMemory(name: String, width: Int, height: Int)

    public var name: String {
        switch self {
        case let .unreadable(name, _), let .empty(name), let .unknownFormat(name),
             let .truncated(name, _, _), let .corrupt(name, _, _), let .unsupported(name, _, _),
             let .tooLarge(name, _, _, _), let .outOfMemory(name, _, _):
            return name
        }
    }

    public var description: String {
        switch self {
        case let .unreadable(name, reason):
            return "cannot read \(name): \(reason)"
        case let .empty(name):
            return "cannot decode \(name): the file is empty"
        case let .unknownFormat(name):
            return "cannot decode \(name): not a JPEG or PNG image (unrecognised signature)"
        case let .truncated(name, format, detail):
            return "cannot decode \(name): truncated \(format) data (\(Self.library(format)): \(detail))"
        case let .corrupt(name, format, detail):
            return "cannot decode \(name): corrupt \(format) data (\(Self.library(format)): \(detail))"
        case let .unsupported(name, format, detail):
            return "cannot decode \(name): unsupported \(format) (\(detail))"
        case let .tooLarge(name, width, height, limit):
            return "\(name) is \(width)×\(height) = \(Self.megapixels(width * height)) megapixels, "
                + "over the limit of \(Self.megapixels(limit)) megapixels"
        case let .outOfMemory(name, width, height):
            return "cannot decode \(name): out of memory for \(width)×\(height) pixels"
        }
    }

    private static func library(_ format: String) -> String { format == "PNG" ? "libpng" : "libjpeg" }

    private static func megapixels(_ n: Int) -> String {
        let m = Double(n) / 1_000_000
        if m == m.rounded() { return String(Int(m)) }
        if m >= 10 { return String(format: "%.0f", m) }
        // Small limits (a server's, a test's) keep two significant digits instead of "0.0".
        return m >= 0.1 ? String(format: "%.1f", m) : String(format: "%.2g", m)
    }
}
