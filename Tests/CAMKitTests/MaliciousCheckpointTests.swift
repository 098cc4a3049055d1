import Foundation
import XCTest
@testable import CAMKit

/// Hostile files: the samples of Fixtures/malicious (scripts/reference/make_malicious_checkpoints.py,
/// whose payloads are proven there to run under `torch.load(weights_only=False)`), and pickles
/// too large to commit, built here. Each must be refused with an error naming the file and the
/// reason, and no payload may run.
final class MaliciousCheckpointTests: XCTestCase {
    static let directory = fixtureURL("malicious")
    static let markerPrefix = "camkit-pwned-"

    /// Code-execution samples and the global each must be refused by: the first one that is
    /// not allowed, under the name the pickle gives it.
    static let refusedGlobals: [(file: String, global: String)] = [
        ("zip_os_system.pth", "posix.system"),
        ("zip_os_system_stack_global.pth", "posix.system"),
        ("zip_os_system_literal.pth", "os.system"),
        ("zip_builtins_eval.pth", "__builtin__.eval"),
        ("zip_builtins_exec.pth", "builtins.exec"),
        ("zip_subprocess_popen.pth", "subprocess.Popen"),
        ("zip_getattr_chain.pth", "__builtin__.getattr"),
        ("zip_chain_in_tensor_offset.pth", "posix.system"),
        ("zip_build_setstate.pth", "posix.system"),
        ("zip_inst_os_system.pth", "os.system"),
        ("zip_obj_eval.pth", "__builtin__.eval"),
        ("zip_torch_load.pth", "torch.serialization.load"),
        ("zip_torch_load_from_bytes.pth", "torch.storage._load_from_bytes"),
        ("legacy_os_system.pth", "posix.system"),
        ("legacy_chain_in_tensor_offset.pth", "posix.system"),
        ("legacy_payload_in_sys_info.pth", "posix.system"),
        ("legacy_payload_in_key_list.pth", "posix.system"),
    ]

