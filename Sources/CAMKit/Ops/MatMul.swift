/// The product without recording, for forward and backward passes alike.
private func matmulValue(_ a: Tensor, _ b: Tensor, transposeA: Bool, transposeB: Bool) -> Tensor {
    precondition((a.rank == 2 || a.rank == 3) && (b.rank == 2 || (b.rank == 3 && a.rank == 3)),
                 "matmul takes (M,K)x(K,N) or (B,M,K)x(B,K,N) or (B,M,K)x(K,N), got \(a.shape) and \(b.shape)")
    let batch = a.rank == 3 ? a.shape[0] : 1
    let (ar, ac) = (a.shape[a.rank - 2], a.shape[a.rank - 1])
    let (br, bc) = (b.shape[b.rank - 2], b.shape[b.rank - 1])
    let (m, k) = transposeA ? (ac, ar) : (ar, ac)
    let (kb, n) = transposeB ? (bc, br) : (br, bc)
    precondition(k == kb, "matmul inner dimensions differ: \(a.shape)\(transposeA ? "ᵀ" : "") x \(b.shape)\(transposeB ? "ᵀ" : "")")
    precondition(b.rank == 2 || b.shape[0] == batch, "matmul batch sizes differ: \(a.shape) and \(b.shape)")
    let shape = a.rank == 3 ? [batch, m, n] : [m, n]
    return Tensor(shape: shape) { out in
        guard let c = out.baseAddress else { return }
        a.withScalars { pa in b.withScalars { pb in
            if k == 0 { c.initialize(repeating: 0, count: out.count); return }
            if b.rank == 2 && !transposeA {
                // A shared right operand: the batch is just more rows of one product.
                sgemm(pa, pb, c, m: batch * m, n: n, k: k, transposeA: false, transposeB: transposeB)
                return
            }
            let strideB = b.rank == 3 ? k * n : 0
            for i in 0..<batch {
                sgemm(pa + i * m * k, pb + i * strideB, c + i * m * n, m: m, n: n, k: k,
                      transposeA: transposeA, transposeB: transposeB)
            }
        } }
    }
}

/// 2-D (M,K)x(K,N) or batched 3-D (B,M,K)x(B,K,N) (b may also be 2-D and shared across the batch); cblas_sgemm.
public func matmul(_ a: Tensor, _ b: Tensor, transposeA: Bool = false, transposeB: Bool = false) -> Tensor {
    traced([a, b], { untracedMatmul(a, b, transposeA: transposeA, transposeB: transposeB) }) { v, tracer in
        // The graph's matmul does not transpose: a transpose node before it does.
        func operand(_ i: Int, transposed: Bool) -> Int {
            let rank = tracer.shape(of: v[i]).count
            return transposed ? tracer.insert(.transpose(Array(0..<(rank - 2)) + [rank - 1, rank - 2]), [v[i]]) : v[i]
        }
        return (.matmul, [operand(0, transposed: transposeA), operand(1, transposed: transposeB)])
    }
}

private func untracedMatmul(_ a: Tensor, _ b: Tensor, transposeA: Bool, transposeB: Bool) -> Tensor {
    let out = matmulValue(a, b, transposeA: transposeA, transposeB: transposeB)
    return Tensor.record(out, op: "matmul", inputs: [a, b]) { g, needs in
        // With A' = op(A), B' = op(B): dA' = G B'ᵀ and dB' = A'ᵀ G, transposed back where op transposed.
        var gradA: Tensor?, gradB: Tensor?
        if needs[0] {
            gradA = transposeA
                ? matmulValue(b.rank == 2 && a.rank == 3 ? broadcastBatch(b, a.shape[0]) : b, g,
                              transposeA: transposeB, transposeB: true)
                : matmulValue(g, b, transposeA: false, transposeB: !transposeB)
        }
        if needs[1] {
            let batched = transposeB
                ? matmulValue(g, a, transposeA: true, transposeB: transposeA)
                : matmulValue(a, g, transposeA: !transposeA, transposeB: false)
            gradB = b.rank == 2 && batched.rank == 3 ? batched.sum(axis: 0) : batched
        }
        return [gradA, gradB]
    }
}

/// `b` repeated `batch` times along a new leading axis.
private func broadcastBatch(_ b: Tensor, _ batch: Int) -> Tensor {
    Tensor(shape: [batch] + b.shape, scalars: Array([[Float]](repeating: b.scalars, count: batch).joined()))
}

/// x (..., in), weight (out, in) as PyTorch nn.Linear stores it, bias (out) or nil -> (..., out). One sgemm.
public func linear(_ x: Tensor, weight: Tensor, bias: Tensor?) -> Tensor {
    traced(.linear, [x, weight] + (bias.map { [$0] } ?? [])) { untracedLinear(x, weight: weight, bias: bias) }
}

private func untracedLinear(_ x: Tensor, weight: Tensor, bias: Tensor?) -> Tensor {
    precondition(weight.rank == 2 && x.rank >= 1 && x.shape.last == weight.shape[1],
                 "linear input \(x.shape) does not match weight \(weight.shape) (out, in)")
    let (outFeatures, inFeatures) = (weight.shape[0], weight.shape[1])
    precondition(bias == nil || bias!.shape == [outFeatures],
                 "linear bias \(bias!.shape) does not match weight \(weight.shape)")
    let rows = x.count / max(inFeatures, 1)
    let out = Tensor(shape: x.shape.dropLast() + [outFeatures]) { out in
        guard let y = out.baseAddress else { return }
        if let bias {
            bias.withScalars { pb in for r in 0..<rows { (y + r * outFeatures).update(from: pb, count: outFeatures) } }
        } else if inFeatures == 0 {
            y.initialize(repeating: 0, count: out.count)
        }
        guard inFeatures > 0 else { return }
        x.withScalars { px in weight.withScalars { pw in
            sgemm(px, pw, y, m: rows, n: outFeatures, k: inFeatures, transposeA: false, transposeB: true,
                  accumulate: bias != nil)
        } }
    }
    let inputs = [x, weight] + (bias.map { [$0] } ?? [])
    return Tensor.record(out, op: "linear", inputs: inputs) { g, needs in
        var grads: [Tensor?] = [nil, nil, nil]
        g.withScalars { pg in
            if needs[0] {
                grads[0] = Tensor(shape: x.shape) { dx in
                    guard let p = dx.baseAddress else { return }
                    weight.withScalars { pw in
                        sgemm(pg, pw, p, m: rows, n: inFeatures, k: outFeatures, transposeA: false, transposeB: false)
                    }
                }
            }
            if needs[1] {
                grads[1] = Tensor(shape: weight.shape) { dw in
                    guard let p = dw.baseAddress else { return }
                    x.withScalars { px in
                        sgemm(pg, px, p, m: outFeatures, n: inFeatures, k: rows, transposeA: true, transposeB: false)
                    }
                }
            }
            if bias != nil && needs[2] { grads[2] = g.reshaped([rows, outFeatures]).sum(axis: 0) }
        }
        return Array(grads.prefix(inputs.count))
    }
}
