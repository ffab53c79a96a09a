/* FULLY_CONNECTED: weights [units, depth], input of any shape with depth dividing its element
 * count (batches = count / depth), optional bias [units]. Output [batches, units], or with
 * keep_num_dims the input shape with its last dimension replaced by units (TFLite's shape rule).
 * float32, and int8 with per-tensor (weight zero point honoured) or per-channel (dimension 0,
 * symmetric) weights and int32 bias, as TFLite Micro's reference kernels
 * (reference_integer_ops::FullyConnected / FullyConnectedPerChannel). Two compressed forms:
 *   int4 weights with int8 activations: the same integer arithmetic, each weight row unpacked
 *     into scratch right before it is used (the packed weights stay in flash);
 *   hybrid (dynamic range): float32 input/output, int8 weights and float bias, as TFLite's
 *     EvalHybrid: each batch row is quantized symmetrically (scale max|x| / 127), the integer
 *     dot product is scaled by row_scale * weight_scale[unit] in float and added to the bias;
 *   packed weights (sparse and/or clustered, packed.h) with int8 activations: each row's
 *     non-zero weights decoded into scratch, the dot product over them only. */
#include <stddef.h>

#include "conv_ref.h"
#include "hybrid_common.h"
#include "int4.h"
#include "kernels.h"
#include "opt_common.h"
#include "packed_filter.h"
#include "qmath.h"

typedef nml_fc_data fc_data;

static nml_status check_output_shape(nml_ctx *ctx, const nml_node *node, const nml_op_params *p,
                                     const nml_tensor *input, const nml_tensor *output,
                                     int32_t batches, int32_t units, int32_t depth) {
    int ok;
    if (p->keep_num_dims) {
        if (input->dims[input->rank - 1] != depth)
            return nml_kernel_fail(ctx, node, NML_E_SHAPE,
                                   "keep_num_dims needs the input's last dimension (%d) to equal "
                                   "the weights depth %d",
                                   (int)input->dims[input->rank - 1], (int)depth);
        ok = output->rank == input->rank && output->dims[output->rank - 1] == units;
        for (uint32_t i = 0; ok && i + 1 < input->rank; i++)
            ok = output->dims[i] == input->dims[i];
    } else {
        ok = output->rank == 2 && output->dims[0] == batches && output->dims[1] == units;
    }
    if (ok) return NML_OK;
    char got[80];
    if (NML_ERROR_DETAIL) nml_format_shape(got, sizeof got, output);
    if (p->keep_num_dims) {
        char in[80];
        if (NML_ERROR_DETAIL) nml_format_shape(in, sizeof in, input);
        return nml_kernel_fail(ctx, node, NML_E_SHAPE,
                               "output shape %s does not match input %s with last dimension %d",
                               got, in, (int)units);
    }
    return nml_kernel_fail(ctx, node, NML_E_SHAPE,
                           "output shape %s does not match the computed %dx%d", got, (int)batches,
                           (int)units);
}

/* Per-tensor weights: TFLite's GetQuantizedConvolutionMultipler, which forms the product
 * input_scale * filter_scale in float before dividing in double, and checks the bias scale. */
static nml_status per_tensor_multiplier(nml_ctx *ctx, const nml_node *node, const nml_tensor *input,
                                        const nml_tensor *filter, const nml_tensor *bias,
                                        const nml_tensor *output, fc_data *d) {
    if (filter->n_q == 0 || !(filter->scale > 0.0f))
        return nml_kernel_fail(ctx, node, NML_E_FORMAT, "weights are int8 but not quantized");
    if (filter->zero_point < -128 || filter->zero_point > 127)
        return nml_kernel_fail(ctx, node, NML_E_FORMAT, "weights zero point %d is outside int8",
                               (int)filter->zero_point);
    if (bias) {
        const double product = (double)input->scale * (double)filter->scale;
        double diff = product - (double)bias->scale;
        if (diff < 0) diff = -diff;
        if (!(diff / (double)output->scale <= 0.02))
            return nml_kernel_fail(ctx, node, NML_E_FORMAT,
                                   "bias scale does not match input scale x weights scale");
    }
    const float product = input->scale * filter->scale; /* rounded to float on purpose */
    int32_t m;
    int e;
    nml_quantize_multiplier((double)product / (double)output->scale, &m, &e);
    d->tensor_mult = m;
    d->tensor_shift = e;
    d->weights_offset = -filter->zero_point;
    return NML_OK;
}

