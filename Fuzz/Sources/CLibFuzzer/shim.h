// libFuzzer's entry points. The library is the toolchain's libclang_rt.fuzzer, linked by
// `-sanitize=fuzzer`; each fuzzer defines LLVMFuzzerTestOneInput with @_cdecl.
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));
