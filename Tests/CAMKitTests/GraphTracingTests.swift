import Foundation
import XCTest
@testable import CAMKit

/// Native models traced into graphs: the graph replays the forward pass at the traced batch and
/// at others, its layers are the module outputs, a suffix run from a layer is the model with
/// that layer's output replaced, and Ablation-CAM through suffix runs gives the maps of the
/// whole-model path.
final class GraphTracingTests: XCTestCase {
    static let small = ConvNeXtV2Config(name: "small", depths: [1, 1, 2, 1], dims: [8, 16, 32, 128], convMLP: false)

    /// Small seeded models of every native family, with an input size each takes.
    static func models() -> [(name: String, model: Module & Classifier, input: [Int])] {
        func seeded<M: Module>(_ model: M) -> M {
            SeededWeights.fill(model)
            return model
        }
        return [
            ("convnextv2", seeded(ConvNeXtV2(small, numClasses: 6)), [1, 3, 64, 64]),
            ("seed cnn", seeded(SeedModel(.cnn, backbone: small, numClasses: 5)), [1, 3, 64, 64]),
            ("seed cnn_mha", seeded(SeedModel(.cnnMHA, backbone: small, numClasses: 5)), [1, 3, 64, 64]),
            ("seed cnn_mha intended", seeded(SeedModel(.cnnMHA, backbone: small, numClasses: 5, attention: .intended)), [1, 3, 64, 64]),
            ("seed hybrid", seeded(SeedModel(.hybrid, backbone: small, numClasses: 5)), [1, 3, 64, 64]),
            ("efficientnet-lite0", seeded(EfficientNetLite(numClasses: 7)), [1, 3, 64, 64]),
            ("pooled linear head", seeded(PooledLinearHead()), [1, 3, 16, 16]),
        ]
    }

    /// Convolutions, then only a global pooling and a linear classifier (with a scaling and a
    /// bias) after the last feature map: EfficientNet-Lite's head, with few channels.
    final class PooledLinearHead: Module, Classifier {
        let features = Sequential([Conv2d(3, 8, kernel: 3, padding: 1), ReLU6(), Conv2d(8, 24, kernel: 3, stride: 2, padding: 1), ReLU()])
        let fc = Linear(24, 5)
        let offset = Parameter(shape: [5], initial: 0.25)
        var defaultTargetLayer: String { "features" }
        var outputSize: Int { 5 }
        override init() {
            super.init()
            register("features", features)
            register("fc", fc)
            adopt("offset", offset)
        }
        override func forward(_ x: Tensor) -> Tensor {
            let pooled = globalAveragePool2d(features(x))
            return fc(pooled.reshaped([x.shape[0], 24]) * 2) - offset.value
        }
    }

    func testTracedGraphReplaysTheForwardPassAtTheTracedBatchAndAtBatch3() throws {
        for (name, model, shape) in Self.models() {
            let input = SeededWeights.input(shape: shape, seed: 1)
            let traced = try TracedGraphSource.trace(model, input: input)
            XCTAssert(traced.keepsBatchFree, "\(name): the trace fixes the batch size")
            assertClose(GraphExecutor(traced.graph).run(input), model(input), tolerance: 1e-6, floor: 1e-6, "\(name) at batch 1")

            let batch = SeededWeights.input(shape: [3] + shape.dropFirst(), seed: 2)
            let graph = try traced.graph(forInputShape: batch.shape)
            XCTAssertEqual(graph.shapes[graph.output], [3, model.outputSize], name)
            assertClose(GraphExecutor(graph).run(batch), model(batch), tolerance: 1e-6, floor: 1e-6, "\(name) at batch 3")
        }
    }

    func testLayersAreTheModuleOutputs() throws {
        for (name, model, shape) in Self.models() {
            let input = SeededWeights.input(shape: shape, seed: 3)
            let traced = try TracedGraphSource.trace(model, input: input)
            XCTAssert(traced.layers.contains(model.defaultTargetLayer), "\(name): no layer \(model.defaultTargetLayer)")
            let capture = try LayerCapture(model: model, layers: traced.layers, gradients: false)
            _ = capture.forward(model, input)
            var values: [Int: Tensor] = [:]
            _ = GraphExecutor(traced.graph).run(input) { v, t in
                values[v] = t
                return t
            }
            for layer in traced.layers {
                let v = try XCTUnwrap(traced.graph.value(named: layer))
                assertClose(try XCTUnwrap(values[v]), try XCTUnwrap(capture.activations[layer]), tolerance: 1e-6, floor: 1e-6, "\(name) \(layer)")
            }
        }
    }

    /// Modules that pass their input through, or run more than once, name no single value.
    func testPassThroughAndSharedModulesAreNoLayers() throws {
        let model = ConvNeXtV2(Self.small, numClasses: 6)
        SeededWeights.fill(model)
        let traced = try TracedGraphSource.trace(model, input: SeededWeights.input(shape: [1, 3, 64, 64]))
        XCTAssertFalse(traced.layers.contains("stages.0.downsample"), "an Identity returns its input")
        XCTAssert(traced.layers.contains("stages.1.downsample"))
        XCTAssert(traced.layers.contains("stages.3.blocks.0.mlp.grn"))
    }

