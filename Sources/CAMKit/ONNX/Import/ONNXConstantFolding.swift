/// The integer and boolean arithmetic exporters write around shapes (`Shape → Gather →
/// Unsqueeze → Concat → Reshape`, masks for `Where`), evaluated at import time.
extension ONNXSpecializer {
    mutating func fold(_ node: ONNXNode, _ inputs: [Operand?]) throws -> Operand {
        let name = node.outputs.first ?? node.name
        func known(_ i: Int) throws -> ONNXConstant {
            guard i < inputs.count, let operand = inputs[i] else { throw error("input \(i) is missing") }
            guard case .constant(let c, _) = operand else {
                throw error("\(node.opType) of values computed from the image is not supported (only of shapes and constants)")
            }
            return c
        }
        let result: ONNXConstant
        switch node.opType {
        case "Constant":
            result = try constantAttribute(node)
        case "Shape":
            guard let operand = inputs.first ?? nil else { throw error("Shape needs an input") }
            let s = shape(operand)
            let clamp = { (v: Int) in max(0, min(s.count, v < 0 ? v + s.count : v)) }
            let start = clamp(try int(node, "start", 0)), end = clamp(try int(node, "end", s.count))
            result = .integers(NDArray(shape: [max(0, end - start)], values: s[start..<max(start, end)].map { Int64($0) }))
        case "Size":
            guard let operand = inputs.first ?? nil else { throw error("Size needs an input") }
            result = .integers(NDArray(shape: [], values: [Int64(shape(operand).product)]))
        case "ConstantOfShape":
            let dims = try known(0).integers.values.map { Int($0) }
            guard dims.allSatisfy({ $0 >= 0 }), dims.reduce(1, { $0.multipliedReportingOverflow(by: $1).partialValue }) <= 1 << 24 else {
                throw error("ConstantOfShape of \(dims) is not a small non-negative shape")
            }
            let value: ONNXConstant
            if case .tensor(let t)? = node.attributes["value"] { value = ONNXConstant(t) } else { value = .floats(NDArray(shape: [1], values: [0])) }
            guard value.shape.product == 1 else { throw error("ConstantOfShape value must hold one element") }
            switch value {
            case .floats(let a): result = .floats(NDArray(shape: dims, values: Array(repeating: a.values[0], count: dims.product)))
            case .integers(let a): result = .integers(NDArray(shape: dims, values: Array(repeating: a.values[0], count: dims.product)))
            case .bools(let a): result = .bools(NDArray(shape: dims, values: Array(repeating: a.values[0], count: dims.product)))
            }
        case "Cast":
            let c = try known(0)
            switch try int(node, "to", nil) {
            case 1, 10, 11, 16: result = .floats(c.floats)
            case 9: result = .bools(c.bools)
            case 2, 3, 4, 5, 6, 7, 12, 13: result = .integers(c.integers)
            case let other: throw error("Cast to type \(other) is not supported")
            }
        case "Identity", "Dropout":
            result = try known(0)
        case "Add", "Sub", "Mul", "Div", "Mod", "Max", "Min", "Pow":
            let operands = try inputs.indices.map(known)
            result = .integers(try operands.dropFirst().reduce(operands[0].integers) { try elementwise($0, $1.integers, node.opType) })
        case "Equal", "Less", "Greater", "And", "Or":
            let (a, b) = (try known(0), try known(1))
            let shape = try broadcast(a.shape, b.shape)
            let (x, y) = (a.integers.broadcast(to: shape).values, b.integers.broadcast(to: shape).values)
            let op: (Int64, Int64) -> Bool = switch node.opType {
            case "Equal": (==)
            case "Less": (<)
            case "Greater": (>)
            case "And": { $0 != 0 && $1 != 0 }
            default: { $0 != 0 || $1 != 0 }
            }
            result = .bools(NDArray(shape: shape, values: zip(x, y).map(op)))
        case "Not":
            result = .bools(try known(0).bools.map { !$0 })
        case "Neg":
            result = .integers(try known(0).integers.map { 0 &- $0 })
        case "Floor", "Ceil", "Sqrt", "Abs":
            result = try known(0)
        case "ReduceProd", "ReduceSum", "ReduceMax", "ReduceMin":
            let c = try known(0).integers
            guard c.shape.count <= 1 else { throw error("\(node.opType) of a \(c.shape) shape tensor is not supported") }
            let keep = try int(node, "keepdims", 1) != 0
            let values = c.values
            let v: Int64 = switch node.opType {
            case "ReduceProd": values.reduce(1, &*)
            case "ReduceSum": values.reduce(0, &+)
            case "ReduceMax": values.max() ?? Int64.min
            default: values.min() ?? Int64.max
            }
            result = .integers(NDArray(shape: keep ? [Int](repeating: 1, count: c.shape.count) : [], values: [v]))
        case "Range":
            let (start, limit, delta) = (try known(0).integers.values.first ?? 0, try known(1).integers.values.first ?? 0,
                                         try known(2).integers.values.first ?? 1)
            guard delta != 0 else { throw error("Range with delta 0") }
            let count = max(0, Int((Double(limit - start) / Double(delta)).rounded(.up)))
            guard count <= 1 << 24 else { throw error("Range of \(count) elements") }
            result = .integers(NDArray(shape: [count], values: (0..<count).map { start + Int64($0) * delta }))
        case "Gather":
            let data = try known(0).integers
            let axis = try normalizedAxis(try int(node, "axis", 0), rank: data.shape.count)
            let indices = try known(1).integers
            let size = data.shape[axis]
            let resolved = try indices.values.map { i -> Int in
                let j = Int(i) < 0 ? Int(i) + size : Int(i)
                guard j >= 0 && j < size else { throw error("Gather index \(i) is out of range for axis \(axis) of \(data.shape)") }
                return j
            }
            let outer = Array(data.shape[..<axis]).product, inner = Array(data.shape[(axis + 1)...]).product
            var values: [Int64] = []
            for o in 0..<outer { for j in resolved { values += data.values[(o * size + j) * inner ..< (o * size + j + 1) * inner] } }
            result = try sameKind(try known(0), NDArray(shape: Array(data.shape[..<axis]) + indices.shape + Array(data.shape[(axis + 1)...]), values: values))
        case "Concat":
            let parts = try inputs.indices.compactMap { inputs[$0] == nil ? nil : try known($0) }
            guard let first = parts.first else { throw error("Concat of no inputs") }
            let axis = try normalizedAxis(try int(node, "axis", nil), rank: first.shape.count)
            let arrays = parts.map(\.integers)
            let outer = Array(first.shape[..<axis]).product
            var values: [Int64] = []
            for o in 0..<outer {
                for a in arrays {
                    guard a.shape.count == first.shape.count else { throw error("Concat of ranks that differ") }
                    let block = Array(a.shape[axis...]).product
                    values += a.values[o * block ..< (o + 1) * block]
                }
            }
            var shape = first.shape
            shape[axis] = arrays.map { $0.shape[axis] }.reduce(0, +)
            guard shape.product == values.count else { throw error("Concat of shapes \(arrays.map(\.shape)) that differ off axis \(axis)") }
            result = try sameKind(first, NDArray(shape: shape, values: values))
        case "Reshape", "Squeeze", "Unsqueeze", "Flatten", "Expand", "Slice", "Where", "Transpose":
            result = try foldLikeData(node, inputs)
        default:
            throw error("\(node.opType) of integer values is not supported")
        }
        return .constant(result, name: name)
    }

