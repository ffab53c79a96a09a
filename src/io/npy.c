/* .npy reading and writing. The header is a Python dict literal such as
 *   {'descr': '<f4', 'fortran_order': False, 'shape': (1, 96, 96, 1), }
 * parsed here by a small tokenizer that accepts exactly the three keys numpy writes. */
#include "nanoml/npy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nanoml/file.h"

static const char MAGIC[6] = {'\x93', 'N', 'U', 'M', 'P', 'Y'};

typedef struct descr_entry {
    const char *code; /* without the byte-order character */
    int dtype;
} descr_entry;

static const descr_entry DESCRS[] = {
    {"f4", NML_FLOAT32}, {"f2", NML_FLOAT16}, {"f8", NML_FLOAT64},
    {"i1", NML_INT8},    {"i2", NML_INT16},   {"i4", NML_INT32},
    {"i8", NML_INT64},   {"u1", NML_UINT8},   {"b1", NML_BOOL},
};

/* ---- header tokenizer ---- */

typedef struct cursor {
    const char *p, *end;
} cursor;

static void skip_space(cursor *c) {
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r'))
        c->p++;
}

static int accept(cursor *c, char ch) {
    skip_space(c);
    if (c->p < c->end && *c->p == ch) {
        c->p++;
        return 1;
    }
    return 0;
}

static int accept_word(cursor *c, const char *w) {
    skip_space(c);
    size_t n = strlen(w);
    if ((size_t)(c->end - c->p) >= n && memcmp(c->p, w, n) == 0) {
        c->p += n;
        return 1;
    }
    return 0;
}

/* A quoted string into buf (truncation is an error). */
static nml_status read_string(cursor *c, char *buf, size_t cap, nml_error *err) {
    skip_space(c);
    if (c->p >= c->end || (*c->p != '\'' && *c->p != '"'))
        return nml_fail(err, NML_E_FORMAT, "npy header: expected a quoted string");
    char quote = *c->p++;
    size_t n = 0;
    while (c->p < c->end && *c->p != quote) {
        if (n + 1 >= cap) return nml_fail(err, NML_E_FORMAT, "npy header: string too long");
        buf[n++] = *c->p++;
    }
    if (c->p >= c->end) return nml_fail(err, NML_E_FORMAT, "npy header: unterminated string");
    c->p++;
    buf[n] = '\0';
    return NML_OK;
}

static nml_status read_shape(cursor *c, nml_npy *a, nml_error *err) {
    if (!accept(c, '(')) return nml_fail(err, NML_E_FORMAT, "npy header: shape is not a tuple");
    a->rank = 0;
    while (!accept(c, ')')) {
        skip_space(c);
        long long v = 0;
        int digits = 0;
        while (c->p < c->end && *c->p >= '0' && *c->p <= '9') {
            if (v > NML_MAX_DIM) break;
            v = v * 10 + (*c->p++ - '0');
            digits++;
        }
        if (!digits) return nml_fail(err, NML_E_FORMAT, "npy header: bad shape entry");
        if (v > NML_MAX_DIM)
            return nml_fail(err, NML_E_LIMIT, "npy: dimension exceeds %d", NML_MAX_DIM);
        accept(c, 'L'); /* Python 2 longs */
        if (a->rank == NML_MAX_RANK)
            return nml_fail(err, NML_E_LIMIT, "npy: rank exceeds the limit of %d", NML_MAX_RANK);
        a->dims[a->rank++] = (int32_t)v;
        if (!accept(c, ',')) {
            if (!accept(c, ')'))
                return nml_fail(err, NML_E_FORMAT, "npy header: expected ',' or ')' in shape");
            break;
        }
    }
    return NML_OK;
}

static nml_status dtype_of(const char *descr, int *dtype, nml_error *err) {
    char order = descr[0];
    const char *code = descr + 1;
    if (order != '<' && order != '>' && order != '|' && order != '=') {
        order = '=';
        code = descr;
    }
    for (size_t i = 0; i < sizeof DESCRS / sizeof DESCRS[0]; i++) {
        if (strcmp(code, DESCRS[i].code) != 0) continue;
        if (order == '>' && code[1] != '1')
            return nml_fail(err, NML_E_UNSUPPORTED,
                            "npy: big-endian data ('%s') is not "
                            "supported",
                            descr);
        *dtype = DESCRS[i].dtype;
        return NML_OK;
    }
    return nml_fail(err, NML_E_UNSUPPORTED, "npy: dtype '%s' is not supported", descr);
}

