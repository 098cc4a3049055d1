/// SobelCAM, a baseline that ignores the model: the image's edge strength, the mean of the
/// absolute 3×3 Sobel derivatives of its grey levels. A map that looks no better than an edge
/// detector says nothing about the model; the sanity checks expect this one to fail them.
///
/// `map(of:)` is pytorch-grad-cam's `sobel_cam` on 8-bit RGB, exactly (OpenCV's fixed-point
/// grey, reflect-101 borders, saturating rounding). As a method it reads the model's input
/// tensor, in floats, with the same weights.
public struct SobelCAM: CAMMethod {
    public let name = "sobelcam"
    public let usesGradients = false
    public init() {}

    /// OpenCV's RGB → grey weights (ITU-R BT.601) and the 15-bit fixed-point form that
    /// OpenCV 5 uses for 8-bit images (checked against it on every colour of a random image).
    private static let greyWeights: [Float] = [0.299, 0.587, 0.114]
    private static let fixedGreyWeights = [9798, 19235, 3735]

    public func rawMaps(_ layer: LayerState, context: CAMContext) throws -> Tensor {
        let input = context.input
        let (n, h, w) = (input.shape[0], input.shape[2], input.shape[3])
        let plane = h * w
        let maps = (0..<n).flatMap { image -> [Float] in
            let base = image * input.shape[1] * plane
            let grey = (0..<plane).map { p in
                Self.greyWeights.indices.reduce(Float(0)) { $0 + Self.greyWeights[$1] * input.scalars[base + $1 * plane + p] }
            }
            let (dx, dy) = Self.sobel(grey.map(Double.init), height: h, width: w)
            return zip(dx, dy).map { Float(abs($0) * 0.5 + abs($1) * 0.5) }
        }
        return Tensor(shape: [n, h, w], scalars: maps)
    }

    /// The reference's `sobel_cam(img)`: (H·W) bytes, row-major.
    public static func map(of image: RGBImage) -> [UInt8] {
        let (h, w) = (image.height, image.width)
        let grey = (0..<(h * w)).map { p -> Double in
            let sum = fixedGreyWeights.indices.reduce(0) { $0 + fixedGreyWeights[$1] * Int(image.pixels[p * 3 + $1]) }
            return Double((sum + (1 << 14)) >> 15)
        }
        let (dx, dy) = sobel(grey, height: h, width: w)
        func saturated(_ x: Double) -> Double { min(max(x.rounded(.toNearestOrEven), 0), 255) }
        return zip(dx, dy).map { UInt8(saturated(saturated(abs($0)) * 0.5 + saturated(abs($1)) * 0.5)) }
    }

    /// ∂/∂x and ∂/∂y by the 3×3 Sobel kernels, borders reflected without repeating the edge.
    private static func sobel(_ x: [Double], height h: Int, width w: Int) -> ([Double], [Double]) {
        func reflect(_ i: Int, _ n: Int) -> Int { n == 1 ? 0 : i < 0 ? -i : i >= n ? 2 * n - 2 - i : i }
        func at(_ y: Int, _ x0: Int) -> Double { x[reflect(y, h) * w + reflect(x0, w)] }
        var dx = [Double](repeating: 0, count: h * w), dy = dx
        for y in 0..<h {
            for c in 0..<w {
                dx[y * w + c] = (at(y - 1, c + 1) + 2 * at(y, c + 1) + at(y + 1, c + 1))
                    - (at(y - 1, c - 1) + 2 * at(y, c - 1) + at(y + 1, c - 1))
                dy[y * w + c] = (at(y + 1, c - 1) + 2 * at(y + 1, c) + at(y + 1, c + 1))
                    - (at(y - 1, c - 1) + 2 * at(y - 1, c) + at(y - 1, c + 1))
            }
        }
        return (dx, dy)
    }
}
