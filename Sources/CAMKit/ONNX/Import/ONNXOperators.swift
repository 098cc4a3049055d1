/// The ONNX operators we run, each turned into graph ops (or folded into known values) with its
/// attributes read as the operator specification says for opsets 13 and later.
extension ONNXSpecializer {
    /// Every operator `translate` knows, checked over the whole file before anything runs.
    static let supportedOperators: Set<String> = [
        "Conv", "Gemm", "MatMul", "Add", "Sub", "Mul", "Div", "Pow", "Sqrt", "Neg", "Reciprocal", "Exp", "Log",
        "Relu", "LeakyRelu", "Clip", "Sigmoid", "HardSigmoid", "HardSwish", "Tanh", "Erf", "Gelu", "Softmax",
        "BatchNormalization", "LayerNormalization", "ReduceMean", "ReduceSum", "ReduceMax", "GlobalAveragePool",
        "AveragePool", "MaxPool", "Pad", "Reshape", "Flatten", "Transpose", "Squeeze", "Unsqueeze", "Concat", "Split",
        "Slice", "Gather", "Expand", "Where", "Cast", "Identity", "Dropout", "Constant", "ConstantOfShape", "Shape",
        // Shape arithmetic only (never on image data): what exporters emit around Reshape and Expand.
        "Equal", "Range", "Size", "Less", "Greater", "Not", "And", "Or", "Max", "Min", "Floor", "Ceil", "Mod", "ReduceProd",
    ]

    /// Pads beyond this are refused: no model pads by a million pixels, and sums of larger
    /// numbers from a file could overflow.
    static let maxPad = 1 << 20
    /// Kernels, strides and dilations beyond this are refused for the same reason.
    static let maxWindow = 1 << 16

    /// The operators that work only on values known before the model runs.
    static let shapeOnlyOperators: Set<String> = [
        "Equal", "Range", "Size", "Less", "Greater", "Not", "And", "Or", "Max", "Min", "Floor", "Ceil", "Mod", "ReduceProd",
    ]