/* The per-unit tables of per-tensor weights: the one multiplier for every unit. */
static nml_status broadcast_multiplier(nml_ctx *ctx, const nml_node *node, fc_data *d) {
    d->mult = nml_ctx_alloc_persistent(ctx, (size_t)d->units * sizeof *d->mult);
    d->shift = nml_ctx_alloc_persistent(ctx, (size_t)d->units * sizeof *d->shift);
    if (!d->mult || !d->shift)
        return nml_kernel_fail(ctx, node, NML_E_ARENA, "no arena left for multipliers");
    for (int32_t u = 0; u < d->units; u++) {
        d->mult[u] = d->tensor_mult;
        d->shift[u] = d->tensor_shift;
    }
    return NML_OK;
}

/* rq: the int8-only setup's, filled with per-channel multipliers (nml_rq_channels) instead of
 * only validating them (inlined into both setups, so each links only its own branch) */
NML_SETUP_INLINE nml_status prepare_int8(nml_ctx *ctx, const nml_node *node,
                                         const nml_op_params *p, const nml_tensor *input,
                                         const nml_tensor *filter, const nml_tensor *bias,
                                         const nml_tensor *output, fc_data *d,
                                         int with_multipliers, nml_rq *rq) {
    NML_TRY(nml_check_int8_quant(ctx, node, input, "input"));
    NML_TRY(nml_check_int8_quant(ctx, node, output, "output"));
    d->per_channel = (uint8_t)(filter->n_q > 1);
    if (d->per_channel) {
        if (with_multipliers)
            NML_TRY(nml_conv_multipliers(ctx, node, input, filter, output, d->units, 0, &d->mult,
                                         &d->shift));
        else if (rq)
            NML_TRY(nml_rq_channels(ctx, node, input, filter, output, d->units, 0, rq));
        else
            NML_TRY(nml_conv_multipliers_check(ctx, node, input, filter, output, d->units, 0));
        d->weights_offset = 0;
    } else {
        NML_TRY(per_tensor_multiplier(ctx, node, input, filter, bias, output, d));
        if (with_multipliers) NML_TRY(broadcast_multiplier(ctx, node, d));
    }
    int32_t max_abs_weight = d->weights_offset ? 255 : 128;
    if (filter->type == NML_INT4)
        max_abs_weight = 8 + (d->weights_offset < 0 ? -d->weights_offset : d->weights_offset);
    NML_TRY(nml_check_accumulator(ctx, node, d->depth, input->zero_point, max_abs_weight));
    NML_TRY(nml_activation_range_q(ctx, node, p->activation, output, -128, 127, &d->act_min,
                                   &d->act_max));
    d->input_offset = -input->zero_point;
    d->output_offset = output->zero_point;
    return NML_OK;
}

static size_t packed_scratch(const fc_data *d) {
    size_t bytes = (nml_packed_row_scratch((uint32_t)d->depth) + 3u) & ~(size_t)3u;
    if (d->weights_offset) bytes += (size_t)d->batches * sizeof(int32_t);
    return bytes;
}

