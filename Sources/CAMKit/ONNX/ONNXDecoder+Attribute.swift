import Foundation

extension ONNXDecoder {
    /// Decodes a node attribute. `label` names it in messages ("attribute 'value' of node …").
    func attribute(_ proto: Onnx_AttributeProto, label: String) throws -> ONNXAttribute {
        switch proto.hasType ? proto.type : inferredType(proto) {
        case .float: return .float(proto.f)
        case .int: return .int(proto.i)
        case .string: return .string(try text(proto.s, label: label))
        case .tensor:
            guard proto.hasT else { throw error("\(label) is of type TENSOR but holds no tensor") }
            return .tensor(try tensor(proto.t, label: "the tensor of \(label)"))
        case .floats: return .floats(proto.floats)
        case .ints: return .ints(proto.ints)
        case .strings: return .strings(try proto.strings.map { try text($0, label: label) })
        case .graph: return .unsupported("GRAPH")
        case .graphs: return .unsupported("GRAPHS")
        case .tensors: return .unsupported("TENSORS")
        case .sparseTensor: return .unsupported("SPARSE_TENSOR")
        case .sparseTensors: return .unsupported("SPARSE_TENSORS")
        case .typeProto: return .unsupported("TYPE_PROTO")
        case .typeProtos: return .unsupported("TYPE_PROTOS")
        case .undefined: throw error("\(label) has no value")
        }
    }

    /// Files written before the `type` field existed (IR version 1) say which kind an
    /// attribute is only by the field that holds its value.
    private func inferredType(_ proto: Onnx_AttributeProto) -> Onnx_AttributeProto.AttributeType {
        if proto.hasF { return .float }
        if proto.hasI { return .int }
        if proto.hasS { return .string }
        if proto.hasT { return .tensor }
        if proto.hasG { return .graph }
        if proto.hasSparseTensor { return .sparseTensor }
        if proto.hasTp { return .typeProto }
        if !proto.floats.isEmpty { return .floats }
        if !proto.ints.isEmpty { return .ints }
        if !proto.strings.isEmpty { return .strings }
        if !proto.tensors.isEmpty { return .tensors }
        if !proto.graphs.isEmpty { return .graphs }
        if !proto.sparseTensors.isEmpty { return .sparseTensors }
        if !proto.typeProtos.isEmpty { return .typeProtos }
        return .undefined
    }

    /// String attributes are bytes in the schema; ONNX requires UTF-8.
    private func text(_ bytes: Data, label: String) throws -> String {
        guard let text = String(data: bytes, encoding: .utf8) else { throw error("\(label) is not UTF-8 text") }
        return text
    }
}
