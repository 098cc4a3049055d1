// Includes the kernel body CK_BODY names once per instruction set, with CK_TARGET (the
// function attribute that lets the compiler use the set) and CK_SUFFIX (baseline, avx2,
// avx512, for the copies' names) defined; the caller chooses among them by ck_isa_level.
#define CK_CONCAT2(a, b) a##b
#define CK_CONCAT(a, b) CK_CONCAT2(a, b)

#define CK_TARGET
#define CK_SUFFIX baseline
#include CK_BODY
#undef CK_TARGET
#undef CK_SUFFIX

#if defined(__x86_64__)
#define CK_TARGET __attribute__((target("avx2,fma")))
#define CK_SUFFIX avx2
#include CK_BODY
#undef CK_TARGET
#undef CK_SUFFIX

#define CK_TARGET __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl")))
#define CK_SUFFIX avx512
#include CK_BODY
#undef CK_TARGET
#undef CK_SUFFIX
#endif
