import Foundation

/// A heatmap (values in [0, 1], 1 = most important) drawn over a photo as pytorch-grad-cam's
/// `show_cam_on_image(img, mask, use_rgb=True, image_weight=1 - alpha)` does it:
///
///     heatmap = JET[uint8(255 · mask)] / 255            (uint8 truncates)
///     cam     = alpha · heatmap + (1 − alpha) · photo / 255
///     cam     = cam / max(cam)                          (over the blended region)
///     out     = uint8(255 · cam)                        (truncated)
///
/// in float32, like numpy there.
///
/// The map is drawn over the photo at the photo's own resolution: it is resized (bilinear,
/// as `cv2.resize(..., INTER_LINEAR)`) to `cropBox` — the rectangle of the photo the model
/// saw, `Preprocessing.cropBox(for:)` — and blended there. Outside the crop box the model saw
/// nothing, so the photo there is dimmed (each byte times `outsideBrightness`, truncated), which
/// makes the explained region obvious. The max-normalisation runs over the box only, so the
/// result inside it equals `show_cam_on_image` on that part of the photo.
///
/// - Parameters:
///   - map: row-major `mapHeight` × `mapWidth` values in [0, 1] (values outside are clamped,
///     NaN counts as 0).
///   - cropBox: where the map belongs; nil means the whole photo.
///   - alpha: weight of the heatmap (`1 - image_weight` of the reference); default 0.5.
///   - outsideBrightness: what is kept of the photo outside the crop box, in [0, 1]; 1 leaves
///     it as it is.
public func overlay(map: [Float], mapWidth: Int, mapHeight: Int, on photo: RGBImage,
                    cropBox: PixelRect? = nil, alpha: Float = 0.5, outsideBrightness: Float = 0.4) -> RGBImage {
    precondition(map.count == mapWidth * mapHeight && mapWidth > 0 && mapHeight > 0,
                 "a \(mapWidth)×\(mapHeight) map holds \(mapWidth * mapHeight) values, got \(map.count)")
    precondition((0...1).contains(alpha), "alpha must be in [0, 1], got \(alpha)")
    precondition((0...1).contains(outsideBrightness), "outsideBrightness must be in [0, 1], got \(outsideBrightness)")
    let box = cropBox ?? PixelRect(x: 0, y: 0, width: photo.width, height: photo.height)
    precondition(box.x >= 0 && box.y >= 0 && box.width >= 0 && box.height >= 0
                 && box.x + box.width <= photo.width && box.y + box.height <= photo.height,
                 "crop box \(box) is not inside the \(photo.width)×\(photo.height) photo")
    var out = dimmed(photo, outside: box, brightness: outsideBrightness)
    guard box.width > 0 && box.height > 0 else { return out }
    let mask = resizeBilinearLikeOpenCV(map, width: mapWidth, height: mapHeight,
                                        toWidth: box.width, toHeight: box.height)
    let heatWeight = alpha, imageWeight = Float(1 - Double(alpha))
    // Both terms of the blend depend on one byte each (the map's colour index, the photo's
    // sample), so everything after the mask is tabled: the same float32 operations as per
    // pixel, done once per pair of bytes. The first pass notes each pixel's colour index and
    // finds the peak; the second looks the output bytes up.
    let heat = Colormap.jet.flatMap { [heatWeight * (Float($0.r) / 255), heatWeight * (Float($0.g) / 255), heatWeight * (Float($0.b) / 255)] }
    let shade = (0..<256).map { imageWeight * (Float($0) / 255) }
    var colours = [UInt8](repeating: 0, count: box.width * box.height)
    var peak: Float = 0
    heat.withUnsafeBufferPointer { heat in
        shade.withUnsafeBufferPointer { shade in
            mask.withUnsafeBufferPointer { mask in
                photo.pixels.withUnsafeBufferPointer { pixels in
                    colours.withUnsafeMutableBufferPointer { colours in
                        for y in 0..<box.height {
                            for x in 0..<box.width {
                                let scaled = 255 * mask[y * box.width + x]
                                let index = scaled.isNaN ? 0 : Int(max(0, min(255, scaled)))
                                colours[y * box.width + x] = UInt8(index)
                                let h = 3 * index, p = ((box.y + y) * photo.width + box.x + x) * 3
                                peak = max(peak, heat[h] + shade[Int(pixels[p])], heat[h + 1] + shade[Int(pixels[p + 1])],
                                           heat[h + 2] + shade[Int(pixels[p + 2])])
                            }
                        }
                    }
                }
            }
        }
    }
    // Output byte of channel c for colour index i and photo sample v, at [(c · 256 + i) · 256 + v].
    var table = [UInt8](repeating: 0, count: 3 * 256 * 256)
    for c in 0..<3 {
        for i in 0..<256 {
            for v in 0..<256 {
                let cam = heat[3 * i + c] + shade[v]
                let scaled = peak > 0 ? 255 * (cam / peak) : 0
                table[(c * 256 + i) * 256 + v] = UInt8(max(0, min(255, scaled)))
            }
        }
    }
    table.withUnsafeBufferPointer { table in
        colours.withUnsafeBufferPointer { colours in
            out.pixels.withUnsafeMutableBufferPointer { pixels in
                for y in 0..<box.height {
                    for x in 0..<box.width {
                        let i = Int(colours[y * box.width + x]) * 256
                        let p = ((box.y + y) * photo.width + box.x + x) * 3
                        pixels[p] = table[i + Int(pixels[p])]
                        pixels[p + 1] = table[65536 + i + Int(pixels[p + 1])]
                        pixels[p + 2] = table[131072 + i + Int(pixels[p + 2])]
                    }
                }
            }
        }
    }
    return out
}

