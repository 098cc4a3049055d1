import CCairo
import Foundation
import XCTest
@testable import CAMKit

/// A decoded PNG (through Cairo's own decoder), pixels as 0xRRGGBB, for checking what was drawn.
struct Raster {
    let width: Int
    let height: Int
    var pixels: [UInt32]

    init(width: Int, height: Int, pixels: [UInt32]) {
        self.width = width; self.height = height; self.pixels = pixels
    }

    init(png: Data) throws {
        final class Source { var data: Data; var offset = 0; init(_ d: Data) { data = d } }
        let source = Source(png)
        let read: cairo_read_func_t = { closure, buffer, length in
            let source = Unmanaged<Source>.fromOpaque(closure!).takeUnretainedValue()
            let n = Int(length)
            guard source.offset + n <= source.data.count, let buffer else { return CAIRO_STATUS_READ_ERROR }
            source.data.copyBytes(to: buffer, from: source.offset..<source.offset + n)
            source.offset += n
            return CAIRO_STATUS_SUCCESS
        }
        let surface = withExtendedLifetime(source) {
            cairo_image_surface_create_from_png_stream(read, Unmanaged.passUnretained(source).toOpaque())
        }
        defer { cairo_surface_destroy(surface) }
        let status = cairo_surface_status(surface)
        guard status == CAIRO_STATUS_SUCCESS else {
            throw RenderError.cairo(operation: "decoding PNG", status: String(cString: cairo_status_to_string(status)),
                                    destination: "test")
        }
        width = Int(cairo_image_surface_get_width(surface))
        height = Int(cairo_image_surface_get_height(surface))
        let stride = Int(cairo_image_surface_get_stride(surface))
        let base = cairo_image_surface_get_data(surface)!
        var pixels = [UInt32](repeating: 0, count: width * height)
        for y in 0..<height {
            let row = UnsafeRawPointer(base + y * stride).assumingMemoryBound(to: UInt32.self)
            for x in 0..<width { pixels[y * width + x] = row[x] & 0xFFFFFF }
        }
        self.pixels = pixels
    }

    subscript(x: Int, y: Int) -> UInt32 { pixels[y * width + x] }

    /// The smallest box holding every pixel of `color` inside `region`, as (x, y, width, height).
    func bounds(of color: UInt32, in region: (x: Range<Int>, y: Range<Int>)? = nil) -> (x: Int, y: Int, width: Int, height: Int)? {
        var minX = Int.max, minY = Int.max, maxX = -1, maxY = -1
        for y in region?.y ?? 0..<height {
            for x in region?.x ?? 0..<width where self[x, y] == color {
                minX = min(minX, x); maxX = max(maxX, x); minY = min(minY, y); maxY = max(maxY, y)
            }
        }
        return maxX < 0 ? nil : (minX, minY, maxX - minX + 1, maxY - minY + 1)
    }

    /// The tight crop around everything that is not white.
    func croppedToInk() -> Raster {
        var minX = width, minY = height, maxX = -1, maxY = -1
        for y in 0..<height {
            for x in 0..<width where self[x, y] != 0xFFFFFF {
                minX = min(minX, x); maxX = max(maxX, x); minY = min(minY, y); maxY = max(maxY, y)
            }
        }
        guard maxX >= 0 else { return Raster(width: 0, height: 0, pixels: []) }
        var cropped: [UInt32] = []
        for y in minY...maxY { for x in minX...maxX { cropped.append(self[x, y]) } }
        return Raster(width: maxX - minX + 1, height: maxY - minY + 1, pixels: cropped)
    }

    /// Where `template` occurs (every pixel within `tolerance` per channel) with its top-left
    /// corner inside `region`; the first hit in row order, or nil.
    func find(_ template: Raster, in region: (x: Range<Int>, y: Range<Int>), tolerance: Int = 6) -> (x: Int, y: Int)? {
        guard template.width > 0 else { return nil }
        func close(_ a: UInt32, _ b: UInt32) -> Bool {
            for shift: UInt32 in [0, 8, 16] where abs(Int((a >> shift) & 0xFF) - Int((b >> shift) & 0xFF)) > tolerance {
                return false
            }
            return true
        }
        let ys = max(region.y.lowerBound, 0)..<min(region.y.upperBound, height - template.height + 1)
        let xs = max(region.x.lowerBound, 0)..<min(region.x.upperBound, width - template.width + 1)
        guard !ys.isEmpty, !xs.isEmpty else { return nil }
        for y in ys {
            candidates: for x in xs {
                for ty in 0..<template.height {
                    for tx in 0..<template.width where !close(self[x + tx, y + ty], template[tx, ty]) {
                        continue candidates
                    }
                }
                return (x, y)
            }
        }
        return nil
    }
}

extension RenderColor {
    var packed: UInt32 {
        let (r, g, b) = bytes
        return UInt32(r) << 16 | UInt32(g) << 8 | UInt32(b)
    }
}

/// `text` drawn alone on white with `font` and `color`, cropped to its ink: what to look for
/// in a rendered figure.
func renderedText(_ text: String, font: Font, color: RenderColor = .text) throws -> Raster {
    let width = Int(font.width(of: text)) + 20, height = Int(font.size * 3)
    let canvas = try Canvas(format: .png, width: width, height: height)
    canvas.drawText(text, x: 10, baseline: font.size * 2, font: font, color: color)
    return try Raster(png: canvas.finish()).croppedToInk()
}

/// Runs of columns where a vertical bar of `color` stands on the row `bottom`: (left x, width,
/// height), left to right. Bars of a chart share their bottom, so legend swatches never count.
func bars(of color: UInt32, in raster: Raster, bottom: Int) -> [(x: Int, width: Int, height: Int)] {
    var result: [(x: Int, width: Int, height: Int)] = []
    var x = 0
    while x < raster.width {
        guard raster[x, bottom] == color else { x += 1; continue }
        let start = x
        while x < raster.width && raster[x, bottom] == color { x += 1 }
        let middle = (start + x) / 2
        var top = bottom
        while top > 0 && raster[middle, top - 1] == color { top -= 1 }
        result.append((start, x - start, bottom - top + 1))
    }
    return result
}
