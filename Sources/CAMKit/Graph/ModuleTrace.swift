/// The graph form of a native model at one input size (any batch, when the trace leaves it
/// free), kept on the model for Ablation-CAM's suffix runs and the plain passes of Score-CAM
/// and the metrics: runners over the trace, or why there is none, so that a model that cannot
/// be traced is not traced again on every map.
final class ModuleTrace {
    let source: TracedGraphSource?
    let runner: GraphSuffixRunner?
    let inference: InferenceRunner?
    let failure: GraphTraceError?

    init(_ trace: Result<TracedGraphSource, GraphTraceError>) {
        switch trace {
        case .success(let source):
            self.source = source
            let runner = GraphSuffixRunner(source: source, graph: source.graph)
            self.runner = runner
            inference = InferenceRunner(source: source, outputSize: runner.outputSize)
            failure = nil
        case .failure(let error):
            source = nil
            runner = nil
            inference = nil
            failure = error
        }
    }

    /// Whether the trace still describes the model: a failed one always does, a graph as long
    /// as the model has the weights it holds.
    var isCurrent: Bool { source?.hasCurrentWeights ?? true }
}

extension Module {
    /// Runs `pass` (this model's forward on `input`), traced when the model has no current trace
    /// for inputs of that size yet; the trace is kept on the model.
    func tracingOnce(_ input: Tensor, _ pass: () -> Tensor) -> Tensor {
        let key = Array(input.shape.dropFirst())
        if let known = keptTrace(forInputShape: key), known.isCurrent { return pass() }
        let (output, graph) = GraphTracer.trace(self, input: input, pass)
        keep(ModuleTrace(graph), forInputShape: key)
        return output
    }

    /// The runner of this model's current trace, when it can run what follows `layer` for inputs
    /// of `shape`.
    func tracedSuffixRunner(forInputShape shape: [Int], layer: String) -> GraphSuffixRunner? {
        guard let trace = keptTrace(forInputShape: Array(shape.dropFirst())), trace.isCurrent, let runner = trace.runner,
              runner.specialisation(for: shape)?.graph.value(named: layer) != nil else { return nil }
        return runner
    }
}
