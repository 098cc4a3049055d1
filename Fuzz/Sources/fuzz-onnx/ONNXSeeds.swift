@testable import CAMKit
import Foundation
import SwiftProtobuf

/// The seed models of fuzz-onnx, built from the generated messages at run time rather than
/// committed: a small classifier as torch exports it, one initializer of every type the reader
/// decodes (raw and typed), nodes out of order with every kind of attribute, and external data
/// with and without explicit lengths.
enum ONNXSeeds {
    static func write(to folder: URL) {
        let seeds: [(String, Onnx_ModelProto, Data?)] = [
            ("classifier.onnx", classifier(), nil),
            ("types.onnx", types(), nil),
            external(),
        ]
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            for (name, model, data) in seeds {
                let bytes: Data = try model.serializedBytes()
                try ONNXFuzzInput.join(bytes, data).write(to: folder.appendingPathComponent(name))
            }
        } catch {
            fatalError("cannot write the fuzz-onnx seeds to \(folder.path): \(error)")
        }
    }

    private static func bytes<T>(_ values: [T]) -> Data { values.withUnsafeBytes { Data($0) } }

    private static func tensor(_ name: String, _ dims: [Int64], _ type: ONNXDataType, raw: Data? = nil,
                               _ fill: (inout Onnx_TensorProto) -> Void = { _ in }) -> Onnx_TensorProto {
        var tensor = Onnx_TensorProto()
        tensor.name = name
        tensor.dims = dims
        tensor.dataType = Int32(type.rawValue)
        if let raw { tensor.rawData = raw }
        fill(&tensor)
        return tensor
    }

    private static func node(_ op: String, _ inputs: [String], _ outputs: [String],
                             _ attributes: [Onnx_AttributeProto] = []) -> Onnx_NodeProto {
        var node = Onnx_NodeProto()
        node.opType = op
        node.name = "/\(op.lowercased())_\(outputs.first ?? "")"
        node.input = inputs
        node.output = outputs
        node.attribute = attributes
        return node
    }

    private static func attribute(_ name: String, _ type: Onnx_AttributeProto.AttributeType,
                                  _ fill: (inout Onnx_AttributeProto) -> Void) -> Onnx_AttributeProto {
        var attribute = Onnx_AttributeProto()
        attribute.name = name
        attribute.type = type
        fill(&attribute)
        return attribute
    }

    private static func entry(_ key: String, _ value: String) -> Onnx_StringStringEntryProto {
        var entry = Onnx_StringStringEntryProto()
        entry.key = key
        entry.value = value
        return entry
    }

    /// A float tensor value with a symbolic batch axis, as torch's exporters declare inputs.
    private static func value(_ name: String, _ dims: [Int64]) -> Onnx_ValueInfoProto {
        var info = Onnx_ValueInfoProto()
        info.name = name
        info.type.tensorType.elemType = 1
        info.type.tensorType.shape.dim = dims.map { size in
            var dim = Onnx_TensorShapeProto.Dimension()
            if size < 0 { dim.dimParam = "batch" } else { dim.dimValue = size }
            return dim
        }
        return info
    }

    private static func model(_ nodes: [Onnx_NodeProto], _ initializers: [Onnx_TensorProto],
                              inputs: [Onnx_ValueInfoProto], outputs: [Onnx_ValueInfoProto]) -> Onnx_ModelProto {
        var model = Onnx_ModelProto()
        model.irVersion = 10
        model.producerName = "pytorch"
        model.producerVersion = "2.15.0"
        var opset = Onnx_OperatorSetIdProto()
        opset.version = 18
        model.opsetImport = [opset]
        model.metadataProps = [entry("labels", "cat\ndog")]
        model.graph.name = "main_graph"
        model.graph.node = nodes
        model.graph.initializer = initializers
        model.graph.input = inputs
        model.graph.output = outputs
        return model
    }

    private static func classifier() -> Onnx_ModelProto {
        var conv = node("Conv", ["x", "conv.weight", "conv.bias"], ["h"], [
            attribute("kernel_shape", .ints) { $0.ints = [3, 3] },
            attribute("pads", .ints) { $0.ints = [1, 1, 1, 1] },
            attribute("group", .int) { $0.i = 1 },
            attribute("auto_pad", .string) { $0.s = Data("NOTSET".utf8) },
        ])
        conv.metadataProps = [entry("pkg.torch.onnx.name_scopes", "['', 'features.0']")]
        return model([
            conv,
            node("Relu", ["h"], ["r"]),
            node("GlobalAveragePool", ["r"], ["p"]),
            node("Flatten", ["p"], ["f"], [attribute("axis", .int) { $0.i = 1 }]),
            node("Gemm", ["f", "fc.weight", "fc.bias"], ["logits"], [attribute("alpha", .float) { $0.f = 1 }]),
        ], [
            tensor("conv.weight", [2, 1, 3, 3], .float, raw: bytes((0..<18).map { Float($0) / 8 })),
            tensor("conv.bias", [2], .float) { $0.floatData = [0.5, -0.5] },
            tensor("fc.weight", [2, 2], .float16, raw: bytes([UInt16(0x3C00), 0xBC00, 0x3800, 0x0001])),
            tensor("fc.bias", [2], .bfloat16) { $0.int32Data = [0x3F80, 0xC000] },
        ], inputs: [value("x", [-1, 1, 4, 4])], outputs: [value("logits", [-1, 2])])
    }

    private static func types() -> Onnx_ModelProto {
        var branch = Onnx_GraphProto()
        branch.name = "then"
        branch.node = [node("Identity", ["x"], ["t"])]
        branch.output = [value("t", [1])]
        let initializers = [
            tensor("int8", [2], .int8, raw: bytes([Int8(-1), 2])),
            tensor("int8_typed", [2], .int8) { $0.int32Data = [-1, 2] },
            tensor("uint8", [2], .uint8, raw: Data([0, 255])),
            tensor("int16", [2], .int16, raw: bytes([Int16(-300), 300])),
            tensor("uint16", [2], .uint16) { $0.int32Data = [0, 65535] },
            tensor("int32", [2], .int32, raw: bytes([Int32(-70000), 70000])),
            tensor("uint32", [2], .uint32) { $0.uint64Data = [0, 4_000_000_000] },
            tensor("shape", [2], .int64) { $0.int64Data = [1, -1] },
            tensor("double", [1], .double, raw: bytes([2.5])),
            tensor("double_typed", [1], .double) { $0.doubleData = [2.5] },
            tensor("flag", [2], .bool, raw: Data([1, 0])),
            tensor("flag_typed", [], .bool) { $0.int32Data = [1] },
            tensor("empty", [0, 3], .float),
        ]
        // Listed consumers first: the reader restores the order.
        return model([
            node("If", ["flag_typed"], ["y"], [
                attribute("then_branch", .graph) { $0.g = branch },
                attribute("else_branch", .graph) { $0.g = branch },
            ]),
            node("Reshape", ["c", "shape"], ["reshaped"]),
            node("Dropout", ["reshaped", "", ""], ["dropped", ""]),
            node("Constant", [], ["c"], [
                attribute("value", .tensor) { $0.t = tensor("", [2, 2], .float) { $0.floatData = [1, 2, 3, 4] } },
            ]),
            node("Constant", [], ["k"], [attribute("value_ints", .ints) { $0.ints = [1, 2] }]),
            node("Resize", ["dropped", "", "scales"], ["resized"], [
                attribute("mode", .string) { $0.s = Data("linear".utf8) },
                attribute("names", .strings) { $0.strings = [Data("a".utf8)] },
                attribute("weights", .floats) { $0.floats = [0.25, 0.75] },
            ]),
            node("Constant", [], ["scales"], [attribute("value_floats", .floats) { $0.floats = [1, 1] }]),
        ], initializers, inputs: [value("x", [1]), value("shape", [2])],
           outputs: [value("y", [1]), value("resized", [-1, 4])])
    }

    /// Two tensors in `model.onnx.data`, one at an offset with a length, one running to the end.
    private static func external() -> (String, Onnx_ModelProto, Data?) {
        func stored(_ name: String, _ dims: [Int64], _ entries: [(String, String)]) -> Onnx_TensorProto {
            tensor(name, dims, .float) {
                $0.dataLocation = .external
                $0.externalData = entries.map { entry($0.0, $0.1) }
            }
        }
        let data = Data(repeating: 0, count: 8) + bytes([Float(1), 2, 3, 4]) + bytes([Float(5), 6])
        let model = model([node("MatMul", ["x", "w"], ["m"]), node("Add", ["m", "b"], ["y"])], [
            stored("w", [2, 2], [("location", "model.onnx.data"), ("offset", "8"), ("length", "16")]),
            stored("b", [2], [("location", "./model.onnx.data"), ("offset", "24")]),
        ], inputs: [value("x", [-1, 2])], outputs: [value("y", [-1, 2])])
        return ("external.onnx", model, data)
    }
}
