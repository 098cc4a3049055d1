import Foundation

/// The quality measures of one model's map on one photo, as the gallery records them; each is
/// nil when it was not computed (`--metrics none`, or no box in the labels file).
public struct GalleryMetrics: Codable, Equatable, Sendable {
    /// Drop in confidence, in percent of the class probability, when only the mapped region is
    /// kept (pytorch-grad-cam's `DropInConfidence` of one photo). Lower is better.
    public var confidenceDrop: Double?
    /// Whether the class probability rose when only the mapped region was kept (one photo's
    /// `IncreaseInConfidence`).
    public var confidenceIncrease: Bool?
    /// Whether the map's maximum falls inside the photo's labelled box (the pointing game).
    public var pointingHit: Bool?

    public init(confidenceDrop: Double? = nil, confidenceIncrease: Bool? = nil, pointingHit: Bool? = nil) {
        self.confidenceDrop = confidenceDrop
        self.confidenceIncrease = confidenceIncrease
        self.pointingHit = pointingHit
    }
}

/// One model's metric means over a gallery: what the summary table shows.
public struct GalleryMetricMeans: Equatable, Sendable {
    public var model: String
    /// Average Drop, in percent (mean of the photos' `confidenceDrop`); nil when none was computed.
    public var averageDrop: Double?
    /// Increase in Confidence, in percent of the photos whose confidence rose.
    public var increaseInConfidence: Double?
    /// Pointing-game accuracy, in percent of the photos with a box.
    public var pointingAccuracy: Double?
    /// How many photos each mean is over.
    public var confidenceCount: Int
    public var pointingCount: Int
}
