import Foundation

/// ROAD's noisy linear imputation (Rong et al. 2022, as pytorch-grad-cam takes it from the
/// authors): every removed pixel becomes the weighted mean of its eight neighbours (1/6 for
/// edge neighbours, 1/12 for corners, over those inside the image), removed neighbours being
/// unknowns too — one sparse linear system per channel — plus Gaussian noise. Filling in from
/// the surroundings, unlike a constant, does not tell the model where pixels were removed.
///
/// The system is symmetric positive semi-definite, solved by conjugate gradients. The noise
/// comes from our own seeded generator (the reference draws from torch's): set `noise` to 0
/// to compare with the reference.
public struct NoisyLinearImputer: Sendable {
    /// Standard deviation of the noise added to the imputed values (the reference's 0.01).
    public var noise: Float
    public var seed: UInt32

    public init(noise: Float = 0.01, seed: UInt32 = 0) {
        self.noise = noise
        self.seed = seed
    }

    private static let neighbours: [(dy: Int, dx: Int, weight: Double)] = [
        (1, 1, 1.0 / 12), (0, 1, 1.0 / 6), (-1, 1, 1.0 / 12), (1, -1, 1.0 / 12),
        (0, -1, 1.0 / 6), (-1, -1, 1.0 / 12), (1, 0, 1.0 / 6), (-1, 0, 1.0 / 6),
    ]

    /// `image` (C·H·W) with the pixels where `keep` is false imputed.
    public func impute(_ image: [Float], channels: Int, height: Int, width: Int, keep: [Bool]) -> [Float] {
        let plane = height * width
        precondition(image.count == channels * plane && keep.count == plane, "image of \(image.count) values, mask of \(keep.count), for \(channels)×\(height)×\(width)")
        let unknown = (0..<plane).filter { !keep[$0] }
        guard !unknown.isEmpty else { return image }
        var variable = [Int](repeating: -1, count: plane)
        for (v, p) in unknown.enumerated() { variable[p] = v }
        // Row v: diagonal Σ valid weights; −w to unknown neighbours (compressed rows); known
        // neighbours go to the right-hand side.
        var system = SparseSystem(size: unknown.count)
        var knownLinks = [[(Int, Double)]](repeating: [], count: unknown.count)
        for (v, p) in unknown.enumerated() {
            let (y, x) = (p / width, p % width)
            for n in Self.neighbours {
                let (ny, nx) = (y + n.dy, x + n.dx)
                guard ny >= 0, nx >= 0, ny < height, nx < width else { continue }
                system.diagonal[v] += n.weight
                let q = ny * width + nx
                if keep[q] {
                    knownLinks[v].append((q, n.weight))
                } else {
                    system.columns.append(variable[q])
                    system.weights.append(n.weight)
                }
            }
            system.rowEnds[v] = system.columns.count
        }
        var out = image
        let generator = MersenneTwister(seed: seed)
        for c in 0..<channels {
            let base = c * plane
            let rhs = knownLinks.map { $0.reduce(0.0) { $0 + $1.1 * Double(image[base + $1.0]) } }
            let solution = system.solve(rhs)
            for (v, p) in unknown.enumerated() {
                out[base + p] = Float(solution[v]) + (noise == 0 ? 0 : noise * Float(generator.nextGaussian()))
            }
        }
        return out
    }
}

/// (D − W) x = b in compressed rows, solved by conjugate gradients; x = 0 on components where
/// b is 0 (removed regions that touch no kept pixel, where the system is singular).
private struct SparseSystem {
    var diagonal: [Double]
    var rowEnds: [Int]
    var columns: [Int] = []
    var weights: [Double] = []

    init(size: Int) {
        diagonal = [Double](repeating: 0, count: size)
        rowEnds = [Int](repeating: 0, count: size)
    }

    func solve(_ b: [Double]) -> [Double] {
        let n = b.count
        var x = [Double](repeating: 0, count: n), r = b, p = b, ap = [Double](repeating: 0, count: n)
        func dot(_ a: [Double], _ c: [Double]) -> Double {
            a.withUnsafeBufferPointer { a in c.withUnsafeBufferPointer { c in (0..<n).reduce(0.0) { $0 + a[$1] * c[$1] } } }
        }
        var rr = dot(r, r)
        let stop = rr * 1e-24
        var iterations = 0
        while rr > stop && iterations < 10 * n + 100 {
            iterations += 1
            diagonal.withUnsafeBufferPointer { d in
                columns.withUnsafeBufferPointer { cols in
                    weights.withUnsafeBufferPointer { w in
                        p.withUnsafeBufferPointer { p in
                            var start = 0
                            for i in 0..<n {
                                var sum = d[i] * p[i]
                                for k in start..<rowEnds[i] { sum -= w[k] * p[cols[k]] }
                                ap[i] = sum
                                start = rowEnds[i]
                            }
                        }
                    }
                }
            }
            let alpha = rr / dot(p, ap)
            for i in 0..<n { x[i] += alpha * p[i]; r[i] -= alpha * ap[i] }
            let next = dot(r, r)
            let beta = next / rr
            rr = next
            for i in 0..<n { p[i] = r[i] + beta * p[i] }
        }
        return x
    }
}

extension MersenneTwister {
    /// A standard normal draw (Box–Muller).
    func nextGaussian() -> Double {
        let u = 1 - nextDouble(), v = nextDouble()
        return (-2 * Foundation.log(u)).squareRoot() * Foundation.cos(2 * Double.pi * v)
    }
}