/* int8_only: as conv_setup (conv_2d.c) */
NML_SETUP_INLINE nml_status fc_setup(nml_ctx *ctx, nml_node *node, const nml_op_params *p,
                                     fc_data *d, int with_multipliers, int int8_only,
                                     nml_rq *rq) {
    NML_TRY(nml_check_io_count(ctx, node, 2, 3, 1));
    const nml_tensor *input = nml_node_input(ctx, node, 0);
    const nml_tensor *filter = nml_node_input(ctx, node, 1);
    const nml_tensor *bias = nml_node_input(ctx, node, 2);
    const nml_tensor *output = nml_node_output(ctx, node, 0);
    if (!input || !filter)
        return nml_kernel_fail(ctx, node, NML_E_FORMAT, "input or weights are missing");
    const int type = input->type;
    if (type != NML_FLOAT32 && type != NML_INT8)
        return nml_kernel_fail(ctx, node, NML_E_UNSUPPORTED,
                               "input type %s is not supported (float32, int8 are)",
                               nml_dtype_name(type));
    if (!output) return nml_kernel_fail(ctx, node, NML_E_FORMAT, "output is missing");
    int mode = type == NML_FLOAT32 ? NML_CONV_FLOAT : NML_CONV_INT8;
    if (type == NML_FLOAT32 && filter->type == NML_INT8 && filter->n_q > 0) mode = NML_CONV_HYBRID;
    if (type == NML_INT8 && filter->type == NML_INT4) mode = NML_CONV_INT4;
    if (filter->pack) mode = NML_CONV_PACKED;
    if (mode == NML_CONV_FLOAT || mode == NML_CONV_INT8)
        NML_TRY(nml_check_type(ctx, node, filter, "weights", type));
    NML_TRY(nml_check_type(ctx, node, output, "output", type));
    if (int8_only && mode != NML_CONV_INT8) return nml_conv_not_int8(ctx, node, input, filter);
    NML_TRY(nml_check_rank(ctx, node, filter, "weights", 2));
    if (p->weights_format != 0)
        return nml_kernel_fail(ctx, node, NML_E_UNSUPPORTED,
                               "weights format %u is not supported (only DEFAULT)",
                               (unsigned)p->weights_format);
    if (input->rank < 1) return nml_kernel_fail(ctx, node, NML_E_SHAPE, "input is a scalar");

    const int32_t units = filter->dims[0];
    const int32_t depth = filter->dims[1];
    const uint32_t count = nml_tensor_count(input);
    if (units < 1 || depth < 1 || count == 0 || count % (uint32_t)depth != 0)
        return nml_kernel_fail(ctx, node, NML_E_SHAPE,
                               "input has %u elements, not a multiple of the weights depth %d",
                               (unsigned)count, (int)depth);
    const int32_t batches = (int32_t)(count / (uint32_t)depth);
    NML_TRY(check_output_shape(ctx, node, p, input, output, batches, units, depth));
    if (bias) NML_TRY(nml_check_bias(ctx, node, bias, type == NML_INT8 ? NML_INT32 : type, units));

    d->batches = batches;
    d->units = units;
    d->depth = depth;
    d->mode = (uint8_t)mode;
    if (!int8_only && mode == NML_CONV_PACKED)
        NML_TRY(nml_packed_filter_prepare(ctx, node, input, filter, 0, &d->packed));
    if (!int8_only && type == NML_FLOAT32)
        NML_TRY(nml_activation_range_f32(ctx, node, p->activation, &d->f_min, &d->f_max));
    else
        NML_TRY(
            prepare_int8(ctx, node, p, input, filter, bias, output, d, with_multipliers, rq));
    if (!int8_only && mode == NML_CONV_HYBRID) {
        NML_TRY(nml_hybrid_weight_scales(ctx, node, filter, units, 0, &d->w_scale));
        NML_TRY(nml_check_accumulator(ctx, node, depth, 0, 127));
    }
    return NML_OK;
}

nml_status nml_fc_setup(nml_ctx *ctx, nml_node *node, const nml_op_params *p, fc_data *d,
                        int with_multipliers) {
    return fc_setup(ctx, node, p, d, with_multipliers, 0, NULL);
}

nml_status nml_fc_setup_int8(nml_ctx *ctx, nml_node *node, const nml_op_params *p, fc_data *d,
                             nml_rq *rq) {
    return fc_setup(ctx, node, p, d, 0, 1, rq);
}

nml_status nml_fc_ref_finish(nml_ctx *ctx, nml_node *node, fc_data *d) {
    if ((d->mode == NML_CONV_INT8 || d->mode == NML_CONV_INT4 || d->mode == NML_CONV_PACKED) &&
        !d->mult) {
        if (d->per_channel) {
            const nml_tensor *input = nml_node_input(ctx, node, 0);
            const nml_tensor *filter = nml_node_input(ctx, node, 1);
            const nml_tensor *output = nml_node_output(ctx, node, 0);
            NML_TRY(nml_conv_multipliers(ctx, node, input, filter, output, d->units, 0, &d->mult,
                                         &d->shift));
        } else {
            NML_TRY(broadcast_multiplier(ctx, node, d));
        }
    }
    /* hybrid: one quantized input row; int4: one unpacked weight row */
    if (d->mode == NML_CONV_HYBRID || d->mode == NML_CONV_INT4)
        NML_TRY(nml_ctx_request_scratch(ctx, node, (size_t)d->depth));
    /* packed: one row's non-zero weights, and the input sums a weight zero point needs */
    if (d->mode == NML_CONV_PACKED) NML_TRY(nml_ctx_request_scratch(ctx, node, packed_scratch(d)));
    return NML_OK;
}

