/* The prepare-time checks and parameters of CONV_2D and DEPTHWISE_CONV_2D (conv_ref.h), in one
 * body: the two operators differ only in the filter layout (CONV_2D [O,KH,KW,C/groups], channels
 * along dimension 0; DEPTHWISE_CONV_2D [1,KH,KW,C*M], channels along dimension 3) and in how
 * input and output channels relate (groups; depth multiplier). The full setups are compiled per
 * operator; the int8-only one is a single function for both, so firmware with both operators'
 * lean kernels carries it once. */
#include "conv_ref.h"
#include "hybrid_common.h"
#include "kernels.h"
#include "opt_common.h"
#include "packed_filter.h"

/* int8_only and depthwise are constants in the full setups: the int8-only instance is compiled
 * without the float, hybrid, int4 and packed branches, so firmware that links only it links
 * none of their helpers. */
NML_SETUP_INLINE nml_status setup(nml_ctx *ctx, nml_node *node, const nml_op_params *p,
                                  nml_conv_data *d, int with_multipliers, int int8_only,
                                  int depthwise, nml_rq *rq, nml_tensor **io) {
    nml_tensor *own[4];
    nml_tensor **t = io ? io : own;
    NML_TRY(nml_node_io(ctx, node, 2, 3, t));
    const nml_tensor *input = t[0], *filter = t[1], *bias = t[2], *output = t[3];
    if (!input || !filter)
        return nml_kernel_fail(ctx, node, NML_E_FORMAT, "input or filter is missing");
    const int type = input->type;
    if (type != NML_FLOAT32 && type != NML_INT8)
        return nml_kernel_fail(ctx, node, NML_E_UNSUPPORTED,
                               "input type %s is not supported (float32, int8 are)",
                               nml_dtype_name(type));
    if (!output) return nml_kernel_fail(ctx, node, NML_E_FORMAT, "output is missing");
    int mode = type == NML_FLOAT32 ? NML_CONV_FLOAT : NML_CONV_INT8;
    if (type == NML_FLOAT32 && filter->type == NML_INT8 && filter->n_q > 0) mode = NML_CONV_HYBRID;
#ifndef NML_NO_INT4 /* else the loader refused int4 tensors */
    if (type == NML_INT8 && filter->type == NML_INT4) mode = NML_CONV_INT4;
#endif
#ifndef NML_NO_PACKED_WEIGHTS /* else the loader refused packed tensors */
    if (filter->pack) mode = NML_CONV_PACKED;
#endif
    if (mode == NML_CONV_FLOAT || mode == NML_CONV_INT8)
        NML_TRY(nml_check_type(ctx, node, filter, "filter", type));
    NML_TRY(nml_check_type(ctx, node, output, "output", type));
    if (int8_only && mode != NML_CONV_INT8) return nml_conv_not_int8(ctx, node, input, filter);
    NML_TRY(nml_check_rank(ctx, node, input, "input", 4));
    NML_TRY(nml_check_rank(ctx, node, filter, "filter", 4));

    const int32_t in_ch = input->dims[3];
    const int32_t out_ch = filter->dims[depthwise ? 3 : 0];
    const int q_dim = depthwise ? 3 : 0; /* the filter's output-channel dimension */
    int64_t window = (int64_t)filter->dims[1] * filter->dims[2]; /* taps per output value */
    if (depthwise) {
        if (filter->dims[0] != 1)
            return nml_kernel_fail(ctx, node, NML_E_SHAPE, "filter dimension 0 is %d, expected 1",
                                   (int)filter->dims[0]);
        const int32_t m = p->depth_multiplier;
        if (m < 1 || (int64_t)in_ch * m != out_ch)
            return nml_kernel_fail(ctx, node, NML_E_SHAPE,
                                   "filter has %d channels, expected input depth %d x depth "
                                   "multiplier %d",
                                   (int)out_ch, (int)in_ch, (int)m);
        d->depth_multiplier = m;
    } else {
        const int32_t filter_in_ch = filter->dims[3];
        if (filter_in_ch < 1 || out_ch < 1 || in_ch % filter_in_ch != 0)
            return nml_kernel_fail(ctx, node, NML_E_SHAPE,
                                   "filter depth %d does not divide the input depth %d",
                                   (int)filter_in_ch, (int)in_ch);
        const int32_t groups = in_ch / filter_in_ch;
        if (out_ch % groups != 0)
            return nml_kernel_fail(ctx, node, NML_E_SHAPE,
                                   "%d output channels cannot be split into %d groups", (int)out_ch,
                                   (int)groups);
        window *= filter_in_ch;
    }

    NML_TRY(nml_window_init(ctx, node, p, input->dims[1], input->dims[2], filter->dims[1],
                            filter->dims[2], &d->w));
    NML_TRY(nml_check_nhwc(ctx, node, output, input->dims[0], d->w.out_h, d->w.out_w, out_ch));
    if (bias) NML_TRY(nml_check_bias(ctx, node, bias, type == NML_INT8 ? NML_INT32 : type, out_ch));

    d->mode = (uint8_t)mode;
    if (!int8_only && mode == NML_CONV_PACKED)
        NML_TRY(nml_packed_filter_prepare(ctx, node, input, filter, q_dim, &d->packed));
    if (!int8_only && type == NML_FLOAT32) {
        NML_TRY(nml_activation_range_f32(ctx, node, p->activation, &d->f_min, &d->f_max));
        if (mode == NML_CONV_HYBRID) {
            NML_TRY(nml_hybrid_weight_scales(ctx, node, filter, out_ch, q_dim, &d->w_scale));
            NML_TRY(nml_check_accumulator(ctx, node, window, 0, 127));
            d->per_channel = (uint8_t)(filter->n_q > 1);
            if (input->dims[0] < 1)
                return nml_kernel_fail(ctx, node, NML_E_SHAPE, "input has no batches");
        }
    } else {
        NML_TRY(nml_check_int8_quant(ctx, node, input, "input"));
        NML_TRY(nml_check_int8_quant(ctx, node, output, "output"));
        NML_TRY(nml_check_accumulator(ctx, node, window, input->zero_point, 128));
        if (with_multipliers)
            NML_TRY(nml_conv_multipliers(ctx, node, input, filter, output, out_ch, q_dim, &d->mult,
                                         &d->shift));
        else if (int8_only)
            NML_TRY(nml_rq_channels(ctx, node, input, filter, output, out_ch, q_dim, rq));
        else
            NML_TRY(nml_conv_multipliers_check(ctx, node, input, filter, output, out_ch, q_dim));
        NML_TRY(nml_activation_range_q(ctx, node, p->activation, output, -128, 127, &d->act_min,
                                       &d->act_max));
        d->input_offset = -input->zero_point;
        d->output_offset = output->zero_point;
    }
    return NML_OK;
}

