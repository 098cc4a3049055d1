import CCairo
import Foundation

/// A rectangle in canvas units (pixels for PNG, points for SVG and PDF).
public struct Box: Equatable, Sendable {
    public var x: Double, y: Double, width: Double, height: Double
    public init(x: Double, y: Double, width: Double, height: Double) {
        self.x = x; self.y = y; self.width = width; self.height = height
    }
    var maxX: Double { x + width }
    var maxY: Double { y + height }
}

/// Collects what a Cairo stream surface writes, so one code path yields bytes for every format.
private final class ByteSink {
    var data = Data()
}

private let appendToSink: cairo_write_func_t = { closure, bytes, length in
    guard let closure, let bytes else { return CAIRO_STATUS_WRITE_ERROR }
    Unmanaged<ByteSink>.fromOpaque(closure).takeUnretainedValue().data.append(bytes, count: Int(length))
    return CAIRO_STATUS_SUCCESS
}

/// One page to draw on, backed by a Cairo surface of the requested format.
///
/// PNG draws into an opaque image surface and encodes at the end (`PNGEncoder.standard`); SVG and PDF stream into memory
/// as they are drawn. The cairo status is checked after every surface operation, so a failure
/// names its operation and destination instead of producing an empty or truncated file.
public final class Canvas {
    public let format: RenderFormat
    public let width: Int
    public let height: Int
    /// Where the output is going (a path, or a description), for error messages.
    public let destination: String
    private let sink = ByteSink()
    private let surface: OpaquePointer
    let context: OpaquePointer
    private var finished = false

    public init(format: RenderFormat, width: Int, height: Int, destination: String = "in-memory picture") throws {
        guard width > 0, height > 0 else { throw RenderError.emptyFigure("a \(width)×\(height) canvas") }
        self.format = format
        self.width = width
        self.height = height
        self.destination = destination
        let closure = Unmanaged.passUnretained(sink).toOpaque()
        switch format {
        case .png: surface = cairo_image_surface_create(CAIRO_FORMAT_RGB24, Int32(width), Int32(height))
        case .svg: surface = cairo_svg_surface_create_for_stream(appendToSink, closure, Double(width), Double(height))
        case .pdf: surface = cairo_pdf_surface_create_for_stream(appendToSink, closure, Double(width), Double(height))
        }
        context = cairo_create(surface)
        try check(cairo_surface_status(surface), "creating the \(format.rawValue) surface")
        try check(cairo_status(context), "creating the drawing context")
        fill(Box(x: 0, y: 0, width: Double(width), height: Double(height)), .white)
    }

    deinit {
        cairo_destroy(context)
        cairo_surface_destroy(surface)
    }

    private func check(_ status: cairo_status_t, _ operation: String) throws {
        guard status == CAIRO_STATUS_SUCCESS else {
            throw RenderError.cairo(operation: operation, status: String(cString: cairo_status_to_string(status)),
                                    destination: destination)
        }
    }

    /// Ends drawing and returns the encoded file. A canvas can be finished once.
    public func finish() throws -> Data {
        precondition(!finished, "a canvas is finished once")
        finished = true
        try check(cairo_status(context), "drawing")
        switch format {
        case .png:
            cairo_surface_flush(surface)
            return try PNGEncoder.standard.encode(try pixels(), destination: destination)
        case .svg, .pdf:
            cairo_surface_finish(surface)
            try check(cairo_surface_status(surface), "finishing \(format.rawValue.uppercased())")
        }
        return sink.data
    }

    /// The PNG surface's pixels (Cairo's RGB24: one native-endian 0x00RRGGBB word per pixel).
    private func pixels() throws -> RGBImage {
        guard let base = cairo_image_surface_get_data(surface) else {
            throw RenderError.cairo(operation: "reading the drawn pixels", status: "no pixel data", destination: destination)
        }
        let stride = Int(cairo_image_surface_get_stride(surface))
        var rgb = [UInt8](repeating: 0, count: width * height * 3)
        rgb.withUnsafeMutableBufferPointer { out in
            for y in 0..<height {
                let row = UnsafeRawPointer(base + y * stride).assumingMemoryBound(to: UInt32.self)
                for x in 0..<width {
                    let word = row[x], i = (y * width + x) * 3
                    out[i] = UInt8(truncatingIfNeeded: word >> 16)
                    out[i + 1] = UInt8(truncatingIfNeeded: word >> 8)
                    out[i + 2] = UInt8(truncatingIfNeeded: word)
                }
            }
        }
        return RGBImage(width: width, height: height, pixels: rgb)
    }

    // MARK: drawing

    private func setColor(_ color: RenderColor) {
        cairo_set_source_rgb(context, color.red, color.green, color.blue)
    }

    public func fill(_ box: Box, _ color: RenderColor) {
        setColor(color)
        cairo_rectangle(context, box.x, box.y, box.width, box.height)
        cairo_fill(context)
    }

