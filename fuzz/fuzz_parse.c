/* Command-line number, size and shape parsing (include/nanoml/parse.h). The first input byte
 * picks the parser and its limits, the rest is the text. Whatever parses must lie inside the
 * limits and survive a round trip: printed the canonical way and parsed again, it gives the
 * same value. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_target.h"
#include "nanoml/parse.h"

static const int64_t INT_LIMITS[4][2] = {
    {INT64_MIN, INT64_MAX}, {0, 255}, {-128, 127}, {1, 2147483647}};

static nml_status ints(const char *s, unsigned pick, nml_error *err) {
    const int64_t *lim = INT_LIMITS[pick % 4];
    int64_t v, again;
    NML_TRY(nml_parse_i64(s, lim[0], lim[1], &v, err));
    nml_fuzz_check(v >= lim[0] && v <= lim[1], "integer within its limits");
    char buf[32];
    snprintf(buf, sizeof buf, "%lld", (long long)v);
    nml_fuzz_check(nml_parse_i64(buf, lim[0], lim[1], &again, NULL) == NML_OK && again == v,
                   "integer round trip");
    return NML_OK;
}

static nml_status reals(const char *s, unsigned pick, nml_error *err) {
    double lo = pick % 2 ? -1e300 : 0.0, hi = pick % 4 >= 2 ? 1.0 : 1e300, v, again;
    NML_TRY(nml_parse_double(s, lo, hi, &v, err));
    nml_fuzz_check(isfinite(v) && v >= lo && v <= hi, "number finite and within its limits");
    char buf[40];
    snprintf(buf, sizeof buf, "%.17g", v);
    nml_fuzz_check(nml_parse_double(buf, lo, hi, &again, NULL) == NML_OK && again == v,
                   "number round trip");
    float f;
    nml_status st = nml_parse_float(s, (float)-1e30, (float)1e30, &f, NULL);
    nml_fuzz_check(st != NML_OK || isfinite(f), "float finite");
    return NML_OK;
}

static nml_status sizes(const char *s, unsigned pick, nml_error *err) {
    uint64_t max = pick % 2 ? UINT64_MAX : (1u << 20), v;
    NML_TRY(nml_parse_size(s, max, &v, err));
    nml_fuzz_check(v <= max, "size within its limit");
    char buf[32];
    uint64_t again;
    snprintf(buf, sizeof buf, "%llu", (unsigned long long)v);
    nml_fuzz_check(nml_parse_size(buf, max, &again, NULL) == NML_OK && again == v,
                   "size round trip");
    return NML_OK;
}

static nml_status shapes(const char *s, nml_error *err) {
    int rank, again_rank;
    int32_t dims[NML_MAX_RANK], again[NML_MAX_RANK];
    NML_TRY(nml_parse_shape(s, &rank, dims, err));
    nml_fuzz_check(rank >= 1 && rank <= NML_MAX_RANK, "rank within the limit");
    char buf[NML_MAX_RANK * 12 + 1];
    size_t n = 0;
    uint64_t count = 1;
    for (int i = 0; i < rank; i++) {
        nml_fuzz_check(dims[i] >= 1, "positive dimension");
        count *= (uint64_t)dims[i];
        n += (size_t)snprintf(buf + n, sizeof buf - n, i ? "x%d" : "%d", (int)dims[i]);
    }
    nml_fuzz_check(count <= NML_MAX_TENSOR_BYTES, "element count within the limit");
    nml_fuzz_check(nml_parse_shape(buf, &again_rank, again, NULL) == NML_OK && again_rank == rank &&
                       memcmp(again, dims, sizeof dims[0] * rank) == 0,
                   "shape round trip");
    return NML_OK;
}

static nml_status image_size(const char *s, nml_error *err) {
    int32_t w, h;
    NML_TRY(nml_parse_wxh(s, 65535, &w, &h, err));
    nml_fuzz_check(w >= 1 && w <= 65535 && h >= 1 && h <= 65535, "size within the limit");
    return NML_OK;
}

static nml_status one(const uint8_t *data, size_t size, nml_error *err) {
    if (size == 0) return NML_OK;
    char *s = malloc(size); /* the text after the selector byte, NUL-terminated, exact size */
    nml_fuzz_check(s != NULL, "memory");
    memcpy(s, data + 1, size - 1);
    s[size - 1] = '\0';
    unsigned pick = data[0] >> 3;
    nml_status st;
    switch (data[0] % 5) {
    case 0:
        st = ints(s, pick, err);
        break;
    case 1:
        st = reals(s, pick, err);
        break;
    case 2:
        st = sizes(s, pick, err);
        break;
    case 3:
        st = shapes(s, err);
        break;
    default:
        st = image_size(s, err);
        break;
    }
    free(s);
    return st;
}

NML_FUZZ_TARGET(one, 4096)
