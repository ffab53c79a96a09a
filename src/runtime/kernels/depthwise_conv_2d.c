/* DEPTHWISE_CONV_2D: NHWC input [N,H,W,C], filter [1,KH,KW,C*M] (M = depth multiplier),
 * optional bias [C*M], output [N,OH,OW,C*M]. Output channel ic*M + m sees only input channel ic.
 * float32, and int8 with per-tensor or per-channel (dimension 3) symmetric weights and int32 bias,
 * as TFLite Micro's reference kernel (reference_integer_ops::DepthwiseConvPerChannel).
 * Compressed weights: int4 filters with int8 activations (the int8 arithmetic on weights
 * unpacked one at a time), and hybrid float32 activations with an int8 filter and float bias as
 * TFLite's DepthwiseConvHybridPerChannel: each batch quantized asymmetrically, acc over
 * w * (x - offset), y = acc * (filter_scale[c] * input_scale) + bias. Packed filters
 * (sparse and/or clustered, packed.h) with int8 activations: each output channel's non-zero
 * taps decoded into scratch once, the int8 arithmetic over them only. */
#include <stddef.h>

#include "conv_eval.h"
#include "int4.h"
#include "kernels.h"
#include "packed_filter.h"
#include "qmath.h"

typedef nml_dwconv_data dwconv_data;

/* Packed scratch: one channel's non-zero taps (positions, values), then their offsets. */
static size_t packed_offsets_at(uint32_t taps) {
    return (nml_packed_row_scratch(taps) + 3u) & ~(size_t)3u;
}

nml_status nml_dwconv_ref_finish(nml_ctx *ctx, nml_node *node, dwconv_data *d) {
    if ((d->mode == NML_CONV_INT8 || d->mode == NML_CONV_INT4 || d->mode == NML_CONV_PACKED) &&
        !d->mult) {
        const nml_tensor *input = nml_node_input(ctx, node, 0);
        const nml_tensor *filter = nml_node_input(ctx, node, 1);
        const nml_tensor *output = nml_node_output(ctx, node, 0);
        NML_TRY(nml_conv_multipliers(ctx, node, input, filter, output, filter->dims[3], 3, &d->mult,
                                     &d->shift));
    }
    if (d->mode == NML_CONV_HYBRID) { /* one batch of the input, quantized */
        const nml_tensor *input = nml_node_input(ctx, node, 0);
        NML_TRY(nml_ctx_request_scratch(ctx, node,
                                        (size_t)nml_tensor_count(input) / (size_t)input->dims[0]));
    }
    if (d->mode == NML_CONV_PACKED) { /* one channel's stored taps and their input offsets */
        const nml_tensor *filter = nml_node_input(ctx, node, 1);
        const uint32_t taps = (uint32_t)filter->dims[1] * (uint32_t)filter->dims[2];
        NML_TRY(nml_ctx_request_scratch(ctx, node,
                                        packed_offsets_at(taps) + 2u * taps * sizeof(int32_t)));
    }
    return NML_OK;
}

static nml_status dwconv_prepare(nml_ctx *ctx, nml_node *node, const nml_op_params *p) {
    dwconv_data *d = nml_ctx_alloc_persistent(ctx, sizeof *d);
    if (!d) return nml_kernel_fail(ctx, node, NML_E_ARENA, "no arena left for kernel data");
    NML_TRY(nml_dwconv_setup(ctx, node, p, d, 1));
    NML_TRY(nml_dwconv_ref_finish(ctx, node, d));
    node->data = d;
    return NML_OK;
}

/* Sum over the current pixel's window of k * x for output channel oc, which reads one input
 * channel: `in` is the input at that channel, `filter` [1, KH, KW, C * M]. */
NML_WALK_INLINE float dot_f32(const nml_conv_dims *g, const nml_window_taps *t, const float *in,
                              const float *filter, int32_t oc) {
    float acc = 0.0f;
    for (int32_t ky = t->ky0; ky < t->ky1; ky++)
        for (int32_t kx = t->kx0; kx < t->kx1; kx++)
            acc += in[t->at + ky * t->row + kx * t->col] *
                   filter[(ky * g->filter_w + kx) * g->out_ch + oc];
    return acc;
}

