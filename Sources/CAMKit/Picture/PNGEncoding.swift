import Foundation

/// An image drawn 1:1 on a page of its own size: how an `RGBImage` becomes a PNG (through Cairo).
struct ImageFigure: Figure {
    let image: RGBImage
    func pageSize() throws -> (width: Int, height: Int) { (image.width, image.height) }
    func draw(on canvas: Canvas) throws {
        try canvas.draw(image, in: Box(x: 0, y: 0, width: Double(image.width), height: Double(image.height)))
    }
}

extension RGBImage {
    /// The image encoded as an 8-bit RGB PNG, pixel for pixel.
    public func pngData() throws -> Data {
        try ImageFigure(image: self).render(as: .png)
    }

    /// Writes the image to `url` as a PNG, pixel for pixel (e.g. an overlay from `Explanation`).
    public func writePNG(to url: URL) throws {
        try ImageFigure(image: self).write(to: url, format: .png)
    }
}
