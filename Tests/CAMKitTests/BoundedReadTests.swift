import XCTest
import CAMKit

/// Files that would never finish reading, or would fill memory, are refused before they are
/// read, with the file and the reason: devices, folders, and files over the size limit.
final class BoundedReadTests: XCTestCase {
    var folder: URL!

    override func setUpWithError() throws {
        folder = try temporaryFolder("camkit-bounded")
    }

    func testImagesThatAreNoRegularFileOrTooBigAreRefusedBeforeReading() throws {
        let huge = folder.appendingPathComponent("huge.jpg")
        XCTAssert(FileManager.default.createFile(atPath: huge.path, contents: nil))
        let handle = try FileHandle(forWritingTo: huge)
        try handle.truncate(atOffset: UInt64(ImageDecoder.maxFileBytes + 1))  // sparse: costs no disk
        try handle.close()
        let cases: [(URL, String)] = [
            (URL(fileURLWithPath: "/dev/zero"), "zero: not a regular file"),
            (folder, "not a regular file"),
            (huge, "huge.jpg: \(ImageDecoder.maxFileBytes + 1) bytes, over the limit of \(ImageDecoder.maxFileBytes) bytes"),
            (folder.appendingPathComponent("missing.png"), "missing.png: no such file or not readable"),
        ]
        for (url, expected) in cases {
            XCTAssertThrowsError(try ImageDecoder().decode(contentsOf: url), url.path) { error in
                XCTAssert("\(error)".contains(expected), "\(url.path): \(error)")
            }
        }
    }

    func testASymlinkToAPhotoIsFollowed() throws {
        let photo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Fixtures/images/photo.png")
        let link = folder.appendingPathComponent("link.png")
        try FileManager.default.createSymbolicLink(at: link, withDestinationURL: photo)
        XCTAssertEqual(try ImageDecoder().decode(contentsOf: link).width, 80)
    }

    func testLabelFilesNamingADeviceAreRefused() throws {
        XCTAssertThrowsError(try LabelsFile(contentsOf: URL(fileURLWithPath: "/dev/zero"))) { error in
            XCTAssert("\(error)".contains("/dev/zero") && "\(error)".contains("not a regular file"), "\(error)")
        }
        let zoo = folder.appendingPathComponent("zoo.json")
        try """
            {"models": [{"name": "endless", "architecture": "seed-cnn", "weights": "w.safetensors", "labels": "/dev/zero"}]}
            """.write(to: zoo, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try ZooFile(contentsOf: zoo)) { error in
            XCTAssert("\(error)".contains("cannot read its labels file /dev/zero (not a regular file)"), "\(error)")
        }
        XCTAssertThrowsError(try ZooFile(contentsOf: URL(fileURLWithPath: "/dev/zero"))) { error in
            XCTAssert("\(error)".contains("not a regular file"), "\(error)")
        }
    }
}
