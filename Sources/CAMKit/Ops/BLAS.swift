import COpenBLAS

/// Row-major single-precision GEMM, the one door to OpenBLAS's `cblas_sgemm`:
/// C = op(A) op(B) + beta C, where `op` transposes when asked.
///
/// OpenBLAS's own threading cuts C into as many parts as it has threads, and an element's sum
/// then depends on which micro-kernel (full tile or edge) its part gives it, so the results
/// change with the thread count. Here OpenBLAS runs single-threaded on tiles whose bounds come
/// from the shape alone (`GEMMTiling`), and our threads share out whole tiles: every element is
/// computed by the same call whatever the thread count.
///
/// `clamp`, when given, is applied to each tile of C as soon as it is computed.
func sgemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
           a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
           beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int, clamp: ClampBounds? = nil) {
    ComputeThreads.keepOpenBLASSingleThreaded()
    let tiling = GEMMTiling(m: m, n: n)
    parallelChunks(tiling.count) { tiles in
        for tile in tiles {
            sgemmTile(tiling.bounds(of: tile), transA: transA, transB: transB, k: k, a: a, lda: lda, b: b, ldb: ldb,
                      beta: beta, c: c, ldc: ldc, clamp: clamp)
        }
    }
}

/// Independent products C_i = op(A_i) op(B_i) (+ C_i when `accumulate`) for i < `count`, all
/// (m, n, k) and densely stored as for `sgemm(_:_:_:)`, their tiles shared over the threads
/// together: small products (attention heads) keep every core busy, and each element is
/// still summed by one call whatever the thread count. The C_i must not overlap.
func sgemmBatch(count: Int, m: Int, n: Int, k: Int, transposeA: Bool, transposeB: Bool, accumulate: Bool = false,
                clamp: ClampBounds? = nil,
                a: (Int) -> UnsafePointer<Float>, b: (Int) -> UnsafePointer<Float>, c: (Int) -> UnsafeMutablePointer<Float>) {
    ComputeThreads.keepOpenBLASSingleThreaded()
    let tiling = GEMMTiling(m: m, n: n)
    let (lda, ldb) = (transposeA ? m : k, transposeB ? k : n)
    parallelChunks(count * tiling.count) { jobs in
        for job in jobs {
            let (i, tile) = job.quotientAndRemainder(dividingBy: tiling.count)
            sgemmTile(tiling.bounds(of: tile), transA: transposeA, transB: transposeB, k: k, a: a(i), lda: lda,
                      b: b(i), ldb: ldb, beta: accumulate ? 1 : 0, c: c(i), ldc: n, clamp: clamp)
        }
    }
}

/// One tile of `sgemm`, on the calling thread.
func sgemmTile(_ bounds: (rows: Range<Int>, columns: Range<Int>), transA: Bool, transB: Bool, k: Int,
               a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
               beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int, clamp: ClampBounds? = nil) {
    let (rows, columns) = bounds
    // Row-major: rows of A (or columns of Aᵀ), columns of B (or rows of Bᵀ), and C's block.
    let aStart = a + (transA ? rows.lowerBound : rows.lowerBound * lda)
    let bStart = b + (transB ? columns.lowerBound * ldb : columns.lowerBound)
    cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                Int32(rows.count), Int32(columns.count), Int32(k), 1, aStart, Int32(lda), bStart, Int32(ldb),
                beta, c + rows.lowerBound * ldc + columns.lowerBound, Int32(ldc))
    if let clamp {
        for row in rows { clamp.apply(c + row * ldc + columns.lowerBound, count: columns.count) }
    }
}

/// `c = op(a) op(b)` (+ `c` when `accumulate`) for densely stored row-major matrices:
/// a is stored (m, k) or, transposed, (k, m); b (k, n) or (n, k).
func sgemm(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ c: UnsafeMutablePointer<Float>,
           m: Int, n: Int, k: Int, transposeA: Bool, transposeB: Bool, accumulate: Bool = false) {
    sgemm(transA: transposeA, transB: transposeB, m: m, n: n, k: k, a: a, lda: transposeA ? m : k,
          b: b, ldb: transposeB ? k : n, beta: accumulate ? 1 : 0, c: c, ldc: n)
}

/// C cut into blocks along its wider side: 128 columns or 64 rows (multiples of every OpenBLAS
/// unroll), so each tile is big enough to run at full speed and there are enough to share
/// evenly (a transformer's 768 columns are 6 tiles, not 3 for 2 cores).
struct GEMMTiling {
    static let columnTile = 128, rowTile = 64
    let m: Int, n: Int
    let alongColumns: Bool
    let count: Int

    init(m: Int, n: Int) {
        self.m = m
        self.n = n
        alongColumns = n >= 2 * Self.columnTile || n >= m
        count = alongColumns ? max(1, (n + Self.columnTile - 1) / Self.columnTile)
                             : max(1, (m + Self.rowTile - 1) / Self.rowTile)
    }

    func bounds(of tile: Int) -> (rows: Range<Int>, columns: Range<Int>) {
        if alongColumns {
            return (0..<m, tile * Self.columnTile ..< min(n, (tile + 1) * Self.columnTile))
        }
        return (tile * Self.rowTile ..< min(m, (tile + 1) * Self.rowTile), 0..<n)
    }
}
