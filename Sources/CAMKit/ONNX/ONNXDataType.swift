/// The element types of ONNX's `TensorProto.DataType`, numbered as in `onnx.proto`.
///
/// All are named, so that a tensor of a type CAMKit does not decode (strings, complex, 8-bit
/// floats, 4-bit integers…) can be refused by its name rather than by a number.
public enum ONNXDataType: Int, Sendable, CaseIterable {
    case float = 1, uint8, int8, uint16, int16, int32, int64, string, bool, float16, double, uint32, uint64
    case complex64, complex128, bfloat16
    case float8e4m3fn, float8e4m3fnuz, float8e5m2, float8e5m2fnuz, uint4, int4, float4e2m1, float8e8m0
    case uint2, int2, float6e2m3, float6e3m2

    /// The name `onnx.proto` gives the type, such as `FLOAT16`: the case's name in capitals
    /// (not a `description`, which `String(describing:)` would call back into).
    public var name: String { String(describing: self).uppercased() }
}
