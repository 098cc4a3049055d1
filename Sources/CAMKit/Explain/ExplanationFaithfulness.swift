import Foundation

extension ExplainableModel {
    /// How faithful `explanation`'s map is to this model (`PerturbationMetrics.faithfulness`):
    /// its input, its masked copy and, with `road`, ROAD's copies in one batch through the fused
    /// inference path, scored as the probability of the explained class. The unmasked score is
    /// taken from that batch rather than from the explain's logits: the fused path differs from
    /// the explain's forward pass in the last bits where BatchNorm is folded, and a map of ones
    /// must change nothing. Runs under the model's lock, as explains do: both use its traces.
    public func faithfulness(of explanation: Explanation, road: Bool) -> PerturbationMetrics.Faithfulness {
        let (height, width) = (explanation.map.shape[0], explanation.map.shape[1])
        let map = Tensor(shape: [1, height, width], scalars: explanation.map.scalars)
        let metrics = PerturbationMetrics(model: model, batchSize: 2 + 2 * PerturbationMetrics.roadPercentiles.count)
        return lock.withLock {
            metrics.faithfulness(input: explanation.input, maps: map, targets: [TargetScore(explanation.targetIndex)], road: road,
                                 softmax: true)[0]
        }
    }
}