    mutating func translate(_ node: ONNXNode, _ inputs: [Operand?]) throws -> [Operand] {
        let name = node.outputs.first ?? node.name
        func input(_ i: Int) throws -> Operand {
            guard i < inputs.count, let operand = inputs[i] else { throw error("input \(i) is missing") }
            return operand
        }
        let x = inputs.first ?? nil
        let rank = x.map { shape($0).count } ?? 0
        if Self.shapeOnlyOperators.contains(node.opType) || node.opType == "Shape" || node.opType == "Constant"
            || node.opType == "ConstantOfShape" {
            return [try fold(node, inputs)]
        }
        // Integer and boolean values computed from shapes fold; float ones on known inputs fold too,
        // through `emit`.
        if node.opType != "Cast", !inputs.isEmpty, inputs.allSatisfy({ if case .constant(let c, _)? = $0, !c.isFloat { return true }; return $0 == nil }) {
            return [try fold(node, inputs)]
        }
        switch node.opType {
        case "Conv":
            return [try emit(.conv2d(try convAttributes(node, input: shape(try input(0)), weight: shape(try input(1)))),
                             inputs.compactMap { $0 }, name: name)]
        case "Gemm":
            return [try gemm(node, try input(0), try input(1), inputs.count > 2 ? inputs[2] : nil, name: name)]
        case "MatMul":
            let b = try input(1)
            if case .constant(let w, let wName) = b, w.shape.count == 2, rank >= 2, let tensor = w.tensor {
                let weight = Operand.constant(.floats(NDArray(shape: [w.shape[1], w.shape[0]], values: tensor.permuted([1, 0]).scalars)),
                                              name: wName + ".T")
                return [try emit(.linear, [try input(0), weight], name: name)]
            }
            return [try emit(.matmul, [try input(0), b], name: name)]
        case "Add", "Sub", "Mul", "Div", "Pow":
            if node.opType == "Add", let fused = try addBiasToLinear(try input(0), try input(1), name: name)
                ?? addBiasToLinear(try input(1), try input(0), name: name) { return [fused] }
            let op = BinaryOp(rawValue: node.opType.lowercased())!
            return [try emit(.binary(op), [try input(0), try input(1)], name: name)]
        case "Sqrt", "Neg", "Reciprocal", "Exp", "Log", "Relu", "Sigmoid", "Tanh", "Erf", "HardSwish":
            let ops: [String: UnaryOp] = ["Sqrt": .sqrt, "Neg": .neg, "Reciprocal": .reciprocal, "Exp": .exp, "Log": .log,
                                          "Relu": .relu, "Sigmoid": .sigmoid, "Tanh": .tanh, "Erf": .erf, "HardSwish": .hardSwish]
            return [try emit(.unary(ops[node.opType]!), [try input(0)], name: name)]
        case "LeakyRelu":
            return [try emit(.unary(.leakyRelu(alpha: try float(node, "alpha", 0.01))), [try input(0)], name: name)]
        case "HardSigmoid":
            return [try emit(.unary(.hardSigmoid(alpha: try float(node, "alpha", 0.2), beta: try float(node, "beta", 0.5))),
                             [try input(0)], name: name)]
        case "Gelu":
            let approximate = try string(node, "approximate", "none")
            guard approximate == "none" || approximate == "tanh" else { throw error("Gelu approximate='\(approximate)' is not supported") }
            return [try emit(.unary(approximate == "tanh" ? .geluTanh : .gelu), [try input(0)], name: name)]
        case "Clip":
            let bounds = try [1, 2].map { i -> Float? in
                guard i < inputs.count, let operand = inputs[i] else { return nil }
                guard case .constant(let c, _) = operand, c.shape.product == 1 else { throw error("Clip bounds must be known scalars") }
                return c.floats.values[0]
            }
            let (lower, upper) = (bounds[0], bounds[1])
            if lower == 0 && upper == 6 { return [try emit(.unary(.relu6), [try input(0)], name: name)] }
            return [try emit(.unary(.clip(min: lower, max: upper)), [try input(0)], name: name)]
        case "Softmax":
            let axis = try normalizedAxis(try int(node, "axis", -1), rank: rank)
            return [try emit(.softmax(axis: axis), [try input(0)], name: name)]
        case "BatchNormalization":
            guard try int(node, "training_mode", 0) == 0 else { throw error("BatchNormalization in training mode is not supported") }
            return [try emit(.batchNorm(epsilon: try float(node, "epsilon", 1e-5)), try (0..<5).map(input), name: name)]
        case "LayerNormalization":
            let axis = try normalizedAxis(try int(node, "axis", -1), rank: rank)
            return [try emit(.layerNorm(axis: axis, epsilon: try float(node, "epsilon", 1e-5)), inputs.compactMap { $0 }, name: name)]
        case "ReduceMean", "ReduceSum", "ReduceMax":
            let kind: ReduceKind = node.opType == "ReduceMean" ? .mean : node.opType == "ReduceSum" ? .sum : .max
            let axes = try reductionAxes(node, inputs, rank: rank)
            if axes.isEmpty { return [try input(0)] }
            return [try emit(.reduce(kind, axes: axes, keepDims: try int(node, "keepdims", 1) != 0), [try input(0)], name: name)]
        case "GlobalAveragePool":
            if rank == 4 { return [try emit(.globalAveragePool, [try input(0)], name: name)] }
            return [try emit(.reduce(.mean, axes: Array(2..<max(rank, 2)), keepDims: true), [try input(0)], name: name)]
        case "AveragePool", "MaxPool":
            let attributes = try poolAttributes(node, input: shape(try input(0)))
            if node.opType == "MaxPool" { return [try emit(.maxPool(attributes), [try input(0)], name: name)] }
            return [try emit(.averagePool(attributes, countIncludePad: try int(node, "count_include_pad", 0) != 0),
                             [try input(0)], name: name)]
        case "Pad":
            return [try pad(node, inputs, rank: rank, name: name)]
        case "Reshape":
            let target = try knownIntegers(inputs, 1, "shape").values.map { Int($0) }
            let allowZero = try int(node, "allowzero", 0) != 0
            let resolved = allowZero ? target : GraphOp.resolvedReshape(target, of: shape(try input(0)))
            return [try emit(.reshape(resolved), [try input(0)], name: name)]
        case "Flatten":
            let s = shape(try input(0))
            let axis = try normalizedAxis(try int(node, "axis", 1), rank: s.count + 1)
            return [try emit(.reshape([Array(s[..<axis]).product, Array(s[axis...]).product]), [try input(0)], name: name)]
        case "Transpose":
            let perm = try ints(node, "perm") ?? Array((0..<rank).reversed())
            return [try emit(.transpose(perm), [try input(0)], name: name)]
        case "Squeeze", "Unsqueeze":
            return [try emit(.reshape(try squeezedShape(node, inputs)), [try input(0)], name: name)]
        case "Concat":
            let operands = inputs.compactMap { $0 }
            let axis = try normalizedAxis(try int(node, "axis", nil), rank: rank)
            return [try emit(.concat(axis: axis), operands, name: name)]
        case "Split":
            return try split(node, inputs, rank: rank)
        case "Slice":
            let (starts, ends, steps) = try sliceRanges(inputs, shape: shape(try input(0)))
            return [try emit(.slice(starts: starts, ends: ends, steps: steps), [try input(0)], name: name)]
        case "Gather":
            let s = shape(try input(0))
            let axis = try normalizedAxis(try int(node, "axis", 0), rank: s.count)
            let indices = try knownIntegers(inputs, 1, "indices")
            let resolved = try indices.values.map { i -> Int in
                let j = Int(i) < 0 ? Int(i) + s[axis] : Int(i)
                guard j >= 0 && j < s[axis] else { throw error("Gather index \(i) is out of range for axis \(axis) of \(s)") }
                return j
            }
            return [try emit(.gather(axis: axis, indices: resolved, indicesShape: indices.shape), [try input(0)], name: name)]
        case "Expand":
            let target = try knownIntegers(inputs, 1, "shape").values.map { Int($0) }
            guard let out = broadcastShape(shape(try input(0)), target) else {
                throw error("cannot expand \(shape(try input(0))) to \(target)")
            }
            return [try emit(.expand(out), [try input(0)], name: name)]
        case "Where":
            guard case .constant(let condition, _) = try input(0) else {
                throw error("Where with a condition computed from the image is not supported")
            }
            let mask = condition.bools
            return [try emit(.select(condition: mask.values, conditionShape: mask.shape), [try input(1), try input(2)], name: name)]
        case "Cast":
            let to = try int(node, "to", nil)
            if case .constant = try input(0) { return [try fold(node, inputs)] }
            guard [1, 10, 11, 16].contains(to) else {
                throw error("Cast of image data to type \(to) is not supported (only float types)")
            }
            return [try input(0)]
        case "Identity", "Dropout":
            return [try input(0)]
        default:
            throw error("the operator \(node.opType) is not supported")
        }
    }

