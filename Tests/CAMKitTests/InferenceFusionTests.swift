import XCTest
@testable import CAMKit

/// Graphs fused for inference: BatchNorm folded into the convolution before it and clamping
/// activations applied as the output is written give the unfused graph's output, and nothing
/// that another node reads is fused away.
final class InferenceFusionTests: XCTestCase {
    func testFusedGraphsGiveTheOutputOfEveryNativeFamily() throws {
        for (name, model, shape) in GraphTracingTests.models() {
            let input = SeededWeights.input(shape: [3] + shape.dropFirst(), seed: 4)
            let graph = try TracedGraphSource.trace(model, input: input).graph
            let fused = graph.fusedForInference()
            assertClose(GraphExecutor(fused).run(input), GraphExecutor(graph).run(input), tolerance: 1e-5, floor: 1e-5, name)
            XCTAssertLessThanOrEqual(fused.nodes.count, graph.nodes.count, name)
        }
    }

    func testEfficientNetLiteLosesEveryBatchNormAndReLU6() throws {
        let model = EfficientNetLite(numClasses: 7)
        SeededWeights.fill(model)
        let input = SeededWeights.input(shape: [2, 3, 64, 64], seed: 5)
        let graph = try TracedGraphSource.trace(model, input: input).graph
        let fused = graph.fusedForInference()
        func count(_ g: Graph, _ name: String) -> Int { g.nodes.filter { $0.op.name == name }.count }
        XCTAssertEqual(count(graph, "batchNorm"), 49, "stem, 16 blocks (the first without expansion), head")
        XCTAssertEqual(count(fused, "batchNorm"), 0)
        XCTAssertEqual(count(fused, "relu6"), 0, "every ReLU6 follows a BatchNorm that follows a convolution")
        XCTAssertEqual(fused.nodes.count, graph.nodes.count - count(graph, "batchNorm") - count(graph, "relu6"))
        XCTAssertEqual(fused.nodes.filter { if case .conv2d(let a) = $0.op { return a.activation == .relu6 }; return false }.count,
                       count(graph, "relu6"))
        assertClose(GraphExecutor(fused).run(input), model(input), tolerance: 1e-5, floor: 1e-5, "logits")
    }

    /// A BatchNorm whose input is also read elsewhere, or an activation whose input is the
    /// output, stays where it is.
    func testValuesReadElsewhereAreNotFusedAway() throws {
        final class Shared: Module, Classifier {
            let conv = Conv2d(3, 4, kernel: 3, padding: 1)
            let bn = BatchNorm2d(4)
            let head = Conv2d(4, 4, kernel: 1)
            var defaultTargetLayer: String { "conv" }
            var outputSize: Int { 4 }
            override init() {
                super.init()
                register("conv", conv)
                register("bn", bn)
                register("head", head)
            }
            override func forward(_ x: Tensor) -> Tensor {
                let c = conv(x)
                let y = relu(head(relu(bn(c)) + c))
                return globalAveragePool2d(y).reshaped([x.shape[0], 4])
            }
        }
        let model = Shared()
        SeededWeights.fill(model)
        let input = SeededWeights.input(shape: [1, 3, 8, 8], seed: 6)
        let graph = try TracedGraphSource.trace(model, input: input).graph
        let fused = graph.fusedForInference()
        XCTAssertEqual(fused.nodes.filter { $0.op.name == "batchNorm" }.count, 1, "the convolution's output is also added")
        XCTAssertEqual(fused.nodes.filter { $0.op.name == "relu" }.count, 1, "only the head's ReLU is absorbed")
        assertClose(GraphExecutor(fused).run(input), model(input), tolerance: 1e-5, floor: 1e-5, "logits")
    }
}

extension InferenceFusionTests {
    /// Plain passes of a native model go through its trace, fused, at any batch size.
    func testPlainPassesRunTheFusedTrace() throws {
        let model = EfficientNetLite(numClasses: 7)
        SeededWeights.fill(model)
        let first = SeededWeights.input(shape: [2, 3, 32, 32], seed: 7)
        assertClose(model.inferenceOutput(first), model(first), tolerance: 1e-5, floor: 1e-5, "traced pass")
        let trace = try XCTUnwrap(model.keptTrace(forInputShape: [3, 32, 32]), "the first plain pass keeps a trace")
        let batch = SeededWeights.input(shape: [3, 3, 32, 32], seed: 8)
        let fused = try XCTUnwrap(trace.inference?.output(batch), "a fused graph at batch 3")
        XCTAssertEqual(model.inferenceOutput(batch).scalars, fused.scalars)
        assertClose(fused, model(batch), tolerance: 1e-5, floor: 1e-5, "fused pass")
    }
}
