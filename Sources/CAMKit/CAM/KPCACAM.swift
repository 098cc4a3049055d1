import COpenBLAS
import Foundation

/// KPCA-CAM (Karmani et al. 2024): Eigen-CAM with kernel PCA: each image's pixels, as samples
/// of their channel values centred per channel, projected on the first principal component of
/// a sigmoid kernel `tanh(γ·xᵀy + 1)` (γ = 1/channels by default), which captures non-linear
/// structure a plain SVD misses. As scikit-learn's `KernelPCA`: the kernel matrix centred, its
/// top eigenvector signed so that its largest-magnitude entry is positive, scaled by √λ.
/// Class-agnostic and needs no gradient.
public struct KPCACAM: CAMMethod {
    public let name = "kpcacam"
    public let usesGradients = false
    /// γ of the kernel; nil for 1 / channels.
    public var gamma: Double?

    public init(gamma: Double? = nil) { self.gamma = gamma }

    public func rawMaps(_ layer: LayerState, context: CAMContext) throws -> Tensor {
        let (c, pixels) = (layer.channels, layer.height * layer.width)
        let a = layer.activations.scalars
        var out: [Float] = []
        for image in 0..<layer.batch {
            // x[p][ch], centred per channel as the reference does before the kernel.
            var x = [[Double]](repeating: [Double](repeating: 0, count: c), count: pixels)
            for ch in 0..<c {
                let base = (image * c + ch) * pixels
                let plane = (0..<pixels).map { a[base + $0].isNaN ? 0 : Double(a[base + $0]) }
                let mean = plane.reduce(0, +) / Double(pixels)
                for p in 0..<pixels { x[p][ch] = plane[p] - mean }
            }
            let g = gamma ?? 1 / Double(c)
            var k = [Double](repeating: 0, count: pixels * pixels)
            for i in 0..<pixels {
                for j in 0...i {
                    let dot = zip(x[i], x[j]).reduce(0.0) { $0 + $1.0 * $1.1 }
                    k[i * pixels + j] = Foundation.tanh(g * dot + 1)
                    k[j * pixels + i] = k[i * pixels + j]
                }
            }
            let (value, vector) = try Self.topEigenpair(of: Self.centred(k, n: pixels), n: pixels)
            let scale = max(value, 0).squareRoot()
            out += vector.map { Float($0 * scale) }
        }
        return Tensor(shape: [layer.batch, layer.height, layer.width], scalars: out)
    }

    /// scikit-learn's `KernelCenterer`: K − row means − column means + the overall mean.
    private static func centred(_ k: [Double], n: Int) -> [Double] {
        let rowMeans = (0..<n).map { i in (0..<n).reduce(0.0) { $0 + k[i * n + $1] } / Double(n) }
        let all = rowMeans.reduce(0, +) / Double(n)
        return (0..<(n * n)).map { k[$0] - rowMeans[$0 / n] - rowMeans[$0 % n] + all }
    }

    /// The largest eigenvalue of a symmetric matrix and its eigenvector, signed so that the
    /// entry of largest magnitude is positive (scikit-learn's `svd_flip`).
    private static func topEigenpair(of matrix: [Double], n: Int) throws -> (Double, [Double]) {
        var a = matrix
        var size = Int32(n), lda = Int32(max(n, 1)), info: Int32 = 0
        var w = [Double](repeating: 0, count: n)
        var query = 0.0
        var lwork: Int32 = -1
        dsyev_("V", "U", &size, &a, &lda, &w, &query, &lwork, &info, 1, 1)
        lwork = Int32(query)
        var work = [Double](repeating: 0, count: Int(lwork))
        dsyev_("V", "U", &size, &a, &lda, &w, &work, &lwork, &info, 1, 1)
        guard info == 0 else { throw CAMError.eigenFailed(info: Int(info), size: n) }
        var vector = Array(a[(n - 1) * n ..< n * n])
        let largest = vector.indices.max { abs(vector[$0]) < abs(vector[$1]) } ?? 0
        if vector[largest] < 0 { vector = vector.map { -$0 } }
        return (w[n - 1], vector)
    }
}