    /// Ops that move elements: run as their float graph op on the values as floats (exact for
    /// the small integers of shapes), then given back their kind.
    private mutating func foldLikeData(_ node: ONNXNode, _ inputs: [Operand?]) throws -> ONNXConstant {
        var asFloats = inputs
        var kind: ONNXConstant?
        for i in (node.opType == "Where" ? [1, 2] : [0]) {
            guard i < inputs.count, case .constant(let c, let n)? = inputs[i] else { throw error("\(node.opType) needs known inputs here") }
            guard c.integers.values.allSatisfy({ abs($0) < 1 << 24 }) else {
                throw error("\(node.opType) of integers beyond ±2^24 is not supported")
            }
            kind = kind ?? c
            asFloats[i] = .constant(.floats(c.floats), name: n)
        }
        guard let kind, case .constant(let folded, _) = try translate(node, asFloats)[0] else {
            throw error("\(node.opType) did not fold")
        }
        return try sameKind(kind, folded.integers)
    }

    private func sameKind(_ like: ONNXConstant, _ values: NDArray<Int64>) throws -> ONNXConstant {
        switch like {
        case .integers: return .integers(values)
        case .bools: return .bools(values.map { $0 != 0 })
        case .floats: return .floats(values.map { Float($0) })
        }
    }

    private func broadcast(_ a: [Int], _ b: [Int]) throws -> [Int] {
        guard let s = broadcastShape(a, b) else { throw error("shapes \(a) and \(b) do not broadcast") }
        return s
    }

    private func elementwise(_ a: NDArray<Int64>, _ b: NDArray<Int64>, _ op: String) throws -> NDArray<Int64> {
        let shape = try broadcast(a.shape, b.shape)
        let (x, y) = (a.broadcast(to: shape).values, b.broadcast(to: shape).values)
        let values = try zip(x, y).map { p, q -> Int64 in
            switch op {
            case "Add": return p &+ q
            case "Sub": return p &- q
            case "Mul": return p &* q
            case "Div", "Mod":
                guard q != 0 else { throw error("\(op) by zero in shape arithmetic") }
                if op == "Mod" { return p % q }
                // ONNX integer division truncates (as C); torch's floor division exports as Div of
                // positive sizes, where both agree.
                return p / q
            case "Max": return max(p, q)
            case "Min": return min(p, q)
            default:
                guard q >= 0, q < 64 else { throw error("Pow with exponent \(q) in shape arithmetic") }
                return (0..<q).reduce(1) { r, _ in r &* p }
            }
        }
        return NDArray(shape: shape, values: values)
    }

    private func constantAttribute(_ node: ONNXNode) throws -> ONNXConstant {
        switch (node.attributes["value"], node.attributes["value_float"], node.attributes["value_floats"],
                node.attributes["value_int"], node.attributes["value_ints"]) {
        case (.tensor(let t)?, _, _, _, _): return ONNXConstant(t)
        case (_, .float(let v)?, _, _, _): return .floats(NDArray(shape: [], values: [v]))
        case (_, _, .floats(let v)?, _, _): return .floats(NDArray(shape: [v.count], values: v))
        case (_, _, _, .int(let v)?, _): return .integers(NDArray(shape: [], values: [v]))
        case (_, _, _, _, .ints(let v)?): return .integers(NDArray(shape: [v.count], values: v))
        default: throw error("Constant without a value, value_float(s) or value_int(s) attribute")
        }
    }
}
