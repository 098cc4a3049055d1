import Foundation

/// The seed's multi-head attention over the heads of one feature vector (not over tokens):
/// the vector is split into h heads that attend to each other.
final class HeadAttention: Module {
    let heads: Int
    let headDim: Int
    let mode: SeedAttentionMode
    let fcIn: Linear
    let query: Linear
    let key: Linear
    let value: Linear
    let fcOut: Linear

    init(_ dim: Int, mode: SeedAttentionMode) {
        heads = max(1, min(8, dim / 64))
        headDim = dim / heads
        self.mode = mode
        let scaled = heads * headDim
        fcIn = Linear(dim, scaled)
        query = Linear(scaled, scaled)
        key = Linear(scaled, scaled)
        value = Linear(scaled, scaled)
        fcOut = Linear(scaled, dim)
        super.init()
        register("fc_in", fcIn)
        register("query", query)
        register("key", key)
        register("value", value)
        register("fc_out", fcOut)
    }

    override func forward(_ x: Tensor) -> Tensor {
        let n = x.shape[0]
        let h = fcIn(x)
        let q = query(h).reshaped([n, heads, headDim])
        let k = key(h).reshaped([n, heads, headDim])
        let v = value(h).reshaped([n, heads, headDim])
        let energy = matmul(q, k, transposeB: true) * (1 / Float(headDim).squareRoot())
        let attention = softmax(energy, axis: -1)
        let mixed: Tensor
        switch mode {
        case .original:
            // einsum("nqk,nvd->nqd") = (Σ_k attention[n,q,k]) · (Σ_v v[n,v,d])
            mixed = attention.sum(axis: 2, keepDims: true) * v.sum(axis: 1, keepDims: true)
        case .intended:
            mixed = matmul(attention, v)
        }
        return fcOut(mixed.reshaped([n, heads * headDim]))
    }
}
