import XCTest
@testable import CAMKit

/// The profile of `explain bench --profile`: every op of a pass counted once under its kind,
/// depthwise convolutions apart, and the GEMM-based ops' floating-point operations from their
/// shapes.
final class GraphProfileTests: XCTestCase {
    func testOpsAreCountedByKindWithTheFlopsOfTheirGEMMs() throws {
        let model = GraphTracingTests.PooledLinearHead()
        SeededWeights.fill(model)
        let input = SeededWeights.input(shape: [2, 3, 16, 16])
        let graph = try TracedGraphSource.trace(model, input: input).graph
        let profile = GraphProfile.measure(graph, input: input, repeats: 2)
        let byKind = Dictionary(uniqueKeysWithValues: profile.entries.map { ($0.kind, $0) })
        XCTAssertEqual(profile.entries.map(\.count).reduce(0, +), graph.nodes.count)
        XCTAssertEqual(byKind["conv2d"]?.count, 2)
        // 3x3 convolutions: 2 images x 8 x 16 x 16 outputs of 3·9 products, then 2 x 24 x 8 x 8 of 8·9.
        XCTAssertEqual(byKind["conv2d"]?.flops, 2 * (2 * 8 * 16 * 16 * 27 + 2 * 24 * 8 * 8 * 72))
        XCTAssertEqual(byKind["linear"]?.flops, 2 * 2 * 24 * 5)
        XCTAssertNil(byKind["relu6"]?.flops)
        XCTAssertGreaterThan(profile.totalMilliseconds, 0)
        XCTAssertNotNil(profile.gemmGigaflopsPerSecond)
    }

    func testDepthwiseConvolutionsAreAKindOfTheirOwnWithoutGEMMFlops() throws {
        let model = Sequential([Conv2d(4, 4, kernel: 3, padding: 1, groups: 4), Conv2d(4, 6, kernel: 1)])
        SeededWeights.fill(model)
        let input = SeededWeights.input(shape: [1, 4, 8, 8])
        let profile = GraphProfile.measure(try TracedGraphSource.trace(model, input: input).graph, input: input, repeats: 1)
        let byKind = Dictionary(uniqueKeysWithValues: profile.entries.map { ($0.kind, $0) })
        XCTAssertEqual(byKind["conv2d (depthwise)"]?.count, 1)
        XCTAssertNil(byKind["conv2d (depthwise)"]?.flops)
        XCTAssertEqual(byKind["conv2d"]?.flops, 2 * 6 * 8 * 8 * 4)
    }

    func testTheSgemmYardstickIsAPositiveRate() {
        XCTAssertGreaterThan(GEMMBenchmark.gigaflopsPerSecond(size: 64, repeats: 1), 0)
    }
}
