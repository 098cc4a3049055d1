import Foundation
import XCTest
import CAMKit

/// The fixtures written by scripts/reference/make_weight_fixtures.py.
let weightFixtures = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Fixtures/weights")

/// Expected values per fixture file and key, as float32 bit patterns.
struct ExpectedTensor: Decodable {
    let shape: [Int]
    let bits: [UInt32]
}

func expectedTensors(_ file: String) throws -> [String: ExpectedTensor] {
    let data = try Data(contentsOf: weightFixtures.appendingPathComponent("expected.json"))
    let all = try JSONDecoder().decode([String: [String: ExpectedTensor]].self, from: data)
    return try XCTUnwrap(all[file], "expected.json has no entry for \(file)")
}

/// Runs `body`, expecting a `WeightsError`, and returns it with its message.
func weightsError(_ body: () throws -> Void, file: StaticString = #filePath, line: UInt = #line) -> (WeightsError, String)? {
    do {
        try body()
        XCTFail("no error thrown", file: file, line: line)
    } catch let error as WeightsError {
        return (error, error.description)
    } catch {
        XCTFail("unexpected error type: \(error)", file: file, line: line)
    }
    return nil
}

/// A scratch file that is removed after the test.
func temporaryFile(_ bytes: [UInt8], suffix: String = ".bin") throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("camkit-\(UUID().uuidString)\(suffix)")
    try Data(bytes).write(to: url)
    return url
}

/// A safetensors file from a literal header and data section.
func safetensorsBytes(header: String, data: [UInt8], declaredLength: UInt64? = nil) -> [UInt8] {
    let h = Array(header.utf8)
    let length = declaredLength ?? UInt64(h.count)
    return withUnsafeBytes(of: length.littleEndian, Array.init) + h + data
}

// MARK: - A module tree shaped like the fixture's TinyNet

final class ConvLayer: Module {
    private(set) var weight: Parameter!, bias: Parameter!
    init(out: Int, in inChannels: Int, kernel: Int) {
        super.init()
        weight = parameter("weight", shape: [out, inChannels, kernel, kernel])
        bias = parameter("bias", shape: [out])
    }
}

final class LinearLayer: Module {
    private(set) var weight: Parameter!, bias: Parameter!
    init(out: Int, in inFeatures: Int) {
        super.init()
        weight = parameter("weight", shape: [out, inFeatures])
        bias = parameter("bias", shape: [out])
    }
}

final class NormLayer: Module {
    init(_ channels: Int) {
        super.init()
        _ = parameter("weight", shape: [channels], initial: 1)
        _ = parameter("bias", shape: [channels])
        _ = parameter("running_mean", shape: [channels], isBuffer: true)
        _ = parameter("running_var", shape: [channels], isBuffer: true, initial: 1)
    }
}

final class TinyNet: Module {
    let conv = ConvLayer(out: 2, in: 1, kernel: 3)
    let bn = NormLayer(2)
    let fc = LinearLayer(out: 3, in: 8)
    override init() {
        super.init()
        register("conv", conv)
        register("bn", bn)
        register("fc", fc)
    }
}

/// A timm-style MLP whose "fc1" is a linear layer while checkpoints store (out, in, 1, 1).
final class MLPBlock: Module {
    override init() {
        super.init()
        let fc1 = register("fc1", Module())
        _ = fc1.parameter("weight", shape: [4, 3])
        _ = fc1.parameter("bias", shape: [4])
    }
}

func parameterValues(_ module: Module) -> [String: [Float]] {
    Dictionary(uniqueKeysWithValues: module.namedParameters().map { ($0.name, $0.parameter.value.scalars) })
}

