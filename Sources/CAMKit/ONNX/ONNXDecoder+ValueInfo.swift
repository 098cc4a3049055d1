extension ONNXDecoder {
    /// Decodes the declared type of a graph input, output or intermediate value. `role`
    /// names it in messages ("graph input").
    func valueInfo(_ proto: Onnx_ValueInfoProto, role: String) throws -> ONNXValueInfo {
        guard !proto.name.isEmpty else { throw error("a \(role) has no name") }
        let label = "\(role) '\(proto.name)'"
        switch proto.type.value {
        case let .tensorType(tensor)?:
            return ONNXValueInfo(
                name: proto.name,
                elementType: tensor.elemType == 0 ? nil : try dataType(tensor.elemType, of: label),
                dims: tensor.hasShape ? try tensor.shape.dim.map { try dimension($0, of: label) } : nil,
                unsupportedType: nil
            )
        case nil:
            return ONNXValueInfo(name: proto.name, elementType: nil, dims: nil, unsupportedType: nil)
        case .sequenceType?: return unsupported("SEQUENCE", proto)
        case .mapType?: return unsupported("MAP", proto)
        case .optionalType?: return unsupported("OPTIONAL", proto)
        case .sparseTensorType?: return unsupported("SPARSE_TENSOR", proto)
        case .opaqueType?: return unsupported("OPAQUE", proto)
        }
    }

    /// The `TensorProto.DataType` numbered `number`; an unknown number is an error.
    func dataType(_ number: Int32, of label: String) throws -> ONNXDataType {
        guard let type = ONNXDataType(rawValue: Int(number)) else {
            throw error("\(label) has unknown data type \(number)")
        }
        return type
    }

    private func unsupported(_ kind: String, _ proto: Onnx_ValueInfoProto) -> ONNXValueInfo {
        ONNXValueInfo(name: proto.name, elementType: nil, dims: nil, unsupportedType: kind)
    }

    private func dimension(_ proto: Onnx_TensorShapeProto.Dimension, of label: String) throws -> ONNXDimension {
        switch proto.value {
        case let .dimValue(size)?:
            guard size >= 0, let size = Int(exactly: size) else { throw error("\(label) has a dimension of \(size)") }
            return .value(size)
        case let .dimParam(name)?:
            return name.isEmpty ? .unknown : .symbolic(name)
        case nil:
            return .unknown
        }
    }
}