    // MARK: - attributes

    func int(_ node: ONNXNode, _ key: String, _ fallback: Int?) throws -> Int {
        switch node.attributes[key] {
        case .int(let v)?:
            guard let i = Int(exactly: v) else { throw error("attribute \(key) = \(v) is out of range") }
            return i
        case nil:
            guard let fallback else { throw error("attribute \(key) is missing") }
            return fallback
        default: throw error("attribute \(key) is not an integer")
        }
    }

    func float(_ node: ONNXNode, _ key: String, _ fallback: Float) throws -> Float {
        switch node.attributes[key] {
        case .float(let v)?: return v
        case nil: return fallback
        default: throw error("attribute \(key) is not a float")
        }
    }

    func string(_ node: ONNXNode, _ key: String, _ fallback: String) throws -> String {
        switch node.attributes[key] {
        case .string(let v)?: return v
        case nil: return fallback
        default: throw error("attribute \(key) is not a string")
        }
    }

    func ints(_ node: ONNXNode, _ key: String) throws -> [Int]? {
        switch node.attributes[key] {
        case .ints(let v)?:
            return try v.map { guard let i = Int(exactly: $0), abs(i) < 1 << 40 else { throw error("attribute \(key) holds \($0)") }; return i }
        case nil: return nil
        default: throw error("attribute \(key) is not a list of integers")
        }
    }

    func normalizedAxis(_ axis: Int, rank: Int) throws -> Int {
        let a = axis < 0 ? axis + rank : axis
        guard a >= 0 && a < rank else { throw error("axis \(axis) is out of range for rank \(rank)") }
        return a
    }