/* The same in int8, the sum of k * (x + input_offset), with the weights read from an int8
 * filter or, when filter4 is set, straight from a packed int4 one (depthwise filters are small,
 * KH x KW per channel, so they are not unpacked into scratch). Always inlined, so each caller's
 * choice of filter folds away. */
NML_WALK_INLINE int32_t dot_i8(const nml_conv_dims *g, const nml_window_taps *t, const int8_t *in,
                               const int8_t *filter, const uint8_t *filter4, int32_t oc,
                               int32_t input_offset) {
    int32_t acc = 0;
    for (int32_t ky = t->ky0; ky < t->ky1; ky++) {
        for (int32_t kx = t->kx0; kx < t->kx1; kx++) {
            const int32_t x = in[t->at + ky * t->row + kx * t->col];
            const uint32_t at = (uint32_t)((ky * g->filter_w + kx) * g->out_ch + oc);
            const int32_t k = filter4 ? nml_int4_get(filter4, at) : filter[at];
            acc += k * (x + input_offset);
        }
    }
    return acc;
}

static void dwconv_f32(const dwconv_data *d, const nml_conv_dims *g, const float *in,
                       const float *filter, const float *bias, float *out) {
    nml_pixel_walk p;
    for (nml_conv_walk(&p, d, g); nml_walk_more(&p); nml_walk_next(&p)) {
        const nml_window_taps t = nml_walk_taps(&p, g->in_ch);
        for (int32_t ic = 0; ic < g->in_ch; ic++) {
            for (int32_t m = 0; m < d->depth_multiplier; m++) {
                const int32_t oc = ic * d->depth_multiplier + m;
                const float acc = dot_f32(g, &t, in + ic, filter, oc);
                out[p.out + (uint32_t)oc] = nml_conv_out_f32(d, acc, bias, oc);
            }
        }
    }
}

/* int8 activations with an int8 filter, or with an int4 one (filter4). */
NML_WALK_INLINE void dwconv_q(const dwconv_data *d, const nml_conv_dims *g, const int8_t *in,
                              const int8_t *filter, const uint8_t *filter4, const int32_t *bias,
                              int8_t *out) {
    nml_pixel_walk p;
    for (nml_conv_walk(&p, d, g); nml_walk_more(&p); nml_walk_next(&p)) {
        const nml_window_taps t = nml_walk_taps(&p, g->in_ch);
        for (int32_t ic = 0; ic < g->in_ch; ic++) {
            for (int32_t m = 0; m < d->depth_multiplier; m++) {
                const int32_t oc = ic * d->depth_multiplier + m;
                const int32_t acc = dot_i8(g, &t, in + ic, filter, filter4, oc, d->input_offset);
                out[p.out + (uint32_t)oc] = nml_conv_out_i8(d, acc, bias, oc);
            }
        }
    }
}

static void dwconv_int8(const dwconv_data *d, const nml_conv_dims *g, const int8_t *in,
                        const int8_t *filter, const int32_t *bias, int8_t *out) {
    dwconv_q(d, g, in, filter, NULL, bias, out);
}

static void dwconv_int4(const dwconv_data *d, const nml_conv_dims *g, const int8_t *in,
                        const uint8_t *filter, const int32_t *bias, int8_t *out) {
    dwconv_q(d, g, in, NULL, filter, bias, out);
}

/* Output-channel-major so that each packed channel is decoded once; its non-zero taps become
 * (dy, dx) offsets into the input window. */
