/// A layer name that the model does not have.
public struct UnknownLayerError: Error, CustomStringConvertible {
    public let name: String
    /// Every layer name of the model.
    public let validNames: [String]

    /// The layers directly under the deepest part of `name` that exists: what the user most
    /// likely meant to pick from.
    public var suggestions: [String] {
        var parent = name
        while true {
            let cut = parent.lastIndex(of: ".").map { String(parent[..<$0]) } ?? ""
            let prefix = cut.isEmpty ? "" : cut + "."
            let children = validNames.filter { $0.hasPrefix(prefix) && !$0.dropFirst(prefix.count).contains(".") }
            if !children.isEmpty || cut.isEmpty { return children }
            parent = cut
        }
    }

    public var description: String {
        "no layer named '\(name)' in this model; layers there: \(suggestions.joined(separator: ", ")) "
            + "(\(validNames.count) layers in all; `explain layers MODEL` lists them)"
    }
}

/// Captures the output of named layers and the gradient of a score with respect to them,
/// the two things every gradient-based CAM needs. The hooks live as long as this object.
///
/// Backward stops at the earliest captured layer: nothing before it is recorded, and no
/// parameter gradient is computed. Not safe to share between threads, and two captures on
/// one model at the same time see each other's passes.
public final class LayerCapture {
    public let layers: [String]
    public private(set) var activations: [String: Tensor] = [:]
    public private(set) var gradients: [String: Tensor] = [:]
    private var handles: [HookHandle] = []

    /// - Parameter gradients: whether to capture gradients too; without, forward records no
    ///   graph (for the gradient-free methods such as Eigen-CAM).
    /// - Throws: `UnknownLayerError` naming the valid layers when a name is not in `model`.
    public init(model: Module, layers: [String], gradients: Bool = true) throws {
        self.layers = layers
        let modules = Dictionary(model.namedModules().map { ($0.name, $0.module) }, uniquingKeysWith: { a, _ in a })
        for name in layers {
            guard let module = modules[name], !name.isEmpty else {
                throw UnknownLayerError(name: name, validNames: model.namedModules().map(\.name).filter { !$0.isEmpty })
            }
            handles.append(module.registerForwardHook { [unowned self] in activations[name] = $0.detached() })
            if gradients {
                handles.append(module.registerBackwardHook { [unowned self] in self.gradients[name] = $0 })
            }
        }
    }

    deinit { handles.forEach { $0() } }

    /// Runs `model` on `input`, then backpropagates `seed(output)` — the gradient of the score
    /// with respect to the output, e.g. one-hot at the target class — down to the layers.
    @discardableResult
    public func run(_ model: Module, _ input: Tensor, seed: (Tensor) -> Tensor) throws -> Tensor {
        let output = forward(model, input)
        try backward(from: output, seed: seed(output))
        return output.detached()
    }

    /// Runs `model` on `input`, recording the activations; returns the output with its graph,
    /// so that `backward(from:seed:)` can be called on it once per target score.
    public func forward(_ model: Module, _ input: Tensor) -> Tensor {
        activations = [:]
        gradients = [:]
        return model(input)
    }

    /// Backpropagates `seed` from `output` (of the last `forward`), replacing the gradients.
    public func backward(from output: Tensor, seed: Tensor) throws {
        gradients = [:]
        try output.backward(seed: seed)
    }
}

extension Tensor {
    /// The gradient of `Σ_n self[n, classes[n]]` with respect to a (N, C) tensor: one-hot rows.
    public func oneHotSeed(classes: [Int]) -> Tensor {
        precondition(rank == 2 && classes.count == shape[0], "one class per row of \(shape), got \(classes.count)")
        var values = [Float](repeating: 0, count: count)
        for (n, c) in classes.enumerated() {
            precondition(c >= 0 && c < shape[1], "class \(c) out of range 0..<\(shape[1])")
            values[n * shape[1] + c] = 1
        }
        return Tensor(shape: shape, scalars: values)
    }

    /// Index of the largest element of each row of a (N, C) tensor.
    public func argmaxRows() -> [Int] {
        precondition(rank == 2, "argmaxRows needs (N, C), got \(shape)")
        let c = shape[1]
        return (0..<shape[0]).map { n in
            let row = scalars[n * c ..< (n + 1) * c]
            return row.indices.max { row[$0] < row[$1] }! - n * c
        }
    }
}
