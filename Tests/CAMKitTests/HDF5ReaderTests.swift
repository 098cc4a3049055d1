import XCTest
@testable import CAMKit

/// The HDF5 reader on the files of scripts/reference/make_hdf5_fixtures.py (h5py 3.16 and
/// Keras 3.15), against the values that script wrote to Fixtures/hdf5/expected.json: every
/// layout, filter, float type, string kind, group and attribute storage, superblock version.
final class HDF5ReaderTests: XCTestCase {
    private var expected: [String: Any] {
        get throws {
            let data = try Data(contentsOf: fixtureURL("hdf5/expected.json"))
            return try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
        }
    }

    private func open(_ name: String) throws -> HDF5File { try HDF5File(contentsOf: fixtureURL("hdf5/\(name)")) }

    /// Every dataset the script recorded for `name` reads as the values it wrote.
    private func checkDatasets(_ name: String, count: Int) throws {
        let file = try open(name)
        let entry = try XCTUnwrap(try expected[name] as? [String: Any])
        let datasets = try XCTUnwrap(entry["datasets"] as? [String: [String: Any]])
        XCTAssertEqual(datasets.count, count, name)
        for (path, want) in datasets {
            let dataset = try XCTUnwrap(try file.object(at: path), "\(name): \(path)").dataset()
            XCTAssertEqual(dataset.shape, want["shape"] as? [Int], "\(name): \(path)")
            XCTAssertEqual(try dataset.readFloats(), (want["values"] as? [Double])?.map(Float.init), "\(name): \(path)")
        }
    }

    func testLayoutsFiltersAndFloatTypes() throws {
        try checkDatasets("layouts.h5", count: 12)
        XCTAssertEqual(try open("layouts.h5").superblock.version, 0)
    }

    func testLibverLatestFile() throws {
        try checkDatasets("latest.h5", count: 5)
        let file = try open("latest.h5")
        XCTAssertEqual(file.superblock.version, 3)
        let entry = try XCTUnwrap(try expected["latest.h5"] as? [String: Any])
        // Dense groups: a fractal heap of link messages and a B-tree v2 name index.
        let dense = try XCTUnwrap(try file.object(at: "/dense_group"))
        XCTAssertNotNil(dense.message(.linkInfo))
        XCTAssertEqual(try dense.links().map(\.name).sorted(), entry["dense_group_links"] as? [String])
        XCTAssertEqual(try file.object(at: "/tracked_group")?.links().map(\.name).sorted(),
                       (entry["tracked_group_links"] as? [String])?.sorted())
        XCTAssertEqual(try file.object(at: "/compact_group")?.links().map(\.name), ["child_0", "child_1", "child_2"])
        // Dense attributes, with and without creation order.
        for group in ["dense_attributes", "ordered_attributes", "many_attributes"] {
            let object = try XCTUnwrap(try file.object(at: "/" + group))
            XCTAssertNotNil(object.message(.attributeInfo), group)
            let values = try Dictionary(uniqueKeysWithValues: object.attributes().map { ($0.name, try $0.strings()) })
            XCTAssertEqual(values, (entry[group] as? [String: String])?.mapValues { [$0] }, group)
        }
        XCTAssertEqual(try file.root().attribute(named: "compact")?.strings(), ["root attribute"])
    }

    func testSuperblockVersion2() throws {
        try checkDatasets("v108.h5", count: 1)
        XCTAssertEqual(try open("v108.h5").superblock.version, 2)
    }

    func testStringAttributes() throws {
        let layer = try XCTUnwrap(try open("strings.h5").object(at: "/layer"))
        let entry = try XCTUnwrap(try expected["strings.h5"] as? [String: Any])
        let want = try XCTUnwrap(entry["attributes"] as? [String: [String]])
        for (name, strings) in want {
            XCTAssertEqual(try layer.attribute(named: name)?.strings(), strings, name)
        }
        XCTAssertThrowsError(try layer.attribute(named: "number")?.strings()) { error in
            XCTAssert("\(error)".contains("strings.h5") && "\(error)".contains("is not a string"), "\(error)")
        }
    }

    /// Outside the subset: an error naming the file and the feature.
    func testUnsupportedFeaturesAreNamed() throws {
        let latest = try open("latest.h5")
        XCTAssertThrowsError(try latest.object(at: "/resizable")?.dataset().readFloats()) { error in
            XCTAssert("\(error)".contains("latest.h5") && "\(error)".contains("extensible array"), "\(error)")
        }
        XCTAssertThrowsError(try open("layouts.h5").object(at: "/integers")?.dataset().readFloats()) { error in
            XCTAssert("\(error)".contains("layouts.h5") && "\(error)".contains("not floating point"), "\(error)")
        }
        XCTAssertThrowsError(try HDF5File(contentsOf: fixtureURL("hdf5/expected.json"))) { error in
            XCTAssert("\(error)".contains("expected.json: not an HDF5 file"), "\(error)")
        }
    }

    /// Every prefix of a real file, and every byte of it changed in turn, ends in a value or an
    /// error: the reader never reads outside the bytes it was given.
    func testTruncatedAndCorruptedFilesEndInErrors() throws {
        let url = fixtureURL("hdf5/v108.h5")
        let bytes = [UInt8](try Data(contentsOf: url))
        func readAll(_ bytes: [UInt8]) {
            do {
                let file = try HDF5File(bytes: bytes, url: url)
                _ = try file.object(at: "/group/data")?.dataset().readFloats()
            } catch let error as HDF5Error {
                XCTAssertEqual(error.file, url)
            } catch {
                XCTFail("\(error)")
            }
        }
        for length in stride(from: 0, to: bytes.count, by: 7) { readAll(Array(bytes.prefix(length))) }
        for i in 0..<bytes.count {
            var changed = bytes
            changed[i] ^= 0xFF
            readAll(changed)
        }
    }
}
