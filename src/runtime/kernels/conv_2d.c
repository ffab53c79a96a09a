/* CONV_2D: NHWC input [N,H,W,C], filter [O,KH,KW,C/groups], optional bias [O], output
 * [N,OH,OW,O]. float32, and int8 with per-tensor or per-channel (dimension 0) symmetric weights
 * and int32 bias, as TFLite Micro's reference kernel (reference_integer_ops::ConvPerChannel):
 *   acc = sum w * (x - input_zp) [+ bias];  y = clamp(requant(acc) + output_zp, act range).
 * Padding pixels are skipped (they contribute real zero). Grouped convolution is supported the
 * way the reference does it: group g uses input channels [g*C/groups, (g+1)*C/groups).
 * Compressed weights:
 *   int4 filter with int8 activations: the int8 arithmetic, one output channel's filter unpacked
 *     into scratch at a time;
 *   hybrid (dynamic range): float32 input/output, int8 filter, float bias, as TFLite's
 *     EvalHybridPerChannel (per-channel filter: each batch quantized asymmetrically,
 *     y = acc * filter_scale[c] * input_scale + bias, acc over w * (x - offset)) and EvalHybrid
 *     (per-tensor filter: each batch quantized symmetrically, y = acc * (input_scale *
 *     filter_scale) + bias);
 *   packed filters (sparse and/or clustered, packed.h) with int8 activations: the int8
 *     arithmetic over each output channel's non-zero weights, decoded into scratch once per
 *     channel and grouped by filter tap so that padding is still skipped tap by tap. */
#include <stddef.h>

#include "conv_eval.h"
#include "int4.h"
#include "kernels.h"
#include "packed_filter.h"
#include "qmath.h"

typedef nml_conv_data conv_data;

/* Packed scratch: the row's weight positions and values, then where each tap's weights start. */
static size_t packed_taps_offset(uint32_t window) {
    return (nml_packed_row_scratch(window) + 1u) & ~(size_t)1u;
}

static size_t tap_table_bytes(const nml_tensor *filter) {
    return ((size_t)filter->dims[1] * (size_t)filter->dims[2] + 1u) * sizeof(uint16_t);
}

nml_status nml_conv_2d_ref_finish(nml_ctx *ctx, nml_node *node, conv_data *d) {
    const nml_tensor *input = nml_node_input(ctx, node, 0);
    const nml_tensor *filter = nml_node_input(ctx, node, 1);
    if ((d->mode == NML_CONV_INT8 || d->mode == NML_CONV_INT4 || d->mode == NML_CONV_PACKED) &&
        !d->mult) {
        const nml_tensor *output = nml_node_output(ctx, node, 0);
        NML_TRY(nml_conv_multipliers(ctx, node, input, filter, output, filter->dims[0], 0, &d->mult,
                                     &d->shift));
    }
    /* int4: one output channel's filter unpacked; hybrid: one batch of the input quantized */
    if (d->mode == NML_CONV_INT4)
        NML_TRY(nml_ctx_request_scratch(ctx, node,
                                        (size_t)filter->dims[1] * (size_t)filter->dims[2] *
                                            (size_t)filter->dims[3]));
    if (d->mode == NML_CONV_HYBRID)
        NML_TRY(nml_ctx_request_scratch(ctx, node,
                                        (size_t)nml_tensor_count(input) / (size_t)input->dims[0]));
    /* packed: one channel's stored weights and its tap table */
    if (d->mode == NML_CONV_PACKED) {
        const uint32_t window =
            (uint32_t)filter->dims[1] * (uint32_t)filter->dims[2] * (uint32_t)filter->dims[3];
        NML_TRY(nml_ctx_request_scratch(ctx, node,
                                        packed_taps_offset(window) + tap_table_bytes(filter)));
    }
    return NML_OK;
}

