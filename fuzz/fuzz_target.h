/* The generic part of every nanoml fuzz target. A target is one small file:
 *
 *   #include "fuzz_target.h"
 *   static nml_status one(const uint8_t *data, size_t size, nml_error *err) {
 *       ... parse data with the library under test, free everything ...
 *   }
 *   NML_FUZZ_TARGET(one, 1u << 20)   // largest input worth trying, in bytes
 *
 * The harness hands the input over in a buffer of exactly its size (16-byte aligned, so ASan
 * sees the first byte read past it), and turns the project's promise into checks: a reader
 * either succeeds or fails with a real status and a non-empty message; anything else aborts,
 * which libFuzzer records as a crash. The same file links either with libFuzzer
 * (NML_FUZZ=ON, clang) or with replay_main.c (any compiler), which runs saved inputs once so
 * the regression corpus is replayed by every test build. */
#ifndef NML_FUZZ_TARGET_H
#define NML_FUZZ_TARGET_H

#include <stddef.h>
#include <stdint.h>

#include "nanoml/status.h"

typedef nml_status (*nml_fuzz_fn)(const uint8_t *data, size_t size, nml_error *err);

/* Runs fn on an exact-size aligned copy of data (inputs over max_bytes are skipped) and
 * checks the error contract. Returns 0 (libFuzzer's "keep going"). */
int nml_fuzz_run(const uint8_t *data, size_t size, size_t max_bytes, nml_fuzz_fn fn);

/* Aborts with a message when cond is false: the fuzzer's way to report a broken invariant. */
void nml_fuzz_check(int cond, const char *what);

#define NML_FUZZ_TARGET(fn, max_bytes)                                                             \
    int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);                                  \
    int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {                                 \
        return nml_fuzz_run(data, size, (max_bytes), (fn));                                        \
    }

#endif
