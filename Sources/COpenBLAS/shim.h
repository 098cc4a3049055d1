#include <cblas.h>
#include <stddef.h>

// LAPACK routines that OpenBLAS exports but cblas.h does not declare (Fortran calling
// convention: every argument by pointer, trailing hidden lengths of character arguments).

/// Singular value decomposition by divide and conquer, the routine numpy.linalg.svd calls.
void sgesdd_(const char *jobz, const int *m, const int *n, float *a, const int *lda, float *s,
             float *u, const int *ldu, float *vt, const int *ldvt, float *work, const int *lwork,
             int *iwork, int *info, size_t jobz_len);

/// Eigenvalues (ascending) and eigenvectors of a symmetric matrix, for Kernel PCA.
void dsyev_(const char *jobz, const char *uplo, const int *n, double *a, const int *lda, double *w,
            double *work, const int *lwork, int *info, size_t jobz_len, size_t uplo_len);
