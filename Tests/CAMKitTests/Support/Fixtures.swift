import Foundation
import XCTest
import CAMKit

/// The repository's `Fixtures/` folder, found from this source file.
let fixturesDirectory = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Fixtures")

func fixtureURL(_ path: String) -> URL { fixturesDirectory.appendingPathComponent(path) }

/// Fails unless `actual` equals `expected` within `tolerance · max|expected| + floor`.
func assertClose(_ actual: Tensor?, _ expected: Tensor?, tolerance: Float, floor: Float = 0,
                 _ what: String, file: StaticString = #filePath, line: UInt = #line) {
    guard let actual, let expected else { return XCTFail("\(what): missing tensor", file: file, line: line) }
    guard actual.shape == expected.shape else {
        return XCTFail("\(what): shape \(actual.shape), expected \(expected.shape)", file: file, line: line)
    }
    let scale = expected.scalars.map(abs).max() ?? 0
    var worst: Float = 0, at = 0
    for i in 0..<actual.count {
        let d = abs(actual.scalars[i] - expected.scalars[i])
        if !(d <= worst) { worst = d; at = i }
    }
    XCTAssert(worst <= tolerance * scale + floor,
              "\(what): max |diff| \(worst) at \(at) (\(actual.scalars[at]) vs \(expected.scalars[at])), allowed \(tolerance * scale + floor) (scale \(scale))",
              file: file, line: line)
}

/// `../shared/images` beside the repository: public test photos that are never committed.
/// Tests that read them skip when the folder is absent.
let sharedImagesDirectory = fixturesDirectory.deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("shared/images")