    /// The suffix from a layer, with the layer's output given, is the whole model with that
    /// output replaced: through the pooled path (a layer read only by a global average pool)
    /// and the dense one.
    func testSuffixRunEqualsTheModelWithTheLayerOutputReplaced() throws {
        let cases: [(Int, String)] = [(0, "stages.3"), (0, "stages.2"), (4, "backbone.stages.3"), (4, "backbone.stages.1.blocks.0"),
                                      (2, "backbone.stages.3"), (5, "_head_act"), (5, "_blocks.10"), (6, "features")]
        let models = Self.models()
        for (index, layer) in cases {
            let (name, model, shape) = models[index]
            let input = SeededWeights.input(shape: shape, seed: 4)
            let capture = try LayerCapture(model: model, layers: [layer], gradients: false)
            _ = capture.forward(model, input)
            let base = try XCTUnwrap(capture.activations[layer])
            let channels = [0, 3, 5, base.shape[1] - 1]
            let ablation = ChannelAblation(base: base, channels: channels, values: [0, -1e7, 2.5, -3])
            let traced = try TracedGraphSource.trace(model, input: input)
            let runner = GraphSuffixRunner(source: traced, graph: traced.graph)
            let suffix = try runner.logits(of: input, value: layer, layout: .spatial, ablation: ablation)

            let replaced = ablation.dense()
            let handle = try XCTUnwrap(model.module(named: layer)).replaceOutput { _ in replaced }
            defer { handle() }
            let repeated = Tensor(shape: [channels.count] + shape.dropFirst(),
                                  scalars: Array([[Float]](repeating: input.scalars, count: channels.count).joined()))
            assertClose(suffix, model(repeated), tolerance: 1e-5, floor: 1e-5, "\(name) after \(layer)")
        }
    }

    /// Only a global pooling and an affine classifier after the layer: the ablated copies take the
    /// affine head; a norm after the pooling (ConvNeXt's head) is no such head.
    func testAnAffineHeadIsFoundAfterPoolingAndALinearClassifierOnly() throws {
        let models = Self.models()
        for (index, layer, affine) in [(5, "_head_act", true), (6, "features", true), (0, "stages.3", false), (6, "features.1", false)] {
            let (name, model, shape) = models[index]
            let graph = try TracedGraphSource.trace(model, input: SeededWeights.input(shape: shape)).graph
            let start = try XCTUnwrap(graph.value(named: layer))
            let reader = try XCTUnwrap(graph.nodes.first { $0.inputs.contains(start) })
            let head = reader.op.poolsEachChannel ? AffineHead(in: graph, after: reader.output) : nil
            XCTAssertEqual(head != nil, affine, "\(name) after \(layer)")
            if index == 6, let head { XCTAssertEqual(head.factor, 2) }
        }
    }

    /// A 3×3 convolution to 4 channels and a linear classifier, joined by `head` (the feature map
    /// and the batch size in, the classifier's input out).
    final class ConvThenLinear: Module, Classifier {
        let features = Conv2d(3, 4, kernel: 3, padding: 1)
        let fc = Linear(4, 3)
        let head: (Tensor, Int) -> Tensor
        var defaultTargetLayer: String { "features" }
        var outputSize: Int { 3 }

        init(head: @escaping (Tensor, Int) -> Tensor) {
            self.head = head
            super.init()
            register("features", features)
            register("fc", fc)
            SeededWeights.fill(self)
        }

        override func forward(_ x: Tensor) -> Tensor { fc(head(features(x), x.shape[0])) }
    }

    func ablationMaps(_ model: Module & Classifier, _ input: Tensor, layer: String, suffix: Bool) throws -> CAMResult {
        let extractor = try CAMExtractor(model: model, method: AblationCAM(runsOnlyAfterLayers: suffix), layers: [layer])
        return try extractor.explain(input)
    }

    func testAblationCAMThroughSuffixRunsEqualsTheWholeModelPath() throws {
        let models = Self.models()
        let cases: [(Int, String)] = [(0, "stages.2"), (2, "backbone.stages.3"), (6, "features"), (6, "features.1")]
        for (index, layer) in cases {
            let (name, model, shape) = models[index]
            let input = SeededWeights.input(shape: [2] + shape.dropFirst(), seed: 5)
            let fast = try ablationMaps(model, input, layer: layer, suffix: true)
            let runner = try XCTUnwrap(model.keptTrace(forInputShape: Array(shape.dropFirst()))?.runner, "\(name): not traced")
            XCTAssertNotNil(model.tracedSuffixRunner(forInputShape: shape, layer: layer), "\(name): no suffix run from \(layer)")
            XCTAssert(try XCTUnwrap(runner.source as? TracedGraphSource).keepsBatchFree, name)
            let slow = try ablationMaps(model, input, layer: layer, suffix: false)
            for image in 0..<2 {
                assertClose(fast.explanations[image][0].map, slow.explanations[image][0].map, tolerance: 0, floor: 1e-5, "\(name) \(layer) image \(image)")
            }
        }
    }

