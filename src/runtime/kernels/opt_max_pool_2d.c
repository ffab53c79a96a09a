/* MAX_POOL_2D optimized for int8 (NHWC): the maximum over a window is kept in a register while
 * its taps are read; with a depth that is a multiple of 4 and word-aligned buffers for four
 * channels at once in a 32-bit word (SWAR signed-byte maximum, 12 ALU operations per word),
 * else one channel at a time. The result equals the reference's: the maximum of the same taps
 * and -128, clamped to the activation range (a window without taps gives act_min in both).
 * float32 is handed to the reference kernel by nml_kernel_max_pool_2d_opt and rejected at
 * prepare by nml_kernel_max_pool_2d_opt_int8. */
#include <stdint.h>

#include "kernels.h"
#include "lean.h"
#include "opt_copy.h"
#include "pool_common.h"

#define HAVE_WORDS NML_OPT_WORDS
#if HAVE_WORDS
typedef nml_opt_word word;
#endif

static nml_status opt_maxpool_prepare(nml_ctx *ctx, nml_node *node, const nml_op_params *p) {
    nml_pool_data *d;
    NML_TRY(nml_pool_prepare(ctx, node, p, 0, &d));
    /* float32: the reference kernel takes this node over, with the data its prepare made */
    if (nml_node_input(ctx, node, 0)->type != NML_INT8)
        return nml_hand_over(ctx, node, &nml_kernel_max_pool_2d);
    return NML_OK;
}

/* The reference's maximum starts at -128 and is then clamped to [act_min, act_max]; starting
 * at act_min instead gives the same, so only act_max needs a clamp. */
static void window_bytes(int8_t *o, const int8_t *first, uint32_t n, const nml_pool_pixel *w) {
    for (uint32_t c = 0; c < n; c++, first++) {
        int32_t m = w->lo;
        const int8_t *r = first;
        for (int32_t y = 0; y < w->rows; y++, r += w->row_step) {
            const int8_t *q = r;
            for (int32_t x = 0; x < w->cols; x++, q += w->col_step)
                m = *q > m ? *q : m;
        }
        o[c] = (int8_t)(m > w->hi ? w->hi : m);
    }
}

#if HAVE_WORDS
/* Per byte: the signed maximum of a and b. d's bit 7 is [low 7 bits of a >= those of b] (no
 * borrow crosses bytes: each byte subtracts at most 0x7f from at least 0x80); where the sign
 * bits differ, a >= b exactly when b is negative, so ge takes b's sign bit there. */
/* inlined: gcc -Os would call it, twice per tap */
__attribute__((always_inline)) static inline uint32_t smax8(uint32_t a, uint32_t b) {
    const uint32_t h = 0x80808080u;
    const uint32_t x = a ^ b;
    const uint32_t d = (a | h) - (b & ~h);
    const uint32_t ge = (d ^ ((d ^ b) & x)) & h;
    const uint32_t m = (ge >> 7) * 0xffu; /* 0xff in every byte where a >= b */
    return b ^ (x & m);
}

/* A pixel function of nml_pool_walk_int8 (depth in bytes, first word-aligned); called through
 * a pointer, so on its own, keeping every constant in a register. */
static void window_words(int8_t *out, const int8_t *first_byte, uint32_t depth,
                         const nml_pool_pixel *w) {
    word *o = (word *)(void *)out;
    const word *first = (const word *)(const void *)first_byte;
    const uint32_t n = depth / 4;
    const uint32_t lo = (uint8_t)w->lo * 0x01010101u, hi = (uint8_t)w->hi * 0x01010101u;
    const int32_t rows = w->rows, cols = w->cols, row_step = w->row_step, col_step = w->col_step;
    for (uint32_t c = 0; c < n; c++, first++) {
        uint32_t m = lo;
        const word *r = first;
        for (int32_t y = 0; y < rows; y++, r += row_step) {
            const word *q = r;
            for (int32_t x = 0; x < cols; x++, q += col_step)
                m = smax8(m, *q);
        }
        if (hi != 0x7f7f7f7fu) m ^= smax8(m, hi) ^ hi; /* min(m, hi) = m ^ hi ^ max(m, hi) */
        o[c] = m;
    }
}
#endif

static nml_status opt_maxpool_eval(nml_ctx *ctx, nml_node *node) {
    const nml_pool_data *d = node->data;
    const nml_tensor *input = nml_node_input(ctx, node, 0);
    const int8_t *in = input->data;
    int8_t *o = nml_node_output(ctx, node, 0)->data;
    const int32_t depth = input->dims[3];
    nml_pool_pixel w = {0, 0, input->dims[2] * depth, depth, d->act_min, d->act_max};
    nml_pool_pixel_fn fn = window_bytes;
#if HAVE_WORDS
    if (depth % 4 == 0 && ((uintptr_t)in & 3u) == 0 && ((uintptr_t)o & 3u) == 0) {
        w.row_step /= 4;
        w.col_step /= 4;
        fn = window_words;
    }
#endif
    nml_pool_walk_int8(d, input, o, &w, fn);
    return NML_OK;
}

const nml_kernel nml_kernel_max_pool_2d_opt = {NML_OP_MAX_POOL_2D, "MAX_POOL_2D",
                                               opt_maxpool_prepare, opt_maxpool_eval};
const nml_kernel nml_kernel_max_pool_2d_opt_int8 = {NML_OP_MAX_POOL_2D, "MAX_POOL_2D",
                                                    nml_pool_prepare_lean, opt_maxpool_eval};
