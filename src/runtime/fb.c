/* Bounds-checked flatbuffer reading. Positions are uint32 and the buffer is < 2^31 bytes, so a
 * position inside it plus any offset below 2^31 fits in 32 bits: a hostile offset never wraps
 * around, and a 32-bit target does no 64-bit arithmetic. */
#include "fb.h"

#include <string.h>

#include "nanoml/types.h"

uint16_t nml_fb_load_u16(const uint8_t *p) {
    return (uint16_t)(p[0] | (p[1] << 8));
}

uint32_t nml_fb_load_u32(const uint8_t *p) {
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

uint64_t nml_fb_load_u64(const uint8_t *p) {
    return (uint64_t)nml_fb_load_u32(p) | ((uint64_t)nml_fb_load_u32(p + 4) << 32);
}

/* Loads at positions this file has checked to be aligned to the load's size (relative to the
 * start, which nml_fb_init requires to be 16-byte aligned): one load instruction each on a
 * strict-alignment target such as RV32, where the byte-wise nml_fb_load_* take seven or more. */
static uint16_t at_u16(const nml_fb *fb, uint32_t pos) {
    uint16_t v;
    memcpy(&v, __builtin_assume_aligned(fb->data + pos, 2), sizeof v);
    return v;
}

static uint32_t at_u32(const nml_fb *fb, uint32_t pos) {
    uint32_t v;
    memcpy(&v, __builtin_assume_aligned(fb->data + pos, 4), sizeof v);
    return v;
}

static uint64_t at_u64(const nml_fb *fb, uint32_t pos) {
    uint64_t v;
    memcpy(&v, __builtin_assume_aligned(fb->data + pos, 8), sizeof v);
    return v;
}

/* 1 when [pos, pos + bytes) lies inside the buffer. */
static int in_bounds(const nml_fb *fb, uint32_t pos, uint32_t bytes) {
    return pos <= fb->size && bytes <= fb->size - pos;
}

nml_status nml_fb_init(nml_fb *fb, const void *data, size_t size, nml_error *err) {
    fb->data = data;
    fb->size = 0;
    if (!data && size) return nml_fail(err, NML_E_ARG, "no data");
    if ((uintptr_t)data % 16)
        return nml_fail(err, NML_E_ARG, "flatbuffer at %p is not 16-byte aligned", data);
    if (size > NML_MAX_MODEL_BYTES)
        return nml_fail(err, NML_E_LIMIT, "flatbuffer of %zu bytes exceeds the limit of %lu", size,
                        (unsigned long)NML_MAX_MODEL_BYTES);
    fb->size = (uint32_t)size;
    return NML_OK;
}

/* Follows the u32 offset stored at `at` (4 bytes, already in bounds). */
static nml_status follow(const nml_fb *fb, uint32_t at, uint32_t *target, nml_error *err) {
    uint32_t o = at_u32(fb, at);
    if (o == 0 || o > 0x7fffffffu)
        return nml_fail(err, NML_E_FORMAT, "offset %lu: bad offset value %lu", (unsigned long)at,
                        (unsigned long)o);
    uint32_t t = at + o; /* at < 2^31 and o < 2^31 */
    if (t >= fb->size)
        return nml_fail(err, NML_E_FORMAT,
                        "offset %lu: points to %lu, past the end of the data (%lu bytes)",
                        (unsigned long)at, (unsigned long)t, (unsigned long)fb->size);
    *target = t;
    return NML_OK;
}

nml_status nml_fb_table_at(const nml_fb *fb, uint32_t pos, nml_fb_table *t, nml_error *err) {
    *t = NML_FB_EMPTY_TABLE;
    if (pos % 4 || !in_bounds(fb, pos, 4))
        return nml_fail(err, NML_E_FORMAT, "table at %lu: misaligned or out of bounds",
                        (unsigned long)pos);
    /* vtable = pos - soffset, taken modulo 2^32: a vtable before the start wraps to at least
     * 2^31 and one past the end stays below 2^32 (pos and |soffset| are below 2^31), so the
     * bounds check sees both */
    int32_t soffset = (int32_t)at_u32(fb, pos);
    uint32_t vt = pos - (uint32_t)soffset;
    if ((vt & 1) || !in_bounds(fb, vt, 4))
        return nml_fail(err, NML_E_FORMAT, "table at %lu: vtable out of bounds (soffset %ld)",
                        (unsigned long)pos, (long)soffset);
    uint16_t vt_bytes = at_u16(fb, vt);
    uint16_t tbl_bytes = at_u16(fb, vt + 2);
    if (vt_bytes < 4 || vt_bytes % 2 || !in_bounds(fb, vt, vt_bytes))
        return nml_fail(err, NML_E_FORMAT, "table at %lu: vtable of %u bytes is invalid",
                        (unsigned long)pos, (unsigned)vt_bytes);
    if (tbl_bytes < 4 || !in_bounds(fb, pos, tbl_bytes))
        return nml_fail(err, NML_E_FORMAT, "table at %lu: size %u runs past the end",
                        (unsigned long)pos, (unsigned)tbl_bytes);
    t->pos = pos;
    t->vtable = vt;
    t->n_fields = (uint16_t)((vt_bytes - 4) / 2);
    t->size = tbl_bytes;
    return NML_OK;
}

/* A byte loop rather than memcmp: the freestanding runtime links only memcpy/memset/memmove. */
static int same_identifier(const uint8_t *p, const char *ident) {
    for (int i = 0; i < 4; i++)
        if (p[i] != (uint8_t)ident[i]) return 0;
    return 1;
}

nml_status nml_fb_root(const nml_fb *fb, const char *ident, nml_fb_table *root, nml_error *err) {
    *root = NML_FB_EMPTY_TABLE;
    if (fb->size < 8)
        return nml_fail(err, NML_E_FORMAT, "%lu bytes are too few for a flatbuffer",
                        (unsigned long)fb->size);
    if (ident && !same_identifier(fb->data + 4, ident)) {
        char got[5];
        for (int i = 0; i < 4; i++) {
            char c = (char)fb->data[4 + i];
            got[i] = c >= 0x20 && c < 0x7f ? c : '?';
        }
        got[4] = '\0';
        return nml_fail(err, NML_E_FORMAT, "file identifier is '%s', expected '%s'", got, ident);
    }
    uint32_t pos = 0;
    NML_TRY(follow(fb, 0, &pos, err));
    return nml_fb_table_at(fb, pos, root, err);
}

/* Offset of field id inside the table, 0 when absent. */
static uint16_t field_offset(const nml_fb *fb, const nml_fb_table *t, unsigned id) {
    if (id >= t->n_fields) return 0;
    return at_u16(fb, t->vtable + 4 + 2 * id);
}

int nml_fb_has(const nml_fb *fb, const nml_fb_table *t, unsigned id) {
    return field_offset(fb, t, id) != 0;
}

/* Position of an inline field of `bytes` bytes, 0 when absent. */
static nml_status field_pos(const nml_fb *fb, const nml_fb_table *t, unsigned id, uint32_t bytes,
                            uint32_t *pos, nml_error *err) {
    uint16_t off = field_offset(fb, t, id);
    *pos = 0;
    if (!off) return NML_OK;
    if (off < 4 || (uint32_t)off + bytes > t->size || (t->pos + off) % bytes)
        return nml_fail(err, NML_E_FORMAT, "table at %lu: field %u at offset %u is invalid",
                        (unsigned long)t->pos, id, (unsigned)off);
    *pos = t->pos + off;
    return NML_OK;
}

nml_status nml_fb_u8(const nml_fb *fb, const nml_fb_table *t, unsigned id, uint8_t def,
                     uint8_t *out, nml_error *err) {
    uint32_t p;
    NML_TRY(field_pos(fb, t, id, 1, &p, err));
    *out = p ? fb->data[p] : def;
    return NML_OK;
}

nml_status nml_fb_i8(const nml_fb *fb, const nml_fb_table *t, unsigned id, int8_t def, int8_t *out,
                     nml_error *err) {
    uint8_t v;
    NML_TRY(nml_fb_u8(fb, t, id, (uint8_t)def, &v, err));
    *out = (int8_t)v;
    return NML_OK;
}

nml_status nml_fb_u32(const nml_fb *fb, const nml_fb_table *t, unsigned id, uint32_t def,
                      uint32_t *out, nml_error *err) {
    uint32_t p;
    NML_TRY(field_pos(fb, t, id, 4, &p, err));
    *out = p ? at_u32(fb, p) : def;
    return NML_OK;
}

nml_status nml_fb_i32(const nml_fb *fb, const nml_fb_table *t, unsigned id, int32_t def,
                      int32_t *out, nml_error *err) {
    uint32_t v;
    NML_TRY(nml_fb_u32(fb, t, id, (uint32_t)def, &v, err));
    *out = (int32_t)v;
    return NML_OK;
}

nml_status nml_fb_u64(const nml_fb *fb, const nml_fb_table *t, unsigned id, uint64_t def,
                      uint64_t *out, nml_error *err) {
    uint32_t p;
    NML_TRY(field_pos(fb, t, id, 8, &p, err));
    *out = p ? at_u64(fb, p) : def;
    return NML_OK;
}

nml_status nml_fb_f32(const nml_fb *fb, const nml_fb_table *t, unsigned id, float def, float *out,
                      nml_error *err) {
    uint32_t p;
    NML_TRY(field_pos(fb, t, id, 4, &p, err));
    if (!p) {
        *out = def;
        return NML_OK;
    }
    uint32_t bits = at_u32(fb, p);
    memcpy(out, &bits, sizeof bits);
    return NML_OK;
}

/* Target of the offset field id, 0 when absent. */
static nml_status offset_field(const nml_fb *fb, const nml_fb_table *t, unsigned id,
                               uint32_t *target, nml_error *err) {
    uint32_t p;
    *target = 0;
    NML_TRY(field_pos(fb, t, id, 4, &p, err));
    return p ? follow(fb, p, target, err) : NML_OK;
}

nml_status nml_fb_table_field(const nml_fb *fb, const nml_fb_table *t, unsigned id,
                              nml_fb_table *out, int *present, nml_error *err) {
    uint32_t target = 0;
    *out = NML_FB_EMPTY_TABLE;
    *present = 0;
    NML_TRY(offset_field(fb, t, id, &target, err));
    if (!target) return NML_OK;
    NML_TRY(nml_fb_table_at(fb, target, out, err));
    *present = 1;
    return NML_OK;
}

static nml_status vector_at(const nml_fb *fb, uint32_t pos, uint32_t elem_bytes, nml_fb_vec *out,
                            nml_error *err) {
    if (pos % 4 || !in_bounds(fb, pos, 4))
        return nml_fail(err, NML_E_FORMAT, "vector at %lu: misaligned or out of bounds",
                        (unsigned long)pos);
    uint32_t len = at_u32(fb, pos);
    uint32_t first = pos + 4; /* <= size */
    if (len > (fb->size - first) / elem_bytes)
        return nml_fail(err, NML_E_FORMAT,
                        "vector at %lu: %lu elements of %lu bytes run past the end (%lu bytes)",
                        (unsigned long)pos, (unsigned long)len, (unsigned long)elem_bytes,
                        (unsigned long)fb->size);
    if (elem_bytes > 1 && first % elem_bytes)
        return nml_fail(err, NML_E_FORMAT, "vector at %lu: elements not aligned to %lu bytes",
                        (unsigned long)pos, (unsigned long)elem_bytes);
    out->pos = first;
    out->len = len;
    return NML_OK;
}

nml_status nml_fb_vec_field(const nml_fb *fb, const nml_fb_table *t, unsigned id,
                            uint32_t elem_bytes, nml_fb_vec *out, nml_error *err) {
    uint32_t target = 0;
    out->pos = out->len = 0;
    NML_TRY(offset_field(fb, t, id, &target, err));
    return target ? vector_at(fb, target, elem_bytes, out, err) : NML_OK;
}

static nml_status string_at(const nml_fb *fb, uint32_t pos, const char **s, uint32_t *len,
                            nml_error *err) {
    nml_fb_vec v = {0, 0}; /* set on success only; gcc -O2 cannot see that nml_fail is not OK */
    NML_TRY(vector_at(fb, pos, 1, &v, err));
    if (!in_bounds(fb, v.pos + v.len, 1) || fb->data[v.pos + v.len] != 0)
        return nml_fail(err, NML_E_FORMAT, "string at %lu: missing NUL terminator",
                        (unsigned long)pos);
    *s = (const char *)fb->data + v.pos;
    *len = v.len;
    return NML_OK;
}

nml_status nml_fb_str_field(const nml_fb *fb, const nml_fb_table *t, unsigned id, const char **s,
                            uint32_t *len, nml_error *err) {
    uint32_t target = 0;
    *s = NULL;
    *len = 0;
    NML_TRY(offset_field(fb, t, id, &target, err));
    return target ? string_at(fb, target, s, len, err) : NML_OK;
}

nml_status nml_fb_union_field(const nml_fb *fb, const nml_fb_table *t, unsigned id, uint8_t *type,
                              nml_fb_table *value, nml_error *err) {
    int present;
    *value = NML_FB_EMPTY_TABLE;
    NML_TRY(nml_fb_u8(fb, t, id, 0, type, err));
    if (*type == 0) return NML_OK; /* NONE: the value (if any) is ignored, as flatbuffers does */
    NML_TRY(nml_fb_table_field(fb, t, id + 1, value, &present, err));
    if (!present)
        return nml_fail(err, NML_E_FORMAT, "table at %lu: union of type %u has no value",
                        (unsigned long)t->pos, (unsigned)*type);
    return NML_OK;
}

nml_status nml_fb_vec_table(const nml_fb *fb, nml_fb_vec v, uint32_t i, nml_fb_table *out,
                            nml_error *err) {
    *out = NML_FB_EMPTY_TABLE;
    if (i >= v.len)
        return nml_fail(err, NML_E_INTERNAL, "vector index %lu out of range (%lu)",
                        (unsigned long)i, (unsigned long)v.len);
    uint32_t target = 0;
    NML_TRY(follow(fb, v.pos + 4 * i, &target, err));
    return nml_fb_table_at(fb, target, out, err);
}

int32_t nml_fb_vec_i32(const nml_fb *fb, nml_fb_vec v, uint32_t i) {
    return i < v.len ? (int32_t)at_u32(fb, v.pos + 4 * i) : 0;
}

int64_t nml_fb_vec_i64(const nml_fb *fb, nml_fb_vec v, uint32_t i) {
    return i < v.len ? (int64_t)at_u64(fb, v.pos + 8 * i) : 0;
}

float nml_fb_vec_f32(const nml_fb *fb, nml_fb_vec v, uint32_t i) {
    uint32_t bits = i < v.len ? at_u32(fb, v.pos + 4 * i) : 0;
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}