nml_status nml_conv_2d_setup(nml_ctx *ctx, nml_node *node, const nml_op_params *p, nml_conv_data *d,
                             int with_multipliers) {
    return setup(ctx, node, p, d, with_multipliers, 0, 0, NULL, NULL);
}

nml_status nml_dwconv_setup(nml_ctx *ctx, nml_node *node, const nml_op_params *p,
                            nml_dwconv_data *d, int with_multipliers) {
    return setup(ctx, node, p, d, with_multipliers, 0, 1, NULL, NULL);
}

/* the one int8-only instance, for both operators */
static nml_status setup_int8(nml_ctx *ctx, nml_node *node, const nml_op_params *p, nml_conv_data *d,
                             int depthwise, nml_rq *rq, nml_tensor **io) {
    return setup(ctx, node, p, d, 0, 1, depthwise, rq, io);
}

nml_status nml_conv_2d_setup_int8(nml_ctx *ctx, nml_node *node, const nml_op_params *p,
                                  nml_conv_data *d, nml_rq *rq, nml_tensor **io) {
    return setup_int8(ctx, node, p, d, 0, rq, io);
}

nml_status nml_dwconv_setup_int8(nml_ctx *ctx, nml_node *node, const nml_op_params *p,
                                 nml_dwconv_data *d, nml_rq *rq, nml_tensor **io) {
    return setup_int8(ctx, node, p, d, 1, rq, io);
}