    // MARK: - operators with more to them

    private func convAttributes(_ node: ONNXNode, input: [Int], weight: [Int]) throws -> Conv2dAttributes {
        guard input.count == 4, weight.count == 4 else {
            throw error("only 2-D convolutions are supported (input \(input), weight \(weight))")
        }
        let kernel = try ints(node, "kernel_shape") ?? Array(weight[2...])
        guard kernel == Array(weight[2...]) else { throw error("kernel_shape \(kernel) differs from the weight \(weight)") }
        let strides = try ints(node, "strides") ?? [1, 1]
        let dilations = try ints(node, "dilations") ?? [1, 1]
        guard strides.count == 2, dilations.count == 2, (strides + dilations).allSatisfy({ (1...Self.maxWindow).contains($0) }) else {
            throw error("strides \(strides) and dilations \(dilations) must be two numbers in 1…\(Self.maxWindow)")
        }
        let padding = try pads(node, input: Array(input[2...]), kernel: kernel, strides: strides, dilations: dilations)
        return Conv2dAttributes(stride: (strides[0], strides[1]), padding: padding, dilation: (dilations[0], dilations[1]),
                                groups: try int(node, "group", 1))
    }

    private func poolAttributes(_ node: ONNXNode, input: [Int]) throws -> PoolAttributes {
        guard input.count == 4 else { throw error("only 2-D pooling is supported (input \(input))") }
        guard let kernel = try ints(node, "kernel_shape"), kernel.count == 2, kernel.allSatisfy({ (1...Self.maxWindow).contains($0) }) else {
            throw error("kernel_shape must be two numbers in 1…\(Self.maxWindow)")
        }
        let strides = try ints(node, "strides") ?? [1, 1]
        let dilations = try ints(node, "dilations") ?? [1, 1]
        guard strides.count == 2, dilations.count == 2, (strides + dilations).allSatisfy({ (1...Self.maxWindow).contains($0) }) else {
            throw error("strides \(strides) and dilations \(dilations) must be two numbers in 1…\(Self.maxWindow)")
        }
        if node.opType == "MaxPool", try int(node, "storage_order", 0) != 0 { throw error("MaxPool storage_order 1 is not supported") }
        let padding = try pads(node, input: Array(input[2...]), kernel: kernel, strides: strides, dilations: dilations)
        return PoolAttributes(kernel: (kernel[0], kernel[1]), stride: (strides[0], strides[1]), padding: padding,
                              dilation: (dilations[0], dilations[1]), ceilMode: try int(node, "ceil_mode", 0) != 0)
    }

    /// Explicit pads, or those `auto_pad` asks for (SAME_UPPER puts the odd one at the end).
    private func pads(_ node: ONNXNode, input: [Int], kernel: [Int], strides: [Int], dilations: [Int]) throws -> Padding2D {
        let auto = try string(node, "auto_pad", "NOTSET")
        switch auto {
        case "NOTSET":
            let p = try ints(node, "pads") ?? [0, 0, 0, 0]
            guard p.count == 4, p.allSatisfy({ (0...Self.maxPad).contains($0) }) else {
                throw error("pads \(p) must be four numbers in 0…\(Self.maxPad)")
            }
            return Padding2D(top: p[0], bottom: p[2], left: p[1], right: p[3])
        case "VALID":
            return .symmetric(0)
        case "SAME_UPPER", "SAME_LOWER":
            let total = (0..<2).map { (d: Int) -> Int in
                let outSize = (input[d] + strides[d] - 1) / strides[d]
                let span = (kernel[d] - 1) * dilations[d] + 1
                return max(0, (outSize - 1) * strides[d] + span - input[d])
            }
            let small = total.map { $0 / 2 }, large = total.map { $0 - $0 / 2 }
            let (begin, end) = auto == "SAME_UPPER" ? (small, large) : (large, small)
            return Padding2D(top: begin[0], bottom: end[0], left: begin[1], right: end[1])
        default:
            throw error("auto_pad '\(auto)' is not supported")
        }
    }