/// `photo` with every byte outside `box` scaled by `brightness` (truncated, in float32).
private func dimmed(_ photo: RGBImage, outside box: PixelRect, brightness: Float) -> RGBImage {
    guard brightness < 1 else { return photo }
    let level = (0..<256).map { UInt8(Float($0) * brightness) }
    var out = photo
    out.pixels.withUnsafeMutableBufferPointer { pixels in
        for y in 0..<photo.height {
            let inside = (box.y..<box.y + box.height).contains(y)
            for x in 0..<photo.width where !inside || !(box.x..<box.x + box.width).contains(x) {
                let p = (y * photo.width + x) * 3
                for c in 0..<3 { pixels[p + c] = level[Int(pixels[p + c])] }
            }
        }
    }
    return out
}

/// `overlay` for a map held in a tensor of shape [h, w] (or with leading 1s, e.g. [1, 1, h, w]).
public func overlay(map: Tensor, on photo: RGBImage, cropBox: PixelRect? = nil, alpha: Float = 0.5,
                    outsideBrightness: Float = 0.4) -> RGBImage {
    let dims = map.shape.drop { $0 == 1 && map.shape.count > 2 }
    let h = map.rank >= 2 ? map.shape[map.rank - 2] : 1, w = map.shape.last ?? 1
    precondition(dims.count <= 2 && h * w == map.count, "a heatmap needs shape [h, w], got \(map.shape)")
    return overlay(map: map.scalars, mapWidth: w, mapHeight: h, on: photo, cropBox: cropBox, alpha: alpha,
                   outsideBrightness: outsideBrightness)
}

/// Bilinear resize of a float map as OpenCV's `cv2.resize(src, (w, h), INTER_LINEAR)`:
/// half-pixel centres, source coordinate `(d + 0.5) · in / out − 0.5` clamped to the edges,
/// float32 weights, horizontal pass then vertical, no antialiasing.
func resizeBilinearLikeOpenCV(_ src: [Float], width: Int, height: Int, toWidth: Int, toHeight: Int) -> [Float] {
    if width == toWidth && height == toHeight { return src }
    func taps(_ inSize: Int, _ outSize: Int) -> [(Int, Float, Float)] {
        let scale = Double(inSize) / Double(outSize)
        return (0..<outSize).map { d in
            var f = Float((Double(d) + 0.5) * scale - 0.5)
            var s = Int(f.rounded(.down))
            f -= Float(s)
            if s < 0 { f = 0; s = 0 }
            if s >= inSize - 1 { f = 0; s = inSize - 1 }
            return (s, 1 - f, f)
        }
    }
    let xt = taps(width, toWidth), yt = taps(height, toHeight)
    var rows = [Float](repeating: 0, count: height * toWidth)
    for y in 0..<height {
        for (dx, (s, a0, a1)) in xt.enumerated() {
            let v0 = src[y * width + s] * a0
            let v1 = s + 1 < width ? src[y * width + s + 1] * a1 : 0
            rows[y * toWidth + dx] = v0 + v1
        }
    }
    var out = [Float](repeating: 0, count: toWidth * toHeight)
    for (dy, (s, b0, b1)) in yt.enumerated() {
        let s1 = min(s + 1, height - 1)
        for x in 0..<toWidth {
            out[dy * toWidth + x] = rows[s * toWidth + x] * b0 + rows[s1 * toWidth + x] * b1
        }
    }
    return out
}
