import Foundation

/// The summary of one model's confidences over a set of images: the numbers of the case
/// study's table (mean, median, std, min, max, share ≥ 0.5), plus accuracy when labels are known.
public struct ConfidenceStatistics: Equatable, Sendable {
    public let model: String
    public let count: Int
    public let mean: Double
    /// The middle value; the mean of the two middle values for an even count (as numpy.median).
    public let median: Double
    /// The population standard deviation (divide by n, numpy's default `ddof=0`): the case
    /// study's published figures are numpy's `std` of the confidences.
    public let standardDeviation: Double
    public let minimum: Double
    public let maximum: Double
    /// The share of predictions with confidence ≥ 0.5, 0…1.
    public let shareAtLeastHalf: Double
    /// Right predictions among those with a known label, 0…1; `nil` if no label is known.
    public let accuracy: Double?
    /// How many records had a known label (the denominator of `accuracy`).
    public let labelledCount: Int

    /// The statistics of `records`, which must be non-empty and of one model.
    public init(model: String, records: [ConfidenceRecord]) {
        precondition(!records.isEmpty, "statistics of model \(model) need at least one record")
        let values = records.map(\.confidence)
        let sorted = values.sorted()
        let n = Double(values.count)
        self.model = model
        count = values.count
        mean = values.reduce(0, +) / n
        let middle = sorted.count / 2
        median = sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
        let mean = self.mean
        standardDeviation = (values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / n).squareRoot()
        minimum = sorted.first!
        maximum = sorted.last!
        shareAtLeastHalf = Double(values.filter { $0 >= 0.5 }.count) / n
        let known = records.compactMap(\.correct)
        labelledCount = known.count
        accuracy = known.isEmpty ? nil : Double(known.filter { $0 }.count) / Double(known.count)
    }

    /// One summary per model, in order of first appearance in `records`.
    public static func perModel(_ records: [ConfidenceRecord]) -> [ConfidenceStatistics] {
        records.modelNames.map { name in
            ConfidenceStatistics(model: name, records: records.filter { $0.modelName == name })
        }
    }
}
