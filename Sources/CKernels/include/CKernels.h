#ifndef CKERNELS_H
#define CKERNELS_H

#include <stdbool.h>

/// The vector instruction sets that both the CPU and the operating system support (the OS
/// must save the wider registers on a context switch, which the CPU flags alone do not say).
typedef struct {
    bool avx2_fma;
    /// AVX-512 F, CD, BW, DQ and VL: what OpenBLAS's SkylakeX kernels use.
    bool avx512;
    bool avx512_bf16;
} ck_cpu_features;

ck_cpu_features ck_cpu_features_detect(void);

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

#endif
