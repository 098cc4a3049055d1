/// How the element types CAMKit reads are stored in a `TensorProto` (`raw_data` and external
/// data: fixed-width little-endian; otherwise one of the typed fields) and what they become.
enum ONNXElementEncoding {
    case float32, float16, bfloat16, float64
    case int8, int16, int32, int64, uint8, uint16, uint32
    case bool

    /// The typed fields of `TensorProto`, named as in `onnx.proto` for messages.
    enum TypedField: String {
        case floatData = "float_data", int32Data = "int32_data", int64Data = "int64_data"
        case doubleData = "double_data", uint64Data = "uint64_data"
    }

    /// nil for the types CAMKit does not decode.
    init?(_ type: ONNXDataType) {
        switch type {
        case .float: self = .float32
        case .float16: self = .float16
        case .bfloat16: self = .bfloat16
        case .double: self = .float64
        case .int8: self = .int8
        case .int16: self = .int16
        case .int32: self = .int32
        case .int64: self = .int64
        case .uint8: self = .uint8
        case .uint16: self = .uint16
        case .uint32: self = .uint32
        case .bool: self = .bool
        default: return nil
        }
    }

    /// Bytes per element in `raw_data` and external data.
    var storedSize: Int {
        switch self {
        case .int8, .uint8, .bool: return 1
        case .float16, .bfloat16, .int16, .uint16: return 2
        case .float32, .int32, .uint32: return 4
        case .float64, .int64: return 8
        }
    }

    /// Bytes per element once decoded (`Float`, `Int64` or `Bool`), for `ONNXLimits.maxTotalBytes`.
    var decodedSize: Int {
        switch self {
        case .float32, .float16, .bfloat16, .float64: return MemoryLayout<Float>.size
        case .bool: return MemoryLayout<Bool>.size
        default: return MemoryLayout<Int64>.size
        }
    }

    /// The one typed field the spec allows for the type (16-bit floats travel as their bits).
    var typedField: TypedField {
        switch self {
        case .float32: return .floatData
        case .float64: return .doubleData
        case .int64: return .int64Data
        case .uint32: return .uint64Data
        default: return .int32Data
        }
    }

    /// The values a typed field may hold for the type: anything else is not an element of it.
    var valueRange: ClosedRange<Int64> {
        switch self {
        case .int8: return Int64(Int8.min)...Int64(Int8.max)
        case .uint8: return 0...Int64(UInt8.max)
        case .int16: return Int64(Int16.min)...Int64(Int16.max)
        case .uint16, .float16, .bfloat16: return 0...Int64(UInt16.max)
        case .uint32: return 0...Int64(UInt32.max)
        case .bool: return 0...1
        case .int32: return Int64(Int32.min)...Int64(Int32.max)
        case .int64, .float32, .float64: return Int64.min...Int64.max
        }
    }
}
