/// A tensor stored in an ONNX file (an initializer, or the value of a `Constant` node),
/// decoded into plain Swift arrays.
///
/// The reader has checked that `values` holds exactly the product of `dims` elements, and
/// that the product of the non-zero dims is within `ONNXLimits.maxTensorElements` (so
/// `dims.reduce(1, *)` cannot overflow, even for an empty tensor).
public struct ONNXTensor: Sendable {
    /// The tensor's name; often empty for an attribute's tensor.
    public let name: String
    public let dims: [Int]
    /// The type stored in the file; the values are widened to one of three Swift types.
    public let dataType: ONNXDataType
    public let values: Values

    /// FLOAT, FLOAT16, BFLOAT16 and DOUBLE become floats (DOUBLE rounded to float32); the
    /// signed integers and UINT8/16/32 become integers; BOOL becomes bools.
    public enum Values: Sendable {
        case floats([Float])
        case integers([Int64])
        case bools([Bool])

        public var count: Int {
            switch self {
            case let .floats(values): return values.count
            case let .integers(values): return values.count
            case let .bools(values): return values.count
            }
        }
    }
}
