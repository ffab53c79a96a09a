/* A general FlatBuffers builder (host only).
 *
 * The buffer is built back to front, as the format requires: children (vectors, strings, tables)
 * are written first and referred to by the returned nml_fbb_ref; a table is then built field by
 * field between nml_fbb_start_table and nml_fbb_end_table, and finally nml_fbb_finish writes the
 * root offset and the file identifier.
 *
 *   nml_fbb b;  nml_fbb_init(&b);
 *   nml_fbb_ref name = nml_fbb_string(&b, "x");
 *   nml_fbb_start_table(&b);
 *   nml_fbb_add_ref(&b, 3, name);          // field 3: uoffset to the string
 *   nml_fbb_add_i32(&b, 1, 7, 0);          // field 1: 7 (omitted when equal to the default 0)
 *   nml_fbb_ref root = nml_fbb_end_table(&b);
 *   nml_fbb_finish(&b, root, "TFL3", &out, &size, &err);
 *
 * Errors are sticky: a failing call (allocation, size limit, misuse such as a vector inside an
 * open table) records the first error in the builder and returns 0; later calls do nothing and
 * nml_fbb_finish reports that first error. So code that builds a large buffer checks once.
 *
 * Layout rules implemented (FlatBuffers binary format): little-endian scalars; every scalar,
 * offset and vector aligned to its size; vectors are a uint32 length followed by the elements,
 * with the elements aligned to max(element size, requested alignment) (force_align); strings are
 * a uint32 length, the bytes and a NUL; a table starts with an int32 soffset to its vtable
 * (vtable = table - soffset); a vtable is uint16 vtable bytes, uint16 table bytes, then one uint16
 * per field (offset from the table start, 0 = absent). Identical vtables are shared. The finished
 * size is a multiple of the largest alignment used, so alignments hold when the buffer itself is
 * placed at such an address. */
#ifndef NML_TFLITE_FB_BUILDER_H
#define NML_TFLITE_FB_BUILDER_H

#include <stddef.h>
#include <stdint.h>

#include "nanoml/status.h"

/* Position of an object, counted in bytes from the end of the buffer. 0 means "none". */
typedef uint32_t nml_fbb_ref;

#define NML_FBB_MAX_FIELDS 64        /* field ids 0..63 per table (TFLite's largest uses 13) */
#define NML_FBB_MAX_SIZE 0x7fffffffu /* FlatBuffers offsets address 2 GiB - 1 */

typedef struct nml_fbb_field {
    uint16_t id;
    nml_fbb_ref at; /* where the field's value was written */
} nml_fbb_field;

typedef struct nml_fbb {
    uint8_t *buf; /* the data occupies the last `size` bytes of buf[0..cap) */
    size_t cap, size;
    size_t max_align; /* largest alignment used so far */
    size_t limit;     /* maximum finished size (NML_FBB_MAX_SIZE unless lowered, e.g. by tests) */
    /* the open table */
    int in_table;
    size_t table_start;
    nml_fbb_field fields[NML_FBB_MAX_FIELDS];
    int n_fields;
    /* vtables written so far, for sharing */
    nml_fbb_ref *vtables;
    int n_vtables, cap_vtables;
    int dedup_vtables; /* 1 (default): reuse identical vtables */
    /* vectors built with nml_fbb_vector_shared, for sharing */
    struct nml_fbb_shared *shared;
    int n_shared, cap_shared;
    /* sticky error */
    nml_status status;
    nml_error err;
} nml_fbb;

void nml_fbb_init(nml_fbb *b);
void nml_fbb_free(nml_fbb *b);
/* First error recorded (NML_OK when none); the message is in b->err. */
nml_status nml_fbb_status(const nml_fbb *b);

/* ---- vectors and strings (outside tables) ---- */

/* A vector of `count` elements of elem_size bytes each (1, 2, 4 or 8) copied from `elems` in
 * host order and stored little-endian. `align` forces a larger element alignment (force_align,
 * a power of two; 0 = the element size). */
nml_fbb_ref nml_fbb_vector(nml_fbb *b, const void *elems, size_t count, size_t elem_size,
                           size_t align);
nml_fbb_ref nml_fbb_vector_u8(nml_fbb *b, const uint8_t *v, size_t count, size_t align);
nml_fbb_ref nml_fbb_vector_i32(nml_fbb *b, const int32_t *v, size_t count);
nml_fbb_ref nml_fbb_vector_i64(nml_fbb *b, const int64_t *v, size_t count);
nml_fbb_ref nml_fbb_vector_f32(nml_fbb *b, const float *v, size_t count);
/* As nml_fbb_vector, but returns an earlier vector built through this function when it has
 * the same bytes and at least this alignment. Readers follow offsets, so one vector may serve
 * several tables; use it for small, often repeated vectors (shapes, quantization parameters),
 * never for data a consumer might modify in place. */
nml_fbb_ref nml_fbb_vector_shared(nml_fbb *b, const void *elems, size_t count, size_t elem_size,
                                  size_t align);
/* A vector of offsets to previously built tables/strings/vectors (all refs non-zero). */
nml_fbb_ref nml_fbb_vector_refs(nml_fbb *b, const nml_fbb_ref *refs, size_t count);
nml_fbb_ref nml_fbb_string(nml_fbb *b, const char *s);
nml_fbb_ref nml_fbb_string_len(nml_fbb *b, const char *s, size_t len);

/* ---- tables ---- */

void nml_fbb_start_table(nml_fbb *b);
/* Scalars are written only when different from the schema default (FlatBuffers convention). */
void nml_fbb_add_bool(nml_fbb *b, int field, int value, int def);
void nml_fbb_add_u8(nml_fbb *b, int field, uint8_t value, uint8_t def);
void nml_fbb_add_i8(nml_fbb *b, int field, int8_t value, int8_t def);
void nml_fbb_add_i16(nml_fbb *b, int field, int16_t value, int16_t def);
void nml_fbb_add_u16(nml_fbb *b, int field, uint16_t value, uint16_t def);
void nml_fbb_add_i32(nml_fbb *b, int field, int32_t value, int32_t def);
void nml_fbb_add_u32(nml_fbb *b, int field, uint32_t value, uint32_t def);
void nml_fbb_add_i64(nml_fbb *b, int field, int64_t value, int64_t def);
void nml_fbb_add_u64(nml_fbb *b, int field, uint64_t value, uint64_t def);
/* Floats are compared bitwise with the default, so -0.0 and NaN payloads are kept. */
void nml_fbb_add_f32(nml_fbb *b, int field, float value, float def);
/* An offset field; ref 0 leaves the field absent. */
void nml_fbb_add_ref(nml_fbb *b, int field, nml_fbb_ref ref);
/* A union: the type (ubyte) at field `type_field` and the value offset at type_field + 1, the
 * two slots schema compilers give a union field. Type 0 (NONE) writes nothing. */
void nml_fbb_add_union(nml_fbb *b, int type_field, uint8_t type, nml_fbb_ref value);
nml_fbb_ref nml_fbb_end_table(nml_fbb *b);

/* ---- finishing ---- */

/* Writes the root offset (and the 4-character identifier when non-NULL) and copies the finished
 * buffer into *out (malloc'd, 16-byte aligned; free()). The builder can be freed afterwards. */
nml_status nml_fbb_finish(nml_fbb *b, nml_fbb_ref root, const char *identifier, uint8_t **out,
                          size_t *size, nml_error *err);

#endif
