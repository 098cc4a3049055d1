/// Running only what follows a layer of a graph model (Ablation-CAM's many passes): the values
/// from before the layer come from one pass of the image, kept while the same input is asked
/// about, and after a global pooling the ablated copies are never written out.
extension GraphModel: LayerSuffixRunning {
    public func logits(of input: Tensor, layer name: String, ablation: ChannelAblation) throws -> Tensor {
        guard let layer = layer(named: name) else {
            throw UnknownLayerError(name: name, validNames: layers.map(\.name))
        }
        let batch = [ablation.count] + input.shape.dropFirst()
        guard let prepared = prepared(for: batch), let start = prepared.graph.value(named: layer.value),
              let earlier = try prefixValues(of: input, for: prepared.graph, executor: prepared.executor, from: start) else {
            // A graph that fixes the batch size: one copy at a time.
            let rows = try ablation.channels.indices.map { i in
                try logits(of: input, layer: name, ablation: ChannelAblation(
                    base: ablation.base, channels: [ablation.channels[i]], values: [ablation.values[i]]))
            }
            return concat(rows, axis: 0)
        }
        let (graph, executor) = (prepared.graph, prepared.executor)
        var values = earlier
        let consumers = graph.nodes.filter { $0.inputs.contains(start) }
        if layer.layout == .spatial, start != graph.output, !consumers.isEmpty, consumers.allSatisfy({ $0.op.poolsEachChannel }) {
            for node in consumers { values[node.output] = ablation.reducedPerChannel(by: node.op) }
        } else {
            let original = try prefixRun(of: input, keeping: [layer.value])[layer.value]!
            values[start] = layer.layout.layerOutput(fromSpatial: ablation.dense(), original: original)
        }
        return executor.runSuffix(from: start, values: &values)
    }

    /// The values the suffix from `start` reads besides the layer, from a pass of `input`
    /// (batch 1), repeated along the batch where `graph` has a larger one; nil when a value
    /// does not repeat that way.
    private func prefixValues(of input: Tensor, for graph: Graph, executor: GraphExecutor, from start: Int) throws -> [Tensor?]? {
        var values = [Tensor?](repeating: nil, count: graph.valueCount)
        let needed = executor.suffixInputs(from: start)
        guard !needed.isEmpty else { return values }
        let run = try prefixRun(of: input, keeping: Set(needed.map { graph.names[$0] }))
        for v in needed {
            guard let single = run[graph.names[v]] else { return nil }
            let target = graph.shapes[v]
            if single.shape == target {
                values[v] = single
            } else if single.shape[0] == 1, [1] + target.dropFirst() == single.shape {
                values[v] = Tensor(shape: target, scalars: Array([[Float]](repeating: single.scalars, count: target[0]).joined()))
            } else {
                return nil
            }
        }
        return values
    }

    /// The values called `names` in a pass of `input`, kept for the next call with the same input.
    private func prefixRun(of input: Tensor, keeping names: Set<String>) throws -> [String: Tensor] {
        if let (seen, values) = suffixCache, seen.shape == input.shape, seen.scalars == input.scalars, names.isSubset(of: values.keys) { return values }
        guard let prepared = prepared(for: input.shape) else {
            throw GraphShapeError("the graph does not take an input of shape \(input.shape)")
        }
        let (graph, executor) = (prepared.graph, prepared.executor)
        var wanted: [Int: [String]] = [:]
        for name in names { if let v = graph.value(named: name) { wanted[v, default: []].append(name) } }
        var values: [String: Tensor] = [:]
        _ = executor.run(input) { v, t in
            for name in wanted[v] ?? [] { values[name] = t }
            return t
        }
        for name in names where values[name] == nil { if let v = graph.value(named: name), let c = graph.constants[v] { values[name] = c } }
        suffixCache = (input, values)
        return values
    }
}

extension GraphOp {
    /// Whether the op turns each channel of an NCHW map into one number on its own.
    var poolsEachChannel: Bool {
        switch self {
        case .globalAveragePool: return true
        case .reduce(.mean, let axes, _): return axes == [2, 3]
        default: return false
        }
    }
}