    private mutating func gemm(_ node: ONNXNode, _ a: Operand, _ b: Operand, _ c: Operand?, name: String) throws -> Operand {
        let (transA, transB) = (try int(node, "transA", 0) != 0, try int(node, "transB", 0) != 0)
        let (alpha, beta) = (try float(node, "alpha", 1), try float(node, "beta", 1))
        guard shape(a).count == 2, shape(b).count == 2 else { throw error("Gemm takes 2-D operands, got \(shape(a)) and \(shape(b))") }
        var lhs = a
        if transA { lhs = try emit(.transpose([1, 0]), [a], name: name + ".A") }
        // linear computes x Wᵀ: B as stored when transB, else its transpose.
        let weight = transB ? b : try emit(.transpose([1, 0]), [b], name: name + ".B")
        let n = shape(weight)[0]
        if let c, beta == 1, alpha == 1, shape(c) == [n] {
            return try emit(.linear, [lhs, weight, c], name: name)
        }
        var y = try emit(.linear, [lhs, weight], name: c == nil && alpha == 1 ? name : name + ".AB")
        if alpha != 1 { y = try emit(.scale(alpha), [y], name: c == nil ? name : name + ".alphaAB") }
        guard let c else { return y }
        let scaled = beta == 1 ? c : try emit(.scale(beta), [c], name: name + ".betaC")
        return try emit(.binary(.add), [y, scaled], name: name)
    }

    private func reductionAxes(_ node: ONNXNode, _ inputs: [Operand?], rank: Int) throws -> [Int] {
        var axes: [Int]?
        if let attribute = try ints(node, "axes") { axes = attribute }
        if inputs.count > 1, inputs[1] != nil { axes = try knownIntegers(inputs, 1, "axes").values.map { Int($0) } }
        if let axes, !axes.isEmpty {
            let normalized = try axes.map { try normalizedAxis($0, rank: rank) }
            guard Set(normalized).count == normalized.count else { throw error("reduction axes \(axes) repeat an axis") }
            return normalized.sorted()
        }
        return try int(node, "noop_with_empty_axes", 0) != 0 ? [] : Array(0..<rank)
    }

    private mutating func pad(_ node: ONNXNode, _ inputs: [Operand?], rank: Int, name: String) throws -> Operand {
        let pads = try knownIntegers(inputs, 1, "pads").values.map { Int($0) }
        var axes = Array(0..<rank)
        if inputs.count > 3, inputs[3] != nil {
            axes = try knownIntegers(inputs, 3, "axes").values.map { try normalizedAxis(Int($0), rank: rank) }
        }
        guard pads.count == 2 * axes.count else { throw error("pads \(pads) does not give a start and an end for each of \(axes.count) axes") }
        var before = [Int](repeating: 0, count: rank), after = before
        for (i, axis) in axes.enumerated() { (before[axis], after[axis]) = (pads[i], pads[i + axes.count]) }
        guard (before + after).allSatisfy({ (0...Self.maxPad).contains($0) }) else {
            throw error("pads \(pads) must be between 0 and \(Self.maxPad) (negative pads crop, which is not supported)")
        }
        let mode: PadMode
        switch try string(node, "mode", "constant") {
        case "constant":
            var value: Float = 0
            if inputs.count > 2, let operand = inputs[2] {
                guard case .constant(let c, _) = operand, c.shape.product == 1 else { throw error("the pad value must be a known scalar") }
                value = c.floats.values[0]
            }
            mode = .constant(value)
        case "reflect": mode = .reflect
        case "edge": mode = .edge
        case let other: throw error("Pad mode '\(other)' is not supported")
        }
        return try emit(.pad(before: before, after: after, mode: mode), [try inputs[0].unwrap(self)], name: name)
    }

    private func squeezedShape(_ node: ONNXNode, _ inputs: [Operand?]) throws -> [Int] {
        let s = shape(try inputs[0].unwrap(self))
        var axes = try ints(node, "axes")
        if inputs.count > 1, inputs[1] != nil { axes = try knownIntegers(inputs, 1, "axes").values.map { Int($0) } }
        if node.opType == "Squeeze" {
            let drop = try (axes ?? s.indices.filter { s[$0] == 1 }).map { try normalizedAxis($0, rank: s.count) }
            for a in drop where s[a] != 1 { throw error("cannot squeeze axis \(a) of \(s): its size is not 1") }
            return s.indices.filter { !drop.contains($0) }.map { s[$0] }
        }
        guard let axes else { throw error("Unsqueeze needs axes") }
        let outRank = s.count + axes.count
        let added = Set(try axes.map { try normalizedAxis($0, rank: outRank) })
        guard added.count == axes.count else { throw error("Unsqueeze axes \(axes) repeat an axis") }
        var rest = s.makeIterator()
        return (0..<outRank).map { added.contains($0) ? 1 : rest.next()! }
    }

