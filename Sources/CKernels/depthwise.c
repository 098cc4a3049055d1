#include "CKernels.h"

#include <string.h>

// Products and sums rounded one by one, never fused: every instruction set computes the same
// bits, as the Swift kernels did.
#pragma clang fp contract(off)

#define CK_BODY "depthwise_rows_body.h"
#include "each_isa.h"

void ck_depthwise_rows(const float *src, int rows, ptrdiff_t next_row, const ptrdiff_t *taps,
                       const float *weights, int tap_count, float bias, float *dst,
                       ptrdiff_t next_out_row, int width) {
#if defined(__x86_64__)
    switch (ck_isa_level) {
    case CK_ISA_AVX512:
        depthwise_rows_avx512(src, rows, next_row, taps, weights, tap_count, bias, dst, next_out_row, width);
        return;
    case CK_ISA_AVX2:
        depthwise_rows_avx2(src, rows, next_row, taps, weights, tap_count, bias, dst, next_out_row, width);
        return;
    default:
        break;
    }
#endif
    depthwise_rows_baseline(src, rows, next_row, taps, weights, tap_count, bias, dst, next_out_row, width);
}
