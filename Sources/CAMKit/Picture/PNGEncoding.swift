import Foundation

extension RGBImage {
    /// The image encoded as an 8-bit RGB PNG, pixel for pixel (`PNGEncoder.standard`).
    public func pngData(encoder: PNGEncoder = .standard) throws -> Data {
        try encoder.encode(self)
    }

    /// Writes the image to `url` as a PNG, pixel for pixel (e.g. an overlay from `Explanation`).
    public func writePNG(to url: URL, encoder: PNGEncoder = .standard) throws {
        try encoder.encode(self, destination: url.path).write(to: url)
    }
}
