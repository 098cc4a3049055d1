/// A row-major walk over the index tuples of `sizes` that keeps, for each of several operands,
/// the flat offset of the current tuple under that operand's strides (0 along an axis it is
/// broadcast on, negative along a reversed slice). Kernels walk the rows of their output with
/// it and handle the innermost axis themselves, so index arithmetic is paid once per row.
struct StridedWalk {
    private let sizes: [Int]
    private let strides: [[Int]]
    /// The current index tuple.
    private(set) var index: [Int]
    private(set) var offsets: [Int]

    /// Starts at tuple number `position` (row-major), offsets counted from `bases`.
    init(sizes: [Int], strides: [[Int]], bases: [Int]? = nil, startingAt position: Int = 0) {
        precondition(strides.allSatisfy { $0.count == sizes.count }, "one stride per axis of \(sizes)")
        self.sizes = sizes
        self.strides = strides
        index = [Int](repeating: 0, count: sizes.count)
        var rest = position
        for d in stride(from: sizes.count - 1, through: 0, by: -1) where sizes[d] > 0 {
            index[d] = rest % sizes[d]
            rest /= sizes[d]
        }
        offsets = bases ?? [Int](repeating: 0, count: strides.count)
        for k in strides.indices {
            for d in sizes.indices { offsets[k] += index[d] * strides[k][d] }
        }
    }

    /// Moves to the next tuple; after the last one the walk wraps around to the first.
    mutating func advance() {
        var d = sizes.count - 1
        while d >= 0 {
            index[d] += 1
            if index[d] < sizes[d] {
                for k in offsets.indices { offsets[k] += strides[k][d] }
                return
            }
            for k in offsets.indices { offsets[k] -= strides[k][d] * (sizes[d] - 1) }
            index[d] = 0
            d -= 1
        }
    }
}

/// Row-major strides of a dense tensor of `shape`.
func denseStrides(_ shape: [Int]) -> [Int] {
    var strides = [Int](repeating: 1, count: shape.count)
    for d in stride(from: shape.count - 2, through: 0, by: -1) { strides[d] = strides[d + 1] * shape[d + 1] }
    return strides
}
