/* Shared helpers for the cmocka tests. */
#ifndef NML_TEST_UTIL_H
#define NML_TEST_UTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka needs the three headers above first */
#include <cmocka.h>

/* Path under ../shared (or $NML_SHARED_DIR); returns a static buffer (one per call site use). */
const char *nml_test_shared(const char *relative);
/* Path under the source tree. */
const char *nml_test_source(const char *relative);

/* Reads a file or fails the test; free() the result. */
uint8_t *nml_test_read(const char *path, size_t *size);
/* Returns 1 if the path exists. */
int nml_test_exists(const char *path);
/* 16-byte aligned block of exactly `bytes` bytes (so ASan sees any overrun); free() it. */
void *nml_test_alloc16(size_t bytes);

#endif
