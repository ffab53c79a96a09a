/* MAX_POOL_2D optimized for int8 (NHWC): each output pixel starts as a copy of its first window
 * tap and takes the maximum with every other tap, all channels at once; with a depth that is a
 * multiple of 4 and word-aligned buffers, four channels per 32-bit word (SWAR signed-byte
 * maximum, 12 ALU operations per word), else one byte at a time. The result equals the
 * reference's (the maximum of the same taps, then the activation clamp). A window without taps
 * (where the reference gives -128) cannot occur: with TFLite's padding (nml_window_init) the
 * leading padding is less than a filter and every window starts inside the input, and prepare
 * asks nml_pool_prepare to check it. float32 is handed to the reference kernel by
 * nml_kernel_max_pool_2d_opt and rejected at prepare by nml_kernel_max_pool_2d_opt_int8. */
#include <stdint.h>

#include "kernels.h"
#include "lean.h"
#include "opt_copy.h"
#include "pool_common.h"
#include "qmath.h"

#if defined(__GNUC__)
#define HAVE_WORDS 1
typedef uint32_t __attribute__((may_alias)) word;
#else
#define HAVE_WORDS 0
#endif

static nml_status opt_maxpool_prepare(nml_ctx *ctx, nml_node *node, const nml_op_params *p) {
    nml_pool_data *d;
    NML_TRY(nml_pool_prepare(ctx, node, p, 1, &d));
    /* float32: the reference kernel takes this node over, with the data its prepare made */
    if (nml_node_input(ctx, node, 0)->type != NML_INT8) node->kernel = &nml_kernel_max_pool_2d;
    return NML_OK;
}

static nml_status opt_maxpool_prepare_int8(nml_ctx *ctx, nml_node *node, const nml_op_params *p) {
    nml_pool_data *d;
    NML_TRY(nml_pool_prepare(ctx, node, p, 1, &d));
    return nml_node_input(ctx, node, 0)->type == NML_INT8
               ? NML_OK
               : nml_lean_refuse(ctx, node, "int8 input");
}

static void max_bytes(int8_t *o, const int8_t *p, uint32_t n) {
    for (uint32_t c = 0; c < n; c++)
        if (p[c] > o[c]) o[c] = p[c];
}

#if HAVE_WORDS
/* Per byte: the signed maximum of a and b. d's bit 7 is [low 7 bits of a >= those of b] (no
 * borrow crosses bytes: each byte subtracts at most 0x7f from at least 0x80); where the sign
 * bits differ, a >= b exactly when b is negative, so ge takes b's sign bit there. */
static inline uint32_t smax8(uint32_t a, uint32_t b) {
    const uint32_t h = 0x80808080u;
    const uint32_t x = a ^ b;
    const uint32_t d = (a | h) - (b & ~h);
    const uint32_t ge = (d ^ ((d ^ b) & x)) & h;
    const uint32_t m = (ge >> 7) * 0xffu; /* 0xff in every byte where a >= b */
    return b ^ (x & m);
}

static void max_words(word *o, const word *p, uint32_t n) {
    for (uint32_t c = 0; c < n; c++)
        o[c] = smax8(o[c], p[c]);
}
#endif

static nml_status opt_maxpool_eval(nml_ctx *ctx, nml_node *node) {
    const nml_pool_data *d = node->data;
    const nml_window *w = &d->w;
    const nml_tensor *input = nml_node_input(ctx, node, 0);
    const int8_t *in = input->data;
    int8_t *o = nml_node_output(ctx, node, 0)->data;
    const int32_t batches = input->dims[0], in_h = input->dims[1], in_w = input->dims[2];
    const uint32_t depth = (uint32_t)input->dims[3];
    const int32_t row = in_w * (int32_t)depth;
    const int clamp = d->act_min > -128 || d->act_max < 127;
#if HAVE_WORDS
    const int words = depth % 4 == 0 && ((uintptr_t)in & 3u) == 0 && ((uintptr_t)o & 3u) == 0;
#endif
    for (int32_t b = 0; b < batches; b++) {
        const int8_t *image = in + (size_t)b * (size_t)in_h * (size_t)row;
        for (int32_t oy = 0; oy < w->out_h; oy++) {
            const int32_t iy0 = oy * w->stride_h - w->pad_h;
            int32_t y0, y1;
            nml_pool_range(iy0, w->filter_h, in_h, &y0, &y1);
            for (int32_t ox = 0; ox < w->out_w; ox++, o += depth) {
                const int32_t ix0 = ox * w->stride_w - w->pad_w;
                int32_t x0, x1;
                nml_pool_range(ix0, w->filter_w, in_w, &x0, &x1);
                const int8_t *first = image + ((iy0 + y0) * in_w + ix0 + x0) * (int32_t)depth;
                nml_opt_copy(o, first, depth);
                for (int32_t ky = y0; ky < y1; ky++) {
                    const int8_t *p = first + (ky - y0) * row;
                    for (int32_t kx = x0; kx < x1; kx++, p += depth) {
                        if (ky == y0 && kx == x0) continue;
#if HAVE_WORDS
                        if (words) {
                            max_words((word *)(void *)o, (const word *)(const void *)p, depth / 4);
                            continue;
                        }
#endif
                        max_bytes(o, p, depth);
                    }
                }
                if (clamp)
                    for (uint32_t c = 0; c < depth; c++)
                        o[c] = (int8_t)nml_clamp_i32(o[c], d->act_min, d->act_max);
            }
        }
    }
    return NML_OK;
}

const nml_kernel nml_kernel_max_pool_2d_opt = {NML_OP_MAX_POOL_2D, "MAX_POOL_2D",
                                               opt_maxpool_prepare, opt_maxpool_eval};
const nml_kernel nml_kernel_max_pool_2d_opt_int8 = {NML_OP_MAX_POOL_2D, "MAX_POOL_2D",
                                                    opt_maxpool_prepare_int8, opt_maxpool_eval};