    private mutating func split(_ node: ONNXNode, _ inputs: [Operand?], rank: Int) throws -> [Operand] {
        let x = try inputs[0].unwrap(self)
        let s = shape(x)
        let axis = try normalizedAxis(try int(node, "axis", 0), rank: rank)
        var sizes = try ints(node, "split")
        if inputs.count > 1, inputs[1] != nil { sizes = try knownIntegers(inputs, 1, "split").values.map { Int($0) } }
        let count = node.outputs.count
        let parts = sizes ?? {
            let chunk = (s[axis] + count - 1) / count
            return (0..<count).map { min(chunk, max(0, s[axis] - $0 * chunk)) }
        }()
        guard parts.count == count, parts.allSatisfy({ (0...s[axis]).contains($0) }), parts.reduce(0, +) == s[axis] else {
            throw error("split sizes \(parts) do not add up to \(s[axis]) along axis \(axis) in \(count) outputs")
        }
        var start = 0
        return try parts.enumerated().map { i, size in
            var starts = [Int](repeating: 0, count: rank), ends = s
            starts[axis] = start
            ends[axis] = start + size
            start += size
            return try emit(.slice(starts: starts, ends: ends, steps: [Int](repeating: 1, count: rank)), [x], name: node.outputs[i])
        }
    }

    /// Slice's inputs as one clamped range per axis, following the specification's rules for
    /// negative and out-of-range bounds and negative steps.
    private func sliceRanges(_ inputs: [Operand?], shape s: [Int]) throws -> ([Int], [Int], [Int]) {
        let starts = try knownIntegers(inputs, 1, "starts").values, ends = try knownIntegers(inputs, 2, "ends").values
        let axes = inputs.count > 3 && inputs[3] != nil
            ? try knownIntegers(inputs, 3, "axes").values.map { try normalizedAxis(Int($0), rank: s.count) } : Array(0..<starts.count)
        let steps = inputs.count > 4 && inputs[4] != nil ? try knownIntegers(inputs, 4, "steps").values : Array(repeating: 1, count: starts.count)
        guard starts.count == ends.count, axes.count == starts.count, steps.count == starts.count, Set(axes).count == axes.count else {
            throw error("Slice starts, ends, axes and steps differ in length or repeat an axis")
        }
        var outStarts = [Int](repeating: 0, count: s.count), outEnds = s, outSteps = [Int](repeating: 1, count: s.count)
        for (i, axis) in axes.enumerated() {
            let step = Int(clamping: steps[i]), size = s[axis]
            guard step != 0 else { throw error("Slice step 0 on axis \(axis)") }
            func clampIndex(_ v: Int64, lower: Int, upper: Int) -> Int {
                let value = v < 0 ? v + Int64(size) : v
                return Int(max(Int64(lower), min(Int64(upper), value)))
            }
            if step > 0 {
                outStarts[axis] = clampIndex(starts[i], lower: 0, upper: size)
                outEnds[axis] = clampIndex(ends[i], lower: 0, upper: size)
            } else {
                outStarts[axis] = clampIndex(starts[i], lower: 0, upper: size - 1)
                outEnds[axis] = clampIndex(ends[i], lower: -1, upper: size - 1)
            }
            outSteps[axis] = step
        }
        return (outStarts, outEnds, outSteps)
    }
}

extension Optional where Wrapped == ONNXSpecializer.Operand {
    func unwrap(_ s: ONNXSpecializer) throws -> ONNXSpecializer.Operand {
        guard let self else { throw s.error("a required input is missing") }
        return self
    }
}

extension ONNXConstant {
    var isFloat: Bool {
        if case .floats = self { return true }
        return false
    }
}
