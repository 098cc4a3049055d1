import XCTest
@testable import CAMKit

/// The (1, 4, 3, 4) input of the torch literals below.
private let x3 = Tensor(shape: [1, 4, 3, 4], scalars: [
    -1.2999999523162842, -0.31567180156707764, -0.10498827695846558, -0.730308473110199, -1.485373854637146,
    -1.5446385145187378, -0.7222725749015808, 0.3569866418838501, 0.8322154879570007, 0.39783281087875366,
    -0.4154496192932129, -0.7285616397857666, -0.7437158226966858, 0.14159560203552246, 0.6406073570251465,
    0.2288593053817749, -0.7807605266571045, -1.5256831645965576, -1.3867015838623047, -0.5572656393051147,
    0.13437378406524658, -0.013344407081604004, -0.9302798509597778, -1.8390775918960571, -0.42060109972953796,
    0.19911691546440125, 0.5484251379966736, 0.26020151376724243, -0.44653233885765076, -0.9679781198501587,
    -0.8706910610198975, -0.29008594155311584, 0.19406165182590485, 0.09065891802310944, -0.5511958599090576,
    -1.187354326248169, -0.809999942779541, -0.12097025662660599, 0.026508212089538574, -0.4112159311771393,
    -0.9397616386413574, -0.9812469482421875, -0.40559080243110657, 0.34989064931869507, 0.682550847530365,
    0.37848296761512756, -0.19081473350524902, -0.40999314188957214,
])
private let w4 = Tensor(shape: [4], scalars: [1.5, -0.5, 0.8, 1.1])
private let b4 = Tensor(shape: [4], scalars: [0.1, 0.2, -0.3, 0.05])

/// Naive NCHW LayerNorm2d in double.
private func naiveLayerNorm2d(_ x: Tensor, _ w: Tensor, _ b: Tensor, eps: Double) -> [Float] {
    let (n, c, hw) = (x.shape[0], x.shape[1], x.shape[2] * x.shape[3])
    var out = [Float](repeating: 0, count: x.count)
    for i in 0..<n {
        for j in 0..<hw {
            let v = (0..<c).map { Double(x.scalars[(i * c + $0) * hw + j]) }
            let m = v.reduce(0, +) / Double(c)
            let s = (v.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(c) + eps).squareRoot()
            for k in 0..<c { out[(i * c + k) * hw + j] = Float((v[k] - m) / s * Double(w.scalars[k]) + Double(b.scalars[k])) }
        }
    }
    return out
}

final class NormalizationTests: XCTestCase {
    func testLayerNormMatchesTorch() {
        let x = Tensor(shape: [2, 4], scalars: [0.3, -1.2, 2.0, 0.7, 5.0, 5.1, 4.9, 5.3])
        assertClose(layerNorm(x, weight: w4, bias: b4, eps: 1e-5),
                    [-0.09714779257774353, 0.9228753447532654, 0.7865034937858582, 0.2909584641456604,
                     -0.6604625582695007, 0.11550362408161163, -1.246354341506958, 1.723024845123291], tolerance: 2e-6)
    }

    func testLayerNormMatchesNaiveWithoutAffine() {
        let x = randomTensor([3, 2, 37], seed: 1, scale: 4)
        let y = layerNorm(x, weight: nil, bias: nil, eps: 1e-6)
        let asNCHW = x.reshaped([6, 37, 1, 1])
        let expected = naiveLayerNorm2d(asNCHW, Tensor(repeating: 1, shape: [37]), Tensor.zeros([37]), eps: 1e-6)
        assertClose(y, expected, shape: [3, 2, 37], tolerance: 2e-6)
    }

    func testLayerNormGradients() {
        let x = randomTensor([3, 5], seed: 2, requiresGrad: true)
        let w = randomTensor([5], seed: 3, requiresGrad: true), b = randomTensor([5], seed: 4, requiresGrad: true)
        assertGradientsMatchFiniteDifferences([x, w, b]) { layerNorm($0[0], weight: $0[1], bias: $0[2], eps: 1e-5) }
        assertGradientsMatchFiniteDifferences([x.detached().requiringGrad()]) { layerNorm($0[0], weight: nil, bias: nil, eps: 1e-5) }
        assertGradientsMatchFiniteDifferences([x.detached(), w.detached(), b.detached().requiringGrad()]) {
            layerNorm($0[0], weight: $0[1], bias: $0[2], eps: 1e-5)
        }
    }

