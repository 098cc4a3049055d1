import Foundation

/// The graphs of one source fused for inference (`Graph.fusedForInference`), by input shape,
/// made on first use and kept: for the many plain passes of Score-CAM, SESS and the metrics.
final class InferenceRunner {
    let source: GraphSource
    /// The classes of the output: a graph that does not give (batch, classes) is not used.
    let outputSize: Int
    private var executors: [[Int]: GraphExecutor?] = [:]
    private let lock = NSLock()

    init(source: GraphSource, outputSize: Int) {
        self.source = source
        self.outputSize = outputSize
    }

    /// The output for `input`; nil when the source has no graph for its shape.
    func output(_ input: Tensor) -> Tensor? {
        let shape = input.shape
        let executor: GraphExecutor?
        if let known = lock.withLock({ executors[shape] }) {
            executor = known
        } else {
            let graph = try? source.graph(forInputShape: shape)
            executor = graph.flatMap { $0.shapes[$0.output] == [shape[0], outputSize] ? GraphExecutor($0.fusedForInference()) : nil }
            lock.withLock { executors[shape] = executor }
        }
        return executor?.run(input)
    }
}

extension Module {
    /// The output of `batch` with nothing observed or recorded, for passes that want only the
    /// scores: through the fused graph of a graph model or of this model's trace (made on the
    /// first such pass for inputs of that size), else the forward pass. Differs from `self(batch)`
    /// in the last bits where BatchNorm was folded.
    public func inferenceOutput(_ batch: Tensor) -> Tensor {
        if let model = self as? GraphModel {
            return model.inference.output(batch) ?? self(batch)
        }
        let key = Array(batch.shape.dropFirst())
        guard let trace = keptTrace(forInputShape: key), trace.isCurrent else {
            return tracingOnce(batch) { self(batch) }
        }
        return trace.inference?.output(batch) ?? self(batch)
    }
}
