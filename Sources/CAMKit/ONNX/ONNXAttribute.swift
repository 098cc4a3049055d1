/// A node attribute's value.
public enum ONNXAttribute: Sendable {
    case float(Float)
    case int(Int64)
    case string(String)
    case tensor(ONNXTensor)
    case floats([Float])
    case ints([Int64])
    case strings([String])
    /// A kind of attribute CAMKit does not run (`GRAPH` for the bodies of If and Loop,
    /// `GRAPHS`, `TENSORS`, `SPARSE_TENSOR(S)`, `TYPE_PROTO(S)`), named so the importer can say
    /// which attribute of which node it cannot use, and refuse it only if the node is used.
    case unsupported(String)
}