    func testLayerNorm2dMatchesTorch() {
        assertClose(layerNorm2d(x3, weight: w4, bias: b4, eps: 1e-6), [
            -2.1955630779266357, -2.01192569732666, -1.6828306913375854, -1.9107718467712402, -2.1872153282165527,
            -1.4500542879104614, 0.6250882744789124, 1.5708216428756714, 1.9447405338287354, 1.6479634046554565,
            0.6946671605110168, 0.9731711745262146, 0.08100943267345428, -0.19961266219615936, -0.3637463450431824,
            -0.26320111751556396, 0.02368074655532837, 0.682883620262146, 0.9625171422958374, 0.8528733253479004,
            0.7404308915138245, 0.8344102501869202, 0.9601334929466248, 0.9426460862159729, 0.7120973467826843,
            0.5614991188049316, 0.37291741371154785, 0.5003816485404968, 0.6945541501045227, 0.5185831189155579,
            -0.35503581166267395, -0.8100828528404236, -1.0065789222717285, -0.8494850397109985, -0.3871505558490753,
            -0.5176026225090027, 0.07999959588050842, -0.4649639129638672, -0.808094322681427, -0.595001220703125,
            -0.02812357433140278, 1.123497724533081, 1.418147325515747, 1.109082818031311, 0.8576844334602356,
            1.0660711526870728, 1.4060360193252563, 1.3426992893218994,
        ], shape: [1, 4, 3, 4], tolerance: 2e-6)
    }

    func testLayerNorm2dTilesMatchNaive() {
        // Several images, spatial sizes with partial tiles, and more than one tile per image.
        for shape in [[2, 5, 7, 9], [1, 3, 20, 20], [3, 64, 7, 7], [1, 1, 2, 3]] {
            let x = randomTensor(shape, seed: 5, scale: 3)
            let w = randomTensor([shape[1]], seed: 6), b = randomTensor([shape[1]], seed: 7)
            assertClose(layerNorm2d(x, weight: w, bias: b, eps: 1e-6), naiveLayerNorm2d(x, w, b, eps: 1e-6),
                        tolerance: 3e-6)
        }
    }

    func testLayerNorm2dGradients() {
        let x = randomTensor([2, 3, 4, 5], seed: 8, requiresGrad: true)
        let w = randomTensor([3], seed: 9, requiresGrad: true), b = randomTensor([3], seed: 10, requiresGrad: true)
        assertGradientsMatchFiniteDifferences([x, w, b]) { layerNorm2d($0[0], weight: $0[1], bias: $0[2], eps: 1e-6) }
        assertGradientsMatchFiniteDifferences([x.detached().requiringGrad()]) { layerNorm2d($0[0], weight: nil, bias: nil, eps: 1e-6) }
    }

    func testBatchNormMatchesTorch() {
        let m = Tensor(shape: [4], scalars: [0.1, -0.2, 0.0, 0.3]), v = Tensor(shape: [4], scalars: [1.0, 0.5, 2.0, 0.8])
        assertClose(batchNorm2d(x3, mean: m, variance: v, weight: w4, bias: b4, eps: 1e-5), [
            -1.99998939037323, -0.5235045552253723, -0.20748087763786316, -1.1454564332962036, -2.2780489921569824,
            -2.366945505142212, -1.133402705192566, 0.4854780435562134, 1.1983177661895752, 0.5467469692230225,
            -0.6731705665588379, -1.1428362131118774, 0.5844612717628479, -0.041542138904333115, -0.3943931758403778,
            -0.10324627161026001, 0.6106556057929993, 1.13739013671875, 1.0391162633895874, 0.4526224136352539,
            -0.03643559291958809, 0.06801589578390121, 0.7163806557655334, 1.358991265296936, -0.5379273295402527,
            -0.18736276030540466, 0.010235325433313847, -0.15280817449092865, -0.5525962114334106, -0.8475697636604309,
            -0.7925360202789307, -0.4640969932079315, -0.19022244215011597, -0.24871571362018585, -0.6118026971817017,
            -0.9716674089431763, -1.3151109218597412, -0.46772173047065735, -0.2863483428955078, -0.8246744871139526,
            -1.4746956825256348, -1.5257155895233154, -0.8177565336227417, 0.11135697364807129, 0.5204723477363586,
            0.14652065932750702, -0.5536185503005981, -0.8231706619262695,
        ], shape: [1, 4, 3, 4], tolerance: 2e-6)
    }

