import Foundation

/// Records a native model's forward pass as a `Graph`, as torch.fx traces a PyTorch module: each
/// op of `Ops/` reports itself (`traced`), `Module.callAsFunction` reports the value each module
/// returned, and tensors the pass read but did not make (weights, buffers) become constants, by
/// reference. The tracer is a task-local value of the thread running the pass, so passes on other
/// threads neither see it nor disturb it.
///
/// Tensors are known by identity, and the tracer holds none of the pass's own: they are freed as
/// usual (a pass holding every activation would fault in fresh memory for each), and since every
/// tensor is made through `Tensor.init`, which reports it, an identifier that a new tensor takes
/// over is forgotten first.
///
/// A pass its graph would not replay is refused, never recorded wrongly: an op reading a tensor
/// made outside the reporting ops (by an op that does not report, or copied from data), a module
/// output replaced while tracing, an op whose shape rule disagrees with its result, a report from
/// another thread. What it cannot see is control flow on values, or on the batch size other than
/// through reshape targets; models are assumed to have none (as torch.fx assumes).
final class GraphTracer: @unchecked Sendable {
    // Sendable: its state is touched only on `thread`; other threads only set `foreign`, under a lock.

    @TaskLocal static var current: GraphTracer?

    private let thread = pthread_self()
    private let foreignLock = NSLock()
    private var foreign = false
    /// Ops being computed: only the outermost one is recorded.
    private var depth = 0
    private var failure: String?

    private var values: [ObjectIdentifier: Int] = [:]
    /// Tensors the model made between ops: no graph node gives them.
    private var opaque: Set<ObjectIdentifier> = []
    private var shapes: [[Int]] = []
    private var names: [String] = []
    private var isNode: [Bool] = []
    /// Whether a value depends on the input, and whether its axis 0 is the input's batch axis.
    private var derived: [Bool] = []
    private var batched: [Bool] = []
    private var constants: [Int: Tensor] = [:]
    private var nodes: [Graph.Node] = []

    /// Module paths from the root's `namedModules()`; nil for a module registered at several.
    private let paths: [ObjectIdentifier: String?]
    private let parameterNames: [ObjectIdentifier: (name: String, parameter: Parameter)]
    private var usedParameters: [TracedGraphSource.Weight] = []
    /// The modules being called, innermost last, with the value count when each was entered.
    private var calls: [(path: String?, firstValue: Int)] = []
    private var layerValues: [String: Int] = [:]
    private var ambiguousLayers: Set<String> = []

    private init(root: Module, input: Tensor) {
        var paths: [ObjectIdentifier: String?] = [:]
        for (path, module) in root.namedModules() {
            let id = ObjectIdentifier(module)
            paths[id] = paths[id] == nil ? path : .some(nil)
        }
        self.paths = paths
        parameterNames = Dictionary(root.namedParameters().map { (ObjectIdentifier($0.parameter.value), ($0.name, $0.parameter)) },
                                    uniquingKeysWith: { a, _ in a })
        _ = newValue(input, shape: input.shape, name: "input", isNode: false, derived: true, batched: true)
    }

    /// Runs `pass` (a forward of `model` on `input`) under a new tracer; returns its output and
    /// the graph it recorded, or why there is none.
    static func trace(_ model: Module, input: Tensor, _ pass: () -> Tensor) -> (output: Tensor, graph: Result<TracedGraphSource, GraphTraceError>) {
        let tracer = GraphTracer(root: model, input: input)
        let output = $current.withValue(tracer) { pass() }
        return (output, tracer.finish(output: output))
    }

    // MARK: Reports

    /// Runs an op's `compute` and, when it is the outermost op, records it: `node` turns the
    /// values of `inputs` into the op and the values it reads, inserting any node it needs first.
    func record(_ inputs: () -> [Tensor], _ compute: () -> Tensor,
                node: (_ operands: [Int], _ tracer: GraphTracer) -> (GraphOp, [Int])) -> Tensor {
        guard onThread() else { return compute() }
        depth += 1
        defer { depth -= 1 }
        let output = compute()
        guard depth == 1, failure == nil else { return output }
        let operands = inputs().map(value(of:))
        // An op that hands back a tensor it was given (padding by nothing) adds no node.
        guard failure == nil, values[ObjectIdentifier(output)] == nil else { return output }
        let (op, reads) = node(operands, self)
        add(op, reads, shape: output.shape, tensor: output)
        return output
    }

