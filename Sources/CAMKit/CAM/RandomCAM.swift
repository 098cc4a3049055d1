/// RandomCAM, a baseline that ignores the model: each channel gets a weight drawn uniformly
/// from [−1, 1). A method whose maps look no better than these explains nothing; the sanity
/// checks and metrics use it as the floor. The draws are numpy's legacy `np.random.uniform`
/// after `np.random.seed(seed)` (Mersenne Twister), so a seeded run equals the reference's.
public struct RandomCAM: ChannelWeightingMethod {
    public let name = "randomcam"
    public let usesGradients = false
    private let generator: MersenneTwister

    /// Successive layers and calls continue one stream of draws, as the reference's global one.
    public init(seed: UInt32 = 0) { generator = MersenneTwister(seed: seed) }

    public func channelWeights(_ layer: LayerState, context: CAMContext) throws -> [Float] {
        (0..<(layer.batch * layer.channels)).map { _ in Float(-1 + 2 * generator.nextDouble()) }
    }
}

/// MT19937 as numpy's legacy `RandomState` seeds it from an integer, and its 53-bit doubles.
final class MersenneTwister {
    private var state = [UInt32](repeating: 0, count: 624)
    private var index = 624

    init(seed: UInt32) {
        state[0] = seed
        for i in 1..<624 { state[i] = 1_812_433_253 &* (state[i - 1] ^ (state[i - 1] >> 30)) &+ UInt32(i) }
    }

    func nextUInt32() -> UInt32 {
        if index >= 624 {
            for i in 0..<624 {
                let y = (state[i] & 0x8000_0000) | (state[(i + 1) % 624] & 0x7fff_ffff)
                state[i] = state[(i + 397) % 624] ^ (y >> 1) ^ (y & 1 == 0 ? 0 : 0x9908_b0df)
            }
            index = 0
        }
        var y = state[index]
        index += 1
        y ^= y >> 11
        y ^= (y << 7) & 0x9d2c_5680
        y ^= (y << 15) & 0xefc6_0000
        return y ^ (y >> 18)
    }

    /// numpy's `random_sample`: (a >> 5, b >> 6) joined into a double in [0, 1).
    func nextDouble() -> Double {
        let a = Double(nextUInt32() >> 5), b = Double(nextUInt32() >> 6)
        return (a * 67_108_864 + b) / 9_007_199_254_740_992
    }
}