static nml_status parse_header(const char *h, size_t len, nml_npy *a, nml_error *err) {
    cursor c = {h, h + len};
    char key[32], descr[32];
    int have_descr = 0, have_order = 0, have_shape = 0;
    if (!accept(&c, '{')) return nml_fail(err, NML_E_FORMAT, "npy header: not a dictionary");
    while (!accept(&c, '}')) {
        NML_TRY(read_string(&c, key, sizeof key, err));
        if (!accept(&c, ':')) return nml_fail(err, NML_E_FORMAT, "npy header: expected ':'");
        if (strcmp(key, "descr") == 0) {
            NML_TRY(read_string(&c, descr, sizeof descr, err));
            NML_TRY(dtype_of(descr, &a->dtype, err));
            have_descr = 1;
        } else if (strcmp(key, "fortran_order") == 0) {
            if (accept_word(&c, "True"))
                return nml_fail(err, NML_E_UNSUPPORTED,
                                "npy: Fortran-order data is not "
                                "supported (save with C order)");
            if (!accept_word(&c, "False"))
                return nml_fail(err, NML_E_FORMAT, "npy header: fortran_order is not a bool");
            have_order = 1;
        } else if (strcmp(key, "shape") == 0) {
            NML_TRY(read_shape(&c, a, err));
            have_shape = 1;
        } else {
            return nml_fail(err, NML_E_FORMAT, "npy header: unexpected key '%s'", key);
        }
        if (!accept(&c, ',')) {
            if (!accept(&c, '}'))
                return nml_fail(err, NML_E_FORMAT, "npy header: expected ',' or '}'");
            break;
        }
    }
    skip_space(&c);
    if (c.p != c.end) return nml_fail(err, NML_E_FORMAT, "npy header: text after the dictionary");
    if (!have_descr || !have_order || !have_shape)
        return nml_fail(err, NML_E_FORMAT, "npy header: missing '%s'",
                        !have_descr   ? "descr"
                        : !have_order ? "fortran_order"
                                      : "shape");
    return NML_OK;
}

nml_status nml_npy_parse(const uint8_t *buf, size_t size, nml_npy *a, nml_error *err) {
    memset(a, 0, sizeof *a);
    if (size < 10 || memcmp(buf, MAGIC, 6) != 0)
        return nml_fail(err, NML_E_FORMAT, "not a .npy file (no \\x93NUMPY magic)");
    unsigned major = buf[6], minor = buf[7];
    if ((major < 1 || major > 3) || minor != 0)
        return nml_fail(err, NML_E_UNSUPPORTED, "npy format version %u.%u is not supported", major,
                        minor);
    size_t start = major == 1 ? 10 : 12;
    if (size < start) return nml_fail(err, NML_E_FORMAT, "npy: truncated header");
    size_t hlen = major == 1 ? (size_t)(buf[8] | buf[9] << 8)
                             : (size_t)buf[8] | (size_t)buf[9] << 8 | (size_t)buf[10] << 16 |
                                   (size_t)buf[11] << 24;
    if (hlen > size - start)
        return nml_fail(err, NML_E_FORMAT,
                        "npy: header of %zu bytes runs past the end of the "
                        "%zu-byte file",
                        hlen, size);
    NML_TRY(parse_header((const char *)buf + start, hlen, a, err));
    uint64_t count = 1;
    for (int i = 0; i < a->rank; i++) {
        count *= (uint64_t)a->dims[i];
        if (count > NML_MAX_TENSOR_BYTES) break;
    }
    int ok;
    size_t bytes = nml_dtype_bytes_for(a->dtype, count, &ok);
    if (!ok) return nml_fail(err, NML_E_LIMIT, "npy: array exceeds %u bytes", NML_MAX_TENSOR_BYTES);
    size_t have = size - start - hlen;
    if (have != bytes)
        return nml_fail(err, NML_E_FORMAT, "npy: %s array needs %zu data bytes, file has %zu",
                        nml_dtype_name(a->dtype), bytes, have);
    a->data = malloc(bytes ? bytes : 1);
    if (!a->data) return nml_fail(err, NML_E_NOMEM, "npy: cannot allocate %zu bytes", bytes);
    memcpy(a->data, buf + start + hlen, bytes);
    a->bytes = bytes;
    return NML_OK;
}

