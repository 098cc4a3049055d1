@testable import CAMKit
import XCTest

/// Score-CAM's shared pass for all-zero masks: the weights must be those of one pass per
/// channel, as the reference runs them.
final class ScoreCAMTests: XCTestCase {
    /// A convolution and ReLU whose first `dead` channels are zero everywhere (a large negative
    /// bias), then a pooled linear head.
    final class DeadChannels: Module, Classifier {
        let features = Sequential([Conv2d(3, 12, kernel: 3, padding: 1), ReLU()])
        let fc = Linear(12, 4)
        var defaultTargetLayer: String { "features" }
        var outputSize: Int { 4 }

        init(dead: Int) {
            super.init()
            register("features", features)
            register("fc", fc)
            SeededWeights.fill(self)
            let conv = features.children[0].module as! Conv2d
            var bias = conv.bias!.value.scalars
            for c in 0..<dead { bias[c] = -1e4 }
            conv.bias!.value = Tensor(shape: [12], scalars: bias)
        }

        override func forward(_ x: Tensor) -> Tensor {
            fc(globalAveragePool2d(features(x)).reshaped([x.shape[0], 12]))
        }
    }

    func testDeadChannelsShareOnePassAndGetTheWeightsOfOnePassEach() throws {
        let model = DeadChannels(dead: 5)
        let input = SeededWeights.input(shape: [1, 3, 8, 8])
        let activations = model.features(input)
        let target = TargetScore(2)
        var reports: [CAMProgress] = []
        let context = CAMContext(input: input, inputGradient: nil, targets: [target], eigenSmooth: false,
                                 originalScores: [target.score(model(input).scalars[...])], model: model,
                                 layouts: [:], layerOutputs: [:], progress: { reports.append($0) }, methodName: "scorecam")
        let layer = LayerState(name: "features", activations: activations, gradients: nil)
        let method = ScoreCAM(batchSize: 4)
        let weights = try method.channelWeights(layer, context: context)

        XCTAssertEqual(reports.map(\.total), [2, 2], "7 live channels and the zero image, in batches of 4")
        let scores = (0..<12).map { channel -> Float in
            let mask = method.scaledMask(layer, image: 0, channel: channel, height: 8, width: 8)
            XCTAssertEqual(mask.allSatisfy { $0 == 0 }, channel < 5, "channel \(channel)")
            let masked = Tensor(shape: input.shape, scalars: input.scalars.indices.map { input.scalars[$0] * mask[$0 % 64] })
            return target.score(model(masked).scalars[...])
        }
        let top = scores.max()!
        let exps = scores.map { Foundation.exp($0 - top) }
        let expected = exps.map { $0 / exps.reduce(0, +) }
        for (channel, (w, e)) in zip(weights, expected).enumerated() {
            XCTAssertEqual(w, e, accuracy: 1e-6, "channel \(channel)")
        }
        XCTAssertEqual(Set(weights.prefix(5)).count, 1, "every dead channel has the zero image's weight")
    }
}
