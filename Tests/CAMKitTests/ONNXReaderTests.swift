import Foundation
import SwiftProtobuf
import XCTest
@testable import CAMKit

/// The ONNX reader on small models built here from the generated messages: every element
/// type it decodes, inline and external data, and every damaged or hostile file it must
/// refuse with an `ONNXError` naming the file and the reason.
final class ONNXReaderTests: XCTestCase {
    var folder: URL!

    override func setUpWithError() throws {
        folder = try temporaryFolder("camkit-onnx")
    }

    // MARK: building models

    private func raw<T>(_ values: [T]) -> Data { values.withUnsafeBytes { Data($0) } }

    private func tensor(_ name: String, _ dims: [Int64], _ type: ONNXDataType, raw: Data? = nil) -> Onnx_TensorProto {
        var tensor = Onnx_TensorProto()
        tensor.name = name
        tensor.dims = dims
        tensor.dataType = Int32(type.rawValue)
        if let raw { tensor.rawData = raw }
        return tensor
    }

    private func external(_ name: String, _ dims: [Int64], _ entries: [String: String]) -> Onnx_TensorProto {
        var tensor = tensor(name, dims, .float)
        tensor.dataLocation = .external
        tensor.externalData = entries.sorted { $0.key < $1.key }.map { key, value in
            var entry = Onnx_StringStringEntryProto()
            entry.key = key
            entry.value = value
            return entry
        }
        return tensor
    }

    private func node(_ op: String, _ inputs: [String], _ outputs: [String], name: String = "",
                      attributes: [Onnx_AttributeProto] = []) -> Onnx_NodeProto {
        var node = Onnx_NodeProto()
        node.opType = op
        node.name = name
        node.input = inputs
        node.output = outputs
        node.attribute = attributes
        return node
    }

    private func attribute(_ name: String, _ fill: (inout Onnx_AttributeProto) -> Void) -> Onnx_AttributeProto {
        var attribute = Onnx_AttributeProto()
        attribute.name = name
        fill(&attribute)
        return attribute
    }

    private func value(_ name: String, dims: [Onnx_TensorShapeProto.Dimension]? = nil) -> Onnx_ValueInfoProto {
        var info = Onnx_ValueInfoProto()
        info.name = name
        info.type.tensorType.elemType = 1
        if let dims { info.type.tensorType.shape.dim = dims }
        return info
    }

    private func entry(_ key: String, _ value: String) -> Onnx_StringStringEntryProto {
        var entry = Onnx_StringStringEntryProto()
        entry.key = key
        entry.value = value
        return entry
    }

    /// A model reading `x` and writing `y` (by default through one Identity node).
    private func model(_ nodes: [Onnx_NodeProto]? = nil, initializers: [Onnx_TensorProto] = [],
                       inputs: [String] = ["x"], outputs: [String] = ["y"]) -> Onnx_ModelProto {
        var model = Onnx_ModelProto()
        model.irVersion = 8
        var opset = Onnx_OperatorSetIdProto()
        opset.version = 17
        model.opsetImport = [opset]
        model.graph.name = "test"
        model.graph.node = nodes ?? [node("Identity", ["x"], ["y"], name: "identity")]
        model.graph.initializer = initializers
        model.graph.input = inputs.map { value($0) }
        model.graph.output = outputs.map { value($0) }
        return model
    }

    private func write(_ model: Onnx_ModelProto, as name: String = "model.onnx") throws -> URL {
        let url = folder.appendingPathComponent(name)
        try (model.serializedBytes() as Data).write(to: url)
        return url
    }

    private func load(_ model: Onnx_ModelProto) throws -> ONNXModel {
        try ONNXModel.load(contentsOf: try write(model))
    }

