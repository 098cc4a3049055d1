import Foundation

/// A rectangle in pixels of an image (origin top-left).
public struct PixelRect: Equatable, Sendable, Codable {
    public var x: Int
    public var y: Int
    public var width: Int
    public var height: Int

    public init(x: Int, y: Int, width: Int, height: Int) {
        self.x = x; self.y = y; self.width = width; self.height = height
    }
}

extension Preprocessing.Interpolation {
    var filter: RGBImage.Filter { self == .bilinear ? .bilinear : .bicubic }
}

extension Preprocessing {
    /// The size a photo of `width` × `height` is resized to before cropping, as torchvision's
    /// `Resize(int)` computes it: the shorter side becomes `resizeShorterSide`, the longer
    /// `int(size · long / short)` (truncated). Without `resizeShorterSide`, the crop size.
    public func resizedSize(width: Int, height: Int) -> (width: Int, height: Int) {
        guard let size = resizeShorterSide else { return (cropWidth, cropHeight) }
        if width <= height {
            return (size, Int(Double(size) * Double(height) / Double(width)))
        }
        return (Int(Double(size) * Double(width) / Double(height)), size)
    }

    /// Top-left of the centre crop in the resized image, as torchvision's `center_crop`:
    /// `int(round((size - crop) / 2.0))` (Python rounds half to even); when the crop is larger
    /// than the image, torchvision pads with zeros first, which puts the image at
    /// `(crop - size) // 2` in the crop (a negative offset here).
    public func cropOrigin(resizedWidth: Int, resizedHeight: Int) -> (x: Int, y: Int) {
        func offset(_ size: Int, _ crop: Int) -> Int {
            if crop > size { return -((crop - size) / 2) }
            return Int((Double(size - crop) / 2).rounded(.toNearestOrEven))
        }
        return (offset(resizedWidth, cropWidth), offset(resizedHeight, cropHeight))
    }

    /// The part of a `width` × `height` photo the model input shows, in the photo's pixels:
    /// the crop's edges mapped back through the resize (scaled by photo size / resized size),
    /// rounded to the nearest pixel (half to even) and clamped to the photo. A heatmap of the
    /// model input belongs on this rectangle of the original photo.
    public func cropBox(width: Int, height: Int) -> PixelRect {
        let (rw, rh) = resizedSize(width: width, height: height)
        let (left, top) = cropOrigin(resizedWidth: rw, resizedHeight: rh)
        func edge(_ v: Int, _ size: Int, _ resized: Int) -> Int {
            let x = (Double(v) * Double(size) / Double(resized)).rounded(.toNearestOrEven)
            return min(size, max(0, Int(x)))
        }
        let x0 = edge(left, width, rw), x1 = edge(left + cropWidth, width, rw)
        let y0 = edge(top, height, rh), y1 = edge(top + cropHeight, height, rh)
        return PixelRect(x: x0, y: y0, width: x1 - x0, height: y1 - y0)
    }

    public func cropBox(for image: RGBImage) -> PixelRect {
        cropBox(width: image.width, height: image.height)
    }

    /// The pixels of the model input that `box` (in the pixels of a `width` × `height` photo,
    /// bounds inclusive, inside the photo) covers: every input pixel whose area, mapped back
    /// through the resize and the crop, overlaps one of the box's pixels, computed in integers.
    /// A box partly outside the crop is clipped to it; nil when none of it is inside (the model
    /// never saw it).
    public func inputBox(for box: CAMMetrics.Box, width: Int, height: Int) -> CAMMetrics.Box? {
        let (rw, rh) = resizedSize(width: width, height: height)
        let (left, top) = cropOrigin(resizedWidth: rw, resizedHeight: rh)
        // Photo pixels first … last span [first, last + 1) · resized / size of the resized image.
        func span(_ first: Int, _ last: Int, size: Int, resized: Int, origin: Int, crop: Int) -> (Int, Int)? {
            let low = max(0, first * resized / size - origin)
            let high = min(crop - 1, ((last + 1) * resized + size - 1) / size - 1 - origin)
            return low <= high ? (low, high) : nil
        }
        guard let (x0, x1) = span(box.x0, box.x1, size: width, resized: rw, origin: left, crop: cropWidth),
              let (y0, y1) = span(box.y0, box.y1, size: height, resized: rh, origin: top, crop: cropHeight) else { return nil }
        return CAMMetrics.Box(x0: x0, y0: y0, x1: x1, y1: y1)
    }

    /// The 8-bit picture the model sees: resized (Pillow-exact) and centre-cropped, padded
    /// with black where the crop exceeds the resized image.
    public func croppedImage(_ image: RGBImage) -> RGBImage {
        let (rw, rh) = resizedSize(width: image.width, height: image.height)
        let resized = image.resized(width: rw, height: rh, filter: interpolation.filter)
        let (left, top) = cropOrigin(resizedWidth: rw, resizedHeight: rh)
        if left == 0 && top == 0 && rw == cropWidth && rh == cropHeight { return resized }
        var out = [UInt8](repeating: 0, count: cropWidth * cropHeight * 3)
        for y in 0..<cropHeight {
            let sy = y + top
            guard sy >= 0 && sy < rh else { continue }
            for x in 0..<cropWidth {
                let sx = x + left
                guard sx >= 0 && sx < rw else { continue }
                let s = (sy * rw + sx) * 3, d = (y * cropWidth + x) * 3
                out[d] = resized.pixels[s]; out[d + 1] = resized.pixels[s + 1]; out[d + 2] = resized.pixels[s + 2]
            }
        }
        return RGBImage(width: cropWidth, height: cropHeight, pixels: out)
    }

    /// The model input for a batch of photos: N × 3 × cropHeight × cropWidth, each value
    /// `(p / 255 − mean[c]) / std[c]` in float32, as torchvision's `ToTensor` + `Normalize`.
    public func tensor(from images: [RGBImage]) -> Tensor {
        let plane = cropWidth * cropHeight
        let crops = images.map(croppedImage)
        return Tensor(shape: [images.count, 3, cropHeight, cropWidth]) { out in
            for (n, crop) in crops.enumerated() {
                crop.pixels.withUnsafeBufferPointer { px in
                    for c in 0..<3 {
                        let base = (n * 3 + c) * plane
                        let m = mean[c], s = std[c]
                        for i in 0..<plane {
                            out[base + i] = (Float(px[i * 3 + c]) / 255 - m) / s
                        }
                    }
                }
            }
        }
    }

    public func tensor(from image: RGBImage) -> Tensor { tensor(from: [image]) }
}
