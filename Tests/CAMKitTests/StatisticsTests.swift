import XCTest
@testable import CAMKit

/// Statistics and histogram bins against values computed with numpy (numbers in the comments).
final class StatisticsTests: XCTestCase {
    static func records(_ model: String, _ values: [Double], correct: [Bool?]) -> [ConfidenceRecord] {
        zip(values, correct).enumerated().map { i, pair in
            ConfidenceRecord(imageName: "img\(i)", modelName: model, predictedLabel: "x", confidence: pair.0, correct: pair.1)
        }
    }

    /// a = np.array([0.2, 0.5, 0.9, 0.4]); a.mean(), np.median(a), a.std(), (a >= 0.5).mean()
    /// → 0.5, 0.45, 0.25495097567963926, 0.5
    func testEvenCountWithSomeLabels() {
        let s = ConfidenceStatistics(model: "cnn", records: Self.records("cnn", [0.2, 0.5, 0.9, 0.4],
                                                                         correct: [true, false, nil, true]))
        XCTAssertEqual(s.count, 4)
        XCTAssertEqual(s.mean, 0.5, accuracy: 1e-15)
        XCTAssertEqual(s.median, 0.45, accuracy: 1e-15)
        XCTAssertEqual(s.standardDeviation, 0.25495097567963926, accuracy: 1e-15)
        XCTAssertEqual(s.minimum, 0.2)
        XCTAssertEqual(s.maximum, 0.9)
        XCTAssertEqual(s.shareAtLeastHalf, 0.5, "0.5 itself counts as ≥ 0.5")
        XCTAssertEqual(s.labelledCount, 3)
        XCTAssertEqual(s.accuracy!, 2.0 / 3.0, accuracy: 1e-15)
        XCTAssertEqual(StatisticsTable.cells(s),
                       ["cnn", "4", "0.5000", "0.4500", "0.2550", "0.2000", "0.9000", "50.00 %", "66.67 % of 3"])
    }

    /// b = np.array([0.3, 0.61, 0.47]) → mean 0.46, median 0.47, std 0.1267543556122103
    func testOddCountWithoutLabels() {
        let s = ConfidenceStatistics(model: "hybrid", records: Self.records("hybrid", [0.3, 0.61, 0.47],
                                                                            correct: [nil, nil, nil]))
        XCTAssertEqual(s.mean, 0.46, accuracy: 1e-15)
        XCTAssertEqual(s.median, 0.47)
        XCTAssertEqual(s.standardDeviation, 0.1267543556122103, accuracy: 1e-15)
        XCTAssertEqual(s.shareAtLeastHalf, 1.0 / 3.0, accuracy: 1e-15)
        XCTAssertNil(s.accuracy)
        XCTAssertEqual(StatisticsTable.cells(s).last, "—")
    }

    func testPerModelKeepsFirstAppearanceOrderAndDerivesCorrectness() {
        let records = [
            ConfidenceRecord(imageName: "a", modelName: "hybrid", predictedLabel: "Collie", confidence: 0.4, trueLabel: "Border Collie"),
            ConfidenceRecord(imageName: "a", modelName: "cnn", predictedLabel: "Border Collie", confidence: 0.6, trueLabel: "Border Collie"),
            ConfidenceRecord(imageName: "b", modelName: "hybrid", predictedLabel: "Border Collie", confidence: 0.8, trueLabel: "Border Collie"),
        ]
        XCTAssertEqual(records.map(\.correct), [false, true, true])
        let stats = ConfidenceStatistics.perModel(records)
        XCTAssertEqual(stats.map(\.model), ["hybrid", "cnn"])
        XCTAssertEqual(stats.map(\.count), [2, 1])
        XCTAssertEqual(stats[0].accuracy, 0.5)
    }

    /// np.histogram([0, .1, .2, .3, .7, .99999, 1, -.1, 1.1, .05, .6, .8], bins=10, range=(0, 1))[0]
    /// → [2, 1, 2, 0, 0, 1, 1, 0, 1, 2]: 0.3, 0.6 and 0.7 fall below their edge i·0.1, 1 is in the
    /// last bin, values outside [0, 1] are dropped.
    func testHistogramBinsMatchNumpy() {
        XCTAssertEqual(ConfidenceHistogramChart.binCounts([0, 0.1, 0.2, 0.3, 0.7, 0.99999, 1.0, -0.1, 1.1, 0.05, 0.6, 0.8]),
                       [2, 1, 2, 0, 0, 1, 1, 0, 1, 2])
    }
}
