/* Bounds-checked flatbuffer reading (internal to the runtime).
 *
 * Every function checks offsets and lengths against the buffer before it reads, does offset
 * arithmetic in 64 bits (the buffer is at most NML_MAX_MODEL_BYTES, so nothing overflows), and
 * returns NML_E_FORMAT with a message naming the byte offset on any violation. Nothing here
 * recurses: callers walk their schema explicitly, so nesting depth is fixed by the code.
 *
 * Layout reminders (flatbuffers binary format):
 *   root:   u32 offset to the root table at byte 0, optional 4-byte file identifier at byte 4
 *   table:  i32 soffset at its start; vtable = table - soffset
 *   vtable: u16 vtable bytes, u16 table bytes, then one u16 per field (offset inside the
 *           table, 0 = absent: the reader returns the schema default)
 *   offset fields and vector elements of tables/strings hold a u32 offset relative to where
 *           the offset itself is stored
 *   vector: u32 element count, then the elements; string: a byte vector plus a NUL
 *   union:  two fields, a u8 type (field id n) and an offset to a table (field id n + 1) */
#ifndef NANOML_RUNTIME_FB_H
#define NANOML_RUNTIME_FB_H

#include <stddef.h>
#include <stdint.h>

#include "nanoml/status.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "nanoml reads constant tensors in place and needs a little-endian target"
#endif

typedef struct nml_fb {
    const uint8_t *data;
    uint32_t size;
} nml_fb;

typedef struct nml_fb_table {
    uint32_t pos;      /* table start (where its soffset is) */
    uint32_t vtable;   /* vtable start */
    uint16_t n_fields; /* fields the vtable describes; 0 for an absent table (all defaults) */
    uint16_t size;     /* inline bytes of the table */
} nml_fb_table;

typedef struct nml_fb_vec {
    uint32_t pos; /* first element; 0 when the vector is absent */
    uint32_t len; /* element count */
} nml_fb_vec;

/* A table with no fields: every lookup gives the default. Used for absent option tables. */
#define NML_FB_EMPTY_TABLE ((nml_fb_table){0, 0, 0, 0})

nml_status nml_fb_init(nml_fb *fb, const void *data, size_t size, nml_error *err);

/* The root table; ident (a string of 4 characters) must match the file identifier when non-NULL. */
nml_status nml_fb_root(const nml_fb *fb, const char *ident, nml_fb_table *root, nml_error *err);

/* Verifies the table at pos (alignment, vtable inside the buffer, table inside the buffer). */
nml_status nml_fb_table_at(const nml_fb *fb, uint32_t pos, nml_fb_table *t, nml_error *err);

/* 1 when field id is present in the table. */
int nml_fb_has(const nml_fb *fb, const nml_fb_table *t, unsigned id);

/* Scalar fields: absent -> def. Bools and enums of type byte use nml_fb_u8 / nml_fb_i8. */
nml_status nml_fb_u8(const nml_fb *fb, const nml_fb_table *t, unsigned id, uint8_t def,
                     uint8_t *out, nml_error *err);
nml_status nml_fb_i8(const nml_fb *fb, const nml_fb_table *t, unsigned id, int8_t def, int8_t *out,
                     nml_error *err);
nml_status nml_fb_i32(const nml_fb *fb, const nml_fb_table *t, unsigned id, int32_t def,
                      int32_t *out, nml_error *err);
nml_status nml_fb_u32(const nml_fb *fb, const nml_fb_table *t, unsigned id, uint32_t def,
                      uint32_t *out, nml_error *err);
nml_status nml_fb_u64(const nml_fb *fb, const nml_fb_table *t, unsigned id, uint64_t def,
                      uint64_t *out, nml_error *err);
nml_status nml_fb_f32(const nml_fb *fb, const nml_fb_table *t, unsigned id, float def, float *out,
                      nml_error *err);

/* Sub-table field; *present = 0 (and *out = NML_FB_EMPTY_TABLE) when absent. */
nml_status nml_fb_table_field(const nml_fb *fb, const nml_fb_table *t, unsigned id,
                              nml_fb_table *out, int *present, nml_error *err);

/* Vector field of elem_bytes-sized elements (1, 2, 4 or 8; elements aligned to their size);
 * absent -> {0, 0}. Vectors of tables or strings use elem_bytes 4 (offsets). */
nml_status nml_fb_vec_field(const nml_fb *fb, const nml_fb_table *t, unsigned id,
                            uint32_t elem_bytes, nml_fb_vec *out, nml_error *err);

/* String field: NUL-terminated inside the buffer; absent -> *s = NULL, *len = 0. */
nml_status nml_fb_str_field(const nml_fb *fb, const nml_fb_table *t, unsigned id, const char **s,
                            uint32_t *len, nml_error *err);

/* Union: type byte at field id, table at id + 1. Type 0 (NONE) gives *value = empty table. */
nml_status nml_fb_union_field(const nml_fb *fb, const nml_fb_table *t, unsigned id, uint8_t *type,
                              nml_fb_table *value, nml_error *err);

/* Element i (< v.len) of a vector of tables. */
nml_status nml_fb_vec_table(const nml_fb *fb, nml_fb_vec v, uint32_t i, nml_fb_table *out,
                            nml_error *err);

/* Elements of a verified vector. i must be < v.len (out-of-range reads give 0). */
int32_t nml_fb_vec_i32(const nml_fb *fb, nml_fb_vec v, uint32_t i);
int64_t nml_fb_vec_i64(const nml_fb *fb, nml_fb_vec v, uint32_t i);
float nml_fb_vec_f32(const nml_fb *fb, nml_fb_vec v, uint32_t i);

/* Little-endian loads at an already-checked position. */
uint16_t nml_fb_load_u16(const uint8_t *p);
uint32_t nml_fb_load_u32(const uint8_t *p);
uint64_t nml_fb_load_u64(const uint8_t *p);

#endif