    /// A node the graph needs that the op computes internally (a transpose of an operand);
    /// its value, with the shape the rule gives.
    func insert(_ op: GraphOp, _ reads: [Int]) -> Int {
        guard let shape = try? op.outputShape(reads.map { shapes[$0] }) else {
            fail("\(op.name) of \(reads.map { shapes[$0] }) in \(origin) has no shape")
            return reads[0]
        }
        return add(op, reads, shape: shape, tensor: nil) ?? reads[0]
    }

    /// A constant the graph needs that the op does without (the unit scale of a norm without
    /// weight, so that the graph op has its fixed inputs).
    func constant(_ t: Tensor) -> Int {
        newValue(t, shape: t.shape, name: "constant%\(shapes.count)", isNode: false, derived: false, batched: false)
    }

    /// The operands of a norm whose weight and bias are optional, for a graph op that reads a bias
    /// only after a weight: a unit weight (the same arithmetic) when only the bias is given.
    func normOperands(_ v: [Int], hasWeight: Bool, hasBias: Bool) -> [Int] {
        guard hasBias && !hasWeight else { return v }
        return [v[0], constant(Tensor(repeating: 1, shape: shapes[v[1]])), v[1]]
    }

    func shape(of value: Int) -> [Int] { shapes[value] }

    /// Called by `Tensor.init`: whatever had this identifier is gone, and a tensor made outside
    /// any op is opaque to the graph.
    func made(_ t: Tensor) {
        guard onThread() else { return }
        let id = ObjectIdentifier(t)
        values[id] = nil
        if depth == 0 { opaque.insert(id) } else { opaque.remove(id) }
    }

    func enter(_ module: Module) {
        guard onThread() else { return }
        calls.append((paths[ObjectIdentifier(module)] ?? nil, shapes.count))
    }

    /// A module returned `output`: it names that value when the value was made during this call
    /// and the module is called once; else the module is no layer of the graph (replacing its
    /// output would not be replacing one value).
    func leave(_ module: Module, output: Tensor, replaced: Bool) {
        guard onThread(), let call = calls.popLast() else { return }
        if replaced { fail("the output of '\(call.path ?? "a module")' is replaced while tracing") }
        guard let path = call.path, !path.isEmpty, !ambiguousLayers.contains(path) else { return }
        if let v = values[ObjectIdentifier(output)], v >= call.firstValue, isNode[v], layerValues[path] == nil {
            layerValues[path] = v
        } else {
            layerValues[path] = nil
            ambiguousLayers.insert(path)
        }
    }

    // MARK: Recording

    /// The innermost module with a path, where the op being recorded was called.
    private var origin: String {
        for call in calls.reversed() { if let path = call.path { return path } }
        return ""
    }

    private func onThread() -> Bool {
        if pthread_equal(thread, pthread_self()) != 0 { return true }
        foreignLock.withLock { foreign = true }
        return false
    }

    private func fail(_ reason: String) {
        if failure == nil { failure = reason }
    }

    private func value(of t: Tensor) -> Int {
        let id = ObjectIdentifier(t)
        if let v = values[id] { return v }
        if opaque.contains(id) {
            fail("in '\(origin)' an op reads a tensor \(t.shape) made outside the traced ops")
            return 0
        }
        let parameter = parameterNames[id]
        if let parameter { usedParameters.append(.init(parameter: parameter.parameter, tensor: t)) }
        return newValue(t, shape: t.shape, name: parameter?.name ?? "constant%\(shapes.count)", isNode: false,
                        derived: false, batched: false)
    }

    private func newValue(_ t: Tensor?, shape: [Int], name: String, isNode node: Bool, derived d: Bool, batched b: Bool) -> Int {
        let v = shapes.count
        shapes.append(shape)
        names.append(name)
        isNode.append(node)
        derived.append(d)
        batched.append(b)
        if let t {
            values[ObjectIdentifier(t)] = v
            if !node && v != 0 { constants[v] = t }
        }
        return v
    }