final class WeightLoadingTests: XCTestCase {
    private func assertMatchesExpected(_ dict: StateDict, _ file: String, line: UInt = #line) throws {
        let expected = try expectedTensors(file)
        XCTAssertEqual(Set(dict.keys), Set(expected.keys), file, line: line)
        for (key, tensor) in dict {
            guard let want = expected[key] else { continue }
            XCTAssertEqual(tensor.shape, want.shape, "\(file) \(key)", line: line)
            XCTAssertEqual(tensor.scalars.map(\.bitPattern), want.bits, "\(file) \(key)", line: line)
        }
    }

    // MARK: Safetensors

    func testSafetensorsF32F16BF16ValuesAreExact() throws {
        for name in ["tensors_f32.safetensors", "tensors_f16.safetensors", "tensors_bf16.safetensors"] {
            let dict = try Safetensors.read(contentsOf: weightFixtures.appendingPathComponent(name))
            XCTAssertNil(dict["bn.num_batches_tracked"], "int64 counter is skipped")
            XCTAssertEqual(dict.count, 5)
            XCTAssertEqual(dict["scalar"]?.shape, [])
            try assertMatchesExpected(dict, name)
        }
        // The half file holds subnormals, the largest half and infinities: spot-check them.
        let half = try Safetensors.read(contentsOf: weightFixtures.appendingPathComponent("tensors_f16.safetensors"))
        let special = try XCTUnwrap(half["special"]).scalars
        XCTAssertEqual(special[0], 0x1p-24)
        XCTAssertEqual(special[2], 0x1p-14 - 0x1p-24)
        XCTAssertEqual(special[4], 65504)
        XCTAssertEqual(special[5], .infinity)
        XCTAssertEqual(special[6], -.infinity)
        XCTAssertTrue(special[7].isNaN)
        XCTAssertEqual(special[8].sign, .minus)
    }

    func testSafetensorsReadFromDataAndDispatchByContent() throws {
        let url = weightFixtures.appendingPathComponent("tensors_f32.safetensors")
        let fromData = try Safetensors.read(data: Data(contentsOf: url))
        let sniffed = try StateDict(contentsOf: url)
        XCTAssertEqual(fromData.keys, sniffed.keys)
        XCTAssertEqual(sniffed.source, url)
        // Keys come in file order: by data offset.
        XCTAssertEqual(fromData.keys.count, 5)
    }

    func testSafetensorsWriteRoundTrips() throws {
        let dict = StateDict([
            ("a.weight", Tensor(shape: [2, 3], scalars: [1, -2, 0.1, 3.5e-6, 65519, -0.0])),
            ("b", Tensor(shape: [], scalars: [0.3333])),
        ])
        for dtype in Safetensors.DType.allCases {
            let url = try temporaryFile([], suffix: ".safetensors")
            defer { try? FileManager.default.removeItem(at: url) }
            try Safetensors.write(dict, dtype: dtype, to: url)
            let back = try Safetensors.read(contentsOf: url)
            XCTAssertEqual(back.keys, ["a.weight", "b"])
            XCTAssertEqual(back["a.weight"]?.shape, [2, 3])
            switch dtype {
            case .f32:
                XCTAssertEqual(back["a.weight"]?.scalars.map(\.bitPattern), dict["a.weight"]?.scalars.map(\.bitPattern))
            case .f16:
                // 65519 is just below the rounding boundary of the largest half, 65504.
                XCTAssertEqual(back["a.weight"]?.scalars[4], 65504)
                XCTAssertEqual(back["a.weight"]?.scalars[1], -2)
            case .bf16:
                XCTAssertEqual(back["a.weight"]?.scalars[0], 1)
                XCTAssertEqual(back["b"]?.scalars[0], 0.333984375)
            }
        }
    }

    func testUnsupportedDTypeNamesKeyAndDType() {
        let url = weightFixtures.appendingPathComponent("unsupported_dtype.safetensors")
        guard let (error, message) = weightsError({ _ = try Safetensors.read(contentsOf: url) }) else { return }
        guard case let .unsupportedDType(file, key, dtype) = error else { return XCTFail(message) }
        XCTAssertEqual(file, url)
        XCTAssertEqual(key, "labels")
        XCTAssertEqual(dtype, "I32")
        XCTAssertTrue(message.contains("unsupported_dtype.safetensors") && message.contains("'labels'") && message.contains("I32"), message)
    }

