import Foundation

/// The quality measures of one model's map on one photo, as the gallery records them; each is
/// nil when it was not computed (`--metrics`, `GalleryMetricSet`). The confidence measures are
/// pytorch-grad-cam's with `ClassifierOutputSoftmaxTarget` on the explained class (for a
/// contrast `A-vs-B`, class A): the class probability `p` on the model input, and `p_masked` on
/// the input multiplied by the map the overlay shows (at the model's input size, in [0, 1]).
public struct GalleryMetrics: Codable, Equatable, Sendable {
    /// Drop in confidence, in percentage points of the class probability: 100 · max(0, p −
    /// p_masked), 100 × pytorch-grad-cam's `DropInConfidence` of the photo. Lower is better.
    public var confidenceDrop: Double?
    /// Whether the class probability rose when only the mapped region was kept (p_masked > p,
    /// the photo's `IncreaseInConfidence`).
    public var confidenceIncrease: Bool?
    /// Whether the map's maximum on the model input (the first in row-major order on ties)
    /// falls on the input pixels the photo's labelled box covers (the pointing game, without
    /// tolerance). The box is mapped through the resize and crop and clipped to the crop; nil
    /// when the photo has no box, or its box is entirely outside the crop (the model never saw it).
    public var pointingHit: Bool?
    /// ROAD combined, in percentage points of the class probability: 100 × pytorch-grad-cam's
    /// `ROADCombined` (percentiles 10 … 90, its noisy linear imputation with our seeded noise).
    /// Higher is more faithful.
    public var roadCombined: Double?

    public init(confidenceDrop: Double? = nil, confidenceIncrease: Bool? = nil, pointingHit: Bool? = nil, roadCombined: Double? = nil) {
        self.confidenceDrop = confidenceDrop
        self.confidenceIncrease = confidenceIncrease
        self.pointingHit = pointingHit
        self.roadCombined = roadCombined
    }
}

/// One model's metric means over a gallery: what the summary table shows.
public struct GalleryMetricMeans: Equatable, Sendable {
    public var model: String
    /// Average Drop, in percentage points (mean of the photos' `confidenceDrop`); nil when none
    /// was computed.
    public var averageDrop: Double?
    /// Increase in Confidence, in percent of the photos whose confidence rose.
    public var increaseInConfidence: Double?
    /// Pointing-game accuracy, in percent of the photos with a box inside the crop.
    public var pointingAccuracy: Double?
    /// Mean ROAD combined, in percentage points.
    public var roadCombined: Double?
    /// How many photos each mean is over.
    public var confidenceCount: Int
    public var pointingCount: Int
    public var roadCount: Int
}