    /// Adds a node, its reshape target freed of the traced batch size; nil (and the trace
    /// failed) when the graph's shape rule does not give the shape the op gave.
    @discardableResult
    private func add(_ op: GraphOp, _ reads: [Int], shape: [Int], tensor: Tensor?) -> Int? {
        var op = op
        if case .reshape(var target) = op, batched[reads[0]], target.first == shapes[reads[0]].first {
            target[0] = 0
            op = .reshape(target)
        }
        let inputShapes = reads.map { shapes[$0] }
        guard let inferred = try? op.outputShape(inputShapes), inferred == shape else {
            fail("\(op.name) of \(inputShapes) in '\(origin)' gave \(shape), its graph rule does not")
            return nil
        }
        let v = newValue(tensor, shape: shape, name: "%\(shapes.count)", isNode: true,
                         derived: reads.contains { derived[$0] },
                         batched: op.keepsBatchAxis(reads.map { batched[$0] }, inputShapes, output: shape))
        nodes.append(Graph.Node(op: op, inputs: reads, output: v, origin: origin))
        return v
    }

    /// The graph of the pass: only the nodes the output needs, values renumbered densely.
    private func finish(output: Tensor) -> Result<TracedGraphSource, GraphTraceError> {
        if foreignLock.withLock({ foreign }) { fail("an op ran on another thread while tracing") }
        if failure == nil, values[ObjectIdentifier(output)].map({ !isNode[$0] }) ?? true {
            fail("the model's output \(output.shape) was not made by the traced ops")
        }
        if let failure { return .failure(GraphTraceError(reason: failure)) }
        let out = values[ObjectIdentifier(output)]!
        var needed = [Bool](repeating: false, count: shapes.count)
        needed[out] = true
        for node in nodes.reversed() where needed[node.output] { for v in node.inputs { needed[v] = true } }
        needed[0] = true
        var renumbered = [Int?](repeating: nil, count: shapes.count)
        var kept: [Int] = []
        for v in shapes.indices where needed[v] {
            renumbered[v] = kept.count
            kept.append(v)
        }
        let number = { (v: Int) in renumbered[v]! }
        var index: [String: Int] = [:]
        for (v, name) in names.enumerated() where needed[v] { index[name] = number(v) }
        for (path, v) in layerValues where needed[v] { index[path] = number(v) }
        let graph = Graph(
            input: 0, output: number(out), shapes: kept.map { shapes[$0] }, names: kept.map { names[$0] }, index: index,
            constants: Dictionary(uniqueKeysWithValues: constants.filter { needed[$0.key] }.map { (number($0.key), $0.value) }),
            nodes: nodes.filter { needed[$0.output] }.map {
                Graph.Node(op: $0.op, inputs: $0.inputs.map(number), output: number($0.output), origin: $0.origin)
            })
        let keptParameters = Set(kept.compactMap { constants[$0].map(ObjectIdentifier.init) })
        return .success(TracedGraphSource(
            graph: graph, batched: kept.map { batched[$0] },
            keepsBatchFree: kept.allSatisfy { !derived[$0] || batched[$0] },
            layers: layerValues.keys.filter { needed[layerValues[$0]!] }.sorted(),
            weights: usedParameters.filter { keptParameters.contains(ObjectIdentifier($0.tensor)) }))
    }
}

/// Why a model's pass could not be traced into a graph.
public struct GraphTraceError: Error, CustomStringConvertible {
    public let reason: String
    public var description: String { "the model cannot be traced into a graph: \(reason)" }
}

/// How an op reports itself to the tracer of this thread, if any: `compute` runs the kernel, and
/// when a trace is on and this is its outermost op, the trace records `op` reading `inputs`.
@inline(__always)
func traced(_ op: @autoclosure () -> GraphOp, _ inputs: @autoclosure () -> [Tensor], _ compute: () -> Tensor) -> Tensor {
    guard let tracer = GraphTracer.current else { return compute() }
    return tracer.record(inputs, compute) { operands, _ in (op(), operands) }
}

/// The same for an op that is more than one graph op, or whose graph op reads its inputs in
/// another order: `node` makes the op and its operands from the values of `inputs`.
@inline(__always)
func traced(_ inputs: @autoclosure () -> [Tensor], _ compute: () -> Tensor,
            node: (_ operands: [Int], _ tracer: GraphTracer) -> (GraphOp, [Int])) -> Tensor {
    guard let tracer = GraphTracer.current else { return compute() }
    return tracer.record(inputs, compute, node: node)
}
