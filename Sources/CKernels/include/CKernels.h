#ifndef CKERNELS_H
#define CKERNELS_H

#include <stdbool.h>
#include <stddef.h>

/// The vector instruction sets that both the CPU and the operating system support (the OS
/// must save the wider registers on a context switch, which the CPU flags alone do not say).
typedef struct {
    bool avx2_fma;
    /// AVX-512 F, CD, BW, DQ and VL: what OpenBLAS's SkylakeX kernels use.
    bool avx512;
    bool avx512_bf16;
} ck_cpu_features;

ck_cpu_features ck_cpu_features_detect(void);

/// The instruction sets the kernels below are compiled for, each chosen at run time.
typedef enum { CK_ISA_BASELINE = 0, CK_ISA_AVX2 = 1, CK_ISA_AVX512 = 2 } ck_isa;

/// The set the kernels use: set once at start-up (`ck_isa_choose`), before any kernel runs.
extern ck_isa ck_isa_level;

/// The widest set this CPU and OS support.
ck_isa ck_isa_best(void);

/// Sets `ck_isa_level`: the best set, or "baseline" or "avx2" when `requested` says so (a set
/// the CPU lacks is never chosen). Returns the set chosen. Every set gives the same bits: the
/// kernels round each product and sum on its own, in the same order.
ck_isa ck_isa_choose(const char *requested);

/// Depthwise convolution of one or two output rows of one plane from its padded, phase-split
/// copy (see DepthwiseConvolution.swift): output[r][x] = bias + sum_t src[r * next_row + x +
/// taps[t]] * weights[t], in tap order, for x < width and r < rows. Reads whole 16-lane chunks,
/// so rows of `src` must hold `width` rounded up to 16 plus the taps' reach.
void ck_depthwise_rows(const float *src, int rows, ptrdiff_t next_row, const ptrdiff_t *taps,
                       const float *weights, int tap_count, float bias, float *dst,
                       ptrdiff_t next_out_row, int width);

/// Chooses OpenBLAS's kernel set before its first call. With `requested` NULL or empty: the
/// CPU's AVX-512 kernels when it has them and OpenBLAS runs older ones, whether by its own
/// detection (0.3.21, Debian 12, takes AMD Zen 4 for Haswell and its sgemm then runs at half
/// speed) or by OPENBLAS_CORETYPE: CAMKit runs OpenBLAS on its own tiles and threads and sets
/// its kernels the same way. "inherit" keeps OpenBLAS's choice; another name (as
/// OPENBLAS_CORETYPE takes it) forces that set where the library has it. Only a DYNAMIC_ARCH
/// build can switch (looked up at run time; other builds are left alone). Returns the core
/// name in use afterwards, or NULL when the library does not say.
const char *ck_openblas_choose_core(const char *requested);

/// Serves allocations up to 256 MiB from the heap, kept for reuse, instead of fresh pages from
/// the kernel: glibc maps each block above 32 MiB anew and returns it on free, so a batched
/// forward pass (Score-CAM's 16 masked images make 25 MB activations) spent half its time
/// in page faults. Freed memory above 1 GiB at the top of the heap still goes back. No effect
/// beside glibc, or when GLIBC_TUNABLES sets malloc's own tunables.
void ck_reuse_large_allocations(void);

/// GELU, 0.5 x (1 + erf(x / sqrt 2)), of `n` elements, with erf as ATen's vectorised one
/// (Abramowitz & Stegun 7.1.26) and exp as Cephes', in the operations of VectorMath.swift.
void ck_gelu(const float *x, float *y, size_t n);

/// g (Phi(x) + x phi(x)), GELU's gradient, of `n` elements.
void ck_gelu_backward(const float *g, const float *x, float *dx, size_t n);

/// LayerNorm over the `channels` of one tile of `width` positions of an NCHW image (channel
/// rows `plane` floats apart): writes y, and each position's mean and 1/std for the backward.
/// `weight` and `bias` may be NULL; `scratch` holds `width` floats.
void ck_layernorm2d_forward(const float *x, float *y, float *mean, float *rstd, const float *weight,
                            const float *bias, size_t channels, size_t plane, size_t width, float eps,
                            float *scratch);

/// The input gradient of ck_layernorm2d_forward on the same tile, from the output gradient g;
/// `scratch` holds 2 `width` floats.
void ck_layernorm2d_backward(const float *x, const float *g, float *dx, const float *mean, const float *rstd,
                             const float *weight, size_t channels, size_t plane, size_t width, float *scratch);

#endif