    func testEmptyFileIsReportedByEveryReader() throws {
        let url = try temporaryFile([])
        defer { try? FileManager.default.removeItem(at: url) }
        for read in [{ _ = try Safetensors.read(contentsOf: url) }, { _ = try TorchCheckpoint.read(contentsOf: url) },
                     { _ = try StateDict(contentsOf: url) }] as [() throws -> Void] {
            guard let (error, message) = weightsError(read) else { continue }
            guard case .emptyFile = error else { XCTFail(message); continue }
            XCTAssertTrue(message.contains(url.lastPathComponent) && message.contains("empty"), message)
        }
    }

    func testTruncatedHeaderLength() {
        guard let (error, message) = weightsError({ _ = try Safetensors.read(data: Data([1, 0, 0])) }) else { return }
        guard case .truncated = error else { return XCTFail(message) }
        XCTAssertTrue(message.contains("3 bytes"), message)
    }

    func testTruncatedFileCutInsideTheHeader() throws {
        let full = try Data(contentsOf: weightFixtures.appendingPathComponent("tensors_f32.safetensors"))
        let url = try temporaryFile(Array(full.prefix(40)))
        defer { try? FileManager.default.removeItem(at: url) }
        guard let (error, message) = weightsError({ _ = try Safetensors.read(contentsOf: url) }) else { return }
        guard case .badHeader = error else { return XCTFail(message) }
        XCTAssertTrue(message.contains(url.lastPathComponent) && message.contains("runs past the end of the file"), message)
    }

    func testHeaderLengthLargerThanFile() {
        let bytes = safetensorsBytes(header: "{}", data: [], declaredLength: 1 << 40)
        guard let (error, message) = weightsError({ _ = try Safetensors.read(data: Data(bytes)) }) else { return }
        guard case .badHeader = error else { return XCTFail(message) }
        XCTAssertTrue(message.contains("header length 1099511627776 runs past the end"), message)
    }

    func testHeaderLengthOverTheLimit() {
        let bytes = safetensorsBytes(header: "{}", data: [UInt8](repeating: 0x20, count: 8), declaredLength: 2)
        XCTAssertNoThrow(try Safetensors.read(data: Data(bytes.prefix(10))))  // "{}" with no tensors is valid
        let huge = UInt64(200_000_000)
        let file = withUnsafeBytes(of: huge.littleEndian, Array.init)
        // Only the length is checked against the file first; a sparse file keeps the test cheap.
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("camkit-\(UUID().uuidString).safetensors")
        XCTAssertTrue(FileManager.default.createFile(atPath: url.path, contents: Data(file)))
        defer { try? FileManager.default.removeItem(at: url) }
        if let handle = try? FileHandle(forWritingTo: url) {
            try? handle.truncate(atOffset: huge + 8)
            try? handle.close()
        }
        guard let (_, message) = weightsError({ _ = try Safetensors.read(contentsOf: url) }) else { return }
        XCTAssertTrue(message.contains("exceeds the 100000000-byte limit"), message)
    }

    func testInvalidJSONHeader() {
        let bytes = safetensorsBytes(header: "{\"a\": [", data: [])
        guard let (_, message) = weightsError({ _ = try Safetensors.read(data: Data(bytes)) }) else { return }
        XCTAssertTrue(message.contains("JSON invalid"), message)
    }