static nml_status conv_prepare(nml_ctx *ctx, nml_node *node, const nml_op_params *p) {
    conv_data *d = nml_ctx_alloc_persistent(ctx, sizeof *d);
    if (!d) return nml_kernel_fail(ctx, node, NML_E_ARENA, "no arena left for kernel data");
    NML_TRY(nml_conv_2d_setup(ctx, node, p, d, 1));
    NML_TRY(nml_conv_2d_ref_finish(ctx, node, d));
    node->data = d;
    return NML_OK;
}

/* The input channels an output channel's group reads start at this one. */
static inline int32_t group_input(const nml_conv_dims *g, int32_t oc) {
    return (oc / g->filters_per_group) * g->filter_in_ch;
}

/* The weights of output channel oc: its filter [KH, KW, C / groups]. */
static inline int32_t filter_of(const nml_conv_dims *g, int32_t oc) {
    return oc * g->filter_h * g->filter_w * g->filter_in_ch;
}

/* Sum over the current pixel's window of k * x for one output channel: `in` is the input at
 * the first input channel of the channel's group, `k` the channel's filter. */
NML_WALK_INLINE float dot_f32(const nml_conv_dims *g, const nml_window_taps *t, const float *in,
                              const float *k) {
    float acc = 0.0f;
    for (int32_t ky = t->ky0; ky < t->ky1; ky++) {
        for (int32_t kx = t->kx0; kx < t->kx1; kx++) {
            const float *x = in + (t->at + ky * t->row + kx * t->col);
            const float *kk = k + (ky * g->filter_w + kx) * g->filter_in_ch;
            for (int32_t ic = 0; ic < g->filter_in_ch; ic++)
                acc += x[ic] * kk[ic];
        }
    }
    return acc;
}

/* The same in int8: the sum of k * (x + input_offset). */
NML_WALK_INLINE int32_t dot_i8(const nml_conv_dims *g, const nml_window_taps *t, const int8_t *in,
                               const int8_t *k, int32_t input_offset) {
    int32_t acc = 0;
    for (int32_t ky = t->ky0; ky < t->ky1; ky++) {
        for (int32_t kx = t->kx0; kx < t->kx1; kx++) {
            const int8_t *x = in + (t->at + ky * t->row + kx * t->col);
            const int8_t *kk = k + (ky * g->filter_w + kx) * g->filter_in_ch;
            for (int32_t ic = 0; ic < g->filter_in_ch; ic++)
                acc += (int32_t)kk[ic] * ((int32_t)x[ic] + input_offset);
        }
    }
    return acc;
}

static void conv_f32(const conv_data *d, const nml_conv_dims *g, const float *in,
                     const float *filter, const float *bias, float *out) {
    nml_pixel_walk p;
    for (nml_conv_walk(&p, d, g); nml_walk_more(&p); nml_walk_next(&p)) {
        const nml_window_taps t = nml_walk_taps(&p, g->in_ch);
        for (int32_t oc = 0; oc < g->out_ch; oc++) {
            const float acc = dot_f32(g, &t, in + group_input(g, oc), filter + filter_of(g, oc));
            out[p.out + (uint32_t)oc] = nml_conv_out_f32(d, acc, bias, oc);
        }
    }
}

static void conv_int8(const conv_data *d, const nml_conv_dims *g, const int8_t *in,
                      const int8_t *filter, const int32_t *bias, int8_t *out) {
    nml_pixel_walk p;
    for (nml_conv_walk(&p, d, g); nml_walk_more(&p); nml_walk_next(&p)) {
        const nml_window_taps t = nml_walk_taps(&p, g->in_ch);
        for (int32_t oc = 0; oc < g->out_ch; oc++) {
            const int32_t acc =
                dot_i8(g, &t, in + group_input(g, oc), filter + filter_of(g, oc), d->input_offset);
            out[p.out + (uint32_t)oc] = nml_conv_out_i8(d, acc, bias, oc);
        }
    }
}