    /// Samples that lie about a length, index or size: the `WeightsError` case and the part of
    /// the message that names the value at fault.
    static let refusedBounds: [(file: String, kind: String, reason: String)] = [
        ("pickle_binunicode_past_end.pth", "badPickle", "a length of 2147483632 at byte 7 runs past the end of the 11-byte stream"),
        ("pickle_binunicode8_past_end.pth", "badPickle", "a length of 1099511627776 at byte 11 runs past the end of the 15-byte stream"),
        ("pickle_binbytes_past_end.pth", "badPickle", "a length of 4294967295 at byte 7 runs past the end of the 11-byte stream"),
        ("pickle_binbytes8_past_end.pth", "badPickle", "a length of 4611686018427387904 at byte 11 runs past the end"),
        ("pickle_binbytes8_negative.pth", "badPickle", "a length of 18446744073709551600 at byte 11 runs past the end"),
        ("pickle_short_binbytes_past_end.pth", "badPickle", "a length of 255 at byte 4 runs past the end of the 8-byte stream"),
        ("pickle_long4_huge.pth", "badPickle", "a length of 2147483647 at byte 7 runs past the end of the 10-byte stream"),
        ("pickle_long4_negative.pth", "badPickle", "LONG4 at byte 2 has a negative length -5"),
        ("pickle_binget_unset.pth", "badPickle", "memo entry 7 is read before it is written"),
        ("pickle_long_binget_huge.pth", "badPickle", "memo entry 4294967295 is read before it is written"),
        ("pickle_setitems_without_mark.pth", "badPickle", "SETITEMS (0x75) at byte 11 needs a MARK, but none is open"),
        ("pickle_tuple3_underflow.pth", "badPickle", "TUPLE3 (0x87) at byte 4 finds the stack empty"),
        ("pickle_stop_on_empty_stack.pth", "badPickle", "STOP (0x2e) at byte 2 finds the stack empty"),
        ("storage_view_past_end.pth", "badTensor", "tensor 'w': offset 1099511627776, size [4], stride [1] reach element 1099511627779 of a 4-element storage"),
        ("storage_negative_offset.pth", "badTensor", "tensor 'w': storage offset -2 is negative"),
        ("storage_negative_stride.pth", "badTensor", "tensor 'w': stride [-1, 1] is negative"),
        ("storage_negative_size.pth", "badTensor", "tensor 'w': size [-2, 2] has a negative dimension"),
        ("storage_size_overflow.pth", "badTensor", "tensor 'w': size [4294967296, 4294967296] with stride [0, 0] overflows"),
        ("storage_view_larger_than_storage.pth", "badTensor", "tensor 'w': size [1048576, 1048576] with stride [0, 0] has 1099511627776 elements, more than the 4 of its storage"),
        ("storage_numel_overflow.pth", "badTensor", "storage archive/data/0 holds 16 bytes, but the pickle declares 4611686018427387904 elements of torch.FloatStorage"),
        ("storage_missing.pth", "badTensor", "tensor 'w': its storage archive/data/7 is missing from the archive"),
        ("storage_unknown_dtype.pth", "unsupported", "storage type torch.ComplexFloatStorage; the storage types read are torch.BFloat16Storage"),
        ("zip_storage_size_past_file.pth", "truncated", "archive/data/0 declares 1099511627776 bytes, more than the 682-byte file holds"),
        ("zip_bomb_data_pkl.pth", "unsupported", "archive/data.pkl declares 4294967280 bytes, more than the 1073741824 accepted"),
        ("zip_data_pkl_size_past_file.pth", "truncated", "archive/data.pkl declares 1073741808 bytes, more than the 358-byte file holds"),
        ("zip_deflate_never_ends.pth", "unsupported", "archive/data.pkl is compressed; torch.save stores every entry uncompressed"),
        ("legacy_view_past_storage.pth", "badTensor", "tensor 'w': offset 2, size [4], stride [1] reach element 5 of a 4-element storage"),
        ("legacy_storage_past_end.pth", "truncated", "storage 0 declares 1000 elements of torch.FloatStorage (4000 bytes), but 16 bytes are left"),
        ("legacy_storage_count_overflow.pth", "truncated", "storage 0 declares 4611686018427387903 elements of torch.HalfStorage (9223372036854775806 bytes), but 8 bytes are left"),
        ("safetensors_offsets_past_end.safetensors", "badHeader", "offsets [0, 4398046511104] of 'w' are out of range: the data section holds 16 bytes"),
    ]

    /// HDF5 samples (read by `KerasHDF5`, which has its own error type) and their reasons.
    static let refusedHDF5: [(file: String, reason: String)] = [
        ("keras_dataset_unwritten.h5", "layer 'dense': dataset '/model_weights/dense/dense/kernel:0' holds 8000000000 bytes, but 0 are stored in the 8912-byte file"),
        ("keras_dataset_past_eof.h5", "layer 'dense': dataset '/model_weights/dense/dense/kernel:0' has 256 bytes at offset 9040, past the end of the 9168-byte file"),
        // The kinds of file that crashed libhdf5 1.10.8 (docs/FUZZING.md).
        ("hdf5_global_heap_object_past_collection.h5", "damaged HDF5 file: global heap collection at 2048: object size is 1099511627776, more than the 9208-byte file"),
        ("hdf5_global_heap_index_missing.h5", "damaged HDF5 file: global heap collection at 2048 has no object 999"),
        ("hdf5_global_heap_collection_75tb.h5", "damaged HDF5 file: global heap collection at 2048: collection size is 75000000000000, more than the 9208-byte file"),
        ("hdf5_local_heap_75tb.h5", "damaged HDF5 file: local heap at 680: data segment size is 75000000000000, more than the 9208-byte file"),
        ("hdf5_attribute_name_past_message.h5", "layer 'dense': damaged HDF5 file: attribute message of '/model_weights/dense' ends after 64 more bytes, but 65536 are needed"),
        ("hdf5_btree_entries_past_file.h5", "damaged HDF5 file: B-tree node at 136 declares 65535 entries, more than the file holds"),
    ]