static void dwconv_packed(const dwconv_data *d, const nml_conv_dims *g, const int8_t *in,
                          const int32_t *bias, uint8_t *scratch, int8_t *out) {
    const nml_window *w = &d->w;
    const uint32_t taps = (uint32_t)(g->filter_h * g->filter_w);
    uint16_t *tap = nml_packed_row_index(scratch);
    int8_t *k = nml_packed_row_values(scratch, taps);
    int32_t *dy = (int32_t *)(void *)(scratch + packed_offsets_at(taps));
    int32_t *dx = dy + taps;
    nml_packed_cursor c;
    nml_packed_begin(&c);
    for (int32_t oc = 0; oc < g->out_ch; oc++) {
        const uint32_t n = nml_packed_next_sparse(d->packed, &c, tap, k);
        for (uint32_t j = 0; j < n; j++) {
            dy[j] = (int32_t)(tap[j] / (uint32_t)g->filter_w) * w->dilation_h;
            dx[j] = (int32_t)(tap[j] % (uint32_t)g->filter_w) * w->dilation_w;
        }
        const int32_t ic = oc / d->depth_multiplier;
        nml_pixel_walk p;
        for (nml_conv_walk(&p, d, g); nml_walk_more(&p); nml_walk_next(&p)) {
            int32_t acc = 0;
            for (uint32_t j = 0; j < n; j++) {
                const int32_t iy = p.iy0 + dy[j], ix = p.ix0 + dx[j];
                if (iy < 0 || iy >= g->in_h || ix < 0 || ix >= g->in_w) continue;
                const int32_t x = in[((p.b * g->in_h + iy) * g->in_w + ix) * g->in_ch + ic];
                acc += (int32_t)k[j] * (x + d->input_offset);
            }
            out[p.out + (uint32_t)oc] = nml_conv_out_i8(d, acc, bias, oc);
        }
    }
}

/* One batch of the hybrid depthwise convolution on its quantized input xq. */
static void dwconv_hybrid_batch(const dwconv_data *d, const nml_conv_dims *g, const int8_t *xq,
                                int32_t offset, float in_scale, const int8_t *filter,
                                const float *bias, float *out) {
    nml_pixel_walk p;
    for (nml_walk_start(&p, &d->w, 1, g->in_h, g->in_w, g->out_ch); nml_walk_more(&p);
         nml_walk_next(&p)) {
        const nml_window_taps t = nml_walk_taps(&p, g->in_ch);
        for (int32_t ic = 0; ic < g->in_ch; ic++) {
            for (int32_t m = 0; m < d->depth_multiplier; m++) {
                const int32_t oc = ic * d->depth_multiplier + m;
                const int32_t acc = dot_i8(g, &t, xq + ic, filter, NULL, oc, -offset);
                const float y = (float)acc * (d->w_scale[oc] * in_scale);
                out[p.out + (uint32_t)oc] = nml_conv_out_f32(d, y, bias, oc);
            }
        }
    }
}

void nml_dwconv_eval_ref(nml_ctx *ctx, const nml_node *node, const dwconv_data *d) {
    const nml_tensor *input = nml_node_input(ctx, node, 0);
    const nml_tensor *filter = nml_node_input(ctx, node, 1);
    const nml_tensor *bias = nml_node_input(ctx, node, 2);
    nml_tensor *output = nml_node_output(ctx, node, 0);
    const nml_conv_dims g = nml_conv_dims_of(input, filter, output);
    const void *b = bias ? bias->data : NULL;
    switch (d->mode) {
    case NML_CONV_FLOAT:
        dwconv_f32(d, &g, input->data, filter->data, b, output->data);
        break;
    case NML_CONV_INT8:
        dwconv_int8(d, &g, input->data, filter->data, b, output->data);
        break;
    case NML_CONV_INT4:
        dwconv_int4(d, &g, input->data, filter->data, b, output->data);
        break;
    case NML_CONV_PACKED:
        dwconv_packed(d, &g, input->data, b, nml_ctx_scratch(ctx, node), output->data);
        break;
    default:
        nml_conv_hybrid(d, &g, input->data, filter->data, b, nml_ctx_scratch(ctx, node),
                        output->data, 0, dwconv_hybrid_batch);
        break;
    }
}

static nml_status dwconv_eval(nml_ctx *ctx, nml_node *node) {
    nml_dwconv_eval_ref(ctx, node, node->data);
    return NML_OK;
}

const nml_kernel nml_kernel_depthwise_conv_2d = {NML_OP_DEPTHWISE_CONV_2D, "DEPTHWISE_CONV_2D",
                                                 dwconv_prepare, dwconv_eval};