static nml_status fc_prepare(nml_ctx *ctx, nml_node *node, const nml_op_params *p) {
    fc_data *d = nml_ctx_alloc_persistent(ctx, sizeof *d);
    if (!d) return nml_kernel_fail(ctx, node, NML_E_ARENA, "no arena left for kernel data");
    NML_TRY(nml_fc_setup(ctx, node, p, d, 1));
    NML_TRY(nml_fc_ref_finish(ctx, node, d));
    node->data = d;
    return NML_OK;
}

static void fc_f32(const fc_data *d, const float *in, const float *w, const float *bias,
                   float *out) {
    for (int32_t b = 0; b < d->batches; b++) {
        const float *x = in + b * d->depth;
        for (int32_t u = 0; u < d->units; u++) {
            const float *wu = w + u * d->depth;
            float acc = 0.0f;
            for (int32_t i = 0; i < d->depth; i++)
                acc += x[i] * wu[i];
            if (bias) acc += bias[u];
            acc = acc < d->f_min ? d->f_min : acc;
            acc = acc > d->f_max ? d->f_max : acc;
            out[b * d->units + u] = acc;
        }
    }
}

static void fc_int8(const fc_data *d, const int8_t *in, const int8_t *w, const int32_t *bias,
                    int8_t *out) {
    for (int32_t b = 0; b < d->batches; b++) {
        const int8_t *x = in + b * d->depth;
        for (int32_t u = 0; u < d->units; u++) {
            const int8_t *wu = w + u * d->depth;
            int32_t acc = 0;
            for (int32_t i = 0; i < d->depth; i++)
                acc += ((int32_t)wu[i] + d->weights_offset) * ((int32_t)x[i] + d->input_offset);
            if (bias) acc = nml_add_wrap(acc, bias[u]);
            acc = nml_mul_by_qm(acc, d->mult[u], d->shift[u]);
            out[b * d->units + u] =
                (int8_t)nml_add_zp_clamp(acc, d->output_offset, d->act_min, d->act_max);
        }
    }
}

/* Unit u for every batch, from its weights unpacked into `row`. */
static void fc_unit(const fc_data *d, const int8_t *in, const int8_t *row, int32_t u,
                    const int32_t *bias, int8_t *out) {
    for (int32_t b = 0; b < d->batches; b++) {
        const int8_t *x = in + b * d->depth;
        int32_t acc = 0;
        for (int32_t i = 0; i < d->depth; i++)
            acc += ((int32_t)row[i] + d->weights_offset) * ((int32_t)x[i] + d->input_offset);
        if (bias) acc = nml_add_wrap(acc, bias[u]);
        acc = nml_mul_by_qm(acc, d->mult[u], d->shift[u]);
        out[b * d->units + u] =
            (int8_t)nml_add_zp_clamp(acc, d->output_offset, d->act_min, d->act_max);
    }
}

/* Unit-major order so that each packed weight row is unpacked once for all batches. */
static void fc_int4(const fc_data *d, const int8_t *in, const uint8_t *w, const int32_t *bias,
                    int8_t *row, int8_t *out) {
    for (int32_t u = 0; u < d->units; u++) {
        nml_int4_unpack(w, (uint32_t)u * (uint32_t)d->depth, (uint32_t)d->depth, row);
        fc_unit(d, in, row, u, bias, out);
    }
}

/* Sum over x of (x + input_offset) per batch: with weights zero point z, the zero weights the
 * packed rows leave out still contribute z * (x + input_offset) each, so
 *   sum (w + z)(x + off) = sum_nonzero w (x + off) + z * sum (x + off). */
static void input_sums(const fc_data *d, const int8_t *in, int32_t *sums) {
    for (int32_t b = 0; b < d->batches; b++) {
        const int8_t *x = in + b * d->depth;
        int32_t s = 0;
        for (int32_t i = 0; i < d->depth; i++)
            s += (int32_t)x[i] + d->input_offset;
        sums[b] = s;
    }
}