    /// A model whose forward makes a tensor out of data cannot be replayed: it is not traced,
    /// and Ablation-CAM runs the whole model.
    func testAModelThatCopiesDataIsNotTracedAndAblationFallsBack() throws {
        let model = ConvThenLinear { features, n in Tensor(shape: [n, 4], scalars: globalAveragePool2d(relu(features)).scalars) }
        let input = SeededWeights.input(shape: [1, 3, 8, 8])
        XCTAssertThrowsError(try TracedGraphSource.trace(model, input: input)) { error in
            XCTAssert("\(error)".contains("made outside the traced ops"), "\(error)")
        }
        let fast = try ablationMaps(model, input, layer: "features", suffix: true)
        XCTAssertNotNil(model.keptTrace(forInputShape: [3, 8, 8])?.failure)
        XCTAssertNil(model.tracedSuffixRunner(forInputShape: input.shape, layer: "features"))
        let slow = try ablationMaps(model, input, layer: "features", suffix: false)
        XCTAssertEqual(fast.explanations[0][0].map.scalars, slow.explanations[0][0].map.scalars)
    }

    func testAReplacedOutputIsNotTraced() throws {
        let model = EfficientNetLite(numClasses: 4)
        SeededWeights.fill(model)
        let input = SeededWeights.input(shape: [1, 3, 32, 32])
        let handle = try XCTUnwrap(model.module(named: "_bn1")).replaceOutput { $0 }
        defer { handle() }
        XCTAssertThrowsError(try TracedGraphSource.trace(model, input: input)) { error in
            XCTAssert("\(error)".contains("'_bn1' is replaced"), "\(error)")
        }
    }

    /// A reshape that folds the batch into another axis fixes the batch: the graph is offered
    /// at the traced batch only, and suffix runs go one copy at a time.
    func testAReshapeOfTheBatchFixesIt() throws {
        let model = ConvThenLinear { features, n in features.reshaped([n * 4, 64]).mean(axis: 1).reshaped([n, 4]) }
        let input = SeededWeights.input(shape: [1, 3, 8, 8])
        let traced = try TracedGraphSource.trace(model, input: input)
        XCTAssertFalse(traced.keepsBatchFree)
        XCTAssertThrowsError(try traced.graph(forInputShape: [2, 3, 8, 8]))
        let fast = try ablationMaps(model, input, layer: "features", suffix: true)
        XCTAssertNotNil(model.tracedSuffixRunner(forInputShape: input.shape, layer: "features"))
        let slow = try ablationMaps(model, input, layer: "features", suffix: false)
        assertClose(fast.explanations[0][0].map, slow.explanations[0][0].map, tolerance: 0, floor: 1e-5, "one copy at a time")
    }

    /// Loading other weights makes the kept trace stale: the next pass traces again.
    func testNewWeightsRetrace() throws {
        let model = SeedModel(.cnn, backbone: Self.small, numClasses: 5)
        SeededWeights.fill(model)
        let input = SeededWeights.input(shape: [1, 3, 64, 64])
        _ = model.tracingOnce(input) { model(input) }
        let first = try XCTUnwrap(model.keptTrace(forInputShape: [3, 64, 64]))
        XCTAssert(first.isCurrent)
        SeededWeights.fill(model, seed: 9)
        XCTAssertFalse(first.isCurrent)
        XCTAssertNil(model.tracedSuffixRunner(forInputShape: input.shape, layer: "backbone.stages.3"))
        _ = model.tracingOnce(input) { model(input) }
        let second = try XCTUnwrap(model.keptTrace(forInputShape: [3, 64, 64]))
        XCTAssert(second !== first && second.isCurrent)
    }

    /// The tracer belongs to the thread that traces: the same model run on another thread at
    /// the same time is neither recorded nor disturbed.
    func testATraceSeesOnlyItsOwnThread() throws {
        let model = ConvNeXtV2(Self.small, numClasses: 6)
        SeededWeights.fill(model)
        let input = SeededWeights.input(shape: [1, 3, 64, 64], seed: 6)
        let other = SeededWeights.input(shape: [2, 3, 64, 64], seed: 7)
        let expected = model(other)
        var traced: Result<TracedGraphSource, Error>?
        var outputs: [Tensor] = []
        let lock = NSLock()
        DispatchQueue.concurrentPerform(iterations: 2) { i in
            if i == 0 {
                let result = Result { try TracedGraphSource.trace(model, input: input) }
                lock.withLock { traced = result }
            } else {
                let out = (0..<3).map { _ in model(other) }
                lock.withLock { outputs = out }
            }
        }
        let graph = try XCTUnwrap(traced).get().graph
        assertClose(GraphExecutor(graph).run(input), model(input), tolerance: 1e-6, floor: 1e-6, "trace")
        XCTAssertEqual(graph.shapes[graph.input], [1, 3, 64, 64])
        for out in outputs { XCTAssertEqual(out.scalars, expected.scalars) }
    }
}
