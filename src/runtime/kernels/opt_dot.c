/* Multi-row int8 dot products (opt_dot.h). Out of line so the accumulators and row pointers get
 * the registers to themselves; the depth loop is unrolled by four with pointer increments. */
#include "opt_dot.h"

/* A compiler barrier (no instruction): keeps gcc from hoisting a step's weight loads ahead of
 * the previous ones, which at -Os needed registers the loop then lacked (the loop end and the
 * zero point went to the stack). */
#if defined(__GNUC__)
#define NML_DOT_BARRIER() __asm__ volatile("" ::: "memory")
#else
#define NML_DOT_BARRIER() ((void)0)
#endif

/* Both eight-row dots' body, inlined into each (offset: constant per caller). */
#if defined(__GNUC__)
#define NML_DOT_INLINE static inline __attribute__((always_inline))
#else
#define NML_DOT_INLINE static inline
#endif

/* The eight-row dot; offset: whether x is offset by zp. */
NML_DOT_INLINE void dot_8x1(const int8_t *x, int32_t zp, const int8_t *w0, int32_t stride,
                            int32_t len, int32_t *acc, const int offset) {
    const int8_t *w1 = w0 + stride, *w2 = w1 + stride, *w3 = w2 + stride, *w4 = w3 + stride;
    const int8_t *w5 = w4 + stride, *w6 = w5 + stride, *w7 = w6 + stride;
    int32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0, a4 = 0, a5 = 0, a6 = 0, a7 = 0;
#define NML_MAC_8X1(i)                                                                             \
    do {                                                                                           \
        const int32_t v = offset ? x[i] - zp : x[i];                                               \
        a0 += w0[i] * v, a1 += w1[i] * v, a2 += w2[i] * v, a3 += w3[i] * v;                        \
        NML_DOT_BARRIER();                                                                         \
        a4 += w4[i] * v, a5 += w5[i] * v, a6 += w6[i] * v, a7 += w7[i] * v;                        \
        NML_DOT_BARRIER();                                                                         \
    } while (0)
    const int8_t *end = x + (len & ~3);
    if (x != end) do {
            NML_MAC_8X1(0);
            NML_MAC_8X1(1);
            NML_MAC_8X1(2);
            NML_MAC_8X1(3);
            x += 4, w0 += 4, w1 += 4, w2 += 4, w3 += 4, w4 += 4, w5 += 4, w6 += 4, w7 += 4;
        } while (x != end);
    for (int32_t i = 0; i < (len & 3); i++)
        NML_MAC_8X1(i);
#undef NML_MAC_8X1
    acc[0] = a0, acc[1] = a1, acc[2] = a2, acc[3] = a3;
    acc[4] = a4, acc[5] = a5, acc[6] = a6, acc[7] = a7;
}

void nml_dot_8x1(const int8_t *x, int32_t zp, const int8_t *w0, int32_t stride, int32_t len,
                 int32_t *acc) {
    dot_8x1(x, zp, w0, stride, len, acc, 1);
}

void nml_dot_8x1_raw(const int8_t *x, const int8_t *w0, int32_t stride, int32_t len, int32_t *acc) {
    dot_8x1(x, 0, w0, stride, len, acc, 0);
}

/* Eight steps per turn and the loop tested at its end (gcc -Os does not rotate it): 68
 * instructions per 16 MACs instead of 37 per 8 (person_detect's last CONV_2D, one pixel of
 * depth 256 into two channels: 2,898 -> 2,706 instructions). */
void nml_dot_2x1(const int8_t *x, int32_t zp, const int8_t *w0, const int8_t *w1, int32_t len,
                 int32_t *acc) {
    int32_t a0 = 0, a1 = 0;
#define NML_MAC_2X1(i)                                                                             \
    do {                                                                                           \
        const int32_t v = x[i] - zp;                                                               \
        a0 += w0[i] * v, a1 += w1[i] * v;                                                          \
    } while (0)
    const int8_t *end = x + (len & ~7);
    if (x != end) do {
            NML_MAC_2X1(0);
            NML_MAC_2X1(1);
            NML_MAC_2X1(2);
            NML_MAC_2X1(3);
            NML_MAC_2X1(4);
            NML_MAC_2X1(5);
            NML_MAC_2X1(6);
            NML_MAC_2X1(7);
            x += 8, w0 += 8, w1 += 8;
        } while (x != end);
    for (int32_t i = 0; i < (len & 7); i++)
        NML_MAC_2X1(i);
#undef NML_MAC_2X1
    acc[0] = a0, acc[1] = a1;
}
