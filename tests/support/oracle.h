/* Running the JavaScript oracles (tests/oracles: LiteRT, ONNX Runtime) from cmocka tests, and
 * the .npy files they exchange. Tests call nml_test_oracles_available() first and skip() with
 * its reason when node or tests/oracles/node_modules is missing (scripts/setup.sh installs
 * both, so in CI the oracle tests run). */
#ifndef NML_TEST_ORACLE_H
#define NML_TEST_ORACLE_H

#include <stddef.h>
#include <stdint.h>

/* 1 when node and the oracle packages are installed; otherwise 0 and *why says what is missing. */
int nml_test_oracles_available(const char **why);

/* A fresh temporary directory (static buffer); nml_test_tmpdir_remove() deletes it and the
 * files in it (one level). */
const char *nml_test_tmpdir(void);
void nml_test_tmpdir_remove(const char *dir);

/* Writes/reads a C-order little-endian .npy for an nml_dtype (float32, int8, uint8, int16,
 * int32, int64). Read fails the test on malformed files; *data is malloc'd. */
void nml_test_npy_write(const char *path, int dtype, int rank, const int32_t *dims,
                        const void *data);
void nml_test_npy_read(const char *path, int *dtype, int *rank, int32_t *dims, void **data,
                       size_t *bytes);

/* Runs the model with LiteRT on CPU: inputs given as .npy files in model input order; the
 * outputs land in out_dir/out<i>.npy. Fails the test (with LiteRT's message) on error. */
void nml_test_litert_run(const char *model, const char *out_dir, int n_inputs,
                         const char *const *input_npys);

#endif
