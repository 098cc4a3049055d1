#include "CKernels.h"

#include <stdint.h>
#include <string.h>

// As in depthwise.c: no fused multiply-adds, so every instruction set gives the same bits.
#pragma clang fp contract(off)

#define CK_SQRT_HALF 0.70710678118654752f
#define CK_NORMAL_DENSITY 0.39894228040143268f

#define CK_BODY "gelu_body.h"
#include "each_isa.h"

void ck_gelu(const float *x, float *y, size_t n) {
#if defined(__x86_64__)
    if (ck_isa_level == CK_ISA_AVX512) { gelu_avx512(x, y, n); return; }
    if (ck_isa_level == CK_ISA_AVX2) { gelu_avx2(x, y, n); return; }
#endif
    gelu_baseline(x, y, n);
}

void ck_gelu_backward(const float *g, const float *x, float *dx, size_t n) {
#if defined(__x86_64__)
    if (ck_isa_level == CK_ISA_AVX512) { gelu_backward_avx512(g, x, dx, n); return; }
    if (ck_isa_level == CK_ISA_AVX2) { gelu_backward_avx2(g, x, dx, n); return; }
#endif
    gelu_backward_baseline(g, x, dx, n);
}