nml_status nml_npy_read(const char *path, nml_npy *a, nml_error *err) {
    uint8_t *buf;
    size_t size;
    memset(a, 0, sizeof *a);
    NML_TRY(nml_read_file(path, (size_t)NML_MAX_TENSOR_BYTES + 65536, &buf, &size, err));
    nml_status st = nml_npy_parse(buf, size, a, err);
    free(buf);
    if (st != NML_OK) nml_error_prefix(err, "%s: ", path);
    return st;
}

static const char *descr_for(int dtype) {
    switch (dtype) {
    case NML_FLOAT32:
        return "<f4";
    case NML_FLOAT16:
        return "<f2";
    case NML_FLOAT64:
        return "<f8";
    case NML_INT8:
        return "|i1";
    case NML_INT16:
        return "<i2";
    case NML_INT32:
        return "<i4";
    case NML_INT64:
        return "<i8";
    case NML_UINT8:
        return "|u1";
    case NML_BOOL:
        return "|b1";
    default:
        return NULL;
    }
}

nml_status nml_npy_encode(int dtype, int rank, const int32_t *dims, const void *data, uint8_t **out,
                          size_t *size, nml_error *err) {
    *out = NULL;
    *size = 0;
    const char *descr = descr_for(dtype);
    if (!descr)
        return nml_fail(err, NML_E_UNSUPPORTED, "npy: cannot write %s data", nml_dtype_name(dtype));
    if (rank < 0 || rank > NML_MAX_RANK) return nml_fail(err, NML_E_ARG, "npy: bad rank %d", rank);
    char dict[256];
    int n =
        snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, 'shape': (", descr);
    uint64_t count = 1;
    for (int i = 0; i < rank; i++) {
        if (dims[i] < 0) return nml_fail(err, NML_E_ARG, "npy: negative dimension %d", dims[i]);
        n += snprintf(dict + n, sizeof dict - (size_t)n, i ? ", %d" : "%d", (int)dims[i]);
        count *= (uint64_t)dims[i];
        if (count > NML_MAX_TENSOR_BYTES) count = NML_MAX_TENSOR_BYTES + 1ull;
    }
    n += snprintf(dict + n, sizeof dict - (size_t)n, "%s), }", rank == 1 ? "," : "");
    int ok;
    size_t bytes = nml_dtype_bytes_for(dtype, count, &ok);
    if (!ok) return nml_fail(err, NML_E_LIMIT, "npy: array exceeds %u bytes", NML_MAX_TENSOR_BYTES);
    /* magic, version, u16 length, dict, spaces, '\n': padded to a multiple of 64 bytes */
    size_t head = 10 + (size_t)n + 1;
    size_t padded = (head + 63) / 64 * 64;
    size_t total = padded + bytes;
    uint8_t *buf = malloc(total ? total : 1);
    if (!buf) return nml_fail(err, NML_E_NOMEM, "npy: cannot allocate %zu bytes", total);
    size_t hlen = padded - 10;
    memcpy(buf, MAGIC, 6);
    buf[6] = 1;
    buf[7] = 0;
    buf[8] = (uint8_t)(hlen & 0xff);
    buf[9] = (uint8_t)(hlen >> 8);
    memcpy(buf + 10, dict, (size_t)n);
    memset(buf + 10 + n, ' ', padded - 10 - (size_t)n - 1);
    buf[padded - 1] = '\n';
    if (bytes) memcpy(buf + padded, data, bytes);
    *out = buf;
    *size = total;
    return NML_OK;
}

nml_status nml_npy_write(const char *path, int dtype, int rank, const int32_t *dims,
                         const void *data, nml_error *err) {
    uint8_t *buf;
    size_t size;
    NML_TRY(nml_npy_encode(dtype, rank, dims, data, &buf, &size, err));
    nml_status st = nml_write_file(path, buf, size, err);
    free(buf);
    return st;
}

void nml_npy_free(nml_npy *a) {
    if (!a) return;
    free(a->data);
    a->data = NULL;
    a->bytes = 0;
}
