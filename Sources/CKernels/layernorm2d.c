#include "CKernels.h"

#include <math.h>

// As in depthwise.c: no fused multiply-adds, so every instruction set gives the same bits.
#pragma clang fp contract(off)

#define CK_BODY "layernorm2d_body.h"
#include "each_isa.h"

void ck_layernorm2d_forward(const float *x, float *y, float *mean, float *rstd, const float *weight,
                            const float *bias, size_t channels, size_t plane, size_t width, float eps,
                            float *scratch) {
#if defined(__x86_64__)
    if (ck_isa_level == CK_ISA_AVX512) {
        layernorm2d_forward_avx512(x, y, mean, rstd, weight, bias, channels, plane, width, eps, scratch);
        return;
    }
    if (ck_isa_level == CK_ISA_AVX2) {
        layernorm2d_forward_avx2(x, y, mean, rstd, weight, bias, channels, plane, width, eps, scratch);
        return;
    }
#endif
    layernorm2d_forward_baseline(x, y, mean, rstd, weight, bias, channels, plane, width, eps, scratch);
}

void ck_layernorm2d_backward(const float *x, const float *g, float *dx, const float *mean, const float *rstd,
                             const float *weight, size_t channels, size_t plane, size_t width, float *scratch) {
#if defined(__x86_64__)
    if (ck_isa_level == CK_ISA_AVX512) {
        layernorm2d_backward_avx512(x, g, dx, mean, rstd, weight, channels, plane, width, scratch);
        return;
    }
    if (ck_isa_level == CK_ISA_AVX2) {
        layernorm2d_backward_avx2(x, g, dx, mean, rstd, weight, channels, plane, width, scratch);
        return;
    }
#endif
    layernorm2d_backward_baseline(x, g, dx, mean, rstd, weight, channels, plane, width, scratch);
}
