/// Finer-CAM (Zhang et al. 2025): for look-alike classes. Instead of the class score alone, the
/// base method explains the class's margin over its most similar classes — those whose logits
/// are closest to its own, picked by rank (`comparisonRanks`, 1 = the closest) — each margin
/// `z_class − α·z_other` weighted by the other class's probability. What the map shows is then
/// what tells Border Collie from Collie rather than what makes a dog.
///
/// As pytorch-grad-cam's `FinerCAM`: a target that already names a contrast is kept as it is;
/// ranks beyond the number of classes are dropped.
public struct FinerCAM: CAMMethod {
    public let name = "finercam"
    /// The method that turns the weighted target's gradients into a map (Grad-CAM by default).
    public let base: CAMMethod
    /// Ranks of the comparison classes by closeness of their logit (0 would be the class itself).
    public let comparisonRanks: [Int]
    /// How strongly the comparison logits are subtracted (the reference's `alpha`, default 1).
    public let alpha: Float

    public init(base: CAMMethod = GradCAM(), comparisonRanks: [Int] = [1, 2, 3], alpha: Float = 1) {
        precondition(comparisonRanks.allSatisfy { $0 >= 1 }, "comparison ranks start at 1 (rank 0 is the class itself), got \(comparisonRanks)")
        self.base = base
        self.comparisonRanks = comparisonRanks
        self.alpha = alpha
    }

    public var usesGradients: Bool { base.usesGradients }
    public var runsOnlyAfterLayers: Bool { base.runsOnlyAfterLayers }

    public func target(for score: TargetScore, logits: ArraySlice<Float>) -> TargetScore {
        guard score.versus == nil && score.comparison == nil else { return score }
        let z = Array(logits)
        let own = z[score.classIndex]
        // By |z − z_class|, ties in index order: rank 0 is the class itself.
        let similar = z.indices.sorted { (abs(z[$0] - own), $0) < (abs(z[$1] - own), $1) }
        let ranks = comparisonRanks.filter { $0 < z.count }
        return TargetScore(similar[0], comparedWith: FinerComparison(classes: ranks.map { similar[$0] }, alpha: alpha))
    }

    public func rawMaps(_ layer: LayerState, context: CAMContext) throws -> Tensor {
        try base.rawMaps(layer, context: context)
    }
}