/* Unit-major, each row decoded once for all batches. Rows that store every weight (clustered,
 * not sparse) are decoded into a plain row; sparse rows into the list of their stored weights,
 * and only those are multiplied. */
static void fc_packed(const fc_data *d, const int8_t *in, const int32_t *bias, uint8_t *scratch,
                      int8_t *out) {
    nml_packed_cursor c;
    nml_packed_begin(&c);
    if (d->packed->positions == NML_PACK_POS_ALL) {
        for (int32_t u = 0; u < d->units; u++) {
            nml_packed_next_dense(d->packed, &c, (int8_t *)scratch);
            fc_unit(d, in, (const int8_t *)scratch, u, bias, out);
        }
        return;
    }
    uint16_t *index = nml_packed_row_index(scratch);
    int8_t *value = nml_packed_row_values(scratch, (uint32_t)d->depth);
    int32_t *sums = NULL;
    if (d->weights_offset) {
        sums = (int32_t *)(void *)(scratch + ((nml_packed_row_scratch((uint32_t)d->depth) + 3u) &
                                              ~(size_t)3u));
        input_sums(d, in, sums);
    }
    for (int32_t u = 0; u < d->units; u++) {
        const uint32_t n = nml_packed_next_sparse(d->packed, &c, index, value);
        for (int32_t b = 0; b < d->batches; b++) {
            const int8_t *x = in + b * d->depth;
            int32_t acc = 0;
            for (uint32_t k = 0; k < n; k++)
                acc += (int32_t)value[k] * ((int32_t)x[index[k]] + d->input_offset);
            if (sums) acc += d->weights_offset * sums[b];
            if (bias) acc = nml_add_wrap(acc, bias[u]);
            acc = nml_mul_by_qm(acc, d->mult[u], d->shift[u]);
            out[b * d->units + u] =
                (int8_t)nml_add_zp_clamp(acc, d->output_offset, d->act_min, d->act_max);
        }
    }
}

static void fc_hybrid(const fc_data *d, const float *in, const int8_t *w, const float *bias,
                      int8_t *xq, float *out) {
    for (int32_t b = 0; b < d->batches; b++) {
        float row_scale;
        nml_hybrid_quantize_symmetric(in + b * d->depth, (uint32_t)d->depth, xq, &row_scale);
        for (int32_t u = 0; u < d->units; u++) {
            const int8_t *wu = w + u * d->depth;
            int32_t dot = 0;
            for (int32_t i = 0; i < d->depth; i++)
                dot += (int32_t)wu[i] * (int32_t)xq[i];
            float acc = bias ? bias[u] : 0.0f;
            acc += (float)dot * (row_scale * d->w_scale[u]);
            acc = acc < d->f_min ? d->f_min : acc;
            acc = acc > d->f_max ? d->f_max : acc;
            out[b * d->units + u] = acc;
        }
    }
}

void nml_fc_eval_ref(nml_ctx *ctx, const nml_node *node, const fc_data *d) {
    const nml_tensor *input = nml_node_input(ctx, node, 0);
    const nml_tensor *filter = nml_node_input(ctx, node, 1);
    const nml_tensor *bias = nml_node_input(ctx, node, 2);
    nml_tensor *output = nml_node_output(ctx, node, 0);
    const void *b = bias ? bias->data : NULL;
    switch (d->mode) {
    case NML_CONV_FLOAT:
        fc_f32(d, input->data, filter->data, b, output->data);
        break;
    case NML_CONV_INT8:
        fc_int8(d, input->data, filter->data, b, output->data);
        break;
    case NML_CONV_INT4:
        fc_int4(d, input->data, filter->data, b, nml_ctx_scratch(ctx, node), output->data);
        break;
    case NML_CONV_PACKED:
        fc_packed(d, input->data, b, nml_ctx_scratch(ctx, node), output->data);
        break;
    default:
        fc_hybrid(d, input->data, filter->data, b, nml_ctx_scratch(ctx, node), output->data);
        break;
    }
}

static nml_status fc_eval(nml_ctx *ctx, nml_node *node) {
    nml_fc_eval_ref(ctx, node, node->data);
    return NML_OK;
}

const nml_kernel nml_kernel_fully_connected = {NML_OP_FULLY_CONNECTED, "FULLY_CONNECTED",
                                               fc_prepare, fc_eval};