    /// Strokes the outline of `box`, centred on its edges.
    func stroke(_ box: Box, _ color: RenderColor, lineWidth: Double) {
        setColor(color)
        cairo_set_line_width(context, lineWidth)
        cairo_rectangle(context, box.x, box.y, box.width, box.height)
        cairo_stroke(context)
    }

    func line(from a: (Double, Double), to b: (Double, Double), _ color: RenderColor, width: Double = 1, dash: Double? = nil) {
        setColor(color)
        cairo_set_line_width(context, width)
        if let dash {
            var pattern = [dash, dash]
            cairo_set_dash(context, &pattern, 2, 0)
        }
        cairo_move_to(context, a.0, a.1)
        cairo_line_to(context, b.0, b.1)
        cairo_stroke(context)
        cairo_set_dash(context, nil, 0, 0)
    }

    /// Draws `text` with its left end at `x` and its baseline at `baseline`.
    ///
    /// The origin is rounded to whole units: the same text at the same size then rasterises to
    /// the same pixels wherever it is drawn, which keeps PNG text crisp and lets tests find a
    /// title by rendering it alone.
    public func drawText(_ text: String, x: Double, baseline: Double, font: Font, color: RenderColor = .black) {
        setColor(color)
        cairo_set_font_face(context, font.typeface.face)
        cairo_set_font_size(context, font.size)
        cairo_move_to(context, x.rounded(), baseline.rounded())
        cairo_show_text(context, font.typeface.displayable(text))
    }

    enum Alignment { case left, center, right }

    /// Draws `text` aligned at `x`, cut with "…" to `maxWidth` if given.
    func drawText(_ text: String, at x: Double, baseline: Double, font: Font, color: RenderColor = .text,
                  align: Alignment, maxWidth: Double? = nil) {
        let shown = maxWidth.map { font.fitting(text, width: $0) } ?? text
        let width = font.width(of: shown)
        let left: Double
        switch align {
        case .left: left = x
        case .center: left = x - width / 2
        case .right: left = x - width
        }
        drawText(shown, x: left, baseline: baseline, font: font, color: color)
    }

    /// Draws `text` turned by `angle` radians (negative turns it counter-clockwise, upward)
    /// about its anchor, the end given by `align` on the baseline.
    func drawRotatedText(_ text: String, anchor: (Double, Double), angle: Double, font: Font,
                         color: RenderColor = .text, align: Alignment, maxWidth: Double? = nil) {
        let shown = maxWidth.map { font.fitting(text, width: $0) } ?? text
        let width = font.width(of: shown)
        cairo_save(context)
        cairo_translate(context, anchor.0, anchor.1)
        cairo_rotate(context, angle)
        setColor(color)
        cairo_set_font_face(context, font.typeface.face)
        cairo_set_font_size(context, font.size)
        cairo_move_to(context, align == .left ? 0 : align == .center ? -width / 2 : -width, 0)
        cairo_show_text(context, font.typeface.displayable(shown))
        cairo_restore(context)
    }

    /// Draws `image` scaled into `box` (bilinear-quality filtering).
    public func draw(_ image: RGBImage, in box: Box) throws {
        guard image.width > 0, image.height > 0 else { throw RenderError.emptyFigure("an empty image") }
        let source = cairo_image_surface_create(CAIRO_FORMAT_RGB24, Int32(image.width), Int32(image.height))
        defer { cairo_surface_destroy(source) }
        try check(cairo_surface_status(source), "creating a \(image.width)×\(image.height) image")
        cairo_surface_flush(source)
        let stride = Int(cairo_image_surface_get_stride(source))
        guard let base = cairo_image_surface_get_data(source) else {
            throw RenderError.cairo(operation: "mapping image pixels", status: "no pixel data", destination: destination)
        }
        image.pixels.withUnsafeBufferPointer { rgb in
            for y in 0..<image.height {
                let row = UnsafeMutableRawPointer(base + y * stride).assumingMemoryBound(to: UInt32.self)
                for x in 0..<image.width {
                    let i = (y * image.width + x) * 3
                    row[x] = UInt32(rgb[i]) << 16 | UInt32(rgb[i + 1]) << 8 | UInt32(rgb[i + 2])
                }
            }
        }
        cairo_surface_mark_dirty(source)
        cairo_save(context)
        cairo_translate(context, box.x, box.y)
        cairo_scale(context, box.width / Double(image.width), box.height / Double(image.height))
        cairo_set_source_surface(context, source, 0, 0)
        cairo_pattern_set_filter(cairo_get_source(context), CAIRO_FILTER_GOOD)
        // Pad, not transparent, beyond the edges: otherwise filtering fades the border into the page.
        cairo_pattern_set_extend(cairo_get_source(context), CAIRO_EXTEND_PAD)
        cairo_rectangle(context, 0, 0, Double(image.width), Double(image.height))
        cairo_fill(context)
        cairo_restore(context)
        try check(cairo_status(context), "drawing an image")
    }
}
