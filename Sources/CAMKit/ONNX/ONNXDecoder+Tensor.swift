import Foundation

extension ONNXDecoder {
    /// Decodes a tensor after checking its type, its dims, the bytes it would take, and that
    /// its one data source (`raw_data`, a typed field, or external data) holds exactly the
    /// product of its dims in elements. `label` names it in messages.
    func tensor(_ proto: Onnx_TensorProto, label: String) throws -> ONNXTensor {
        let type = try dataType(proto.dataType, of: label)
        guard let encoding = ONNXElementEncoding(type) else {
            throw error("\(label) has data type \(type.name), which CAMKit does not read (it reads FLOAT, FLOAT16, "
                + "BFLOAT16, DOUBLE, INT8, INT16, INT32, INT64, UINT8, UINT16, UINT32 and BOOL)")
        }
        guard !proto.hasSegment else { throw error("\(label) is stored in segments, which CAMKit does not read") }
        let dims = try proto.dims.map { dim -> Int in
            guard dim >= 0, let size = Int(exactly: dim) else { throw error("\(label) has a negative dimension in dims \(proto.dims)") }
            return size
        }
        let count = try elementCount(dims, label: label)
        let described = "\(label) has dims \(dims) (\(count) elements)"
        // Sizes before any allocation; with the default limits none of these can overflow.
        let (storedBytes, storedOverflow) = count.multipliedReportingOverflow(by: encoding.storedSize)
        let (bytes, overflow) = count.multipliedReportingOverflow(by: encoding.decodedSize)
        let (total, totalOverflow) = decodedBytes.addingReportingOverflow(bytes)
        guard !storedOverflow, !overflow, !totalOverflow, total <= limits.maxTotalBytes else {
            throw error("\(described), which takes the model's tensors past the limit of \(limits.maxTotalBytes) bytes")
        }
        decodedBytes = total
        let values: ONNXTensor.Values
        switch try source(proto, encoding: encoding, label: label) {
        case .none:
            guard count == 0 else { throw error("\(described) but holds no data") }
            values = try decode(Data(), encoding, count: 0, label: label)
        case .raw:
            guard proto.rawData.count == storedBytes else {
                throw error("\(described) of \(encoding.storedSize) bytes, but raw_data holds \(proto.rawData.count) bytes")
            }
            values = try decode(proto.rawData, encoding, count: count, label: label)
        case .external:
            let data = try externalData.bytes(proto.externalData, byteCount: storedBytes, of: label)
            values = try decode(data, encoding, count: count, label: label)
        case let .typed(field):
            values = try decodeTyped(proto, field, encoding, count: count, described: described, label: label)
        }
        return ONNXTensor(name: proto.name, dims: dims, dataType: type, values: values)
    }

    /// The product of `dims`. The product of the non-zero dims is held to `maxTensorElements`
    /// even when a zero makes the tensor empty, so that multiplying the dims in any order can
    /// never overflow in the code that uses them.
    private func elementCount(_ dims: [Int], label: String) throws -> Int {
        var count = 1
        for dim in dims where dim != 0 {
            let (product, overflow) = count.multipliedReportingOverflow(by: dim)
            guard !overflow, product <= limits.maxTensorElements else {
                throw error("\(label) has dims \(dims), more than the limit of \(limits.maxTensorElements) elements")
            }
            count = product
        }
        return dims.contains(0) ? 0 : count
    }

    private enum Source {
        case none, raw, external
        case typed(ONNXElementEncoding.TypedField)
    }

