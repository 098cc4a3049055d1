#include "CKernels.h"

#include <strings.h>

ck_isa ck_isa_level = CK_ISA_BASELINE;

ck_isa ck_isa_best(void) {
    ck_cpu_features cpu = ck_cpu_features_detect();
    return cpu.avx512 ? CK_ISA_AVX512 : cpu.avx2_fma ? CK_ISA_AVX2 : CK_ISA_BASELINE;
}

ck_isa ck_isa_choose(const char *requested) {
    ck_isa best = ck_isa_best(), chosen = best;
    if (requested && strcasecmp(requested, "baseline") == 0) chosen = CK_ISA_BASELINE;
    else if (requested && strcasecmp(requested, "avx2") == 0 && best >= CK_ISA_AVX2) chosen = CK_ISA_AVX2;
    ck_isa_level = chosen;
    return chosen;
}
