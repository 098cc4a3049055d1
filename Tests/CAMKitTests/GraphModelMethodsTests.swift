import Foundation
import XCTest
@testable import CAMKit

/// Every method runs on an imported ONNX model too (the committed ConvNeXt export), through the
/// same `CAMMethod` base; FullGrad, which needs layer kinds a graph does not expose, and SESS,
/// which needs other input sizes than this export's fixed one, say so.
final class GraphModelMethodsTests: XCTestCase {
    func testEveryMethodRunsOnAGraphModel() throws {
        let model = try ONNXParityTests.model("convnext.dynamo.onnx")
        let input = SeededWeights.input(shape: [1, 3, 64, 96])
        for name in CAMMethodName.allCases {
            let extractor = try CAMExtractor(model: model, method: name.makeMethod(), layers: [model.defaultTargetLayer])
            if name == .fullgrad || name == .sess {
                XCTAssertThrowsError(try extractor.explain(input)) { error in
                    XCTAssert("\(error)".contains(name == .fullgrad ? "BatchNorm2d" : "only takes [1, 3, 64, 96]"), "\(error)")
                }
                continue
            }
            let map = try extractor.explain(input).maps()
            XCTAssertEqual(map.shape, [1, 64, 96], name.rawValue)
            XCTAssert(map.scalars.allSatisfy { $0.isFinite && $0 >= 0 && $0 <= 1 }, "\(name.rawValue): values outside [0, 1]")
        }
    }
}
