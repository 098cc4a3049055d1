import Foundation

/// Resampling exactly as Pillow's `Image.resize` (libImaging/Resample.c) does it for 8-bit RGB,
/// which is what torchvision's `Resize` and timm's eval transforms call on PIL images.
///
/// - The filter is a triangle (bilinear) or Keys' cubic with a = −0.5 (bicubic).
/// - When shrinking, the filter support is stretched by the scale factor (antialiasing).
/// - Coefficients are normalised per output pixel, then turned into 22-bit fixed point.
/// - Two separable passes, horizontal first; the intermediate image is rounded to 8 bits.
/// - A pass whose size does not change is skipped.
extension RGBImage {
    public enum Filter: Sendable {
        case bilinear, bicubic

        var support: Double { self == .bilinear ? 1 : 2 }

        func weight(_ x: Double) -> Double {
            let x = abs(x)
            switch self {
            case .bilinear:
                return x < 1 ? 1 - x : 0
            case .bicubic:
                let a = -0.5
                if x < 1 { return ((a + 2) * x - (a + 3)) * x * x + 1 }
                if x < 2 { return (((x - 5) * x + 8) * x - 4) * a }
                return 0
            }
        }
    }

    /// This image resized to `width` × `height`, pixel for pixel as Pillow's `resize`.
    public func resized(width outWidth: Int, height outHeight: Int, filter: Filter) -> RGBImage {
        precondition(outWidth > 0 && outHeight > 0, "cannot resize to \(outWidth)×\(outHeight)")
        precondition(width > 0 && height > 0, "cannot resize an empty image")
        if outWidth == width && outHeight == height { return self }
        let horizontal = PillowCoefficients(inSize: width, outSize: outWidth, filter: filter)
        let vertical = PillowCoefficients(inSize: height, outSize: outHeight, filter: filter)

        var source = self
        var firstRow = 0
        if outWidth != width {
            // Only the rows the vertical pass reads.
            firstRow = outHeight != height ? vertical.bounds[0] : 0
            let lastRow = outHeight != height
                ? vertical.bounds[2 * (outHeight - 1)] + vertical.bounds[2 * (outHeight - 1) + 1] : height
            source = horizontalPass(rows: firstRow..<lastRow, coefficients: horizontal)
        }
        if outHeight != height {
            source = source.verticalPass(rowOffset: firstRow, coefficients: vertical)
        }
        return source
    }

    // Both passes run on raw pointers: they are most of a gallery's time outside the model
    // (every photo is resized for each model and for its overlays). The sums are wrapping
    // integer sums, so their order does not change a bit of the result.
    private func horizontalPass(rows: Range<Int>, coefficients c: PillowCoefficients) -> RGBImage {
        let outWidth = c.outSize, ksize = c.ksize, width = width
        var out = [UInt8](repeating: 0, count: outWidth * rows.count * 3)
        pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                c.bounds.withUnsafeBufferPointer { bounds in
                    c.fixed.withUnsafeBufferPointer { fixed in
                        for (oy, y) in rows.enumerated() {
                            let row = src.baseAddress! + y * width * 3
                            let outRow = dst.baseAddress! + oy * outWidth * 3
                            for xx in 0..<outWidth {
                                let xmin = bounds[2 * xx], xcount = bounds[2 * xx + 1]
                                let weights = fixed.baseAddress! + xx * ksize
                                var p = row + xmin * 3
                                var s0 = PillowCoefficients.half, s1 = s0, s2 = s0
                                for k in 0..<xcount {
                                    let w = weights[k]
                                    s0 &+= Int32(p[0]) &* w
                                    s1 &+= Int32(p[1]) &* w
                                    s2 &+= Int32(p[2]) &* w
                                    p += 3
                                }
                                outRow[3 * xx] = PillowCoefficients.clip8(s0)
                                outRow[3 * xx + 1] = PillowCoefficients.clip8(s1)
                                outRow[3 * xx + 2] = PillowCoefficients.clip8(s2)
                            }
                        }
                    }
                }
            }
        }
        return RGBImage(width: outWidth, height: rows.count, pixels: out)
    }

    /// Rows of `self` are rows `rowOffset...` of the image the coefficients were made for.
    /// Each output row sums whole input rows, tap by tap, so the inner loop runs along memory.
    private func verticalPass(rowOffset: Int, coefficients c: PillowCoefficients) -> RGBImage {
        let outHeight = c.outSize, ksize = c.ksize, rowLength = width * 3
        var out = [UInt8](repeating: 0, count: width * outHeight * 3)
        var sums = [Int32](repeating: 0, count: rowLength)
        pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                sums.withUnsafeMutableBufferPointer { sums in
                    for yy in 0..<outHeight {
                        let ymin = c.bounds[2 * yy] - rowOffset, ycount = c.bounds[2 * yy + 1]
                        for i in 0..<rowLength { sums[i] = PillowCoefficients.half }
                        for k in 0..<ycount {
                            let w = c.fixed[yy * ksize + k]
                            let row = src.baseAddress! + (ymin + k) * rowLength
                            for i in 0..<rowLength { sums[i] &+= Int32(row[i]) &* w }
                        }
                        let outRow = dst.baseAddress! + yy * rowLength
                        for i in 0..<rowLength { outRow[i] = PillowCoefficients.clip8(sums[i]) }
                    }
                }
            }
        }
        return RGBImage(width: width, height: outHeight, pixels: out)
    }
}

/// Pillow's `precompute_coeffs` + `normalize_coeffs_8bpc` for one axis (no crop box).
struct PillowCoefficients {
    static let precisionBits: Int32 = 32 - 8 - 2
    static let half: Int32 = 1 << (precisionBits - 1)

    let outSize: Int
    let ksize: Int
    /// Per output pixel: first input index and number of taps.
    var bounds: [Int]
    var fixed: [Int32]

    init(inSize: Int, outSize: Int, filter: RGBImage.Filter) {
        let scale = Double(inSize) / Double(outSize)
        let filterScale = max(scale, 1)
        let support = filter.support * filterScale
        let ksize = Int(support.rounded(.up)) * 2 + 1
        self.outSize = outSize
        self.ksize = ksize
        bounds = [Int](repeating: 0, count: 2 * outSize)
        fixed = [Int32](repeating: 0, count: outSize * ksize)
        var k = [Double](repeating: 0, count: ksize)
        for xx in 0..<outSize {
            let center = (Double(xx) + 0.5) * scale
            let ss = 1 / filterScale
            // C's (int) truncates toward zero, as Pillow relies on.
            let xmin = max(0, Int(center - support + 0.5))
            let xmax = min(inSize, Int(center + support + 0.5)) - xmin
            var ww = 0.0
            for x in 0..<ksize { k[x] = 0 }
            for x in 0..<max(0, xmax) {
                let w = filter.weight((Double(x + xmin) - center + 0.5) * ss)
                k[x] = w
                ww += w
            }
            for x in 0..<max(0, xmax) where ww != 0 { k[x] /= ww }
            bounds[2 * xx] = xmin
            bounds[2 * xx + 1] = max(0, xmax)
            for x in 0..<ksize {
                let v = k[x] * Double(1 << Self.precisionBits)
                fixed[xx * ksize + x] = Int32(v < 0 ? -0.5 + v : 0.5 + v)
            }
        }
    }

    static func clip8(_ v: Int32) -> UInt8 {
        if v >= ((1 << precisionBits) << 8) { return 255 }
        if v <= 0 { return 0 }
        return UInt8(truncatingIfNeeded: v >> precisionBits)
    }
}
