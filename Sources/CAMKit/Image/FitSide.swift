extension RGBImage {
    /// This image scaled down (never up) so that its longer side is at most `maxSide`, with
    /// Pillow's antialiased bicubic filter (`resized`): sharp, and without the aliasing of a
    /// plain bilinear shrink. `maxSide` 0 keeps the image as it is.
    public func fitted(maxSide: Int) -> RGBImage {
        precondition(maxSide >= 0, "a largest side of \(maxSide) px makes no picture")
        let side = max(width, height)
        guard maxSide > 0, side > maxSide else { return self }
        let scale = Double(maxSide) / Double(side)
        return resized(width: max(1, Int((Double(width) * scale).rounded())),
                       height: max(1, Int((Double(height) * scale).rounded())), filter: .bicubic)
    }
}
