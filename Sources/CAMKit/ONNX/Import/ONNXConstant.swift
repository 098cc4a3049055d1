/// A value of an ONNX graph known before it runs: an initializer, a Constant, a Shape, or
/// anything computed from those alone. Shape arithmetic (`Shape → Gather → Concat → Reshape`)
/// is done on these once the input size is known, so the graph that runs holds plain numbers.
enum ONNXConstant {
    case floats(NDArray<Float>)
    case integers(NDArray<Int64>)
    case bools(NDArray<Bool>)

    init(_ tensor: ONNXTensor) {
        switch tensor.values {
        case .floats(let v): self = .floats(NDArray(shape: tensor.dims, values: v))
        case .integers(let v): self = .integers(NDArray(shape: tensor.dims, values: v))
        case .bools(let v): self = .bools(NDArray(shape: tensor.dims, values: v))
        }
    }

    var shape: [Int] {
        switch self {
        case .floats(let a): return a.shape
        case .integers(let a): return a.shape
        case .bools(let a): return a.shape
        }
    }

    var tensor: Tensor? {
        guard case .floats(let a) = self else { return nil }
        return Tensor(shape: a.shape, scalars: a.values)
    }

    /// The values as integers (floats truncated, as Cast does), for shape and index inputs.
    var integers: NDArray<Int64> {
        switch self {
        case .integers(let a): return a
        case .floats(let a): return a.map { $0.isFinite ? Int64(clamping: Int($0.rounded(.towardZero))) : 0 }
        case .bools(let a): return a.map { $0 ? 1 : 0 }
        }
    }

    var floats: NDArray<Float> {
        switch self {
        case .floats(let a): return a
        case .integers(let a): return a.map { Float($0) }
        case .bools(let a): return a.map { $0 ? 1 : 0 }
        }
    }

    var bools: NDArray<Bool> {
        switch self {
        case .bools(let a): return a
        case .integers(let a): return a.map { $0 != 0 }
        case .floats(let a): return a.map { $0 != 0 }
        }
    }
}

/// A small row-major array for the constant arithmetic of the import; never on a hot path.
struct NDArray<T> {
    var shape: [Int]
    var values: [T]

    init(shape: [Int], values: [T]) {
        self.shape = shape
        self.values = values
    }

    func map<U>(_ f: (T) -> U) -> NDArray<U> { NDArray<U>(shape: shape, values: values.map(f)) }

    var strides: [Int] {
        var s = [Int](repeating: 1, count: shape.count)
        for d in stride(from: shape.count - 2, through: 0, by: -1) { s[d] = s[d + 1] * shape[d + 1] }
        return s
    }

    /// The elements at the row-major multi-indices of `outShape`, each mapped to a source offset.
    func gathered(outShape: [Int], source: ([Int]) -> Int) -> NDArray<T> {
        var out: [T] = []
        out.reserveCapacity(outShape.product)
        var index = [Int](repeating: 0, count: outShape.count)
        for _ in 0..<outShape.product {
            out.append(values[source(index)])
            var d = outShape.count - 1
            while d >= 0 { index[d] += 1; if index[d] < outShape[d] { break }; index[d] = 0; d -= 1 }
        }
        return NDArray(shape: outShape, values: out)
    }

    func broadcast(to target: [Int]) -> NDArray<T> {
        let padded = [Int](repeating: 1, count: target.count - shape.count) + shape
        let s = NDArray(shape: padded, values: values).strides
        return gathered(outShape: target) { index in
            zip(index, zip(padded, s)).reduce(0) { $0 + ($1.1.0 == 1 ? 0 : $1.0 * $1.1.1) }
        }
    }
}
