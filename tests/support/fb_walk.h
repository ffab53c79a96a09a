/* A tiny, independent flatbuffer reader for tests: walks bytes by the FlatBuffers format rules
 * (shares no code with src/tflite or the runtime), failing the test on any out-of-bounds
 * access. Positions are byte offsets into the buffer; 0 means "absent". */
#ifndef NML_TEST_FB_WALK_H
#define NML_TEST_FB_WALK_H

#include <stddef.h>
#include <stdint.h>

typedef struct fbw {
    const uint8_t *p;
    size_t n;
} fbw;

uint64_t fbw_uint(const fbw *b, size_t at, size_t bytes); /* little-endian, bounds-checked */
int64_t fbw_int(const fbw *b, size_t at, size_t bytes);   /* sign-extended */
float fbw_f32(const fbw *b, size_t at);
/* Position of the root table. */
size_t fbw_root(const fbw *b);
/* Position of field `id` of the table at `table`, 0 when absent. */
size_t fbw_field(const fbw *b, size_t table, int id);
/* Scalar field value, or def when absent. */
int64_t fbw_scalar(const fbw *b, size_t table, int id, size_t bytes, int64_t def);
float fbw_scalar_f32(const fbw *b, size_t table, int id, float def);
/* Target of an offset field (table, vector or string position), 0 when absent. */
size_t fbw_ref(const fbw *b, size_t table, int id);
/* Vector field: position of element 0 and the length, 0 when absent. */
size_t fbw_vector(const fbw *b, size_t table, int id, uint32_t *len);
/* Element i of a vector of offsets (tables/strings): the target position. */
size_t fbw_vector_ref(const fbw *b, size_t elems, uint32_t len, uint32_t i);
/* String field as a NUL-terminated pointer into the buffer, NULL when absent. */
const char *fbw_string(const fbw *b, size_t table, int id);

#endif
