/// The declared type and shape of a graph input, output or intermediate value.
public struct ONNXValueInfo: Sendable {
    public let name: String
    /// nil when the file does not give it (or the value is not a dense tensor).
    public let elementType: ONNXDataType?
    /// nil when the file gives no shape; otherwise one entry per axis.
    public let dims: [ONNXDimension]?
    /// For a value that is not a dense tensor, its kind (`SEQUENCE`, `MAP`, `OPTIONAL`,
    /// `SPARSE_TENSOR`, `OPAQUE`), so the importer can refuse it by name; nil for a tensor or
    /// a value without a type.
    public let unsupportedType: String?
}

/// One axis of a declared shape: exporters write a batch axis as a name (`batch_size`, `s0`).
public enum ONNXDimension: Sendable, Equatable {
    case value(Int)
    case symbolic(String)
    case unknown
}