    func testBatchNormGradients() {
        let x = randomTensor([2, 3, 2, 3], seed: 11, requiresGrad: true)
        let m = randomTensor([3], seed: 12, requiresGrad: true)
        let v = Tensor(shape: [3], scalars: [0.5, 1.0, 2.0], requiresGrad: true)
        let w = randomTensor([3], seed: 13, requiresGrad: true), b = randomTensor([3], seed: 14, requiresGrad: true)
        assertGradientsMatchFiniteDifferences([x, m, v, w, b], epsilon: 1e-3) {
            batchNorm2d($0[0], mean: $0[1], variance: $0[2], weight: $0[3], bias: $0[4], eps: 1e-5)
        }
        assertGradientsMatchFiniteDifferences([x.detached().requiringGrad(), m.detached(), v.detached()]) {
            batchNorm2d($0[0], mean: $0[1], variance: $0[2], weight: nil, bias: nil, eps: 1e-5)
        }
        assertGradientsMatchFiniteDifferences([x.detached(), m.detached(), v.detached(), b.detached().requiringGrad()]) {
            batchNorm2d($0[0], mean: $0[1], variance: $0[2], weight: nil, bias: $0[3], eps: 1e-5)
        }
    }

    func testGlobalResponseNormMatchesTorch() {
        assertClose(globalResponseNorm2d(x3, weight: w4, bias: b4), [
            -3.49194598197937, -0.7722123861312866, -0.19008633494377136, -1.9178681373596191, -4.004140377044678,
            -4.167891025543213, -1.8956646919250488, 1.0863667726516724, 2.3994410037994385, 1.1992261409759521,
            -1.0479021072387695, -1.9130417108535767, -0.07560735940933228, 0.25247272849082947, 0.437397301197052,
            0.2848110496997833, -0.08933544158935547, -0.3653900623321533, -0.31388604640960693, -0.006512343883514404,
            0.24979645013809204, 0.1950548142194748, -0.14474457502365112, -0.4815281629562378, -0.9927483797073364,
            0.02795425057411194, 0.6032801866531372, 0.12856325507164001, -1.0354583263397217, -1.894302248954773,
            -1.7340662479400635, -0.7777842283248901, 0.019628018140792847, -0.150680810213089, -1.2078436613082886,
            -2.255624532699585, -1.4344868659973145, -0.17170217633247375, 0.09858159720897675, -0.7036353945732117,
            -1.6723010540008545, -1.748331069946289, -0.6933262348175049, 0.6912445425987244, 1.3009109497070312,
            0.7436456680297852, -0.2997061312198639, -0.7013943791389465,
        ], shape: [1, 4, 3, 4], tolerance: 2e-6)
    }

    func testGlobalResponseNormMatchesNaiveOnSeveralImages() {
        let x = randomTensor([2, 6, 5, 7], seed: 15, scale: 2)
        let w = randomTensor([6], seed: 16), b = randomTensor([6], seed: 17)
        var expected = [Float](repeating: 0, count: x.count)
        for n in 0..<2 {
            let gx = (0..<6).map { c in (0..<35).reduce(0.0) { let v = Double(x.scalars[(n * 6 + c) * 35 + $1]); return $0 + v * v }.squareRoot() }
            let d = gx.reduce(0, +) / 6 + 1e-6
            for c in 0..<6 {
                for j in 0..<35 {
                    let i = (n * 6 + c) * 35 + j, v = Double(x.scalars[i])
                    expected[i] = Float(v + Double(b.scalars[c]) + Double(w.scalars[c]) * v * gx[c] / d)
                }
            }
        }
        assertClose(globalResponseNorm2d(x, weight: w, bias: b), expected, tolerance: 2e-6)
    }

    func testGlobalResponseNormGradients() {
        let x = randomTensor([2, 3, 2, 3], seed: 18, requiresGrad: true)
        let w = randomTensor([3], seed: 19, requiresGrad: true), b = randomTensor([3], seed: 20, requiresGrad: true)
        assertGradientsMatchFiniteDifferences([x, w, b], epsilon: 1e-3) { globalResponseNorm2d($0[0], weight: $0[1], bias: $0[2]) }
    }

    func testGlobalResponseNormGradientIsFiniteOnAZeroPlane() throws {
        var values = randomTensor([1, 3, 2, 2], seed: 21).scalars
        for i in 4..<8 { values[i] = 0 }
        let x = Tensor(shape: [1, 3, 2, 2], scalars: values, requiresGrad: true)
        try globalResponseNorm2d(x, weight: randomTensor([3], seed: 22), bias: randomTensor([3], seed: 23)).backward()
        XCTAssertTrue(x.grad!.scalars.allSatisfy(\.isFinite))
        // The zero plane passes its gradient straight through (its norm term is 0 there).
        XCTAssertEqual(Array(x.grad!.scalars[4..<8]), [1, 1, 1, 1])
    }
}
