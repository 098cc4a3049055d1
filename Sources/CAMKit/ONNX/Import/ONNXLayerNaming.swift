import Foundation

/// Layer names for an imported graph: the module paths the exporting framework recorded
/// (torch's dynamo exporter in `pkg.torch.onnx.name_scopes`, its TorchScript exporter in node
/// names like `/layer4/layer4.0/act2/Relu`), each standing for the one value its module hands
/// on; and the default layer, the last feature map before the classifier pools it.
enum ONNXLayerNaming {
    /// The module path a node was exported from, or nil when the file does not say.
    static func modulePath(_ node: ONNXNode) -> String? {
        if let scopes = node.metadata["pkg.torch.onnx.name_scopes"] {
            // A Python list literal, the last entry being the op itself: ['', 'layer4', 'layer4.0', 'add_3'].
            let entries = scopes.trimmingCharacters(in: CharacterSet(charactersIn: "[] "))
                .components(separatedBy: ", ")
                .map { $0.trimmingCharacters(in: CharacterSet(charactersIn: "'\"")) }
            let path = entries.dropLast().last { !$0.isEmpty }
            return path
        }
        guard node.name.hasPrefix("/") else { return nil }
        // Each part is a child name, printed in full under a numbered parent ("downsample.1" under "downsample").
        var path = "", previous = ""
        for part in node.name.split(separator: "/").dropLast().map(String.init) {
            if !previous.isEmpty, part.hasPrefix(previous + ".") {
                path += part.dropFirst(previous.count)
            } else {
                path = path.isEmpty ? part : path + "." + part
            }
            previous = part
        }
        return path.isEmpty ? nil : path
    }

    /// Every module path with exactly one value leaving it, then every other value of the graph
    /// under its own name.
    static func layers(of model: ONNXModel, in graph: Graph, override: ActivationLayout?) -> [GraphLayer] {
        let nodes = model.graph.nodes
        let isRuntime = { (name: String) -> Bool in
            guard let v = graph.value(named: name) else { return false }
            return graph.constants[v] == nil
        }
        var members: [String: Set<Int>] = [:]
        var order: [String] = []
        for (i, node) in nodes.enumerated() {
            guard let path = modulePath(node) else { continue }
            var prefix = ""
            for part in path.split(separator: ".", omittingEmptySubsequences: false) {
                prefix = prefix.isEmpty ? String(part) : prefix + "." + part
                if members[prefix] == nil { order.append(prefix) }
                members[prefix, default: []].insert(i)
            }
        }
        var consumers: [String: [Int]] = [:]
        for (i, node) in nodes.enumerated() { for input in node.inputs { consumers[input, default: []].append(i) } }
        let outputs = Set(model.graph.outputs.map(\.name))
        let grid = patchGrid(graph)

        var layers: [GraphLayer] = []
        var named = Set<String>()
        for scope in order {
            let inside = members[scope]!
            let leaving = inside.sorted().flatMap { i in
                nodes[i].outputs.filter { out in
                    isRuntime(out) && (outputs.contains(out) || (consumers[out] ?? []).contains { !inside.contains($0) })
                }
            }
            guard let value = leaving.last, let v = graph.value(named: value) else { continue }
            let note = leaving.count > 1 ? "\(leaving.count) values leave this module (it runs more than once); this is the last" : nil
            layers.append(GraphLayer(name: scope, value: value, shape: graph.shapes[v],
                                     layout: layout(of: v, in: graph, grid: grid, override: override), note: note))
            named.insert(scope)
        }
        for (v, name) in graph.names.enumerated() where graph.constants[v] == nil && !named.contains(name) {
            layers.append(GraphLayer(name: name, value: name, shape: graph.shapes[v],
                                     layout: layout(of: v, in: graph, grid: grid, override: override), isModulePath: false))
        }
        return layers
    }

    /// The value a CAM is taken at by default: the input of the last global pooling (average or
    /// max over the map, a mean over tokens, or taking the class token), stepping back over a
    /// final LayerNorm of token models, so that it is the last block's output. Where the head
    /// reads only class tokens, the last block's output has no gradient at the patch tokens and
    /// every gradient map would be zero; there it is the normalised input of the last block's
    /// attention instead (`blocks.11.norm1`, pytorch-grad-cam's choice for ViTs).
    static func defaultValue(in graph: Graph) -> Int? {
        let producers = graph.producers
        let live = graph.live
        for node in graph.nodes.reversed() where live[node.output] {
            let x = node.inputs[0], s = graph.shapes[x]
            let pools: Bool, tokens: Bool, classTokens: Bool
            switch node.op {
            case .globalAveragePool:
                (pools, tokens, classTokens) = (true, false, false)
            case .reduce(_, let axes, _):
                (pools, tokens, classTokens) = ((s.count == 4 && (axes == [2, 3] || axes == [1, 2])) || (s.count == 3 && axes == [1]),
                                                s.count == 3 || axes == [1, 2], false)
            case .gather(let axis, let indices, _):
                (pools, tokens, classTokens) = (s.count == 3 && axis == 1 && indices.count < s[1], true, true)
            case .slice(let starts, let ends, _):
                (pools, tokens, classTokens) = (s.count == 3 && ends[1] - starts[1] < s[1] && ends[1] - starts[1] <= 2, true, true)
            case .averagePool(let a, _), .maxPool(let a):
                (pools, tokens, classTokens) = (s.count == 4 && a.kernelH == s[2] && a.kernelW == s[3], false, false)
            default:
                (pools, tokens, classTokens) = (false, false, false)
            }
            guard pools else { continue }
            var blockOutput = x
            if tokens, let p = producers[x], case .layerNorm = graph.nodes[p].op { blockOutput = graph.nodes[p].inputs[0] }
            if classTokens, let attentionInput = lastAttentionInput(blockOutput: blockOutput, in: graph) { return attentionInput }
            return blockOutput
        }
        return nil
    }

