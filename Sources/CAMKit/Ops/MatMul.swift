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
            sgemmBatch(count: batch, m: m, n: n, k: k, transposeA: transposeA, transposeB: transposeB,
                       a: { pa + $0 * m * k }, b: { pb + $0 * strideB }, c: { c + $0 * m * n })
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

/// NumPy/ONNX MatMul for operands of rank ≥ 1: (…, M, K) × (…, K, N) with the batch axes
/// broadcast. A 1-D left operand is a row (1, K) and a 1-D right operand a column (K, 1), and
/// that axis is dropped from the result again.
///
/// All products go through `sgemm`. A right operand shared by the whole batch (a 2-D weight)
/// makes the batch more rows of one GEMM, forward and backward (its gradient is then one GEMM
/// over all rows, not a sum of per-entry products); otherwise there is one GEMM per batch entry,
/// spread over the cores by entry when each is too small to be split into tiles.
public func matmulBroadcast(_ a: Tensor, _ b: Tensor) -> Tensor {
    precondition(a.rank >= 1 && b.rank >= 1, "matmulBroadcast takes operands of rank 1 or more, got \(a.shape) and \(b.shape)")
    let p = BroadcastProduct(a.shape, b.shape)
    let out = Tensor(shape: p.outputShape) { out in
        guard let c = out.baseAddress, out.count > 0 else { return }
        a.withScalars { pa in b.withScalars { pb in p.multiply(pa, pb, into: c) } }
    }
    return Tensor.record(out, op: "matmul", inputs: [a, b]) { g, needs in
        g.withScalars { pg in
            [needs[0] ? Tensor(shape: a.shape) { da in b.withScalars { pb in p.gradientA(pg, pb, into: da) } } : nil,
             needs[1] ? Tensor(shape: b.shape) { db in a.withScalars { pa in p.gradientB(pa, pg, into: db) } } : nil]
        }
    }
}

/// The geometry of a broadcast batched product and the GEMMs of its forward and backward.
private struct BroadcastProduct {
    let m: Int, k: Int, n: Int
    let outputShape: [Int]
    /// Element offsets, per output batch entry (row-major over the broadcast batch axes), of
    /// its A, B and C matrices.
    let aOffsets: [Int], bOffsets: [Int], cOffsets: [Int]
    /// Every entry has the same B and its own A.
    let sharedB: Bool

    init(_ aShape: [Int], _ bShape: [Int]) {
        let a = aShape.count == 1 ? [1] + aShape : aShape, b = bShape.count == 1 ? bShape + [1] : bShape
        (m, k, n) = (a[a.count - 2], a[a.count - 1], b[b.count - 1])
        precondition(b[b.count - 2] == k, "matmulBroadcast: inner dimensions of \(aShape) and \(bShape) differ")
        let batchA = Array(a.dropLast(2)), batchB = Array(b.dropLast(2))
        guard let batch = broadcastShape(batchA, batchB) else {
            preconditionFailure("matmulBroadcast: batch axes of \(aShape) and \(bShape) do not broadcast")
        }
        outputShape = batch + (aShape.count > 1 ? [m] : []) + (bShape.count > 1 ? [n] : [])
        let layout = BroadcastLayout(output: batch, operands: [batchA, batchB])
        var walk = StridedWalk(sizes: layout.sizes, strides: layout.strides)
        var aOffsets: [Int] = [], bOffsets: [Int] = []
        for _ in 0..<batch.product {
            aOffsets.append(walk.offsets[0] * m * k)
            bOffsets.append(walk.offsets[1] * k * n)
            walk.advance()
        }
        (self.aOffsets, self.bOffsets) = (aOffsets, bOffsets)
        let matrix = m * n
        cOffsets = aOffsets.indices.map { $0 * matrix }
        sharedB = batchB.product == 1 && batchA.product == batch.product
    }

    var entries: Int { cOffsets.count }

    /// C = A B.
    func multiply(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, into c: UnsafeMutablePointer<Float>) {
        product(a, aOffsets, b, bOffsets, c, cOffsets, count: entries * m * n, size: (m, n, k), merged: (entries * m, n, k),
                transposeX: false, transposeY: false, accumulate: false)
    }

    /// dA = G Bᵀ, summed over the entries that share an A.
    func gradientA(_ g: UnsafePointer<Float>, _ b: UnsafePointer<Float>, into da: UnsafeMutableBufferPointer<Float>) {
        guard let pa = da.baseAddress else { return }
        product(g, cOffsets, b, bOffsets, pa, aOffsets, count: da.count, size: (m, k, n), merged: (entries * m, k, n),
                transposeX: false, transposeY: true, accumulate: true)
    }

    /// dB = Aᵀ G, summed over the entries that share a B (for a shared B, one GEMM over all rows).
    func gradientB(_ a: UnsafePointer<Float>, _ g: UnsafePointer<Float>, into db: UnsafeMutableBufferPointer<Float>) {
        guard let pb = db.baseAddress else { return }
        product(a, aOffsets, g, cOffsets, pb, bOffsets, count: db.count, size: (k, n, m), merged: (k, n, entries * m),
                transposeX: true, transposeY: false, accumulate: true)
    }

    /// C[i] = op(X[i]) op(Y[i]) (`size` rows × columns × depth) for every entry i, the `count`
    /// elements of C zeroed first when `accumulate` (entries that share a C then add into it
    /// in entry order). For a shared B the whole batch is the one GEMM `merged` instead.
    /// Entries that each have their own C share all their tiles over the threads; entries that
    /// add into a shared C run in order, each GEMM sharing its tiles. Either way every element
    /// is summed by the same call whatever the thread count.
    private func product(_ x: UnsafePointer<Float>, _ xOffsets: [Int], _ y: UnsafePointer<Float>, _ yOffsets: [Int],
                         _ c: UnsafeMutablePointer<Float>, _ targets: [Int], count: Int,
                         size: (m: Int, n: Int, k: Int), merged: (m: Int, n: Int, k: Int),
                         transposeX: Bool, transposeY: Bool, accumulate: Bool) {
        if accumulate || size.k == 0 { c.initialize(repeating: 0, count: count) }
        guard size.m > 0, size.n > 0, size.k > 0 else { return }
        if sharedB {
            sgemm(x, y, c, m: merged.m, n: merged.n, k: merged.k, transposeA: transposeX, transposeB: transposeY)
            return
        }
        if Set(targets).count == targets.count {
            sgemmBatch(count: targets.count, m: size.m, n: size.n, k: size.k, transposeA: transposeX, transposeB: transposeY,
                       accumulate: accumulate, a: { x + xOffsets[$0] }, b: { y + yOffsets[$0] }, c: { c + targets[$0] })
        } else {
            for i in targets.indices {
                sgemm(x + xOffsets[i], y + yOffsets[i], c + targets[i], m: size.m, n: size.n, k: size.k,
                      transposeA: transposeX, transposeB: transposeY, accumulate: accumulate)
            }
        }
    }
}
