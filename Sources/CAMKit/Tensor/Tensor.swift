import Foundation

/// A dense, row-major float32 tensor.
///
/// Tensors are values in spirit: ops never mutate their inputs, they return new tensors.
/// It is a class so that the autograd graph can refer to the very tensor an op consumed.
public final class Tensor {
    public let shape: [Int]
    /// Row-major elements; `count == shape.product`.
    public internal(set) var scalars: [Float]

    /// Whether gradients flow to this tensor. Set on a tensor you want the gradient of;
    /// ops on tensors that do not require it record nothing.
    public var requiresGrad: Bool
    /// The recorded op that produced this tensor, when one of its inputs required a gradient.
    var gradFn: GradFn?
    /// The gradient of the last `backward` call, kept for leaves and for tensors marked
    /// with `retainGrad()`.
    public internal(set) var grad: Tensor?
    var retainsGrad = false
    var gradHooks: [(Tensor) -> Void] = []

    public init(shape: [Int], scalars: [Float], requiresGrad: Bool = false) {
        precondition(shape.allSatisfy { $0 >= 0 }, "negative dimension in shape \(shape)")
        precondition(shape.product == scalars.count,
                     "shape \(shape) holds \(shape.product) elements, got \(scalars.count)")
        self.shape = shape
        self.scalars = scalars
        self.requiresGrad = requiresGrad
        GraphTracer.current?.made(self)
    }

    /// A tensor of `shape` filled with `value`.
    public convenience init(repeating value: Float, shape: [Int]) {
        self.init(shape: shape, scalars: [Float](repeating: value, count: shape.product))
    }

    /// A tensor whose elements are written by `fill` into uninitialised memory of the right size.
    public convenience init(shape: [Int], fill: (UnsafeMutableBufferPointer<Float>) throws -> Void) rethrows {
        let n = shape.product
        let values = try [Float](unsafeUninitializedCapacity: n) { buffer, initialized in
            try fill(buffer)
            initialized = n
        }
        self.init(shape: shape, scalars: values)
    }

    public static func zeros(_ shape: [Int]) -> Tensor { Tensor(repeating: 0, shape: shape) }

    public var count: Int { scalars.count }
    public var rank: Int { shape.count }

    /// Keep this tensor's gradient after `backward` even though it is not a leaf.
    public func retainGrad() { retainsGrad = true }

    /// Called with this tensor's gradient once `backward` has accumulated all of it.
    public func onGradient(_ hook: @escaping (Tensor) -> Void) { gradHooks.append(hook) }

    /// The same elements, cut loose from the autograd graph.
    public func detached() -> Tensor { Tensor(shape: shape, scalars: scalars) }

    /// Read-only access to the elements for kernels.
    @inlinable
    public func withScalars<R>(_ body: (UnsafePointer<Float>) throws -> R) rethrows -> R {
        try scalars.withUnsafeBufferPointer { try body($0.baseAddress!) }
    }

    public subscript(indices: Int...) -> Float {
        scalars[flatIndex(indices)]
    }

    func flatIndex(_ indices: [Int]) -> Int {
        precondition(indices.count == shape.count, "index rank \(indices.count) for shape \(shape)")
        var flat = 0
        for (i, d) in zip(indices, shape) {
            precondition(i >= 0 && i < d, "index \(indices) out of range for shape \(shape)")
            flat = flat * d + i
        }
        return flat
    }
}

extension Array where Element == Int {
    /// Number of elements of a tensor of this shape.
    public var product: Int { reduce(1, *) }
}

extension Tensor: CustomStringConvertible {
    public var description: String {
        let head = scalars.prefix(6).map { String(format: "%.5g", $0) }.joined(separator: ", ")
        return "Tensor(\(shape), [\(head)\(count > 6 ? ", …" : "")])"
    }
}
