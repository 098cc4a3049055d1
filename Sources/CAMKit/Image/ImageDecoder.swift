import CImageCodecs
import Foundation

/// Turns JPEG and PNG files into `RGBImage`s.
///
/// - The format is sniffed from the first bytes, never from the file extension.
/// - JPEG: baseline and progressive; grayscale, YCbCr, RGB, and CMYK/YCCK (taken as Adobe's
///   inverted CMYK, as Photoshop writes it and Pillow reads it); the EXIF orientation of the
///   APP1 segment is applied, so the image is upright as a viewer shows it (as
///   `ImageOps.exif_transpose` does).
/// - PNG: every bit depth and colour type; 16-bit samples keep their high byte (as Pillow does
///   for RGB), palettes are expanded, and transparency is composited over white.
///   White because transparent pictures are nearly always cut-outs or graphics meant to be
///   seen on a white page, so that is the picture the user means. Dropping the alpha channel
///   instead (what `Image.convert("RGB")` does) shows whatever colour the encoder left under
///   transparent pixels, often black or garbage, which the model never should see.
/// - A file whose data ends early is an error (libjpeg would grey out the missing rows).
///   Corrupt-but-decodable JPEG data (libjpeg warnings such as "extraneous bytes before
///   marker") decodes; `decodeWithWarnings` also returns how many warnings there were.
/// - Errors are thrown as `ImageError`, naming the file and the reason; no input crashes.
public struct ImageDecoder: Sendable {
    /// Largest width × height accepted, checked from the header before any pixel memory is
    /// allocated. Default 100 megapixels.
    public var maxPixels: Int

    public init(maxPixels: Int = 100_000_000) {
        self.maxPixels = maxPixels
    }

    public enum Format: String, Sendable {
        case jpeg = "JPEG", png = "PNG"
    }

    /// The format from the signature bytes, or nil.
    public static func sniff(_ data: Data) -> Format? {
        let bytes = [UInt8](data.prefix(8))
        if bytes.count >= 3, bytes[0] == 0xFF, bytes[1] == 0xD8, bytes[2] == 0xFF { return .jpeg }
        if bytes == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] { return .png }
        return nil
    }

    /// Far above any real photo: JPEG and PNG files of 100 megapixels stay well under it.
    public static let maxFileBytes = 512 << 20

    public func decode(contentsOf url: URL) throws -> RGBImage {
        let name = url.lastPathComponent
        let data: Data
        do {
            data = try BoundedRead.data(url, limit: Self.maxFileBytes)
        } catch {
            throw ImageError.unreadable(name: name, reason: "\(error)")
        }
        return try decode(data: data, name: name)
    }

    /// Decodes in-memory data; `name` is used in error messages.
    public func decode(data: Data, name: String) throws -> RGBImage {
        try decodeWithWarnings(data: data, name: name).image
    }

    /// Decodes and also returns the number of non-fatal warnings of the decoder (corrupt but
    /// decodable JPEG data) and the first warning's text.
    public func decodeWithWarnings(data: Data, name: String) throws -> (image: RGBImage, warnings: Int, firstWarning: String?) {
        if data.isEmpty { throw ImageError.empty(name: name) }
        guard let format = Self.sniff(data) else {
            // Too short to hold any signature: the start of a file, cut.
            if data.count < 8, let first = data.first, first == 0xFF || first == 0x89 {
                let format = first == 0xFF ? "JPEG" : "PNG"
                throw ImageError.truncated(name: name, format: format, detail: "only \(data.count) bytes")
            }
            throw ImageError.unknownFormat(name: name)
        }
        var result = cic_result()
        let limit = UInt64(max(0, maxPixels))
        data.withUnsafeBytes { raw in
            let base = raw.bindMemory(to: UInt8.self).baseAddress!
            switch format {
            case .jpeg: cic_decode_jpeg(base, raw.count, limit, &result)
            case .png: cic_decode_png(base, raw.count, limit, &result)
            }
        }
        let message = withUnsafeBytes(of: &result.message) { raw -> String in
            let bytes = raw.bindMemory(to: UInt8.self)
            let end = bytes.firstIndex(of: 0) ?? bytes.count
            return String(decoding: bytes[..<end], as: UTF8.self)
        }
        let fmt = format.rawValue
        switch result.status {
        case CIC_OK:
            break
        case CIC_TRUNCATED:
            throw ImageError.truncated(name: name, format: fmt, detail: message)
        case CIC_TOO_LARGE:
            throw ImageError.tooLarge(name: name, width: Int(result.width), height: Int(result.height), limit: maxPixels)
        case CIC_UNSUPPORTED:
            throw ImageError.unsupported(name: name, format: fmt, detail: message)
        case CIC_OUT_OF_MEMORY:
            throw ImageError.outOfMemory(name: name, width: Int(result.width), height: Int(result.height))
        default:
            throw ImageError.corrupt(name: name, format: fmt, detail: message)
        }
        defer { cic_free(result.pixels) }
        let width = Int(result.width), height = Int(result.height)
        let count = width * height * 3
        let pixels = count == 0 ? [] : [UInt8](UnsafeBufferPointer(start: result.pixels, count: count))
        let image = RGBImage(width: width, height: height, pixels: pixels)
            .applyingEXIFOrientation(Int(result.orientation))
        return (image, Int(result.warnings), result.warnings > 0 ? message : nil)
    }
}

extension RGBImage {
    /// The upright picture of an image stored with EXIF orientation `orientation` (1...8),
    /// as Pillow's `ImageOps.exif_transpose`: 2 mirror, 3 rotate 180°, 4 flip, 5 transpose,
    /// 6 rotate 90° clockwise, 7 transverse, 8 rotate 90° counter-clockwise.
    public func applyingEXIFOrientation(_ orientation: Int) -> RGBImage {
        guard (2...8).contains(orientation) else { return self }
        let w = width, h = height
        let swaps = orientation >= 5
        let ow = swaps ? h : w, oh = swaps ? w : h
        var out = [UInt8](repeating: 0, count: pixels.count)
        pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for y in 0..<oh {
                    for x in 0..<ow {
                        let sx: Int, sy: Int
                        switch orientation {
                        case 2: sx = w - 1 - x; sy = y
                        case 3: sx = w - 1 - x; sy = h - 1 - y
                        case 4: sx = x; sy = h - 1 - y
                        case 5: sx = y; sy = x
                        case 6: sx = y; sy = h - 1 - x
                        case 7: sx = w - 1 - y; sy = h - 1 - x
                        default: sx = w - 1 - y; sy = x  // 8
                        }
                        let s = (sy * w + sx) * 3, d = (y * ow + x) * 3
                        dst[d] = src[s]; dst[d + 1] = src[s + 1]; dst[d + 2] = src[s + 2]
                    }
                }
            }
        }
        return RGBImage(width: ow, height: oh, pixels: out)
    }
}
