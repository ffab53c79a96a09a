/* MAX_POOL_2D optimized for int8 (NHWC), by rows of output pixels: a window's maximum is that of
 * its columns' maxima, and the last column's maximum of one window is reused as the first of the
 * next when they overlap (3x3 stride 2: 6 maxima per output instead of 9). With a depth that
 * is a multiple of 4 and word-aligned buffers, four channels at once in a 32-bit word (SWAR
 * signed-byte maximum, 12 ALU operations per word), else one channel at a time through the same
 * loop. The result equals the reference's: the maximum of the same taps and -128, clamped to the
 * activation range (a window without taps gives act_min in both). float32 is handed to the
 * reference kernel by nml_kernel_max_pool_2d_opt and rejected at prepare by
 * nml_kernel_max_pool_2d_opt_int8. */
#include <stdint.h>

#include "kernels.h"
#include "lean.h"
#include "opt_copy.h"
#include "pool_common.h"

/* Without gcc's mod/ref summaries max_pool spills and reloads fewer values around its calls of
 * max_row (measured on RV32, FastestDet --lto: 12 B less, 374 instructions per
 * inference less). A pragma, so that every build of this file has it. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("no-ipa-modref")
#endif

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

/* Four channels from a word, or one from a byte (sign-extended: smax8's other lanes are
 * ignored). */
__attribute__((always_inline)) static inline uint32_t load(const int8_t *p, int wide) {
#if HAVE_WORDS
    if (wide) return *(const word *)(const void *)p;
#endif
    return (uint32_t)(int32_t)*p;
}

/* One row of output pixels for one lane group (a word of four channels or one channel). */
typedef struct sweep {
    int32_t rows, row_step; /* window rows inside the input; bytes from one to the next */
    int32_t depth, in_w;    /* bytes per pixel; input columns */
    int32_t out_w, stride, pad, cols; /* cols: the window's columns, 0 when it has no rows */
    int32_t wide;                     /* words of four channels (else bytes) */
} sweep;

/* A window's maximum is that of its columns' maxima over its rows. Sweeping the row, the last
 * column's maximum of one window is kept (carry) and reused when it is the first column of
 * the next: a 3x3 window of stride 2 takes 6 maxima per output instead of 9. The maxima start
 * at -128 as the reference's do; a window without taps leaves -128. Not inlined: on its own
 * every parameter stays in a register. */
__attribute__((noinline)) static void max_row(int8_t *o, const int8_t *top, const sweep *s) {
    const int32_t row_step = s->row_step, span = (s->rows - 1) * row_step;
    const int32_t depth = s->depth, in_w = s->in_w;
    const int32_t out_w = s->out_w, stride = s->stride, cols = s->cols, wide = s->wide;
    int32_t last = -1; /* the column whose maximum is in carry */
    uint32_t carry = 0;
    for (int32_t ox = 0, ix0 = -s->pad; ox < out_w; ox++, ix0 += stride, o += depth) {
        int32_t x = ix0 < 0 ? 0 : ix0;
        const int32_t x1 = in_w - ix0 < cols ? in_w : ix0 + cols;
        uint32_t m = 0x80808080u;
        if (x == last) {
            m = carry;
            x++;
        }
        if (x < x1) { /* the loops test at their ends (gcc -Os does not rotate them) */
            const int8_t *q = top + x * depth, *const q_end = top + x1 * depth;
            do {
                const int8_t *r = q, *const r_end = q + span;
                carry = load(r, wide);
                if (span) do
                        carry = smax8(carry, load(r += row_step, wide));
                    while (r != r_end);
                m = smax8(m, carry);
            } while ((q += depth) != q_end);
            last = x1 - 1;
        } /* else last stays: x did not move past it */
#if HAVE_WORDS
        if (wide) {
            *(word *)(void *)o = m;
            continue;
        }
#endif
        *o = (int8_t)m;
    }
}

/* Every output pixel by rows (max_row), four channels per word when the depth is a multiple
 * of 4 and the buffers are word-aligned, then the activation range applied when it is not the
 * whole int8 range (the reference clamps its maximum of the taps and -128). */
static void max_pool(const nml_pool_data *d, const nml_tensor *input, int8_t *out) {
    const nml_window *win = &d->w;
    const int8_t *image = input->data;
    const int32_t in_h = input->dims[1], depth = input->dims[3];
    sweep s = {0, input->dims[2] * depth, depth, input->dims[2], win->out_w, win->stride_w,
               win->pad_w, 0, 0};
    int32_t unit = 1;
#if HAVE_WORDS
    if (depth % 4 == 0 && (((uintptr_t)image | (uintptr_t)out) & 3u) == 0) s.wide = 1, unit = 4;
#endif
    int8_t *o = out;
    for (int32_t b = 0; b < input->dims[0]; b++, image += in_h * s.row_step) {
        for (int32_t oy = 0; oy < win->out_h; oy++, o += s.out_w * depth) {
            const int32_t iy0 = oy * win->stride_h - win->pad_h;
            int32_t y0, y1;
            nml_pool_range(iy0, win->filter_h, in_h, &y0, &y1);
            s.rows = y1 - y0;
            s.cols = s.rows > 0 ? win->filter_w : 0;
            for (int32_t c = 0; c < depth; c += unit)
                max_row(o + c, image + (iy0 + y0) * s.row_step + c, &s);
        }
    }
    const int32_t lo = d->act_min, hi = d->act_max;
    if (lo == -128 && hi == 127) return;
    for (int8_t *p = out; p < o; p++)
        *p = (int8_t)(*p < lo ? lo : *p > hi ? hi : *p);
}

static nml_status opt_maxpool_eval(nml_ctx *ctx, nml_node *node) {
    max_pool(node->data, nml_node_input(ctx, node, 0), nml_node_output(ctx, node, 0)->data);
    return NML_OK;
}

const nml_kernel nml_kernel_max_pool_2d_opt = {NML_OP_MAX_POOL_2D, "MAX_POOL_2D",
                                               opt_maxpool_prepare, opt_maxpool_eval};
const nml_kernel nml_kernel_max_pool_2d_opt_int8 = {NML_OP_MAX_POOL_2D, "MAX_POOL_2D",
                                                    nml_pool_prepare_lean, opt_maxpool_eval};
