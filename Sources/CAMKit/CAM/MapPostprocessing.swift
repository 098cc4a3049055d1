import Foundation

/// What pytorch-grad-cam does to a raw map after the method: ReLU, min–max scaling
/// (`scale_cam_image`) and OpenCV's bilinear resize to the input size. Written to agree with
/// it to float rounding, so that our maps can be compared with the reference's pixel for pixel.
public enum MapPostprocessing {
    /// `max(x, 0)`, the ReLU the reference applies to every method's map.
    public static func relu(_ map: [Float]) -> [Float] { map.map { max($0, 0) } }

    /// `(x − min) / (1e-7 + max(x − min))`: the reference's `scale_cam_image`, whose 1e-7 keeps
    /// an all-zero map at zero instead of dividing by zero.
    public static func minMaxScaled(_ map: [Float]) -> [Float] {
        guard let low = map.min() else { return map }
        let shifted = map.map { $0 - low }
        let denominator = Float(1e-7) + (shifted.max() ?? 0)
        return shifted.map { $0 / denominator }
    }

    /// Bilinear resize of a row-major `(height, width)` map to `(toHeight, toWidth)`, exactly
    /// as `cv2.resize(map, (toWidth, toHeight))` with `INTER_LINEAR` on float32: half-pixel
    /// centres, columns clamped at the edges (weight 1 on the edge pixel), rows taken from the
    /// clamped neighbours with the unclamped weights, horizontal pass before vertical.
    public static func resizeBilinear(_ map: [Float], height: Int, width: Int, toHeight: Int, toWidth: Int) -> [Float] {
        precondition(map.count == height * width, "map of \(map.count) values is not \(height)×\(width)")
        if height == toHeight && width == toWidth { return map }
        let columns = taps(source: width, destination: toWidth, clampWeights: true)
        let rows = taps(source: height, destination: toHeight, clampWeights: false)
        // Each source row resized horizontally once, as OpenCV's row buffer does.
        let horizontal: [[Float]] = (0..<height).map { y in
            columns.map { tap in
                let row = y * width
                // Past the right edge OpenCV copies the edge pixel instead of weighting it.
                return tap.index1 >= width
                    ? map[row + tap.index0]
                    : map[row + tap.index0] * tap.weight0 + map[row + tap.index1] * tap.weight1
            }
        }
        var out = [Float](repeating: 0, count: toHeight * toWidth)
        for (dy, tap) in rows.enumerated() {
            let r0 = horizontal[tap.index0], r1 = horizontal[tap.index1]
            for dx in 0..<toWidth { out[dy * toWidth + dx] = r0[dx] * tap.weight0 + r1[dx] * tap.weight1 }
        }
        return out
    }

    private struct Tap { var index0: Int; var index1: Int; var weight0: Float; var weight1: Float }

    /// OpenCV's source offsets and weights along one axis. Columns clamp the offset and zero the
    /// fraction at the borders; rows keep the fraction and clamp the two source rows instead.
    private static func taps(source: Int, destination: Int, clampWeights: Bool) -> [Tap] {
        let scale = 1 / (Double(destination) / Double(source))
        return (0..<destination).map { d in
            var f = Float((Double(d) + 0.5) * scale - 0.5)
            var s = Int(f.rounded(.down))
            f -= Float(s)
            if clampWeights {
                if s < 0 { s = 0; f = 0 }
                if s >= source - 1 { s = source - 1; f = 0 }
                return Tap(index0: s, index1: s + 1, weight0: 1 - f, weight1: f)
            }
            return Tap(index0: min(max(s, 0), source - 1), index1: min(max(s + 1, 0), source - 1), weight0: 1 - f, weight1: f)
        }
    }
}
