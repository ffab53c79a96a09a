#include "tflite/fb_builder.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* ---- sticky errors ---- */

static int fb_ok(const nml_fbb *b) {
    return b->status == NML_OK;
}

static void fb_fail(nml_fbb *b, nml_status status, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

static void fb_fail(nml_fbb *b, nml_status status, const char *fmt, ...) {
    if (!fb_ok(b)) return; /* keep the first error: later ones are consequences */
    va_list ap;
    va_start(ap, fmt);
    b->err.status = status;
    nml_vformat(b->err.msg, sizeof b->err.msg, fmt, ap);
    va_end(ap);
    b->status = status;
}

void nml_fbb_init(nml_fbb *b) {
    memset(b, 0, sizeof *b);
    b->max_align = 1;
    b->limit = NML_FBB_MAX_SIZE;
    b->dedup_vtables = 1;
    nml_error_clear(&b->err);
    b->status = NML_OK;
}

void nml_fbb_free(nml_fbb *b) {
    free(b->buf);
    free(b->shared);
    b->shared = NULL;
    b->n_shared = b->cap_shared = 0;
    free(b->vtables);
    b->buf = NULL;
    b->vtables = NULL;
    b->cap = b->size = 0;
    b->n_vtables = b->cap_vtables = 0;
}

nml_status nml_fbb_status(const nml_fbb *b) {
    return b->status;
}

/* ---- raw space at the front of the data ---- */

/* Makes room for n more bytes in front of the data, growing the allocation (data stays at the
 * end). Fails when the buffer would pass the size limit. */
static int fb_reserve(nml_fbb *b, size_t n) {
    if (!fb_ok(b)) return 0;
    if (n > b->limit || b->size > b->limit - n) {
        fb_fail(b, NML_E_LIMIT, "flatbuffer would exceed %zu bytes (%zu + %zu)", b->limit, b->size,
                n);
        return 0;
    }
    if (b->cap - b->size >= n) return 1;
    size_t need = b->size + n;
    size_t cap = b->cap ? b->cap : 1024;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    uint8_t *nb = malloc(cap);
    if (!nb) {
        fb_fail(b, NML_E_NOMEM, "flatbuffer: cannot allocate %zu bytes", cap);
        return 0;
    }
    if (b->size) memcpy(nb + cap - b->size, b->buf + b->cap - b->size, b->size);
    free(b->buf);
    b->buf = nb;
    b->cap = cap;
    return 1;
}

/* Claims n bytes in front of the data and returns their (lowest) address, or NULL. */
static uint8_t *fb_push(nml_fbb *b, size_t n) {
    if (!fb_reserve(b, n)) return NULL;
    b->size += n;
    return b->buf + b->cap - b->size;
}

static void fb_pad(nml_fbb *b, size_t n) {
    uint8_t *p = fb_push(b, n);
    if (p) memset(p, 0, n);
}

/* Pads so that after `extra` more bytes are pushed, the size is a multiple of align. Objects
 * start at (final size - ref), so this aligns them once the final size is a multiple of the
 * largest alignment, which nml_fbb_finish ensures. */
static void fb_prep(nml_fbb *b, size_t align, size_t extra) {
    if (align > b->max_align) b->max_align = align;
    size_t pad = (size_t)(0 - (b->size + extra)) & (align - 1);
    if (pad) fb_pad(b, pad);
}

static void fb_put_le(uint8_t *p, uint64_t v, size_t n) {
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t fb_get_le(const uint8_t *p, size_t n) {
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

/* Reads element i of a host-order array as raw bits. */
static uint64_t fb_host_elem(const void *elems, size_t i, size_t elem_size) {
    const uint8_t *p = (const uint8_t *)elems + i * elem_size;
    switch (elem_size) {
    case 1:
        return *p;
    case 2: {
        uint16_t v;
        memcpy(&v, p, 2);
        return v;
    }
    case 4: {
        uint32_t v;
        memcpy(&v, p, 4);
        return v;
    }
    default: {
        uint64_t v;
        memcpy(&v, p, 8);
        return v;
    }
    }
}

static int fb_outside_table(nml_fbb *b, const char *what) {
    if (!b->in_table) return 1;
    fb_fail(b, NML_E_INTERNAL, "flatbuffer: %s built while a table is open", what);
    return 0;
}

/* ---- vectors and strings ---- */

static int fb_is_pow2(size_t v) {
    return v && !(v & (v - 1));
}

nml_fbb_ref nml_fbb_vector(nml_fbb *b, const void *elems, size_t count, size_t elem_size,
                           size_t align) {
    if (!fb_ok(b) || !fb_outside_table(b, "vector")) return 0;
    if (elem_size != 1 && elem_size != 2 && elem_size != 4 && elem_size != 8) {
        fb_fail(b, NML_E_INTERNAL, "flatbuffer: element size %zu not 1, 2, 4 or 8", elem_size);
        return 0;
    }
    if (align == 0) align = elem_size;
    if (!fb_is_pow2(align) || align > 256) {
        fb_fail(b, NML_E_INTERNAL, "flatbuffer: vector alignment %zu not a power of two <= 256",
                align);
        return 0;
    }
    if (align < elem_size) align = elem_size;
    if (count > b->limit / elem_size) {
        fb_fail(b, NML_E_LIMIT, "flatbuffer: vector of %zu x %zu bytes exceeds %zu bytes", count,
                elem_size, b->limit);
        return 0;
    }
    if (count && !elems) {
        fb_fail(b, NML_E_INTERNAL, "flatbuffer: vector of %zu elements without data", count);
        return 0;
    }
    size_t bytes = count * elem_size;
    fb_prep(b, 4, bytes);     /* the uint32 length directly precedes the elements */
    fb_prep(b, align, bytes); /* the first element lands on `align` */
    uint8_t *p = fb_push(b, bytes);
    if (!p) return 0;
    if (elem_size == 1) {
        if (bytes) memcpy(p, elems, bytes);
    } else {
        for (size_t i = 0; i < count; i++)
            fb_put_le(p + i * elem_size, fb_host_elem(elems, i, elem_size), elem_size);
    }
    uint8_t *len = fb_push(b, 4);
    if (!len) return 0;
    fb_put_le(len, count, 4);
    return (nml_fbb_ref)b->size;
}

nml_fbb_ref nml_fbb_vector_u8(nml_fbb *b, const uint8_t *v, size_t count, size_t align) {
    return nml_fbb_vector(b, v, count, 1, align);
}

nml_fbb_ref nml_fbb_vector_i32(nml_fbb *b, const int32_t *v, size_t count) {
    return nml_fbb_vector(b, v, count, 4, 0);
}

nml_fbb_ref nml_fbb_vector_i64(nml_fbb *b, const int64_t *v, size_t count) {
    return nml_fbb_vector(b, v, count, 8, 0);
}

nml_fbb_ref nml_fbb_vector_f32(nml_fbb *b, const float *v, size_t count) {
    return nml_fbb_vector(b, v, count, 4, 0);
}

/* ---- shared vectors ---- */

struct nml_fbb_shared {
    nml_fbb_ref ref;
    size_t count, elem_size, align;
    uint64_t hash;
};

/* FNV-1a over the little-endian element bytes: a cheap filter before the exact comparison. */
static uint64_t fb_hash_elems(const void *elems, size_t count, size_t elem_size) {
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < count; i++) {
        uint64_t v = fb_host_elem(elems, i, elem_size);
        for (size_t k = 0; k < elem_size; k++) {
            h ^= (uint8_t)(v >> (8 * k));
            h *= 1099511628211ull;
        }
    }
    return h;
}

/* 1 when the vector written at s->ref holds exactly these elements. */
static int fb_same_elems(const nml_fbb *b, const struct nml_fbb_shared *s, const void *elems) {
    const uint8_t *p = b->buf + b->cap - s->ref + 4; /* elements follow the uint32 length */
    for (size_t i = 0; i < s->count; i++)
        if (fb_get_le(p + i * s->elem_size, s->elem_size) != fb_host_elem(elems, i, s->elem_size))
            return 0;
    return 1;
}

static void fb_remember_shared(nml_fbb *b, const struct nml_fbb_shared *s) {
    if (b->n_shared == b->cap_shared) {
        int cap = b->cap_shared ? b->cap_shared * 2 : 64;
        struct nml_fbb_shared *nv = realloc(b->shared, (size_t)cap * sizeof *nv);
        if (!nv) return; /* sharing is an optimization: without memory, just do not share */
        b->shared = nv;
        b->cap_shared = cap;
    }
    b->shared[b->n_shared++] = *s;
}

nml_fbb_ref nml_fbb_vector_shared(nml_fbb *b, const void *elems, size_t count, size_t elem_size,
                                  size_t align) {
    if (!fb_ok(b) || !fb_outside_table(b, "vector")) return 0;
    size_t eff = align > elem_size ? align : elem_size;
    struct nml_fbb_shared s = {0, count, elem_size, eff, 0};
    if (elems && (elem_size == 1 || elem_size == 2 || elem_size == 4 || elem_size == 8)) {
        s.hash = fb_hash_elems(elems, count, elem_size);
        for (int i = 0; i < b->n_shared; i++) {
            const struct nml_fbb_shared *o = &b->shared[i];
            /* an earlier vector sits at a higher address, so the offset to it is positive */
            if (o->hash == s.hash && o->count == count && o->elem_size == elem_size &&
                o->align >= eff && fb_same_elems(b, o, elems))
                return o->ref;
        }
    }
    s.ref = nml_fbb_vector(b, elems, count, elem_size, align);
    if (s.ref) fb_remember_shared(b, &s);
    return s.ref;
}

/* A reference must point at something already written (smaller position from the end). */
static int fb_check_ref(nml_fbb *b, nml_fbb_ref ref, const char *what) {
    if (ref != 0 && ref <= b->size) return 1;
    fb_fail(b, NML_E_INTERNAL, "flatbuffer: %s refers to %u, not a finished object (size %zu)",
            what, (unsigned)ref, b->size);
    return 0;
}

nml_fbb_ref nml_fbb_vector_refs(nml_fbb *b, const nml_fbb_ref *refs, size_t count) {
    if (!fb_ok(b) || !fb_outside_table(b, "vector")) return 0;
    if (count > b->limit / 4) {
        fb_fail(b, NML_E_LIMIT, "flatbuffer: vector of %zu offsets too large", count);
        return 0;
    }
    fb_prep(b, 4, count * 4);
    for (size_t k = count; k-- > 0;) {
        if (!fb_check_ref(b, refs[k], "vector element")) return 0;
        uint8_t *p = fb_push(b, 4);
        if (!p) return 0;
        /* the element sits at (final - size); its target at (final - ref) */
        fb_put_le(p, b->size - refs[k], 4);
    }
    uint8_t *len = fb_push(b, 4);
    if (!len) return 0;
    fb_put_le(len, count, 4);
    return (nml_fbb_ref)b->size;
}

nml_fbb_ref nml_fbb_string_len(nml_fbb *b, const char *s, size_t len) {
    if (!fb_ok(b) || !fb_outside_table(b, "string")) return 0;
    if (len && !s) {
        fb_fail(b, NML_E_INTERNAL, "flatbuffer: string of %zu bytes without data", len);
        return 0;
    }
    if (len >= b->limit) {
        fb_fail(b, NML_E_LIMIT, "flatbuffer: string of %zu bytes too large", len);
        return 0;
    }
    fb_prep(b, 4, len + 1);
    uint8_t *p = fb_push(b, len + 1);
    if (!p) return 0;
    if (len) memcpy(p, s, len);
    p[len] = 0;
    uint8_t *n = fb_push(b, 4);
    if (!n) return 0;
    fb_put_le(n, len, 4);
    return (nml_fbb_ref)b->size;
}

nml_fbb_ref nml_fbb_string(nml_fbb *b, const char *s) {
    return nml_fbb_string_len(b, s ? s : "", s ? strlen(s) : 0);
}

/* ---- tables ---- */

void nml_fbb_start_table(nml_fbb *b) {
    if (!fb_ok(b)) return;
    if (b->in_table) {
        fb_fail(b, NML_E_INTERNAL, "flatbuffer: table started inside an open table");
        return;
    }
    b->in_table = 1;
    b->n_fields = 0;
    b->table_start = b->size;
}

static int fb_field_ok(nml_fbb *b, int field) {
    if (!fb_ok(b)) return 0;
    if (!b->in_table) {
        fb_fail(b, NML_E_INTERNAL, "flatbuffer: field %d added outside a table", field);
        return 0;
    }
    if (field < 0 || field >= NML_FBB_MAX_FIELDS) {
        fb_fail(b, NML_E_INTERNAL, "flatbuffer: field id %d out of range 0..%d", field,
                NML_FBB_MAX_FIELDS - 1);
        return 0;
    }
    for (int i = 0; i < b->n_fields; i++) {
        if (b->fields[i].id == field) {
            fb_fail(b, NML_E_INTERNAL, "flatbuffer: field %d added twice", field);
            return 0;
        }
    }
    return 1;
}

static void fb_record_field(nml_fbb *b, int field) {
    b->fields[b->n_fields].id = (uint16_t)field;
    b->fields[b->n_fields].at = (nml_fbb_ref)b->size;
    b->n_fields++;
}

static void fb_add_scalar(nml_fbb *b, int field, uint64_t bits, size_t n) {
    if (!fb_field_ok(b, field)) return;
    fb_prep(b, n, n);
    uint8_t *p = fb_push(b, n);
    if (!p) return;
    fb_put_le(p, bits, n);
    fb_record_field(b, field);
}

void nml_fbb_add_bool(nml_fbb *b, int field, int value, int def) {
    if ((value != 0) != (def != 0)) fb_add_scalar(b, field, value != 0, 1);
}

void nml_fbb_add_u8(nml_fbb *b, int field, uint8_t value, uint8_t def) {
    if (value != def) fb_add_scalar(b, field, value, 1);
}

void nml_fbb_add_i8(nml_fbb *b, int field, int8_t value, int8_t def) {
    if (value != def) fb_add_scalar(b, field, (uint8_t)value, 1);
}

void nml_fbb_add_i16(nml_fbb *b, int field, int16_t value, int16_t def) {
    if (value != def) fb_add_scalar(b, field, (uint16_t)value, 2);
}

void nml_fbb_add_u16(nml_fbb *b, int field, uint16_t value, uint16_t def) {
    if (value != def) fb_add_scalar(b, field, value, 2);
}

void nml_fbb_add_i32(nml_fbb *b, int field, int32_t value, int32_t def) {
    if (value != def) fb_add_scalar(b, field, (uint32_t)value, 4);
}

void nml_fbb_add_u32(nml_fbb *b, int field, uint32_t value, uint32_t def) {
    if (value != def) fb_add_scalar(b, field, value, 4);
}

void nml_fbb_add_i64(nml_fbb *b, int field, int64_t value, int64_t def) {
    if (value != def) fb_add_scalar(b, field, (uint64_t)value, 8);
}

void nml_fbb_add_u64(nml_fbb *b, int field, uint64_t value, uint64_t def) {
    if (value != def) fb_add_scalar(b, field, value, 8);
}

void nml_fbb_add_f32(nml_fbb *b, int field, float value, float def) {
    uint32_t vb, db;
    memcpy(&vb, &value, 4);
    memcpy(&db, &def, 4);
    if (vb != db) fb_add_scalar(b, field, vb, 4);
}

void nml_fbb_add_ref(nml_fbb *b, int field, nml_fbb_ref ref) {
    if (ref == 0 || !fb_field_ok(b, field)) return;
    if (!fb_check_ref(b, ref, "field")) return;
    fb_prep(b, 4, 4);
    uint8_t *p = fb_push(b, 4);
    if (!p) return;
    fb_put_le(p, b->size - ref, 4);
    fb_record_field(b, field);
}

void nml_fbb_add_union(nml_fbb *b, int type_field, uint8_t type, nml_fbb_ref value) {
    if (type == 0) return;
    if (value == 0) {
        fb_fail(b, NML_E_INTERNAL, "flatbuffer: union field %d of type %u has no value", type_field,
                type);
        return;
    }
    nml_fbb_add_u8(b, type_field, type, 0);
    nml_fbb_add_ref(b, type_field + 1, value);
}

/* Returns the position of an earlier vtable with exactly these bytes, or 0. */
static nml_fbb_ref fb_find_vtable(const nml_fbb *b, const uint8_t *vt, size_t vt_bytes) {
    for (int i = 0; i < b->n_vtables; i++) {
        const uint8_t *old = b->buf + b->cap - b->vtables[i];
        if (fb_get_le(old, 2) == vt_bytes && memcmp(old, vt, vt_bytes) == 0) return b->vtables[i];
    }
    return 0;
}

static void fb_remember_vtable(nml_fbb *b, nml_fbb_ref ref) {
    if (b->n_vtables == b->cap_vtables) {
        int cap = b->cap_vtables ? b->cap_vtables * 2 : 16;
        nml_fbb_ref *nv = realloc(b->vtables, (size_t)cap * sizeof *nv);
        if (!nv) return; /* sharing is an optimization: without memory, just do not share */
        b->vtables = nv;
        b->cap_vtables = cap;
    }
    b->vtables[b->n_vtables++] = ref;
}

nml_fbb_ref nml_fbb_end_table(nml_fbb *b) {
    if (!fb_ok(b)) return 0;
    if (!b->in_table) {
        fb_fail(b, NML_E_INTERNAL, "flatbuffer: end of a table that was not started");
        return 0;
    }
    /* the table starts with an int32 soffset to its vtable, patched below */
    fb_prep(b, 4, 4);
    if (!fb_push(b, 4)) return 0;
    nml_fbb_ref table = (nml_fbb_ref)b->size;
    b->in_table = 0;

    int slots = 0;
    for (int i = 0; i < b->n_fields; i++)
        if (b->fields[i].id + 1 > slots) slots = b->fields[i].id + 1;
    size_t vt_bytes = 4 + 2 * (size_t)slots;
    size_t obj_bytes = table - b->table_start;
    if (obj_bytes > 0xffff) {
        fb_fail(b, NML_E_LIMIT, "flatbuffer: table of %zu bytes exceeds 65535", obj_bytes);
        return 0;
    }
    uint8_t vt[4 + 2 * NML_FBB_MAX_FIELDS];
    memset(vt, 0, sizeof vt);
    fb_put_le(vt, vt_bytes, 2);
    fb_put_le(vt + 2, obj_bytes, 2);
    for (int i = 0; i < b->n_fields; i++)
        fb_put_le(vt + 4 + 2 * b->fields[i].id, table - b->fields[i].at, 2);

    nml_fbb_ref vtable = b->dedup_vtables ? fb_find_vtable(b, vt, vt_bytes) : 0;
    if (!vtable) {
        uint8_t *p = fb_push(b, vt_bytes); /* 2-aligned: size is 4-aligned here */
        if (!p) return 0;
        memcpy(p, vt, vt_bytes);
        vtable = (nml_fbb_ref)b->size;
        if (b->dedup_vtables) fb_remember_vtable(b, vtable);
    }
    /* vtable address = table address - soffset, addresses being (final size - ref) */
    int64_t soffset = (int64_t)vtable - (int64_t)table;
    fb_put_le(b->buf + b->cap - table, (uint32_t)(int32_t)soffset, 4);
    return table;
}

/* ---- finishing ---- */

nml_status nml_fbb_finish(nml_fbb *b, nml_fbb_ref root, const char *identifier, uint8_t **out,
                          size_t *size, nml_error *err) {
    *out = NULL;
    *size = 0;
    if (fb_ok(b)) fb_outside_table(b, "root offset");
    if (fb_ok(b) && identifier && strlen(identifier) != 4)
        fb_fail(b, NML_E_INTERNAL, "flatbuffer: file identifier must have 4 characters");
    if (fb_ok(b)) fb_check_ref(b, root, "root");
    if (fb_ok(b)) {
        size_t ident_bytes = identifier ? 4 : 0;
        fb_prep(b, b->max_align < 4 ? 4 : b->max_align, 4 + ident_bytes);
        if (identifier) {
            uint8_t *p = fb_push(b, 4);
            if (p) memcpy(p, identifier, 4);
        }
        uint8_t *p = fb_push(b, 4);
        if (p) fb_put_le(p, b->size - root, 4);
    }
    if (!fb_ok(b)) {
        if (err) *err = b->err;
        return b->status;
    }
    size_t align = b->max_align > 16 ? b->max_align : 16;
    size_t alloc = (b->size + align - 1) / align * align;
    uint8_t *copy = aligned_alloc(align, alloc ? alloc : align);
    if (!copy) return nml_fail(err, NML_E_NOMEM, "flatbuffer: cannot allocate %zu bytes", alloc);
    memcpy(copy, b->buf + b->cap - b->size, b->size);
    if (alloc > b->size) memset(copy + b->size, 0, alloc - b->size);
    *out = copy;
    *size = b->size;
    return NML_OK;
}
