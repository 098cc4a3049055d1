import Foundation

/// Something drawn on one page: the panel, the charts and the table. They share how a drawing
/// becomes bytes or a file, so every figure comes in PNG, SVG and PDF alike.
public protocol Figure {
    /// Page size in pixels (PNG) or points (SVG, PDF).
    func pageSize() throws -> (width: Int, height: Int)
    func draw(on canvas: Canvas) throws
}

extension Figure {
    /// The encoded file in `format`.
    public func render(as format: RenderFormat, destination: String = "in-memory picture") throws -> Data {
        let size = try pageSize()
        let canvas = try Canvas(format: format, width: size.width, height: size.height, destination: destination)
        try draw(on: canvas)
        return try canvas.finish()
    }

    /// Writes the figure to `url`, in `format` or else the one its extension names.
    public func write(to url: URL, format: RenderFormat? = nil) throws {
        guard let format = format ?? RenderFormat(pathExtension: url.pathExtension) else {
            throw RenderError.unknownFormat(path: url.path)
        }
        try render(as: format, destination: url.path).write(to: url)
    }
}
