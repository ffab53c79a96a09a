#include "onnx/pb.h"

#include <stdlib.h>
#include <string.h>

void nml_pb_init(nml_pb_reader *r, const uint8_t *buf, size_t size) {
    r->buf = buf;
    r->size = buf ? size : 0;
    r->pos = 0;
    r->base = 0;
    r->depth = 0;
}

nml_status nml_pb_varint(const uint8_t *buf, size_t size, size_t *pos, size_t base, uint64_t *value,
                         nml_error *err) {
    size_t start = *pos;
    uint64_t v = 0;
    for (unsigned i = 0; i < 10; i++) {
        if (start + i >= size)
            return nml_fail(err, NML_E_FORMAT, "protobuf: truncated varint at byte %zu",
                            base + start);
        uint8_t b = buf[start + i];
        /* the 10th byte holds bit 63 only; anything more does not fit 64 bits */
        if (i == 9 && (b & 0x7e))
            return nml_fail(err, NML_E_FORMAT, "protobuf: varint at byte %zu overflows 64 bits",
                            base + start);
        v |= (uint64_t)(b & 0x7f) << (7 * i);
        if (!(b & 0x80)) {
            *pos = start + i + 1;
            *value = v;
            return NML_OK;
        }
    }
    return nml_fail(err, NML_E_FORMAT, "protobuf: varint at byte %zu is longer than 10 bytes",
                    base + start);
}

