/// Bounds on what one model may make the reader allocate, checked before anything is read,
/// so a file that declares more than it holds (or more than a classifier needs) fails with a
/// message instead of exhausting memory.
public struct ONNXLimits: Sendable {
    /// The largest model file read. 2 GiB − 1 is protobuf's own limit on one message; larger
    /// models keep their weights in external data files.
    public var maxFileBytes: Int
    /// The most elements one tensor may have.
    public var maxTensorElements: Int
    /// The most bytes all decoded tensors together may take (floats 4 bytes, integers 8, bools 1).
    public var maxTotalBytes: Int

    public init(maxFileBytes: Int = Int(Int32.max), maxTensorElements: Int = 1 << 31, maxTotalBytes: Int = 16 << 30) {
        self.maxFileBytes = maxFileBytes
        self.maxTensorElements = maxTensorElements
        self.maxTotalBytes = maxTotalBytes
    }

    public static let `default` = ONNXLimits()
}
