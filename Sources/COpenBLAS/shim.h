#include <cblas.h>
#include <stddef.h>

// LAPACK routines that OpenBLAS exports but cblas.h does not declare (Fortran calling
// convention: every argument by pointer, trailing hidden lengths of character arguments).

/// Singular value decomposition by divide and conquer, the routine numpy.linalg.svd calls.
void sgesdd_(const char *jobz, const int *m, const int *n, float *a, const int *lda, float *s,
             float *u, const int *ldu, float *vt, const int *ldvt, float *work, const int *lwork,
             int *iwork, int *info, size_t jobz_len);