    static let controls = ["control_keras_dense.h5"]

    private var markers: [URL] {
        let tmp = URL(fileURLWithPath: "/tmp")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: tmp.path)) ?? []
        return names.filter { $0.hasPrefix(Self.markerPrefix) }.map { tmp.appendingPathComponent($0) }
    }

    override func setUp() {
        super.setUp()
        for marker in markers { try? FileManager.default.removeItem(at: marker) }
    }

    override func tearDown() {
        XCTAssertEqual(markers.map(\.lastPathComponent), [], "a payload ran")
        super.tearDown()
    }

    private func url(_ name: String) -> URL { Self.directory.appendingPathComponent(name) }

    /// Every reader a user could reach this file through.
    private func readers(_ url: URL) -> [(String, () throws -> Void)] {
        var list: [(String, () throws -> Void)] = [("StateDict(contentsOf:)", { _ = try StateDict(contentsOf: url) })]
        if url.pathExtension == "safetensors" {
            list.append(("Safetensors.read", { _ = try Safetensors.read(contentsOf: url) }))
        } else {
            list.append(("TorchCheckpoint.read", { _ = try TorchCheckpoint.read(contentsOf: url) }))
        }
        return list
    }

    /// The case name of a `WeightsError`, such as "badPickle".
    private func kind(_ error: WeightsError) -> String {
        Mirror(reflecting: error).children.first?.label ?? "\(error)"
    }

    func testEverySampleIsTestedAndDocumented() throws {
        let files = Set(try FileManager.default.contentsOfDirectory(atPath: Self.directory.path)).subtracting(["README.md"])
        let tested = Set(Self.refusedGlobals.map(\.file) + Self.refusedBounds.map(\.file) + Self.refusedHDF5.map(\.file) + Self.controls)
        XCTAssertEqual(files.subtracting(tested).sorted(), [], "samples without a test")
        XCTAssertEqual(tested.subtracting(files).sorted(), [], "tested samples that are missing")
        let readme = try String(contentsOf: url("README.md"), encoding: .utf8)
        for file in tested {
            XCTAssertTrue(readme.contains("| `\(file)` |"), "README.md does not describe \(file)")
        }
    }

    func testCodeExecutionSamplesAreRefusedByTheGlobalTheyName() {
        for (file, global) in Self.refusedGlobals {
            let sample = url(file)
            for (reader, read) in readers(sample) {
                guard let (error, message) = weightsError(read) else { continue }
                guard case let .refusedGlobal(errorFile, name) = error else {
                    XCTFail("\(file) via \(reader): \(message)")
                    continue
                }
                XCTAssertEqual(errorFile, sample, file)
                XCTAssertEqual(name, global, "\(file) via \(reader)")
                XCTAssertEqual(message, "\(sample.path): refusing to load global \(global): only plain state dicts are accepted")
            }
        }
    }

    func testBoundsSamplesAreRefusedNamingTheValue() {
        for (file, expectedKind, reason) in Self.refusedBounds {
            let sample = url(file)
            for (reader, read) in readers(sample) {
                guard let (error, message) = weightsError(read) else { continue }
                XCTAssertEqual(kind(error), expectedKind, "\(file) via \(reader): \(message)")
                XCTAssertTrue(message.hasPrefix(sample.path + ": "), "\(file) via \(reader): \(message)")
                XCTAssertTrue(message.contains(reason), "\(file) via \(reader): \(message)")
            }
        }
    }

    func testHDF5DatasetsLargerThanTheFileAreRefusedBeforeReading() throws {
        for (file, reason) in Self.refusedHDF5 {
            XCTAssertThrowsError(try KerasHDF5.read(contentsOf: url(file))) { error in
                guard let error = error as? KerasHDF5Error else { return XCTFail("\(file): \(error)") }
                XCTAssertEqual(error.file, self.url(file))
                XCTAssertTrue(error.description.hasPrefix(self.url(file).path + ": " + reason), error.description)
            }
        }
        // The file the past-EOF sample was made from loads, with its fixed-length layer names whole.
        let control = try KerasHDF5.read(contentsOf: url("control_keras_dense.h5"))
        XCTAssertEqual(control.keys, ["dense.weight"])
        XCTAssertEqual(control["dense.weight"]?.shape, [8, 8])
        XCTAssertEqual(control["dense.weight"]?.scalars[1], 8)  // Keras (in, out) transposed to (out, in)
    }

    // MARK: Built here

    /// The legacy format around `main`: magic number, protocol 1001, sys info, `main`, no storages.
    private func legacyFile(_ main: [UInt8]) -> [UInt8] {
        let sysInfo: [UInt8] = [0x80, 0x02, 0x7D, 0x58, 13, 0, 0, 0] + Array("little_endian".utf8) + [0x88, 0x73, 0x2E]
        return TorchCheckpoint.legacyMagic + [0x2E] + [0x80, 0x02, 0x4D, 0xE9, 0x03, 0x2E] + sysInfo + main + [0x80, 0x02, 0x5D, 0x2E]
    }

    /// A zip archive as torch.save writes one (stored entries), built field by field.
    private func storedZip(_ entries: [(String, [UInt8])]) -> [UInt8] {
        func le16(_ v: Int) -> [UInt8] { [UInt8(v & 0xFF), UInt8(v >> 8 & 0xFF)] }
        func le32(_ v: UInt32) -> [UInt8] { (0..<4).map { UInt8(v >> (8 * $0) & 0xFF) } }
        var local: [UInt8] = [], central: [UInt8] = []
        for (name, data) in entries {
            let n = Array(name.utf8), crc = crc32(data), size = le32(UInt32(data.count))
            let common = le16(20) + le16(0) + le16(0) + le16(0) + le16(0x21) + le32(crc) + size + size + le16(n.count)
            central += le32(0x0201_4B50) + le16(20) + common + le16(0) + le16(0) + le16(0) + le16(0) + le32(0) + le32(UInt32(local.count)) + n
            local += le32(0x0403_4B50) + common + le16(0) + n + data
        }
        return local + central + le32(0x0605_4B50) + le16(0) + le16(0) + le16(entries.count) + le16(entries.count)
            + le32(UInt32(central.count)) + le32(UInt32(local.count)) + le16(0)
    }

    /// 100 000 nested lists and tuples would overflow a recursive reader, or a recursive free:
    /// both formats refuse them with an error.
    func testDeepNestingIsRefusedWithAnErrorNotAStackOverflow() throws {
        let depth = 100_000
        let lists: [UInt8] = [0x80, 0x02] + [UInt8](repeating: 0x28, count: depth) + [0x5D] + [UInt8](repeating: 0x6C, count: depth) + [0x2E]
        let tuples: [UInt8] = [0x80, 0x02, 0x29] + [UInt8](repeating: 0x85, count: depth) + [0x2E]
        // In a dict beside a real key, so the reader has to look past the first entry.
        let dict: [UInt8] = [0x80, 0x02, 0x7D, 0x58, 1, 0, 0, 0, 0x61] + Array(tuples.dropFirst(2).dropLast()) + [0x73, 0x2E]
        for (name, pickle, holds) in [("lists", lists, "a list"), ("tuples", tuples, "a tuple"), ("dict", dict, "the top-level dict (keys: a)")] {
            let legacy = try temporaryFile(legacyFile(pickle), suffix: ".pth")
            let zip = try temporaryFile(storedZip([("archive/data.pkl", pickle), ("archive/byteorder", Array("little".utf8))]), suffix: ".pth")
            defer { for file in [legacy, zip] { try? FileManager.default.removeItem(at: file) } }
            for file in [legacy, zip] {
                guard let (error, message) = weightsError({ _ = try StateDict(contentsOf: file) }) else { continue }
                guard case .noStateDict = error else { XCTFail("\(name): \(message)"); continue }
                XCTAssertTrue(message.hasPrefix(file.path + ": no state dict found: "), message)
                XCTAssertTrue(message.contains(holds), "\(name): \(message)")
            }
        }
    }

    /// A dict of a million keys and no tensors: the error lists ten, not a million.
    func testErrorAboutAHugeDictStaysShort() throws {
        var pickle: [UInt8] = [0x80, 0x02, 0x7D, 0x28]                                   // EMPTY_DICT MARK
        for i in 0..<1_000_000 { pickle += [0x4A] + withUnsafeBytes(of: Int32(i).littleEndian, Array.init) + [0x4E] }  // i: None
        pickle += [0x75, 0x2E]                                                            // SETITEMS STOP
        let unpickled = try Unpickler.load(pickle)
        XCTAssertThrowsError(try TorchCheckpoint.findStateDict(unpickled.root, file: nil)) { error in
            XCTAssertEqual("\(error)", "no state dict found: the top-level dict (keys: int, int, int, int, int, int, int, int, int, int, … 1000000 in all) holds no dict of tensors")
        }
    }

    /// Opcodes that build or call objects are refused on anything but what a state dict needs,
    /// even when the global itself is allowed.
    func testObjectOpcodesOnAllowedGlobalsAreRefused() {
        let floatStorage = Array("ctorch\nFloatStorage\n".utf8)
        let orderedDict = Array("ccollections\nOrderedDict\n".utf8)
        let cases: [([UInt8], String)] = [
            (floatStorage + [0x29, 0x81], "NEWOBJ of torch.FloatStorage is not accepted"),
            (orderedDict + [0x7D, 0x62], "BUILD with dict state on a collections.OrderedDict"),
            ([0x28] + orderedDict + [0x6F], "opcode 0x6f at byte 28 is not accepted"),                      // OBJ
            (orderedDict + [0x29, 0x7D, 0x92], "opcode 0x92 at byte 29 is not accepted"),                    // NEWOBJ_EX
            (floatStorage + [0x29, 0x52], "torch.FloatStorage is a type tag and cannot be called"),          // REDUCE
            (Array("ctorch\nSize\n".utf8) + [0x4B, 3, 0x85, 0x52], "torch.Size of a non-tuple"),
            ([0x28] + Array("itorch._utils\n_rebuild_tensor_v2\n".utf8), "refusing to load global torch._utils._rebuild_tensor_v2"), // INST
        ]
        for (body, expected) in cases {
            XCTAssertThrowsError(try Unpickler.load([0x80, 0x02] + body + [0x2E])) { error in
                XCTAssertTrue("\(error)".contains(expected), "\(error)")
            }
        }
    }

    /// The allow-list documented in docs/SECURITY.md is the one in the code, entry for entry.
    func testSecurityDocListsTheAllowList() throws {
        let doc = try String(contentsOf: fixturesDirectory.deletingLastPathComponent().appendingPathComponent("docs/SECURITY.md"), encoding: .utf8)
        let section = try XCTUnwrap(doc.components(separatedBy: "<!-- allow-list -->").dropFirst().first, "no allow-list section")
        let documented = section.split(separator: "\n").filter { $0.hasPrefix("| `") }.map { line in
            String(line.split(separator: "`")[1])
        }
        let code = PickleGlobal.allowList.map { "\($0.module).\($0.name)" }
        XCTAssertEqual(documented, code)
        for entry in PickleGlobal.allowList {
            XCTAssertNotNil(PickleGlobal(module: entry.module, name: entry.name), entry.name)
        }
        XCTAssertNil(PickleGlobal(module: "torch", name: "_utils._rebuild_tensor_v2"), "matched by (module, name), not by the joined string")
    }
}