    /// The output of the first LayerNorm of a pre-norm transformer block, found from the block's
    /// output `x + attn(norm1(x)) + mlp(norm2(·))` through its two residual additions; nil when
    /// the block is not built that way.
    private static func lastAttentionInput(blockOutput: Int, in graph: Graph) -> Int? {
        let producers = graph.producers
        func normalisation(of v: Int) -> Int? {
            graph.nodes.first { node in
                guard case .layerNorm = node.op else { return false }
                return node.inputs.first == v
            }?.output
        }
        func residual(into sum: Int) -> Int? {
            guard let p = producers[sum], case .binary(.add) = graph.nodes[p].op else { return nil }
            return graph.nodes[p].inputs.first { normalisation(of: $0) != nil && graph.constants[$0] == nil }
        }
        guard let middle = residual(into: blockOutput), let input = residual(into: middle) else { return nil }
        return normalisation(of: input)
    }

    /// How a value is laid out: tokens when it is (N, T, C) and T fits the patch grid with a few
    /// prefix tokens; channels-last when a 4-D value is normalised or multiplied along its last axis.
    static func layout(of v: Int, in graph: Graph, grid: (Int, Int)?, override: ActivationLayout?) -> ActivationLayout {
        let s = graph.shapes[v]
        if let override, override.fits(s) { return override }
        if s.count == 3 {
            let t = s[1]
            if let (h, w) = grid, t - h * w >= 0 && t - h * w <= 8 { return .tokens(prefix: t - h * w, height: h, width: w) }
            for prefix in 0...8 where t - prefix >= 1 {
                let side = Int(Double(t - prefix).squareRoot().rounded())
                if side * side == t - prefix { return .tokens(prefix: prefix, height: side, width: side) }
            }
            return .spatial
        }
        guard s.count == 4 else { return .spatial }
        let consumers = graph.nodes.filter { $0.inputs.first == v }
        if consumers.contains(where: { $0.op.mixesLastAxis(rank: 4) }) { return .channelsLast }
        return lastAxisComesFromFeatures(v, in: graph) ? .channelsLast : .spatial
    }

    /// Whether the last axis of `v` was made by a linear layer or a last-axis norm, looking back
    /// through elementwise ops and reshapes that keep that axis (a Swin block ends with a residual
    /// add of its MLP, then a reshape back to (N, h, w, C)).
    private static func lastAxisComesFromFeatures(_ v: Int, in graph: Graph) -> Bool {
        let producers = graph.producers
        var frontier = [v]
        for _ in 0..<8 {
            var next: [Int] = []
            for value in frontier {
                guard let p = producers[value] else { continue }
                let node = graph.nodes[p]
                if node.op.mixesLastAxis(rank: graph.shapes[node.inputs[0]].count) { return true }
                switch node.op {
                case .unary, .binary, .scale, .identity, .reshape:
                    next += node.inputs.filter { graph.constants[$0] == nil && graph.shapes[$0].last == graph.shapes[value].last }
                default:
                    continue
                }
            }
            if next.isEmpty { return false }
            frontier = next
        }
        return false
    }

    /// The grid of a patch embedding (a convolution whose stride equals its kernel), if any.
    private static func patchGrid(_ graph: Graph) -> (Int, Int)? {
        for node in graph.nodes {
            guard case .conv2d(let a) = node.op, node.inputs.first == graph.input else { continue }
            let w = graph.shapes[node.inputs[1]]
            guard a.strideH == w[2], a.strideW == w[3], a.strideH > 1 else { return nil }
            let out = graph.shapes[node.output]
            return (out[2], out[3])
        }
        return nil
    }
}

extension GraphOp {
    /// A LayerNorm over the last axis, or a product along it: what transformers do to features.
    func mixesLastAxis(rank: Int) -> Bool {
        switch self {
        case .layerNorm(let axis, _): return axis == rank - 1
        case .linear, .matmul: return true
        default: return false
        }
    }
}