    func testOffsetsPastTheEnd() {
        let bytes = safetensorsBytes(header: #"{"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}"#, data: [UInt8](repeating: 0, count: 8))
        guard let (_, message) = weightsError({ _ = try Safetensors.read(data: Data(bytes)) }) else { return }
        XCTAssertTrue(message.contains("offsets [0, 16] of 'w' are out of range: the data section holds 8 bytes"), message)
    }

    func testOffsetsNotMatchingShapeTimesDType() {
        let bytes = safetensorsBytes(header: #"{"w":{"dtype":"F16","shape":[2,3],"data_offsets":[0,8]}}"#, data: [UInt8](repeating: 0, count: 8))
        guard let (_, message) = weightsError({ _ = try Safetensors.read(data: Data(bytes)) }) else { return }
        XCTAssertTrue(message.contains("'w' span 8 bytes, but shape [2, 3] of F16 needs 12"), message)
    }

    func testOverlappingOffsets() {
        let header = #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#
        let bytes = safetensorsBytes(header: header, data: [UInt8](repeating: 0, count: 12))
        guard let (_, message) = weightsError({ _ = try Safetensors.read(data: Data(bytes)) }) else { return }
        XCTAssertTrue(message.contains("of 'b' overlap"), message)
    }

    func testRandomBytes() throws {
        var generator = SystemRandomNumberGenerator()
        var bytes = (0..<4096).map { _ in UInt8.random(in: 0...255, using: &generator) }
        bytes[0] = 0x13  // not "PK": the sniffer picks safetensors, whose header length is then absurd
        let url = try temporaryFile(bytes)
        defer { try? FileManager.default.removeItem(at: url) }
        XCTAssertThrowsError(try StateDict(contentsOf: url)) { XCTAssertTrue($0 is WeightsError) }
        guard let (error, message) = weightsError({ _ = try TorchCheckpoint.read(contentsOf: url) }) else { return }
        guard case .notATorchCheckpoint = error else { return XCTFail(message) }
        XCTAssertTrue(message.contains("not a zip archive"), message)
    }

    // MARK: torch.save checkpoints

    func testPlainStateDictWithBatchNorm() throws {
        let dict = try TorchCheckpoint.read(contentsOf: weightFixtures.appendingPathComponent("tiny_state_dict.pth"))
        XCTAssertEqual(dict.keys, ["conv.weight", "conv.bias", "bn.weight", "bn.bias", "bn.running_mean", "bn.running_var", "fc.weight", "fc.bias"])
        try assertMatchesExpected(dict, "tiny_state_dict.pth")
    }

    func testWrappedTrainingCheckpoint() throws {
        let dict = try TorchCheckpoint.read(contentsOf: weightFixtures.appendingPathComponent("wrapped_checkpoint.pth"))
        XCTAssertEqual(dict.keys.first, "module.conv.weight")
        try assertMatchesExpected(dict, "wrapped_checkpoint.pth")
    }

    func testHalfBFloat16AndNonContiguousViews() throws {
        let dict = try TorchCheckpoint.read(contentsOf: weightFixtures.appendingPathComponent("half_and_strided.pth"))
        try assertMatchesExpected(dict, "half_and_strided.pth")
        // The transposed view of arange(12)/8 reshaped (3, 4): row i is column i of the base.
        XCTAssertEqual(dict["transposed"]?.shape, [4, 3])
        XCTAssertEqual(dict["transposed"]?.scalars.prefix(3), [0, 0.5, 1])
        XCTAssertEqual(dict["sliced"]?.scalars, [1, 2, 5, 6, 9, 10].map { $0 / 8 })
    }

    func testInt64TensorIsRejectedUnlessIgnorable() {
        let url = weightFixtures.appendingPathComponent("int64_tensor.pth")
        guard let (error, message) = weightsError({ _ = try TorchCheckpoint.read(contentsOf: url) }) else { return }
        guard case let .unsupportedDType(_, key, dtype) = error else { return XCTFail(message) }
        XCTAssertEqual(key, "labels")
        XCTAssertEqual(dtype, "torch.LongStorage")
    }

    func testNestedStructureWithoutStateDict() {
        let url = weightFixtures.appendingPathComponent("no_state_dict.pth")
        guard let (error, message) = weightsError({ _ = try TorchCheckpoint.read(contentsOf: url) }) else { return }
        guard case .noStateDict = error else { return XCTFail(message) }
        XCTAssertTrue(message.contains("epoch, history, model"), message)
    }

    func testViewPastItsStorageAndShortStorage() {
        let view = weightFixtures.appendingPathComponent("view_out_of_bounds.pth")
        if let (_, message) = weightsError({ _ = try TorchCheckpoint.read(contentsOf: view) }) {
            XCTAssertTrue(message.contains("tensor 'w'") && message.contains("reach element 5 of a 4-element storage"), message)
        }
        let short = weightFixtures.appendingPathComponent("short_storage.pth")
        if let (_, message) = weightsError({ _ = try TorchCheckpoint.read(contentsOf: short) }) {
            XCTAssertTrue(message.contains("tensor 'w'") && message.contains("holds 12 bytes") && message.contains("16 bytes"), message)
        }
    }

    func testStorageReusedWithAWiderDTypeIsRejected() {
        let url = weightFixtures.appendingPathComponent("storage_reused_wider.pth")
        guard let (_, message) = weightsError({ _ = try TorchCheckpoint.read(contentsOf: url) }) else { return }
        XCTAssertTrue(message.contains("tensor 'v'") && message.contains("holds 16 bytes") && message.contains("torch.DoubleStorage"), message)
    }

    func testZipWithoutDataPickle() {
        let url = weightFixtures.appendingPathComponent("no_data_pkl.zip")
        guard let (error, message) = weightsError({ _ = try StateDict(contentsOf: url) }) else { return }
        guard case .notATorchCheckpoint = error else { return XCTFail(message) }
        XCTAssertTrue(message.contains("no <folder>/data.pkl"), message)
    }

    func testLegacyPickleCheckpointIsNamed() throws {
        let url = try temporaryFile([0x80, 0x02, 0x8A, 0x0A, 0x6C, 0xFC, 0x9C, 0x46, 0xF9, 0x20, 0x6A, 0xA8, 0x50, 0x19], suffix: ".pth")
        defer { try? FileManager.default.removeItem(at: url) }
        guard let (_, message) = weightsError({ _ = try TorchCheckpoint.read(contentsOf: url) }) else { return }
        XCTAssertTrue(message.contains("legacy torch.save format"), message)
    }

    // MARK: Hostile checkpoints (more in MaliciousCheckpointTests)

    func testPickledWholeModelIsRefusedByName() {
        let url = weightFixtures.appendingPathComponent("whole_model.pth")
        for read in [{ _ = try TorchCheckpoint.read(contentsOf: url) }, { _ = try StateDict(contentsOf: url) }] as [() throws -> Void] {
            guard let (error, message) = weightsError(read) else { continue }
            guard case let .refusedGlobal(file, refused) = error else { XCTFail(message); continue }
            XCTAssertEqual(refused, "__main__.TinyNet")
            XCTAssertEqual(file, url)
        }
    }

    // MARK: Loading into a module

    func testLoadMapsKeysAndIgnoresBatchCounter() throws {
        let dict = try TorchCheckpoint.read(contentsOf: weightFixtures.appendingPathComponent("tiny_state_dict.pth"))
        let net = TinyNet()
        try net.load(dict)
        for (key, parameter) in net.namedParameters() {
            XCTAssertEqual(parameter.value.scalars, dict[key]?.scalars, key)
            XCTAssertEqual(parameter.value.shape, parameter.shape, key)
        }
        let withCounter = StateDict(dict.pairs.map { ($0.key, $0.tensor) } + [("bn.num_batches_tracked", Tensor(shape: [], scalars: [12]))])
        XCTAssertNoThrow(try TinyNet().load(withCounter))
    }

    func testLoadStripsDataParallelPrefix() throws {
        let dict = try TorchCheckpoint.read(contentsOf: weightFixtures.appendingPathComponent("wrapped_checkpoint.pth"))
        let net = TinyNet()
        try net.load(dict)
        XCTAssertEqual(net.fc.bias.value.scalars, dict["module.fc.bias"]?.scalars)
        let read = parameterValues(net)
        XCTAssertEqual(read["conv.weight"], dict["module.conv.weight"]?.scalars)
    }

    func testLoadAcceptsSingletonDimsOnly() throws {
        let values: [Float] = Array(0..<12).map(Float.init)
        let block = MLPBlock()
        try block.load(StateDict([("fc1.weight", Tensor(shape: [4, 3, 1, 1], scalars: values)), ("fc1.bias", Tensor(shape: [4], scalars: [1, 2, 3, 4]))]))
        XCTAssertEqual(block.namedParameters()[0].parameter.value.shape, [4, 3])
        XCTAssertEqual(block.namedParameters()[0].parameter.value.scalars, values)

        // Same element count but another layout is not a singleton difference.
        guard let (_, message) = weightsError({
            try MLPBlock().load(StateDict([("fc1.weight", Tensor(shape: [3, 4], scalars: values)), ("fc1.bias", Tensor(shape: [1, 4], scalars: [1, 2, 3, 4]))]))
        }) else { return }
        XCTAssertTrue(message.contains("fc1.weight: expected [4, 3], found [3, 4]"), message)
        XCTAssertFalse(message.contains("fc1.bias"), message)
    }

    func testLoadReportsEveryProblemAtOnceAndChangesNothing() throws {
        let full = try TorchCheckpoint.read(contentsOf: weightFixtures.appendingPathComponent("tiny_state_dict.pth"))
        var pairs = full.pairs.filter { !["bn.running_var", "conv.bias"].contains($0.key) }.map { ($0.key, $0.tensor) }
        pairs = pairs.map { $0.0 == "fc.weight" ? ($0.0, Tensor(repeating: 1, shape: [3, 9])) : $0 }
        pairs.append(("head.weight", Tensor(repeating: 1, shape: [2])))
        pairs.append(("aux.bias", Tensor(repeating: 1, shape: [2])))
        let dict = StateDict(pairs, source: full.source)

        let net = TinyNet()
        let before = parameterValues(net)
        guard let (error, message) = weightsError({ try net.load(dict) }) else { return }
        guard case let .stateDictMismatch(file, missing, unexpected, wrongShapes) = error else { return XCTFail(message) }
        XCTAssertEqual(file, full.source)
        XCTAssertEqual(missing, ["bn.running_var", "conv.bias"])
        XCTAssertEqual(unexpected, ["aux.bias", "head.weight"])
        XCTAssertEqual(wrongShapes, [ShapeMismatch(key: "fc.weight", expected: [3, 8], found: [3, 9])])
        XCTAssertTrue(message.contains("tiny_state_dict.pth"), message)
        XCTAssertTrue(message.contains("missing 2 keys: bn.running_var, conv.bias"), message)
        XCTAssertTrue(message.contains("unexpected 2 keys: aux.bias, head.weight"), message)
        XCTAssertTrue(message.contains("fc.weight: expected [3, 8], found [3, 9]"), message)
        XCTAssertEqual(parameterValues(net), before, "a failed load must leave the module unchanged")

        // Non-strict: missing and unexpected keys are tolerated, a wrong shape is not.
        XCTAssertThrowsError(try net.load(dict, strict: false))
        XCTAssertEqual(parameterValues(net), before)
        let noWrongShape = StateDict(pairs.filter { $0.0 != "fc.weight" })
        try net.load(noWrongShape, strict: false)
        XCTAssertEqual(net.bn.namedParameters().first { $0.name == "running_mean" }?.parameter.value.scalars, full["bn.running_mean"]?.scalars)
    }
}
