import Foundation

/// Runs only what follows a layer of a graph (Ablation-CAM's many passes), for graph models and
/// traced native models alike: the values from before the layer come from one pass of the image,
/// kept while the same input is asked about, and after a global pooling the ablated copies are
/// never written out. Graphs are made for each input shape met, and kept.
final class GraphSuffixRunner {
    /// A graph made for one input shape, with its executor.
    struct Specialisation {
        let graph: Graph
        let executor: GraphExecutor
    }

    let source: GraphSource
    /// The classes of the output: every graph must give (batch, classes).
    let outputSize: Int
    private var graphs: [[Int]: Specialisation?] = [:]
    /// The last input a suffix run was asked about (compared by value: callers cut it anew from
    /// their batch) and the values of its pass that the suffix reads, by name.
    private var prefix: (input: Tensor, values: [String: Tensor])?
    /// The global pooling and affine head after a layer, by layer and input shape (nil: none).
    private var heads: [HeadKey: PooledHead?] = [:]
    /// The pooled values and head output of the last layer output asked about (Ablation-CAM
    /// asks about one in batches of copies), held so that its identity stays its own.
    private var lastBase: (base: Tensor, key: HeadKey, pooled: Tensor, output: Tensor)?
    private let lock = NSLock()

    private struct HeadKey: Hashable {
        let value: String
        let inputShape: [Int]
    }

    private struct PooledHead {
        let pool: Graph.Node
        let head: AffineHead
    }

    /// - Parameter graph: the source's graph for one input shape, which sets the classes.
    init(source: GraphSource, graph: Graph) {
        self.source = source
        outputSize = graph.shapes[graph.output].last ?? 0
        graphs[graph.shapes[graph.input]] = Specialisation(graph: graph, executor: GraphExecutor(graph))
    }

    /// The graph for inputs of `shape`, made on first use; nil when the source cannot make one
    /// giving (batch, classes), e.g. a graph that fixes the batch size.
    func specialisation(for shape: [Int]) -> Specialisation? {
        if let known = lock.withLock({ graphs[shape] }) { return known }
        var made: Specialisation?
        if let graph = try? source.graph(forInputShape: shape), graph.shapes[graph.output] == [shape[0], outputSize] {
            made = Specialisation(graph: graph, executor: GraphExecutor(graph))
        }
        lock.withLock { graphs[shape] = made }
        return made
    }

    /// The logits of `input` (one image) for each ablated copy of the value called `name`, a
    /// layer laid out as `layout`.
    func logits(of input: Tensor, value name: String, layout: ActivationLayout, ablation: ChannelAblation) throws -> Tensor {
        if layout == .spatial, let logits = try affineHeadLogits(of: input, from: name, ablation: ablation) { return logits }
        if let special = specialisation(for: [ablation.count] + input.shape.dropFirst()),
           let logits = try suffix(of: input, in: special, from: name, layout: layout, ablation: ablation) {
            return logits
        }
        guard ablation.count > 1 else {
            throw GraphShapeError("the graph cannot run what follows '\(name)' for an input of shape \(input.shape)")
        }
        // A graph that fixes the batch size: one copy at a time.
        let rows = try zip(ablation.channels, ablation.values).map { channel, value in
            try logits(of: input, value: name, layout: layout,
                       ablation: ChannelAblation(base: ablation.base, channels: [channel], values: [value]))
        }
        return concat(rows, axis: 0)
    }

