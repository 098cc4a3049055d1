import COpenBLAS

/// The reference's `get_2d_projection`: each image's (C, h, w) maps, seen as h·w samples of C
/// channels, centred per channel and projected onto their first principal direction — the
/// first right singular vector. Eigen-CAM's map, and "eigen smoothing" for the others.
///
/// The sign of a singular vector is arbitrary; the reference takes whatever numpy's
/// `linalg.svd` returns, which is LAPACK `sgesdd` with all vectors (`JOBZ='A'`) on the
/// column-major (h·w, C) matrix. We make the very same call, so the sign agrees as long as both
/// LAPACKs take the same path (checked against the committed Eigen-CAM fixtures).
enum PrincipalComponent {
    /// (N, C, h, w) → (N, h, w). NaNs count as 0, as in the reference; infinities are refused,
    /// as numpy's SVD refuses them, rather than handed to LAPACK.
    static func projection(_ maps: Tensor) throws -> Tensor {
        precondition(maps.rank == 4, "principal component of (N, C, h, w) maps, got \(maps.shape)")
        let (n, c, h, w) = (maps.shape[0], maps.shape[1], maps.shape[2], maps.shape[3])
        let pixels = h * w
        var out = [Float]()
        out.reserveCapacity(n * pixels)
        for image in 0..<n {
            // Channel-major (C, h·w) rows are exactly the columns of the column-major (h·w, C) matrix.
            var a = Array(maps.scalars[image * c * pixels ..< (image + 1) * c * pixels]).map { $0.isNaN ? 0 : $0 }
            guard a.allSatisfy(\.isFinite) else { throw CAMError.notFinite("the (C, h, w) terms of image \(image)") }
            for channel in 0..<c {
                let column = channel * pixels ..< (channel + 1) * pixels
                let mean = Float(a[column].reduce(0.0) { $0 + Double($1) } / Double(pixels))
                for i in column { a[i] -= mean }
            }
            let v = try firstRightSingularVector(of: a, rows: pixels, columns: c)
            for i in 0..<pixels {
                var sum: Float = 0
                for channel in 0..<c { sum += a[channel * pixels + i] * v[channel] }
                out.append(sum)
            }
        }
        return Tensor(shape: [n, h, w], scalars: out)
    }

    /// Row 0 of Vᵀ from `sgesdd('A')` of the column-major `rows × columns` matrix `a`.
    private static func firstRightSingularVector(of a: [Float], rows: Int, columns: Int) throws -> [Float] {
        var a = a
        ComputeThreads.keepOpenBLASSingleThreaded()
        var m = Int32(rows), n = Int32(columns), lda = Int32(max(rows, 1))
        var ldu = Int32(max(rows, 1)), ldvt = Int32(max(columns, 1))
        var s = [Float](repeating: 0, count: max(min(rows, columns), 1))
        var u = [Float](repeating: 0, count: rows * rows)
        var vt = [Float](repeating: 0, count: columns * columns)
        var iwork = [Int32](repeating: 0, count: 8 * max(min(rows, columns), 1))
        var info: Int32 = 0
        var query: Float = 0
        var lwork: Int32 = -1
        sgesdd_("A", &m, &n, &a, &lda, &s, &u, &ldu, &vt, &ldvt, &query, &lwork, &iwork, &info, 1)
        lwork = Int32(query)
        var work = [Float](repeating: 0, count: Int(lwork))
        sgesdd_("A", &m, &n, &a, &lda, &s, &u, &ldu, &vt, &ldvt, &work, &lwork, &iwork, &info, 1)
        guard info == 0 else { throw CAMError.svdFailed(info: Int(info), rows: rows, columns: columns) }
        return (0..<columns).map { vt[$0 * columns] }
    }
}
