/* IDX datasets (nanoml train/eval): header, limits and payload, gzip-compressed (inflated in
 * memory, several members allowed) or plain. The decompressed payload is capped at 16 MiB here
 * (the library default is 1 GiB), so a small gzip bomb costs milliseconds, not seconds. A read
 * result must be self-consistent: bytes = product of dims <= the cap, data present. */
#include "fuzz_target.h"
#include "nanoml/idx.h"

#define PAYLOAD_MAX ((size_t)16 << 20)

static nml_status one(const uint8_t *data, size_t size, nml_error *err) {
    nml_idx idx;
    NML_TRY(nml_idx_parse(data, size, "fuzz", PAYLOAD_MAX, &idx, err));
    nml_fuzz_check(idx.type == 0x08 && idx.rank >= 1 && idx.rank <= NML_IDX_MAX_RANK,
                   "type and rank supported");
    uint64_t count = 1;
    for (int i = 0; i < idx.rank; i++) {
        nml_fuzz_check(idx.dims[i] >= 1, "positive dimension");
        count *= idx.dims[i];
    }
    nml_fuzz_check(count == idx.bytes && idx.bytes <= PAYLOAD_MAX, "bytes = product of dims");
    nml_fuzz_check(idx.data != NULL, "data present");
    volatile uint8_t last = idx.data[idx.bytes - 1];
    (void)last;
    nml_idx_free(&idx);
    return NML_OK;
}

NML_FUZZ_TARGET(one, 1u << 20)
