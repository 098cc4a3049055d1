/// A photo or overlay as a figure of its own, so it can be written as PNG like the charts;
/// scaled down (never up) so its longer side is at most `maxSide`.
public struct PictureFigure: Figure {
    public var image: RGBImage
    public var maxSide: Int

    public init(image: RGBImage, maxSide: Int = 800) {
        self.image = image
        self.maxSide = maxSide
    }

    public func pageSize() throws -> (width: Int, height: Int) {
        let scale = min(1, Double(maxSide) / Double(max(image.width, image.height, 1)))
        return (max(1, Int((Double(image.width) * scale).rounded())), max(1, Int((Double(image.height) * scale).rounded())))
    }

    public func draw(on canvas: Canvas) throws {
        let size = try pageSize()
        try canvas.draw(image, in: Box(x: 0, y: 0, width: Double(size.width), height: Double(size.height)))
    }
}
