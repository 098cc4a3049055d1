import Foundation

/// Where a graph model's graphs come from: a file, specialised anew for each input shape.
public protocol GraphSource: AnyObject {
    /// The graph for inputs of `shape`, checked, with every shape known.
    func graph(forInputShape shape: [Int]) throws -> Graph
}

/// A layer of a graph model that users can name: a value of the graph, under the module path
/// the exporting framework recorded or under the value's own name.
public struct GraphLayer: Sendable, Equatable {
    public let name: String
    /// The graph value it stands for.
    public let value: String
    /// Its shape at the model's input size.
    public let shape: [Int]
    public let layout: ActivationLayout
    /// A remark for listings, e.g. that a shared module produced several values.
    public let note: String?
    /// Named by a module path (else by the value's own name).
    public let isModulePath: Bool

    public init(name: String, value: String, shape: [Int], layout: ActivationLayout, note: String? = nil,
                isModulePath: Bool = true) {
        self.isModulePath = isModulePath
        self.name = name
        self.value = value
        self.shape = shape
        self.layout = layout
        self.note = note
    }
}

/// The module a graph layer's value passes through as it is produced, so that forward hooks,
/// backward hooks and replaced outputs work on graph layers exactly as on hand-written modules.
final class LayerPoint: Module {
    override func forward(_ x: Tensor) -> Tensor { x }
}

/// A classifier that runs a graph: imported models, or any model once it is in graph form.
/// Its module tree holds one `LayerPoint` per layer, named by its dotted path.
///
/// A graph is made for each input shape the model meets and kept. When a batch size does not
/// fit the graph (an export that fixed the batch at 1), the images run one at a time.
public final class GraphModel: Module, Classifier {
    public var source: GraphSource { runner.source }
    /// The input shape the model was made for, (1, C, H, W).
    public let inputShape: [Int]
    public let layers: [GraphLayer]
    public let defaultTargetLayer: String
    public var outputSize: Int { runner.outputSize }
    private var points: [String: [LayerPoint]] = [:]
    /// The graphs by input shape, and the suffix runs of Ablation-CAM over them.
    let runner: GraphSuffixRunner
    /// The same graphs fused for the plain passes of Score-CAM and the metrics.
    let inference: InferenceRunner

    /// - Throws: when the graph for `inputShape` cannot be made, or its output is not (1, classes).
    public init(source: GraphSource, inputShape: [Int], layers: [GraphLayer], defaultLayer: String) throws {
        self.inputShape = inputShape
        self.layers = layers
        self.defaultTargetLayer = defaultLayer
        runner = GraphSuffixRunner(source: source, graph: try source.graph(forInputShape: inputShape))
        inference = InferenceRunner(source: source, outputSize: runner.outputSize)
        super.init()
        for layer in layers { points[layer.value, default: []].append(point(at: layer.name)) }
    }

    /// The layers worth listing: module paths where the file recorded them, else every value.
    public var listedLayers: [GraphLayer] {
        let modules = layers.filter(\.isModulePath)
        return modules.isEmpty ? layers : modules
    }

    /// The layer called `name`.
    public func layer(named name: String) -> GraphLayer? { layers.first { $0.name == name } }

    public func activationLayout(ofLayer name: String) -> ActivationLayout {
        layer(named: name)?.layout ?? .spatial
    }

    public override func forward(_ x: Tensor) -> Tensor {
        if let special = specialisation(for: x.shape) {
            var slots: [Int: [LayerPoint]] = [:]
            for (name, list) in points { if let v = special.graph.value(named: name) { slots[v, default: []] += list } }
            return special.executor.run(x) { value, tensor in
                (slots[value] ?? []).reduce(tensor) { $1($0) }
            }
        }
        let rows = (0..<x.shape[0]).map { row(x, $0) }
        return concat(rows.map { forward($0) }, axis: 0)
    }

    /// The graph and its executor for inputs of `shape`; nil when the graph does not take that
    /// batch size (then the caller splits the batch).
    func specialisation(for shape: [Int]) -> GraphSuffixRunner.Specialisation? {
        let made = runner.specialisation(for: shape)
        if made == nil && shape[0] == 1 {
            preconditionFailure("the graph for input \(shape) cannot be made, though the model was checked at \(inputShape)")
        }
        return made
    }

    /// The point for a dotted path, creating the modules along it.
    private func point(at path: String) -> LayerPoint {
        var parent: Module = self
        // Nesting by dots gives the path back from `namedModules()`, whatever the name holds.
        for part in path.split(separator: ".", omittingEmptySubsequences: false).map(String.init) {
            if let existing = parent.children.first(where: { $0.name == part })?.module {
                parent = existing
            } else {
                parent = parent.register(part, LayerPoint())
            }
        }
        return parent as! LayerPoint
    }
}

/// Row `i` of a batch, as a batch of one (no gradient: used to split inputs).
func row(_ x: Tensor, _ i: Int) -> Tensor {
    let size = x.count / max(x.shape[0], 1)
    return Tensor(shape: [1] + x.shape.dropFirst(), scalars: Array(x.scalars[i * size ..< (i + 1) * size]))
}

/// Running only what follows a layer (Ablation-CAM's many passes), through the runner.
extension GraphModel: LayerSuffixRunning {
    public func logits(of input: Tensor, layer name: String, ablation: ChannelAblation) throws -> Tensor {
        guard let layer = layer(named: name) else {
            throw UnknownLayerError(name: name, validNames: layers.map(\.name))
        }
        return try runner.logits(of: input, value: layer.value, layout: layer.layout, ablation: ablation)
    }
}
