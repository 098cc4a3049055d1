#define _GNU_SOURCE
#include "CKernels.h"

#include <ctype.h>
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef void (*ck_void_fn)(void);
typedef char *(*ck_name_fn)(void);

/// Whether this OpenBLAS carries the kernel table of `core` (a build exits when told to use a
/// core it lacks).
static bool has_core(const char *core) {
    char symbol[64] = "gotoblas_";
    size_t n = strlen(symbol);
    for (const char *c = core; *c && n + 1 < sizeof symbol; c++) symbol[n++] = (char)toupper((unsigned char)*c);
    symbol[n] = 0;
    return dlsym(RTLD_DEFAULT, symbol) != NULL;
}

static bool is_avx512_core(const char *name) {
    return strcasecmp(name, "SkylakeX") == 0 || strcasecmp(name, "Cooperlake") == 0
        || strcasecmp(name, "SapphireRapids") == 0;
}

const char *ck_openblas_choose_core(const char *requested) {
    ck_name_fn corename = (ck_name_fn)dlsym(RTLD_DEFAULT, "openblas_get_corename");
    ck_void_fn quit = (ck_void_fn)dlsym(RTLD_DEFAULT, "gotoblas_dynamic_quit");
    ck_void_fn init = (ck_void_fn)dlsym(RTLD_DEFAULT, "gotoblas_dynamic_init");
    const char *current = corename ? corename() : NULL;
    if (!current || !quit || !init) return current;
    const char *target = NULL;
    if (requested && *requested) {
        if (strcasecmp(requested, "inherit") == 0 || strcasecmp(requested, current) == 0 || !has_core(requested)) return current;
        target = requested;
    } else {
        ck_cpu_features cpu = ck_cpu_features_detect();
        if (!cpu.avx512 || is_avx512_core(current)) return current;
        if (cpu.avx512_bf16 && has_core("COOPERLAKE")) target = "COOPERLAKE";
        else if (has_core("SKYLAKEX")) target = "SKYLAKEX";
        else return current;
    }
    // gotoblas_dynamic_init reads OPENBLAS_CORETYPE once; the variable is put back as it was,
    // so that programs started from this one choose for themselves.
    const char *before = getenv("OPENBLAS_CORETYPE");
    char *saved = before ? strdup(before) : NULL;
    quit();
    setenv("OPENBLAS_CORETYPE", target, 1);
    init();
    if (saved) {
        setenv("OPENBLAS_CORETYPE", saved, 1);
        free(saved);
    } else {
        unsetenv("OPENBLAS_CORETYPE");
    }
    return corename();
}
