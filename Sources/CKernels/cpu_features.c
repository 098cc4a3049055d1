#include "CKernels.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>

/// XCR0: which register states the OS saves (bits 1-2 SSE/AVX, 5-7 the AVX-512 opmask and upper halves).
static unsigned long long xcr0(void) {
    unsigned int eax, ebx, ecx, edx;
    if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx) || !(ecx & bit_OSXSAVE)) return 0;
    unsigned int lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((unsigned long long)hi << 32) | lo;
}

ck_cpu_features ck_cpu_features_detect(void) {
    ck_cpu_features f = {false, false, false};
    unsigned int eax, ebx, ecx, edx;
    if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return f;
    bool fma = ecx & bit_FMA;
    unsigned long long saved = xcr0();
    bool ymm = (saved & 0x6) == 0x6, zmm = (saved & 0xE6) == 0xE6;
    if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)) return f;
    f.avx2_fma = ymm && fma && (ebx & bit_AVX2);
    unsigned int avx512 = bit_AVX512F | bit_AVX512CD | bit_AVX512BW | bit_AVX512DQ | bit_AVX512VL;
    f.avx512 = f.avx2_fma && zmm && (ebx & avx512) == avx512;
    if (f.avx512 && __get_cpuid_count(7, 1, &eax, &ebx, &ecx, &edx)) f.avx512_bf16 = eax & bit_AVX512BF16;
    return f;
}
#else
ck_cpu_features ck_cpu_features_detect(void) {
    ck_cpu_features f = {false, false, false};
    return f;
}
#endif
