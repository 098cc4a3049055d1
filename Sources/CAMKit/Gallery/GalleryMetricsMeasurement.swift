import Foundation

extension GalleryMetrics {
    /// The measures `set` asks for of `explanation`, made by `model` from a `width` × `height`
    /// photo whose object is in `box` (photo pixels); nil for `none`.
    static func measure(_ explanation: Explanation, by model: ExplainableModel, photoWidth width: Int, photoHeight height: Int,
                        box: CAMMetrics.Box?, set: GalleryMetricSet) throws -> GalleryMetrics? {
        guard set != .none else { return nil }
        let all = set == .all
        let faithfulness = model.faithfulness(of: explanation, road: all)
        var metrics = GalleryMetrics(confidenceDrop: 100 * Double(faithfulness.dropInConfidence),
                                     confidenceIncrease: faithfulness.increaseInConfidence,
                                     roadCombined: faithfulness.roadCombined.map { 100 * Double($0) })
        if all, let box {
            metrics.pointingHit = try pointingHit(of: explanation.map, box: box, preprocessing: model.preprocessing,
                                                  photoWidth: width, photoHeight: height)
        }
        return metrics
    }

    /// The pointing game of `map` (on the model input) against `box` (in the pixels of the
    /// photo `preprocessing` made the input from); nil when the box is entirely outside the
    /// crop. A box reaching outside the photo is an error naming it: the labels are wrong.
    static func pointingHit(of map: Tensor, box: CAMMetrics.Box, preprocessing: Preprocessing, photoWidth width: Int,
                            photoHeight height: Int) throws -> Bool? {
        guard box.x1 < width, box.y1 < height else {
            throw GalleryPhotoError("bbox \(box.x0) \(box.y0) \(box.x1) \(box.y1) of the labels reaches outside the \(width)×\(height) photo")
        }
        return preprocessing.inputBox(for: box, width: width, height: height).map { CAMMetrics.pointingGame(map: map, box: $0) }
    }
}