    /// Where the tensor's values are. The spec allows one place; a tensor holding data in two
    /// is refused rather than read from whichever a tool happens to prefer.
    private func source(_ proto: Onnx_TensorProto, encoding: ONNXElementEncoding, label: String) throws -> Source {
        guard proto.stringData.isEmpty else { throw error("\(label) holds string_data, which only STRING tensors use") }
        var found: [(String, Source)] = []
        if proto.dataLocation == .external { found.append(("external data", .external)) }
        if proto.hasRawData { found.append(("raw_data", .raw)) }
        let typed: [(ONNXElementEncoding.TypedField, Bool)] = [
            (.floatData, !proto.floatData.isEmpty), (.int32Data, !proto.int32Data.isEmpty),
            (.int64Data, !proto.int64Data.isEmpty), (.doubleData, !proto.doubleData.isEmpty),
            (.uint64Data, !proto.uint64Data.isEmpty),
        ]
        found += typed.filter(\.1).map { ($0.0.rawValue, .typed($0.0)) }
        guard found.count <= 1 else {
            throw error("\(label) holds its data in both \(found[0].0) and \(found[1].0)")
        }
        if proto.dataLocation != .external, !proto.externalData.isEmpty {
            throw error("\(label) has external_data entries but its data_location is not EXTERNAL")
        }
        guard let (name, source) = found.first else { return .none }
        if case let .typed(field) = source, field != encoding.typedField {
            throw error("\(label) holds \(name), which its type cannot use (\(encoding.typedField.rawValue) holds that type)")
        }
        return source
    }

    /// `count` fixed-width little-endian elements; the caller has checked the byte count.
    private func decode(_ data: Data, _ encoding: ONNXElementEncoding, count: Int, label: String) throws -> ONNXTensor.Values {
        try data.withUnsafeBytes { bytes in
            func integers<T: FixedWidthInteger>(_: T.Type) -> [Int64] {
                (0..<count).map { Int64(T(littleEndian: bytes.loadUnaligned(fromByteOffset: $0 * MemoryLayout<T>.size, as: T.self))) }
            }
            func floats(_ format: ElementFormat) -> [Float] {
                [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
                    ElementDecoding.decode(bytes, as: format, into: UnsafeMutableBufferPointer(rebasing: buffer[0..<count]))
                    initialized = count
                }
            }
            switch encoding {
            case .float32: return .floats(floats(.float32))
            case .float16: return .floats(floats(.float16))
            case .bfloat16: return .floats(floats(.bfloat16))
            case .float64: return .floats(floats(.float64))
            case .int8: return .integers(integers(Int8.self))
            case .int16: return .integers(integers(Int16.self))
            case .int32: return .integers(integers(Int32.self))
            case .int64: return .integers(integers(Int64.self))
            case .uint8: return .integers(integers(UInt8.self))
            case .uint16: return .integers(integers(UInt16.self))
            case .uint32: return .integers(integers(UInt32.self))
            case .bool:
                if let index = bytes.firstIndex(where: { $0 > 1 }) {
                    throw error("\(label) is BOOL but byte \(index) of its data is \(bytes[index]), not 0 or 1")
                }
                return .bools(bytes.map { $0 == 1 })
            }
        }
    }

    /// Values from the typed field the spec gives the type, each checked to be an element of it.
    private func decodeTyped(
        _ proto: Onnx_TensorProto, _ field: ONNXElementEncoding.TypedField, _ encoding: ONNXElementEncoding,
        count: Int, described: String, label: String
    ) throws -> ONNXTensor.Values {
        func checked<T: BinaryInteger>(_ values: [T]) throws -> [Int64] {
            guard values.count == count else { throw error("\(described), but \(field.rawValue) holds \(values.count) values") }
            let range = encoding.valueRange
            if let index = values.firstIndex(where: { Int64(exactly: $0).map { !range.contains($0) } ?? true }) {
                throw error("\(label): \(field.rawValue) value \(values[index]) at index \(index) is not an element of its type")
            }
            return values.map { Int64($0) }
        }
        switch field {
        case .floatData:
            guard proto.floatData.count == count else { throw error("\(described), but float_data holds \(proto.floatData.count) values") }
            return .floats(proto.floatData)
        case .doubleData:
            guard proto.doubleData.count == count else { throw error("\(described), but double_data holds \(proto.doubleData.count) values") }
            return .floats(proto.doubleData.map { Float($0) })
        case .int64Data: return .integers(try checked(proto.int64Data))
        case .uint64Data: return .integers(try checked(proto.uint64Data))
        case .int32Data:
            let values = try checked(proto.int32Data)
            switch encoding {
            case .float16: return .floats(values.map { HalfPrecision.float(fromHalf: UInt16(truncatingIfNeeded: $0)) })
            case .bfloat16: return .floats(values.map { HalfPrecision.float(fromBFloat16: UInt16(truncatingIfNeeded: $0)) })
            case .bool: return .bools(values.map { $0 == 1 })
            default: return .integers(values)
            }
        }
    }
}