/* Output channel oc of every output pixel, from its filter unpacked into `k`. */
static void conv_channel(const conv_data *d, const nml_conv_dims *g, const int8_t *in,
                         const int8_t *k, int32_t oc, const int32_t *bias, int8_t *out) {
    in += group_input(g, oc);
    nml_pixel_walk p;
    for (nml_conv_walk(&p, d, g); nml_walk_more(&p); nml_walk_next(&p)) {
        const nml_window_taps t = nml_walk_taps(&p, g->in_ch);
        out[p.out + (uint32_t)oc] =
            nml_conv_out_i8(d, dot_i8(g, &t, in, k, d->input_offset), bias, oc);
    }
}

/* Output-channel-major so that each packed filter is unpacked once into `k`. */
static void conv_int4(const conv_data *d, const nml_conv_dims *g, const int8_t *in,
                      const uint8_t *filter, const int32_t *bias, int8_t *k, int8_t *out) {
    const uint32_t slice = (uint32_t)(g->filter_h * g->filter_w * g->filter_in_ch);
    for (int32_t oc = 0; oc < g->out_ch; oc++) {
        nml_int4_unpack(filter, (uint32_t)oc * slice, slice, k);
        conv_channel(d, g, in, k, oc, bias, out);
    }
}

/* Turns the row positions of a channel's stored weights (ascending, (ky*KW + kx)*C + ic) into
 * input-channel offsets, with first[t] .. first[t + 1] - 1 the weights of tap t. The positions
 * ascend, so the tap advances without a division. */
static void group_by_tap(uint16_t *pos, uint32_t n, uint32_t depth, uint32_t taps,
                         uint16_t *first) {
    uint32_t t = 0, tap_start = 0;
    first[0] = 0;
    for (uint32_t k = 0; k < n; k++) {
        while (pos[k] >= tap_start + depth) { /* next tap: the weights so far end before it */
            tap_start += depth;
            first[++t] = (uint16_t)k;
        }
        pos[k] = (uint16_t)(pos[k] - tap_start);
    }
    while (t < taps)
        first[++t] = (uint16_t)n;
}

/* The sum over the current pixel's window of a sparse filter's stored weights k[j] times
 * (x[ic_of[j]] + input_offset), tap n's weights being first[n] .. first[n + 1] - 1. */
NML_WALK_INLINE int32_t dot_sparse(const nml_conv_dims *g, const nml_window_taps *t,
                                   const int8_t *in, const int8_t *k, const uint16_t *ic_of,
                                   const uint16_t *first, int32_t input_offset) {
    int32_t acc = 0;
    for (int32_t ky = t->ky0; ky < t->ky1; ky++) {
        for (int32_t kx = t->kx0; kx < t->kx1; kx++) {
            const int8_t *x = in + (t->at + ky * t->row + kx * t->col);
            const uint32_t n = (uint32_t)(ky * g->filter_w + kx);
            for (uint32_t j = first[n]; j < first[n + 1]; j++)
                acc += (int32_t)k[j] * ((int32_t)x[ic_of[j]] + input_offset);
        }
    }
    return acc;
}

/* Output-channel-major so that each packed filter is decoded once: filters that store every
 * weight (clustered, not sparse) into a plain filter, sparse ones into the list of their stored
 * weights, and only those are multiplied. */
