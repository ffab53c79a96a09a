/* Four-float vectors for the training library's elementwise loops (internal). GCC and Clang
 * vector extensions: SSE2 (every x86-64) or NEON instructions, a scalar loop elsewhere. Loads and
 * stores go through memcpy, so pointers need no alignment and no aliasing rule is bent. */
#ifndef NML_TRAIN_VEC4_H
#define NML_TRAIN_VEC4_H

#include <stddef.h>
#include <string.h>

typedef float nml_v4 __attribute__((vector_size(16)));

static inline nml_v4 nml_v4_load(const float *p) {
    nml_v4 v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline void nml_v4_store(float *p, nml_v4 v) { memcpy(p, &v, sizeof v); }

static inline nml_v4 nml_v4_splat(float x) { return (nml_v4){x, x, x, x}; }

/* dst[i] += src[i] for i < n */
static inline void nml_add_into(float *dst, const float *src, size_t n) {
    size_t i = 0;
    for (; i + 4 <= n; i += 4) nml_v4_store(dst + i, nml_v4_load(dst + i) + nml_v4_load(src + i));
    for (; i < n; i++) dst[i] += src[i];
}

/* dst[i] += s * src[i] for i < n */
static inline void nml_axpy_into(float *dst, float s, const float *src, size_t n) {
    size_t i = 0;
    const nml_v4 vs = nml_v4_splat(s);
    for (; i + 4 <= n; i += 4)
        nml_v4_store(dst + i, nml_v4_load(dst + i) + vs * nml_v4_load(src + i));
    for (; i < n; i++) dst[i] += s * src[i];
}

#endif