static uint64_t load_le(const uint8_t *p, unsigned n) {
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

nml_status nml_pb_next(nml_pb_reader *r, nml_pb_field *f, int *more, nml_error *err) {
    *more = 0;
    if (r->pos >= r->size) return NML_OK;
    size_t tag_at = r->base + r->pos;
    uint64_t tag;
    NML_TRY(nml_pb_varint(r->buf, r->size, &r->pos, r->base, &tag, err));
    if (tag > 0xffffffffu)
        return nml_fail(err, NML_E_FORMAT, "protobuf: field tag at byte %zu out of range", tag_at);
    uint32_t number = (uint32_t)(tag >> 3);
    int wire = (int)(tag & 7);
    if (number == 0)
        return nml_fail(err, NML_E_FORMAT, "protobuf: field number 0 at byte %zu", tag_at);
    memset(f, 0, sizeof *f);
    f->number = number;
    f->wire = wire;
    f->offset = tag_at;
    size_t left;
    switch (wire) {
    case NML_PB_VARINT:
        NML_TRY(nml_pb_varint(r->buf, r->size, &r->pos, r->base, &f->value, err));
        break;
    case NML_PB_FIXED64:
    case NML_PB_FIXED32: {
        unsigned n = wire == NML_PB_FIXED64 ? 8 : 4;
        if (r->size - r->pos < n)
            return nml_fail(err, NML_E_FORMAT,
                            "protobuf: field %u at byte %zu: %u-byte value runs past the end "
                            "(%zu bytes left)",
                            number, tag_at, n, r->size - r->pos);
        f->value = load_le(r->buf + r->pos, n);
        r->pos += n;
        break;
    }
    case NML_PB_LEN: {
        uint64_t len;
        NML_TRY(nml_pb_varint(r->buf, r->size, &r->pos, r->base, &len, err));
        left = r->size - r->pos;
        if (len > left)
            return nml_fail(err, NML_E_FORMAT,
                            "protobuf: field %u at byte %zu: length %llu runs past the end "
                            "(%zu bytes left)",
                            number, tag_at, (unsigned long long)len, left);
        f->data = r->buf + r->pos;
        f->len = (size_t)len;
        f->data_offset = r->base + r->pos;
        r->pos += (size_t)len;
        break;
    }
    default:
        return nml_fail(err, NML_E_FORMAT, "protobuf: field %u at byte %zu has wire type %d%s",
                        number, tag_at, wire,
                        wire == 3 || wire == 4 ? " (groups are not supported)" : " (invalid)");
    }
    *more = 1;
    return NML_OK;
}

nml_status nml_pb_sub(const nml_pb_reader *parent, const nml_pb_field *f, nml_pb_reader *child,
                      nml_error *err) {
    if (f->wire != NML_PB_LEN)
        return nml_fail(err, NML_E_FORMAT,
                        "protobuf: field %u at byte %zu should be a message (wire type 2), "
                        "has wire type %d",
                        f->number, f->offset, f->wire);
    if (parent->depth >= NML_PB_MAX_DEPTH)
        return nml_fail(err, NML_E_LIMIT,
                        "protobuf: messages nested deeper than %d levels at byte %zu",
                        NML_PB_MAX_DEPTH, f->offset);
    child->buf = f->data;
    child->size = f->len;
    child->pos = 0;
    child->base = f->data_offset;
    child->depth = parent->depth + 1;
    return NML_OK;
}

static nml_status wrong_wire(const nml_pb_field *f, const char *what, const char *expected,
                             nml_error *err) {
    return nml_fail(err, NML_E_FORMAT, "%s (field %u at byte %zu): expected %s, got wire type %d",
                    what, f->number, f->offset, expected, f->wire);
}

nml_status nml_pb_as_int64(const nml_pb_field *f, const char *what, int64_t *v, nml_error *err) {
    if (f->wire != NML_PB_VARINT) return wrong_wire(f, what, "a varint", err);
    *v = (int64_t)f->value; /* two's complement: negative int64 values use all 64 bits */
    return NML_OK;
}

nml_status nml_pb_as_int32(const nml_pb_field *f, const char *what, int32_t *v, nml_error *err) {
    int64_t w = 0;
    NML_TRY(nml_pb_as_int64(f, what, &w, err));
    if (w < INT32_MIN || w > INT32_MAX)
        return nml_fail(err, NML_E_FORMAT, "%s (field %u at byte %zu): %lld is not an int32", what,
                        f->number, f->offset, (long long)w);
    *v = (int32_t)w;
    return NML_OK;
}

nml_status nml_pb_as_float(const nml_pb_field *f, const char *what, float *v, nml_error *err) {
    if (f->wire != NML_PB_FIXED32) return wrong_wire(f, what, "a 32-bit float", err);
    uint32_t bits = (uint32_t)f->value;
    memcpy(v, &bits, sizeof *v);
    return NML_OK;
}

nml_status nml_pb_as_bytes(const nml_pb_field *f, const char *what, nml_error *err) {
    if (f->wire != NML_PB_LEN) return wrong_wire(f, what, "bytes (wire type 2)", err);
    return NML_OK;
}

nml_status nml_pb_grow(void **items, size_t *cap, size_t need, size_t elem, nml_error *err) {
    if (need <= *cap) return NML_OK;
    size_t ncap = *cap ? *cap : 4;
    while (ncap < need) {
        if (ncap > SIZE_MAX / 2) return nml_fail(err, NML_E_LIMIT, "protobuf: array too large");
        ncap *= 2;
    }
    if (ncap > SIZE_MAX / elem) return nml_fail(err, NML_E_LIMIT, "protobuf: array too large");
    void *p = realloc(*items, ncap * elem);
    if (!p) return nml_fail(err, NML_E_NOMEM, "protobuf: out of memory (%zu elements)", ncap);
    *items = p;
    *cap = ncap;
    return NML_OK;
}

nml_status nml_pb_append_int64s(const nml_pb_field *f, const char *what, int64_t **items,
                                size_t *count, size_t *cap, nml_error *err) {
    if (f->wire == NML_PB_VARINT) {
        NML_TRY(nml_pb_grow((void **)items, cap, *count + 1, sizeof **items, err));
        (*items)[(*count)++] = (int64_t)f->value;
        return NML_OK;
    }
    if (f->wire != NML_PB_LEN) return wrong_wire(f, what, "varints (packed or not)", err);
    size_t pos = 0;
    while (pos < f->len) {
        uint64_t v;
        if (nml_pb_varint(f->data, f->len, &pos, f->data_offset, &v, err) != NML_OK)
            return nml_error_prefix(err, "%s: ", what);
        NML_TRY(nml_pb_grow((void **)items, cap, *count + 1, sizeof **items, err));
        (*items)[(*count)++] = (int64_t)v;
    }
    return NML_OK;
}

nml_status nml_pb_append_floats(const nml_pb_field *f, const char *what, float **items,
                                size_t *count, size_t *cap, nml_error *err) {
    if (f->wire == NML_PB_FIXED32) {
        NML_TRY(nml_pb_grow((void **)items, cap, *count + 1, sizeof **items, err));
        NML_TRY(nml_pb_as_float(f, what, &(*items)[*count], err));
        (*count)++;
        return NML_OK;
    }
    if (f->wire != NML_PB_LEN) return wrong_wire(f, what, "32-bit floats (packed or not)", err);
    if (f->len % 4)
        return nml_fail(
            err, NML_E_FORMAT,
            "%s (field %u at byte %zu): packed floats of %zu bytes, not a multiple of 4", what,
            f->number, f->offset, f->len);
    size_t n = f->len / 4;
    NML_TRY(nml_pb_grow((void **)items, cap, *count + n, sizeof **items, err));
    for (size_t i = 0; i < n; i++) {
        uint32_t bits = (uint32_t)load_le(f->data + 4 * i, 4);
        memcpy(&(*items)[*count + i], &bits, 4);
    }
    *count += n;
    return NML_OK;
}

nml_status nml_pb_append_doubles(const nml_pb_field *f, const char *what, double **items,
                                 size_t *count, size_t *cap, nml_error *err) {
    if (f->wire == NML_PB_FIXED64) {
        NML_TRY(nml_pb_grow((void **)items, cap, *count + 1, sizeof **items, err));
        memcpy(&(*items)[(*count)++], &f->value, 8);
        return NML_OK;
    }
    if (f->wire != NML_PB_LEN) return wrong_wire(f, what, "64-bit doubles (packed or not)", err);
    if (f->len % 8)
        return nml_fail(err, NML_E_FORMAT,
                        "%s (field %u at byte %zu): packed doubles of %zu bytes, not a multiple "
                        "of 8",
                        what, f->number, f->offset, f->len);
    size_t n = f->len / 8;
    NML_TRY(nml_pb_grow((void **)items, cap, *count + n, sizeof **items, err));
    for (size_t i = 0; i < n; i++) {
        uint64_t bits = load_le(f->data + 8 * i, 8);
        memcpy(&(*items)[*count + i], &bits, 8);
    }
    *count += n;
    return NML_OK;
}