    /// The file must be refused with an `ONNXError` naming it and containing every reason.
    private func assertRefused(_ url: URL, limits: ONNXLimits = .default, reasons: [String],
                               file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try ONNXModel.load(contentsOf: url, limits: limits), file: file, line: line) { error in
            guard let error = error as? ONNXError else { return XCTFail("not an ONNXError: \(error)", file: file, line: line) }
            XCTAssert(error.description.hasPrefix(url.path + ": "), error.description, file: file, line: line)
            for reason in reasons {
                XCTAssert(error.description.contains(reason), "'\(reason)' missing from: \(error.description)", file: file, line: line)
            }
        }
    }

    private func assertRefused(_ url: URL, limits: ONNXLimits = .default, _ reasons: String...,
                               file: StaticString = #filePath, line: UInt = #line) {
        assertRefused(url, limits: limits, reasons: reasons, file: file, line: line)
    }

    private func assertRefused(_ model: Onnx_ModelProto, limits: ONNXLimits = .default, _ reasons: String...,
                               file: StaticString = #filePath, line: UInt = #line) throws {
        assertRefused(try write(model), limits: limits, reasons: reasons, file: file, line: line)
    }

    private func values(_ model: ONNXModel, _ name: String) -> ONNXTensor.Values? {
        model.graph.initializers[name]?.values
    }

    // MARK: inline data

    func testInlineInitializersOfEveryTypeDecodeFromRawDataAndTypedFields() throws {
        var typed: [Onnx_TensorProto] = []
        func add(_ name: String, _ type: ONNXDataType, _ fill: (inout Onnx_TensorProto) -> Void) {
            var tensor = tensor(name, [3], type)
            fill(&tensor)
            typed.append(tensor)
        }
        add("float_typed", .float) { $0.floatData = [1, -2, 0.5] }
        add("double_typed", .double) { $0.doubleData = [1, -2, 0.5] }
        add("half_typed", .float16) { $0.int32Data = [0x3C00, 0xC000, 0x3800] }
        add("bfloat_typed", .bfloat16) { $0.int32Data = [0x3F80, 0xC000, 0x3F00] }
        add("int64_typed", .int64) { $0.int64Data = [7, -1, Int64.max] }
        add("int8_typed", .int8) { $0.int32Data = [-128, 0, 127] }
        add("uint32_typed", .uint32) { $0.uint64Data = [0, 1, 4_294_967_295] }
        add("bool_typed", .bool) { $0.int32Data = [1, 0, 1] }
        let inline = [
            tensor("float_raw", [3], .float, raw: raw([Float(1), -2, 0.5])),
            tensor("double_raw", [3], .double, raw: raw([1.0, -2.0, 0.5])),
            tensor("half_raw", [3], .float16, raw: raw([UInt16(0x3C00), 0xC000, 0x3800])),
            tensor("bfloat_raw", [3], .bfloat16, raw: raw([UInt16(0x3F80), 0xC000, 0x3F00])),
            tensor("int64_raw", [3], .int64, raw: raw([Int64(7), -1, Int64.max])),
            tensor("int32_raw", [3], .int32, raw: raw([Int32(7), -1, Int32.min])),
            tensor("int16_raw", [3], .int16, raw: raw([Int16(7), -1, Int16.min])),
            tensor("int8_raw", [3], .int8, raw: raw([Int8(-128), 0, 127])),
            tensor("uint8_raw", [3], .uint8, raw: raw([UInt8(0), 1, 255])),
            tensor("uint16_raw", [3], .uint16, raw: raw([UInt16(0), 1, 65535])),
            tensor("uint32_raw", [3], .uint32, raw: raw([UInt32(0), 1, 4_294_967_295])),
            tensor("bool_raw", [3], .bool, raw: Data([1, 0, 1])),
            tensor("scalar", [], .float, raw: raw([Float(3)])),
            tensor("empty", [0, 4], .float),
        ]
        let loaded = try load(model(initializers: inline + typed))
        for kind in ["float", "double", "half", "bfloat"] {
            for source in ["raw", "typed"] {
                guard case let .floats(floats)? = values(loaded, "\(kind)_\(source)") else { XCTFail("\(kind)_\(source)"); continue }
                XCTAssertEqual(floats, [1, -2, 0.5], "\(kind)_\(source)")
            }
        }
        let integers: [String: [Int64]] = [
            "int64_raw": [7, -1, Int64.max], "int64_typed": [7, -1, Int64.max], "int32_raw": [7, -1, Int64(Int32.min)],
            "int16_raw": [7, -1, Int64(Int16.min)], "int8_raw": [-128, 0, 127], "int8_typed": [-128, 0, 127],
            "uint8_raw": [0, 1, 255], "uint16_raw": [0, 1, 65535], "uint32_raw": [0, 1, 4_294_967_295],
            "uint32_typed": [0, 1, 4_294_967_295],
        ]
        for (name, expected) in integers {
            guard case let .integers(found)? = values(loaded, name) else { XCTFail(name); continue }
            XCTAssertEqual(found, expected, name)
        }
        for name in ["bool_raw", "bool_typed"] {
            guard case let .bools(found)? = values(loaded, name) else { XCTFail(name); continue }
            XCTAssertEqual(found, [true, false, true], name)
        }
        XCTAssertEqual(loaded.graph.initializers["half_raw"]?.dataType, .float16)
        XCTAssertEqual(loaded.graph.initializers["scalar"]?.dims, [])
        XCTAssertEqual(loaded.graph.initializers["scalar"]?.values.count, 1)
        XCTAssertEqual(loaded.graph.initializers["empty"]?.dims, [0, 4])
        XCTAssertEqual(loaded.graph.initializers["empty"]?.values.count, 0)
    }

    func testModelNodeAndValueFieldsArePreserved() throws {
        var proto = model([
            node("Conv", ["x", "w", ""], ["h"], name: "conv", attributes: [
                attribute("strides") { $0.type = .ints; $0.ints = [2, 2] },
                attribute("alpha") { $0.type = .float; $0.f = 0.25 },
                attribute("auto_pad") { $0.type = .string; $0.s = Data("SAME_UPPER".utf8) },
                attribute("group") { $0.i = 1 },  // no type field, as IR version 1 wrote it
                attribute("scales") { $0.type = .floats; $0.floats = [1, 2] },
                attribute("names") { $0.type = .strings; $0.strings = [Data("a".utf8), Data("b".utf8)] },
                attribute("body") { $0.type = .graph; $0.g.name = "sub" },
            ]),
            node("Constant", [], ["c"], name: "constant", attributes: [
                attribute("value") { $0.type = .tensor; $0.t = tensor("", [2], .int64, raw: raw([Int64(1), -1])) },
            ]),
            node("Add", ["h", "c"], ["y"], name: "add"),
        ], initializers: [tensor("w", [2], .float, raw: raw([Float(1), 2]))], inputs: ["x", "w"])
        proto.producerName = "pytorch"
        proto.producerVersion = "2.15.0"
        var microsoft = Onnx_OperatorSetIdProto()
        microsoft.domain = "com.microsoft"
        microsoft.version = 1
        proto.opsetImport[0].domain = "ai.onnx"
        proto.opsetImport.append(microsoft)
        proto.graph.node[2].domain = "ai.onnx"
        proto.metadataProps = [entry("labels", "cat,dog"), entry("author", "me")]
        proto.graph.node[0].metadataProps = [entry("pkg.torch.onnx.name_scopes", "['', 'layer4']")]
        var batch = Onnx_TensorShapeProto.Dimension()
        batch.dimParam = "batch"
        var channels = Onnx_TensorShapeProto.Dimension()
        channels.dimValue = 3
        proto.graph.input[0] = value("x", dims: [batch, channels, Onnx_TensorShapeProto.Dimension()])
        proto.graph.valueInfo = [value("h")]

        let loaded = try load(proto)
        XCTAssertEqual(loaded.irVersion, 8)
        XCTAssertEqual(loaded.producerName, "pytorch")
        XCTAssertEqual(loaded.producerVersion, "2.15.0")
        XCTAssertEqual(loaded.opsets, ["": 17, "com.microsoft": 1])
        XCTAssertEqual(loaded.metadata, ["labels": "cat,dog", "author": "me"])
        let graph = loaded.graph
        XCTAssertEqual(graph.name, "test")
        XCTAssertEqual(graph.inputs.map(\.name), ["x"], "an input that is an initializer is not a real input")
        XCTAssertEqual(graph.inputs[0].dims, [.symbolic("batch"), .value(3), .unknown])
        XCTAssertEqual(graph.inputs[0].elementType, .float)
        XCTAssertNil(graph.outputs[0].dims)
        XCTAssertEqual(Array(graph.valueInfo.keys), ["h"])
        XCTAssertEqual(graph.nodes.map(\.name), ["conv", "constant", "add"])
        let conv = graph.nodes[0]
        XCTAssertEqual(conv.inputs, ["x", "w", ""])
        XCTAssertEqual(conv.metadata, ["pkg.torch.onnx.name_scopes": "['', 'layer4']"])
        XCTAssertEqual(graph.nodes[2].domain, "")
        guard case let .ints(strides)? = conv.attributes["strides"], case let .float(alpha)? = conv.attributes["alpha"],
              case let .string(pad)? = conv.attributes["auto_pad"], case let .int(group)? = conv.attributes["group"],
              case let .floats(scales)? = conv.attributes["scales"], case let .strings(names)? = conv.attributes["names"],
              case let .unsupported(body)? = conv.attributes["body"] else { return XCTFail("\(conv.attributes)") }
        XCTAssertEqual(strides, [2, 2])
        XCTAssertEqual(alpha, 0.25)
        XCTAssertEqual(pad, "SAME_UPPER")
        XCTAssertEqual(group, 1)
        XCTAssertEqual(scales, [1, 2])
        XCTAssertEqual(names, ["a", "b"])
        XCTAssertEqual(body, "GRAPH")
        guard case let .tensor(constant)? = graph.nodes[1].attributes["value"], case let .integers(ints) = constant.values else {
            return XCTFail("\(graph.nodes[1].attributes)")
        }
        XCTAssertEqual(ints, [1, -1])
    }

    func testNodesOutOfOrderAreSortedAndOrderedFilesKeepTheirOrder() throws {
        let chain = [
            node("Relu", ["b"], ["y"], name: "c"),
            node("Neg", ["x"], ["z"], name: "side"),
            node("Relu", ["a"], ["b"], name: "b"),
            node("Relu", ["x"], ["a"], name: "a"),
        ]
        let sorted = try load(model(chain, outputs: ["y", "z"])).graph.nodes
        XCTAssertEqual(sorted.map(\.name), ["side", "a", "b", "c"])
        XCTAssertEqual(sorted.map(\.index), [1, 3, 2, 0], "each node keeps its position in the file")
        // Already topological, with an independent node placed last: kept as written.
        let ordered = [chain[3], chain[2], chain[0], chain[1]]
        XCTAssertEqual(try load(model(ordered, outputs: ["y", "z"])).graph.nodes.map(\.name), ["a", "b", "c", "side"])
    }

    /// The exports of both torch exporters that scripts/reference/make_onnx_fixtures.py writes,
    /// against what its manifest says of each file (counted there with onnx's own reader).
    func testRealTorchExportsMatchTheirManifest() throws {
        let manifestURL = fixtureURL("onnx/manifest.json")
        guard FileManager.default.fileExists(atPath: manifestURL.path) else {
            throw XCTSkip("\(manifestURL.path) is missing: scripts/reference/make_onnx_fixtures.py writes it")
        }
        let manifest = try JSONSerialization.jsonObject(with: Data(contentsOf: manifestURL)) as? [String: Any]
        let models = try XCTUnwrap(manifest?["models"] as? [String: [String: Any]])
        XCTAssertFalse(models.isEmpty)
        for (file, facts) in models.sorted(by: { $0.key < $1.key }) {
            let loaded = try ONNXModel.load(contentsOf: fixtureURL("onnx/\(file)"))
            let graph = loaded.graph
            XCTAssertEqual(loaded.irVersion, (facts["ir_version"] as? NSNumber)?.int64Value, file)
            XCTAssertEqual(loaded.opsets, (facts["opset_import"] as? [String: Int]), file)
            XCTAssertEqual("\(loaded.producerName) \(loaded.producerVersion)", facts["producer"] as? String, file)
            XCTAssertEqual(graph.nodes.count, facts["nodes"] as? Int, file)
            XCTAssertEqual(graph.initializers.count, (facts["initializers"] as? [String: Any])?["count"] as? Int, file)
            for (values, key) in [(graph.inputs, "graph_inputs"), (graph.outputs, "graph_outputs")] {
                let expected = try XCTUnwrap(facts[key] as? [[String: Any]], file)
                XCTAssertEqual(values.map(\.name), expected.compactMap { $0["name"] as? String }, file)
                let dims = expected.map { ($0["dims"] as? [Any] ?? []).map { dim -> ONNXDimension in
                    if let size = dim as? Int { return .value(size) }
                    return (dim as? String).map { .symbolic($0) } ?? .unknown
                } }
                XCTAssertEqual(values.map { $0.dims ?? [] }, dims, file)
            }
            for tensor in graph.initializers.values {
                XCTAssertEqual(tensor.values.count, tensor.dims.reduce(1, *), "\(file): \(tensor.name)")
            }
            let metadataKeys = Set(graph.nodes.flatMap(\.metadata.keys))
            XCTAssertEqual(metadataKeys, Set((facts["node_metadata_keys"] as? [String: Any] ?? [:]).keys), file)
        }
    }

    // MARK: external data

    func testExternalDataIsReadFromFilesInTheModelsFolder() throws {
        let weights: [Float] = [1, 2, 3, 4, 5, 6]
        var blob = Data(repeating: 0xEE, count: 16)  // padding before the first tensor
        blob += raw(weights)
        try blob.write(to: folder.appendingPathComponent("model.onnx.data"))
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("weights"), withIntermediateDirectories: true)
        try raw([Float(7), 8]).write(to: folder.appendingPathComponent("weights/bias.bin"))
        try FileManager.default.createSymbolicLink(
            at: folder.appendingPathComponent("bias-link.bin"), withDestinationURL: folder.appendingPathComponent("weights/bias.bin"))
        let loaded = try load(model(initializers: [
            external("w", [2, 3], ["location": "model.onnx.data", "offset": "16", "length": "24"]),
            external("w_tail", [2], ["location": "./model.onnx.data", "offset": "32"]),  // no length: to the end
            external("b", [2], ["location": "weights/../weights/bias.bin", "checksum": "ignored"]),
            external("b_link", [2], ["location": "bias-link.bin"]),
        ]))
        guard case let .floats(w)? = values(loaded, "w"), case let .floats(tail)? = values(loaded, "w_tail"),
              case let .floats(b)? = values(loaded, "b"), case let .floats(link)? = values(loaded, "b_link") else {
            return XCTFail("\(loaded.graph.initializers)")
        }
        XCTAssertEqual(w, weights)
        XCTAssertEqual(tail, [5, 6])
        XCTAssertEqual(b, [7, 8])
        XCTAssertEqual(link, [7, 8])
    }

    func testExternalDataOutsideItsFileOrTheModelsFolderIsRefused() throws {
        let outside = try temporaryFolder("camkit-onnx-outside")
        try raw([Float](repeating: 1, count: 4)).write(to: outside.appendingPathComponent("secret.bin"))
        try raw([Float](repeating: 1, count: 4)).write(to: folder.deletingLastPathComponent().appendingPathComponent("sibling-secret.bin"))
        addTeardownBlock { [folder] in
            try? FileManager.default.removeItem(at: folder!.deletingLastPathComponent().appendingPathComponent("sibling-secret.bin"))
        }
        try raw([Float](repeating: 1, count: 4)).write(to: folder.appendingPathComponent("data.bin"))  // 16 bytes
        try FileManager.default.createSymbolicLink(
            at: folder.appendingPathComponent("link.bin"), withDestinationURL: outside.appendingPathComponent("secret.bin"))
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("sub"), withIntermediateDirectories: true)
        XCTAssertEqual(mkfifo(folder.appendingPathComponent("fifo.bin").path, 0o600), 0)
        try raw([Float](repeating: 1, count: 4)).write(to: folder.appendingPathComponent("linked.bin"))
        XCTAssertEqual(link(folder.appendingPathComponent("linked.bin").path, folder.appendingPathComponent("hard.bin").path), 0)

        let cases: [([String: String], [Int64], [String])] = [
            (["location": "data.bin", "offset": "8", "length": "16"], [4], ["initializer 'w'", "offset 8 with length 16 runs past the end of 'data.bin' (16 bytes)"]),
            (["location": "data.bin", "offset": "32"], [4], ["offset 32, past the end of 'data.bin'"]),
            (["location": "data.bin", "offset": "9223372036854775807", "length": "16"], [4], ["past the end"]),
            (["location": "data.bin", "offset": "8", "length": "9223372036854775807"], [4], ["runs past the end"]),
            (["location": "data.bin", "offset": "18446744073709551616"], [4], ["offset '18446744073709551616', not a non-negative integer"]),
            (["location": "data.bin", "length": "-4"], [4], ["length '-4', not a non-negative integer"]),
            (["location": "data.bin"], [2, 3], ["needs 24 bytes", "is 16 bytes long"]),
            (["location": outside.appendingPathComponent("secret.bin").path], [4], ["is an absolute path"]),
            (["location": "../sibling-secret.bin"], [4], ["'../sibling-secret.bin'", "climbs out of the model's folder"]),
            (["location": "sub/../../sibling-secret.bin"], [4], ["climbs out of the model's folder"]),
            (["location": "link.bin"], [4], ["resolves to", "outside the model's folder"]),
            (["location": "missing.bin"], [4], ["names no readable file"]),
            (["location": "sub"], [4], ["'sub'", "not a regular file"]),
            (["location": "fifo.bin"], [4], ["not a regular file"]),
            (["location": "hard.bin"], [4], ["2 hard links"]),
            (["offset": "0"], [4], ["without a location"]),
        ]
        for (entries, dims, reasons) in cases {
            assertRefused(try write(model(initializers: [external("w", dims, entries)])), reasons: reasons)
        }
    }

    // MARK: data that does not match its dims or type

    func testDataThatDoesNotMatchItsDimsOrTypeIsRefused() throws {
        var typedShort = tensor("w", [2, 2], .float)
        typedShort.floatData = [1, 2, 3]
        var wrongField = tensor("w", [2], .int64)
        wrongField.floatData = [1, 2]
        var both = tensor("w", [2], .float, raw: raw([Float(1), 2]))
        both.floatData = [1, 2]
        var outOfRange = tensor("w", [2], .int8)
        outOfRange.int32Data = [1, 300]
        var strings = tensor("w", [1], .float)
        strings.stringData = [Data("a".utf8)]
        var segmented = tensor("w", [1], .float, raw: raw([Float(1)]))
        segmented.segment.begin = 0
        var stray = tensor("w", [1], .float, raw: raw([Float(1)]))
        stray.externalData = [entry("location", "model.onnx.data")]
        let cases: [(Onnx_TensorProto, [String])] = [
            (tensor("w", [2, 3], .float, raw: raw([Float](repeating: 0, count: 5))),
             ["initializer 'w' has dims [2, 3] (6 elements) of 4 bytes, but raw_data holds 20 bytes"]),
            (typedShort, ["initializer 'w' has dims [2, 2] (4 elements), but float_data holds 3 values"]),
            (tensor("w", [-1, 3], .float, raw: raw([Float](repeating: 0, count: 3))), ["initializer 'w' has a negative dimension in dims [-1, 3]"]),
            (tensor("w", [1 << 40, 1 << 40, 1], .float), ["dims [1099511627776, 1099511627776, 1], more than the limit of 2147483648 elements"]),
            (tensor("w", [0, 1 << 40, 1 << 40], .float), ["more than the limit of 2147483648 elements"]),  // empty, yet its dims overflow
            (tensor("w", [3], .float), ["initializer 'w' has dims [3] (3 elements) but holds no data"]),
            (wrongField, ["initializer 'w' holds float_data, which its type cannot use"]),
            (both, ["holds its data in both raw_data and float_data"]),
            (outOfRange, ["int32_data value 300 at index 1 is not an element of its type"]),
            (tensor("w", [2], .bool, raw: Data([1, 2])), ["is BOOL but byte 1 of its data is 2"]),
            (strings, ["holds string_data"]),
            (segmented, ["stored in segments"]),
            (stray, ["external_data entries but its data_location is not EXTERNAL"]),
        ]
        for (tensor, reasons) in cases {
            assertRefused(try write(model(initializers: [tensor])), reasons: reasons)
        }
    }

    func testTheLimitsAreCheckedBeforeAnythingIsRead() throws {
        let big = tensor("w", [100], .float, raw: raw([Float](repeating: 0, count: 100)))
        try assertRefused(model(initializers: [big]), limits: ONNXLimits(maxTensorElements: 99), "more than the limit of 99 elements")
        try assertRefused(model(initializers: [big, tensor("v", [100], .float, raw: raw([Float](repeating: 0, count: 100)))]),
                          limits: ONNXLimits(maxTotalBytes: 700), "initializer 'v'", "past the limit of 700 bytes")
        let url = try write(model(initializers: [big]))
        assertRefused(url, limits: ONNXLimits(maxFileBytes: 100), "cannot read the model", "over the limit of 100 bytes")
    }

    func testEveryDataTypeOfThePinnedSchemaIsNamed() {
        let schema = Onnx_TensorProto.DataType.allCases.filter { $0 != .undefined }.map(\.rawValue)
        XCTAssertEqual(ONNXDataType.allCases.map(\.rawValue), schema)
        XCTAssertEqual(ONNXDataType.float8e4m3fn.name, "FLOAT8E4M3FN")
    }

    func testTypesCAMKitDoesNotDecodeAreRefusedByName() throws {
        var unknown = tensor("w", [1], .float, raw: raw([Float(1)]))
        unknown.dataType = 99
        try assertRefused(model(initializers: [unknown]), "initializer 'w' has unknown data type 99")
        for type in [ONNXDataType.string, .uint64, .complex64, .float8e4m3fn, .int4] {
            try assertRefused(model(initializers: [tensor("w", [1], type, raw: Data([0]))]),
                              "initializer 'w' has data type \(type.name), which CAMKit does not read")
        }
        let constant = node("Constant", [], ["y"], name: "const", attributes: [
            attribute("value") { $0.type = .tensor; $0.t = tensor("", [1], .complex128, raw: Data(count: 16)) },
        ])
        try assertRefused(model([constant], inputs: []),
                          "the tensor of attribute 'value' of node 'const' (Constant) has data type COMPLEX128")
    }

    // MARK: damaged files

    func testEmptyTruncatedAndGarbledFilesAreRefused() throws {
        let empty = folder.appendingPathComponent("empty.onnx")
        try Data().write(to: empty)
        assertRefused(empty, "the file is empty")
        assertRefused(folder, "cannot read the model", "not a regular file")
        assertRefused(folder.appendingPathComponent("missing.onnx"), "cannot read the model")

        let bytes: Data = try model(initializers: [tensor("w", [4], .float, raw: raw([Float](repeating: 1, count: 4)))]).serializedBytes()
        let cut = folder.appendingPathComponent("cut.onnx")
        var truncated = 0
        for length in 1..<bytes.count {
            try bytes.prefix(length).write(to: cut)
            XCTAssertThrowsError(try ONNXModel.load(contentsOf: cut), "cut to \(length) bytes") { error in
                XCTAssert(error is ONNXError && "\(error)".hasPrefix(cut.path + ": "), "\(error)")
                if "\(error)".contains("not a valid ONNX model: the protobuf ends in the middle of a field (the file is truncated)") {
                    truncated += 1
                }
            }
        }
        XCTAssertGreaterThan(truncated, bytes.count / 2, "most cuts land inside a field")

        let garbled = folder.appendingPathComponent("garbled.onnx")
        try Data([0xFF, 0xFF, 0xFF, 0xFF, 0x0F]).write(to: garbled)
        assertRefused(garbled, "not a valid ONNX model: the bytes are not a protobuf message (the file is garbled)")
        try Data("this is not a model at all, just some text\n".utf8).write(to: garbled)
        assertRefused(garbled, "not a valid ONNX model")

        var graphless = model()
        graphless.clearGraph()
        try assertRefused(graphless, "the model has no graph")
    }

    // MARK: graph structure

    func testBrokenGraphsAreRefusedNamingTheNode() throws {
        try assertRefused(model([
            node("Add", ["x", "c"], ["a"], name: "first"),
            node("Relu", ["a"], ["b"], name: "second"),
            node("Neg", ["b"], ["c"], name: "third"),
            node("Relu", ["b"], ["y"], name: "out"),
        ]), "the graph has a cycle: node 'first' (Add) → node 'second' (Relu) → node 'third' (Neg) → node 'first' (Add)")
        try assertRefused(model([node("Relu", ["y"], ["y"], name: "self")]), "cycle: node 'self' (Relu) → node 'self' (Relu)")
        try assertRefused(model([node("Mul", ["x", "scale"], ["y"], name: "mul")]),
                          "node 'mul' (Mul) reads 'scale', which is not a graph input, an initializer or the output of any node")
        try assertRefused(model([node("Relu", ["x"], ["y"]), node("Neg", ["x"], ["y"])]),
                          "'y' is an output of both node #0 (Relu) and node #1 (Neg)")
        try assertRefused(model([node("Relu", ["x"], ["x"], name: "r")], outputs: ["x"]),
                          "node 'r' (Relu) writes 'x', which is already a graph input or initializer")
        try assertRefused(model([node("Relu", ["x"], ["h"])]), "graph output 'y' is not produced by any node")
        try assertRefused(model(outputs: []), "the graph has no outputs")
        try assertRefused(model([node("", ["x"], ["y"], name: "blank")]), "node #0 ('blank') has no op type")
        var foreign = model()
        foreign.graph.node[0].domain = "com.example"
        try assertRefused(foreign, "node 'identity' (Identity) is in domain 'com.example', for which the model imports no opset")
        var twice = model(initializers: [tensor("w", [1], .float, raw: raw([Float(1)])), tensor("w", [1], .float, raw: raw([Float(2)]))])
        try assertRefused(twice, "initializer 'w' is defined twice")
        twice = model(inputs: ["x", "x"])
        try assertRefused(twice, "graph input 'x' is listed twice")
        var sparse = model()
        sparse.graph.sparseInitializer = [Onnx_SparseTensorProto()]
        sparse.graph.sparseInitializer[0].values.name = "s"
        try assertRefused(sparse, "sparse initializer 's'")
        let repeated = node("Relu", ["x"], ["y"], name: "r", attributes: [
            attribute("alpha") { $0.type = .float }, attribute("alpha") { $0.type = .float },
        ])
        try assertRefused(model([repeated]), "attribute 'alpha' of node 'r' (Relu) is given twice")
        try assertRefused(model([node("Relu", ["x"], ["y"], name: "r", attributes: [attribute("alpha") { _ in }])]),
                          "attribute 'alpha' of node 'r' (Relu) has no value")
        var badOpset = model()
        badOpset.opsetImport[0].version = 0
        try assertRefused(badOpset, "the opset import of domain '' has version 0")
        var negativeDim = model()
        var dim = Onnx_TensorShapeProto.Dimension()
        dim.dimValue = -2
        negativeDim.graph.input[0] = value("x", dims: [dim])
        try assertRefused(negativeDim, "graph input 'x' has a dimension of -2")
    }
}
