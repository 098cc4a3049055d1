import XCTest
@testable import CAMKit

/// The inputs on which a fuzzer (Fuzz/, docs/FUZZING.md) once crashed the reader, kept in
/// Fixtures/fuzz-regressions/<fuzzer>/: each must now end in the reader's own error, naming
/// the file and the reason.
final class FuzzRegressionTests: XCTestCase {
    private func inputs(_ fuzzer: String) throws -> [URL] {
        let folder = fixtureURL("fuzz-regressions/\(fuzzer)")
        return try FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: nil)
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
    }

    /// A ZIP64 end of central directory whose offsets are 2^63 and more: ZIPFoundation trapped
    /// converting them while listing the entries.
    func testTorchCheckpoint() throws {
        let files = try inputs("fuzz-torch-checkpoint")
        XCTAssertEqual(files.map(\.lastPathComponent), ["zip64_directory_offset.pth"])
        for file in files {
            XCTAssertThrowsError(try TorchCheckpoint.read(contentsOf: file), file.lastPathComponent) { error in
                guard let error = error as? WeightsError else { return XCTFail("\(file.lastPathComponent): \(error)") }
                XCTAssert(error.description.contains(file.path) && error.description.contains("ZIP64"), error.description)
            }
        }
    }

    /// `_rebuild_from_type_v2` calls nested 100 000 deep (700 KB of pickle) overflowed the
    /// stack. Built here rather than kept as a file: the fuzzers' inputs are too short to nest
    /// that deep, so it was found by reading the unpickler for the recursion they cannot reach.
    func testDeeplyNestedRebuildCalls() throws {
        let depth = 100_000
        var pickle: [UInt8] = [0x80, 0x02]
        pickle += Array("ctorch._tensor\n_rebuild_from_type_v2\nq\u{0}ctorch\nTensor\nq\u{1}0".utf8)
        for _ in 0..<depth { pickle += [0x28, 0x68, 0x00, 0x68, 0x01] }  // MARK, the function, the type
        pickle.append(0x29)                                               // the innermost arguments: ()
        for _ in 0..<depth { pickle += [0x7D, 0x74] }                     // state {}, TUPLE
        pickle += [0x52, 0x2E]                                            // REDUCE, STOP
        XCTAssertThrowsError(try Unpickler.load(pickle)) { error in
            XCTAssert("\(error)".contains("_rebuild_from_type_v2 needs"), "\(error)")
        }
    }

    /// An empty tensor whose other dims multiply past `Int.max` (dims [0, 2^40, 2^40]): it
    /// passed as 0 elements, and the fuzzer's `dims.reduce(1, *)`, as any importer's, would trap.
    func testONNX() throws {
        let files = try inputs("fuzz-onnx")
        XCTAssertEqual(files.map(\.lastPathComponent), ["empty_tensor_dims_overflow.onnx"])
        for file in files {
            XCTAssertThrowsError(try ONNXModel.load(contentsOf: file), file.lastPathComponent) { error in
                guard let error = error as? ONNXError else { return XCTFail("\(file.lastPathComponent): \(error)") }
                XCTAssert(error.description.contains(file.path) && error.description.contains("more than the limit"), error.description)
            }
        }
    }

    /// Datasets that declare more than they store: a shape whose element count overflows, and
    /// one of 2^30 elements never written (libhdf5 would hand back fill values, 4 GB of them).
    func testKerasHDF5() throws {
        let reasons = ["dataset_shape_overflow.h5": "has shape", "dataset_never_written.h5": "but 0 are stored"]
        let files = try inputs("fuzz-keras-hdf5")
        XCTAssertEqual(Set(files.map(\.lastPathComponent)), Set(reasons.keys))
        for file in files {
            XCTAssertThrowsError(try KerasHDF5.read(contentsOf: file), file.lastPathComponent) { error in
                guard let error = error as? KerasHDF5Error else { return XCTFail("\(file.lastPathComponent): \(error)") }
                XCTAssert(error.description.contains(file.path), error.description)
                XCTAssert(error.description.contains(reasons[file.lastPathComponent] ?? "?"), error.description)
            }
        }
    }
}