static void conv_packed(const conv_data *d, const nml_conv_dims *g, const int8_t *in,
                        const int32_t *bias, uint8_t *scratch, int8_t *out) {
    const uint32_t window = (uint32_t)(g->filter_h * g->filter_w * g->filter_in_ch);
    nml_packed_cursor c;
    nml_packed_begin(&c);
    if (d->packed->positions == NML_PACK_POS_ALL) {
        for (int32_t oc = 0; oc < g->out_ch; oc++) {
            nml_packed_next_dense(d->packed, &c, (int8_t *)scratch);
            conv_channel(d, g, in, (const int8_t *)scratch, oc, bias, out);
        }
        return;
    }
    uint16_t *ic_of = nml_packed_row_index(scratch);
    int8_t *k = nml_packed_row_values(scratch, window);
    uint16_t *first = (uint16_t *)(void *)(scratch + packed_taps_offset(window));
    for (int32_t oc = 0; oc < g->out_ch; oc++) {
        const uint32_t n = nml_packed_next_sparse(d->packed, &c, ic_of, k);
        group_by_tap(ic_of, n, (uint32_t)g->filter_in_ch, (uint32_t)(g->filter_h * g->filter_w),
                     first);
        const int8_t *x = in + group_input(g, oc);
        nml_pixel_walk p;
        for (nml_conv_walk(&p, d, g); nml_walk_more(&p); nml_walk_next(&p)) {
            const nml_window_taps t = nml_walk_taps(&p, g->in_ch);
            const int32_t acc = dot_sparse(g, &t, x, k, ic_of, first, d->input_offset);
            out[p.out + (uint32_t)oc] = nml_conv_out_i8(d, acc, bias, oc);
        }
    }
}

/* One batch of the hybrid convolution on its quantized input xq (offset subtracted). */
static void conv_hybrid_batch(const conv_data *d, const nml_conv_dims *g, const int8_t *xq,
                              int32_t offset, float in_scale, const int8_t *filter,
                              const float *bias, float *out) {
    nml_pixel_walk p;
    for (nml_walk_start(&p, &d->w, 1, g->in_h, g->in_w, g->out_ch); nml_walk_more(&p);
         nml_walk_next(&p)) {
        const nml_window_taps t = nml_walk_taps(&p, g->in_ch);
        for (int32_t oc = 0; oc < g->out_ch; oc++) {
            const int32_t acc =
                dot_i8(g, &t, xq + group_input(g, oc), filter + filter_of(g, oc), -offset);
            const float y = d->per_channel ? (float)acc * d->w_scale[oc] * in_scale
                                           : (float)acc * (in_scale * d->w_scale[oc]);
            out[p.out + (uint32_t)oc] = nml_conv_out_f32(d, y, bias, oc);
        }
    }
}

void nml_conv_2d_eval_ref(nml_ctx *ctx, const nml_node *node, const conv_data *d) {
    const nml_tensor *input = nml_node_input(ctx, node, 0);
    const nml_tensor *filter = nml_node_input(ctx, node, 1);
    const nml_tensor *bias = nml_node_input(ctx, node, 2);
    nml_tensor *output = nml_node_output(ctx, node, 0);
    nml_conv_dims g = nml_conv_dims_of(input, filter, output);
    g.filters_per_group = g.out_ch / (g.in_ch / g.filter_in_ch);
    const void *b = bias ? bias->data : NULL;
    switch (d->mode) {
    case NML_CONV_FLOAT:
        conv_f32(d, &g, input->data, filter->data, b, output->data);
        break;
    case NML_CONV_INT8:
        conv_int8(d, &g, input->data, filter->data, b, output->data);
        break;
    case NML_CONV_INT4:
        conv_int4(d, &g, input->data, filter->data, b, nml_ctx_scratch(ctx, node), output->data);
        break;
    case NML_CONV_PACKED:
        conv_packed(d, &g, input->data, b, nml_ctx_scratch(ctx, node), output->data);
        break;
    default:
        /* per-tensor filters: each batch quantized symmetrically (TFLite's EvalHybrid) */
        nml_conv_hybrid(d, &g, input->data, filter->data, b, nml_ctx_scratch(ctx, node),
                        output->data, !d->per_channel, conv_hybrid_batch);
        break;
    }
}

static nml_status conv_eval(nml_ctx *ctx, nml_node *node) {
    nml_conv_2d_eval_ref(ctx, node, node->data);
    return NML_OK;
}

const nml_kernel nml_kernel_conv_2d = {NML_OP_CONV_2D, "CONV_2D", conv_prepare, conv_eval};
