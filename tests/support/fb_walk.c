#include "fb_walk.h"

#include <string.h>

#include "test_util.h"

static void need(const fbw *b, size_t at, size_t bytes) {
    if (at > b->n || bytes > b->n - at)
        fail_msg("flatbuffer read of %zu bytes at %zu outside %zu bytes", bytes, at, b->n);
}

uint64_t fbw_uint(const fbw *b, size_t at, size_t bytes) {
    need(b, at, bytes);
    uint64_t v = 0;
    for (size_t i = 0; i < bytes; i++)
        v |= (uint64_t)b->p[at + i] << (8 * i);
    return v;
}

int64_t fbw_int(const fbw *b, size_t at, size_t bytes) {
    uint64_t v = fbw_uint(b, at, bytes);
    if (bytes < 8 && (v >> (8 * bytes - 1)) & 1) v |= ~(uint64_t)0 << (8 * bytes);
    return (int64_t)v;
}

float fbw_f32(const fbw *b, size_t at) {
    uint32_t bits = (uint32_t)fbw_uint(b, at, 4);
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

size_t fbw_root(const fbw *b) {
    return (size_t)fbw_uint(b, 0, 4);
}

size_t fbw_field(const fbw *b, size_t table, int id) {
    int64_t vtable = (int64_t)table - fbw_int(b, table, 4);
    if (vtable < 0) fail_msg("vtable of table %zu before the buffer", table);
    size_t vt = (size_t)vtable;
    size_t vt_bytes = (size_t)fbw_uint(b, vt, 2);
    size_t slot = 4 + 2 * (size_t)id;
    if (slot + 2 > vt_bytes) return 0;
    size_t off = (size_t)fbw_uint(b, vt + slot, 2);
    if (off == 0) return 0;
    if (off >= fbw_uint(b, vt + 2, 2)) fail_msg("field %d beyond its table", id);
    return table + off;
}

int64_t fbw_scalar(const fbw *b, size_t table, int id, size_t bytes, int64_t def) {
    size_t at = fbw_field(b, table, id);
    return at ? fbw_int(b, at, bytes) : def;
}

float fbw_scalar_f32(const fbw *b, size_t table, int id, float def) {
    size_t at = fbw_field(b, table, id);
    return at ? fbw_f32(b, at) : def;
}

size_t fbw_ref(const fbw *b, size_t table, int id) {
    size_t at = fbw_field(b, table, id);
    if (!at) return 0;
    size_t target = at + (size_t)fbw_uint(b, at, 4);
    need(b, target, 4);
    return target;
}

size_t fbw_vector(const fbw *b, size_t table, int id, uint32_t *len) {
    size_t v = fbw_ref(b, table, id);
    *len = 0;
    if (!v) return 0;
    *len = (uint32_t)fbw_uint(b, v, 4);
    return v + 4;
}

size_t fbw_vector_ref(const fbw *b, size_t elems, uint32_t len, uint32_t i) {
    if (i >= len) fail_msg("vector index %u of %u", i, len);
    size_t at = elems + 4 * (size_t)i;
    size_t target = at + (size_t)fbw_uint(b, at, 4);
    need(b, target, 4);
    return target;
}

const char *fbw_string(const fbw *b, size_t table, int id) {
    size_t s = fbw_ref(b, table, id);
    if (!s) return NULL;
    size_t len = (size_t)fbw_uint(b, s, 4);
    need(b, s + 4, len + 1);
    if (b->p[s + 4 + len] != 0) fail_msg("string at %zu not NUL-terminated", s);
    return (const char *)b->p + s + 4;
}
