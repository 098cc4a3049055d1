/// `nn.MultiheadAttention` (batch-first) over a short sequence of tokens.
///
/// The seed's morphological extractor computes one and discards its output; its weights
/// (`in_proj_weight`, `in_proj_bias`, `out_proj.*`) are in every checkpoint, so it exists to
/// load them and to be called by whoever wants its output.
final class MultiheadAttention: Module {
    let dim: Int
    let heads: Int
    let inProjWeight: Parameter
    let inProjBias: Parameter
    let outProj: Linear

    init(_ dim: Int, heads: Int) {
        precondition(dim % heads == 0, "attention width \(dim) is not divisible by \(heads) heads")
        self.dim = dim
        self.heads = heads
        inProjWeight = Parameter(shape: [3 * dim, dim])
        inProjBias = Parameter(shape: [3 * dim])
        outProj = Linear(dim, dim)
        super.init()
        adopt("in_proj_weight", inProjWeight)
        adopt("in_proj_bias", inProjBias)
        register("out_proj", outProj)
    }

    /// Self-attention of `x` (N, L, dim) with itself, as `attention(x, x, x)[0]`.
    /// Gradients flow to `x`; the packed in-projection is sliced, so it gets none.
    override func forward(_ x: Tensor) -> Tensor {
        let (n, length) = (x.shape[0], x.shape[1])
        let headDim = dim / heads
        func project(_ part: Int) -> Tensor {
            let rows = part * dim ..< (part + 1) * dim
            let w = Tensor(shape: [dim, dim], scalars: Array(inProjWeight.value.scalars[rows.lowerBound * dim ..< rows.upperBound * dim]))
            let b = Tensor(shape: [dim], scalars: Array(inProjBias.value.scalars[rows]))
            return linear(x, weight: w, bias: b)
                .reshaped([n, length, heads, headDim]).permuted([0, 2, 1, 3]).reshaped([n * heads, length, headDim])
        }
        let (q, k, v) = (project(0), project(1), project(2))
        let scores = matmul(q, k, transposeB: true) * (1 / Float(headDim).squareRoot())
        let mixed = matmul(softmax(scores, axis: -1), v)  // (N·h, L, hd)
        let merged = mixed.reshaped([n, heads, length, headDim]).permuted([0, 2, 1, 3]).reshaped([n, length, dim])
        return outProj(merged)
    }
}
