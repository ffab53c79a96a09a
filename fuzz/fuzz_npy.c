/* .npy parser (nanoml run --input, dataset tools): header dictionary, dtype, shape, sizes. A
 * parsed array must be self-consistent: its byte count is its element count times the dtype
 * size and fits in the input. */
#include "fuzz_target.h"
#include "nanoml/npy.h"

static nml_status one(const uint8_t *data, size_t size, nml_error *err) {
    nml_npy a;
    NML_TRY(nml_npy_parse(data, size, &a, err));
    nml_fuzz_check(a.rank >= 0 && a.rank <= NML_MAX_RANK, "rank within the limit");
    uint64_t count = 1;
    for (int i = 0; i < a.rank; i++) {
        nml_fuzz_check(a.dims[i] >= 0, "non-negative dimension");
        count *= (uint64_t)a.dims[i];
    }
    int ok;
    size_t bytes = nml_dtype_bytes_for(a.dtype, count, &ok);
    nml_fuzz_check(ok && bytes == a.bytes, "bytes == elements x dtype size");
    nml_fuzz_check(a.bytes <= size, "data no larger than the file");
    nml_fuzz_check(a.bytes == 0 || a.data != NULL, "data present");
    nml_npy_free(&a);
    return NML_OK;
}

NML_FUZZ_TARGET(one, 1u << 20)