    /// Through the affine head after the layer's one global pooling (`AffineHead`): the image's
    /// pooled values through the head, then one update per copy; nil when the layer is not
    /// followed so.
    private func affineHeadLogits(of input: Tensor, from name: String, ablation: ChannelAblation) throws -> Tensor? {
        let key = HeadKey(value: name, inputShape: input.shape)
        guard let special = specialisation(for: input.shape), let found = pooledHead(key, in: special.graph) else { return nil }
        let image: (pooled: Tensor, output: Tensor)
        if let last = lock.withLock({ lastBase }), last.base === ablation.base, last.key == key {
            image = (last.pooled, last.output)
        } else {
            guard let start = special.graph.value(named: name),
                  var values = try prefixValues(of: input, for: special, from: start) else { return nil }
            let pooled = found.pool.op.apply([ablation.base])
            values[found.pool.output] = pooled
            image = (pooled, special.executor.runSuffix(from: [found.pool.output], values: &values))
            lock.withLock { lastBase = (ablation.base, key, image.pooled, image.output) }
        }
        return found.head.outputs(base: image.output, pooled: image.pooled, channels: ablation.channels,
                                  changed: ablation.reducedChannels(by: found.pool.op))
    }

    /// The layer's only reader when it is a global pooling, with the affine head after it.
    private func pooledHead(_ key: HeadKey, in graph: Graph) -> PooledHead? {
        if let known = lock.withLock({ heads[key] }) { return known }
        var found: PooledHead?
        if let start = graph.value(named: key.value) {
            let readers = graph.nodes.filter { $0.inputs.contains(start) }
            if readers.count == 1, let pool = readers.first, pool.op.poolsEachChannel,
               let head = AffineHead(in: graph, after: pool.output) {
                found = PooledHead(pool: pool, head: head)
            }
        }
        lock.withLock { heads[key] = found }
        return found
    }

    /// The suffix run in one graph; nil when the values it reads do not fit its batch size.
    private func suffix(of input: Tensor, in special: Specialisation, from name: String, layout: ActivationLayout,
                        ablation: ChannelAblation) throws -> Tensor? {
        let (graph, executor) = (special.graph, special.executor)
        guard let start = graph.value(named: name),
              var values = try prefixValues(of: input, for: special, from: start) else { return nil }
        let consumers = graph.nodes.filter { $0.inputs.contains(start) }
        if layout == .spatial, start != graph.output, !consumers.isEmpty, consumers.allSatisfy({ $0.op.poolsEachChannel }) {
            for node in consumers { values[node.output] = ablation.reducedPerChannel(by: node.op) }
            return executor.runSuffix(from: consumers.map(\.output), values: &values)
        }
        // Only a token layout reads the layer output of the image: the prefix tokens it keeps.
        var original = ablation.base
        if case .tokens = layout, let layerOutput = try prefixRun(of: input, keeping: [name])[name] { original = layerOutput }
        values[start] = layout.layerOutput(fromSpatial: ablation.dense(), original: original)
        return executor.runSuffix(from: [start], values: &values)
    }

    /// The values the suffix from `start` reads besides the layer, from a pass of `input`
    /// (batch 1), repeated along the batch where the graph has a larger one; nil when a value
    /// does not repeat that way.
    private func prefixValues(of input: Tensor, for special: Specialisation, from start: Int) throws -> [Tensor?]? {
        let graph = special.graph
        var values = [Tensor?](repeating: nil, count: graph.valueCount)
        let needed = special.executor.suffixInputs(from: start)
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
        if let (seen, values) = lock.withLock({ prefix }), seen.shape == input.shape, seen.scalars == input.scalars,
           names.isSubset(of: values.keys) {
            return values
        }
        guard let special = specialisation(for: input.shape) else {
            throw GraphShapeError("the graph does not take an input of shape \(input.shape)")
        }
        let graph = special.graph
        var wanted: [Int: [String]] = [:]
        for name in names { if let v = graph.value(named: name) { wanted[v, default: []].append(name) } }
        var values: [String: Tensor] = [:]
        _ = special.executor.run(input) { v, t in
            for name in wanted[v] ?? [] { values[name] = t }
            return t
        }
        for name in names where values[name] == nil {
            if let v = graph.value(named: name), let c = graph.constants[v] { values[name] = c }
        }
        lock.withLock { prefix = (input, values) }
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
