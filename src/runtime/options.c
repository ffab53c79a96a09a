/* Decoding an Operator's builtin_options union into nml_op_params.
 *
 * Each operator nanoml knows maps to the one options table the schema gives it (or none). The
 * union's type must be that table or NONE; an absent table decodes exactly like a table whose
 * fields are all absent, i.e. to the schema defaults (CONV_2D strides 0, dilations 1, ...). The
 * one exception is the type fields of CAST, ARG_MAX and SHAPE: without a table they stay -1
 * ("not given") instead of the schema's FLOAT32, so kernels can fall back to the tensor types. */
#include "model_internal.h"
#include "schema.h"

typedef nml_status (*decode_fn)(const nml_fb *fb, const nml_fb_table *t, nml_op_params *p,
                                nml_error *err);

static nml_status padding(const nml_fb *fb, const nml_fb_table *t, unsigned id, nml_op_params *p,
                          nml_error *err) {
    NML_TRY(nml_fb_u8(fb, t, id, NML_PAD_SAME, &p->padding, err));
    if (p->padding > NML_PAD_VALID)
        return nml_fail(err, NML_E_FORMAT, "padding %u is neither SAME nor VALID",
                        (unsigned)p->padding);
    return NML_OK;
}

static nml_status activation(const nml_fb *fb, const nml_fb_table *t, unsigned id, nml_op_params *p,
                             nml_error *err) {
    NML_TRY(nml_fb_u8(fb, t, id, NML_ACT_NONE, &p->activation, err));
    if (p->activation > NML_ACT_SIGN_BIT)
        return nml_fail(err, NML_E_FORMAT, "fused activation %u is unknown",
                        (unsigned)p->activation);
    return NML_OK;
}

static nml_status int_list(const nml_fb *fb, const nml_fb_table *t, unsigned id, int32_t *dst,
                           int32_t *len, const char *what, nml_error *err) {
    nml_fb_vec v;
    NML_TRY(nml_fb_vec_field(fb, t, id, 4, &v, err));
    if (v.len > NML_MAX_RANK)
        return nml_fail(err, NML_E_LIMIT, "%s has %lu entries (limit %d)", what,
                        (unsigned long)v.len, NML_MAX_RANK);
    for (uint32_t i = 0; i < v.len; i++)
        dst[i] = nml_fb_vec_i32(fb, v, i);
    *len = (int32_t)v.len;
    return NML_OK;
}

static nml_status tensor_type(const nml_fb *fb, const nml_fb_table *t, unsigned id, int32_t *out,
                              nml_error *err) {
    int8_t v;
    if (t->n_fields == 0 && t->pos == 0) return NML_OK; /* no table: keep -1 */
    NML_TRY(nml_fb_i8(fb, t, id, NML_FLOAT32, &v, err));
    *out = v;
    return NML_OK;
}

static nml_status conv_2d(const nml_fb *fb, const nml_fb_table *t, nml_op_params *p,
                          nml_error *err) {
    NML_TRY(padding(fb, t, TFL_CONV_PADDING, p, err));
    NML_TRY(nml_fb_i32(fb, t, TFL_CONV_STRIDE_W, 0, &p->stride_w, err));
    NML_TRY(nml_fb_i32(fb, t, TFL_CONV_STRIDE_H, 0, &p->stride_h, err));
    NML_TRY(activation(fb, t, TFL_CONV_ACTIVATION, p, err));
    NML_TRY(nml_fb_i32(fb, t, TFL_CONV_DILATION_W, 1, &p->dilation_w, err));
    return nml_fb_i32(fb, t, TFL_CONV_DILATION_H, 1, &p->dilation_h, err);
}

static nml_status depthwise_conv_2d(const nml_fb *fb, const nml_fb_table *t, nml_op_params *p,
                                    nml_error *err) {
    NML_TRY(padding(fb, t, TFL_DW_PADDING, p, err));
    NML_TRY(nml_fb_i32(fb, t, TFL_DW_STRIDE_W, 0, &p->stride_w, err));
    NML_TRY(nml_fb_i32(fb, t, TFL_DW_STRIDE_H, 0, &p->stride_h, err));
    NML_TRY(nml_fb_i32(fb, t, TFL_DW_DEPTH_MULTIPLIER, 0, &p->depth_multiplier, err));
    NML_TRY(activation(fb, t, TFL_DW_ACTIVATION, p, err));
    NML_TRY(nml_fb_i32(fb, t, TFL_DW_DILATION_W, 1, &p->dilation_w, err));
    return nml_fb_i32(fb, t, TFL_DW_DILATION_H, 1, &p->dilation_h, err);
}

static nml_status pool_2d(const nml_fb *fb, const nml_fb_table *t, nml_op_params *p,
                          nml_error *err) {
    NML_TRY(padding(fb, t, TFL_POOL_PADDING, p, err));
    NML_TRY(nml_fb_i32(fb, t, TFL_POOL_STRIDE_W, 0, &p->stride_w, err));
    NML_TRY(nml_fb_i32(fb, t, TFL_POOL_STRIDE_H, 0, &p->stride_h, err));
    NML_TRY(nml_fb_i32(fb, t, TFL_POOL_FILTER_W, 0, &p->filter_w, err));
    NML_TRY(nml_fb_i32(fb, t, TFL_POOL_FILTER_H, 0, &p->filter_h, err));
    return activation(fb, t, TFL_POOL_ACTIVATION, p, err);
}

static nml_status fully_connected(const nml_fb *fb, const nml_fb_table *t, nml_op_params *p,
                                  nml_error *err) {
    NML_TRY(activation(fb, t, TFL_FC_ACTIVATION, p, err));
    NML_TRY(nml_fb_u8(fb, t, TFL_FC_WEIGHTS_FORMAT, 0, &p->weights_format, err));
    return nml_fb_u8(fb, t, TFL_FC_KEEP_NUM_DIMS, 0, &p->keep_num_dims, err);
}

static nml_status softmax(const nml_fb *fb, const nml_fb_table *t, nml_op_params *p,
                          nml_error *err) {
    return nml_fb_f32(fb, t, TFL_SOFTMAX_BETA, 0.0f, &p->beta, err);
}

static nml_status concatenation(const nml_fb *fb, const nml_fb_table *t, nml_op_params *p,
                                nml_error *err) {
    NML_TRY(nml_fb_i32(fb, t, TFL_CONCAT_AXIS, 0, &p->axis, err));
    return activation(fb, t, TFL_CONCAT_ACTIVATION, p, err);
}

static nml_status add_sub(const nml_fb *fb, const nml_fb_table *t, nml_op_params *p,
                          nml_error *err) {
    NML_TRY(activation(fb, t, TFL_ADD_ACTIVATION, p, err));
    return nml_fb_u8(fb, t, TFL_ADD_POT_SCALE_INT16, 1, &p->pot_scale_int16, err);
}

static nml_status activation_only(const nml_fb *fb, const nml_fb_table *t, nml_op_params *p,
                                  nml_error *err) {
    return activation(fb, t, TFL_ACT_ONLY_ACTIVATION, p, err);
}

static nml_status resize_bilinear(const nml_fb *fb, const nml_fb_table *t, nml_op_params *p,
                                  nml_error *err) {
    NML_TRY(nml_fb_u8(fb, t, TFL_RESIZE_BILINEAR_ALIGN_CORNERS, 0, &p->align_corners, err));
    return nml_fb_u8(fb, t, TFL_RESIZE_BILINEAR_HALF_PIXEL_CENTERS, 0, &p->half_pixel_centers, err);
}

static nml_status resize_nearest(const nml_fb *fb, const nml_fb_table *t, nml_op_params *p,
                                 nml_error *err) {
    NML_TRY(nml_fb_u8(fb, t, TFL_RESIZE_NN_ALIGN_CORNERS, 0, &p->align_corners, err));
    return nml_fb_u8(fb, t, TFL_RESIZE_NN_HALF_PIXEL_CENTERS, 0, &p->half_pixel_centers, err);
}

static nml_status reshape(const nml_fb *fb, const nml_fb_table *t, nml_op_params *p,
                          nml_error *err) {
    p->new_shape_len = -1; /* the shape comes from the second input */
    if (!nml_fb_has(fb, t, TFL_RESHAPE_NEW_SHAPE)) return NML_OK;
    return int_list(fb, t, TFL_RESHAPE_NEW_SHAPE, p->new_shape, &p->new_shape_len, "new_shape",
                    err);
}

static nml_status block_size(const nml_fb *fb, const nml_fb_table *t, nml_op_params *p,
                             nml_error *err) {
    return nml_fb_i32(fb, t, TFL_BLOCK_SIZE, 0, &p->block_size, err);
}

static nml_status gather(const nml_fb *fb, const nml_fb_table *t, nml_op_params *p,
                         nml_error *err) {
    NML_TRY(nml_fb_i32(fb, t, TFL_GATHER_AXIS, 0, &p->axis, err));
    return nml_fb_i32(fb, t, TFL_GATHER_BATCH_DIMS, 0, &p->batch_dims, err);
}

static nml_status reducer(const nml_fb *fb, const nml_fb_table *t, nml_op_params *p,
                          nml_error *err) {
    return nml_fb_u8(fb, t, TFL_REDUCER_KEEP_DIMS, 0, &p->keep_dims, err);
}

static nml_status squeeze(const nml_fb *fb, const nml_fb_table *t, nml_op_params *p,
                          nml_error *err) {
    return int_list(fb, t, TFL_SQUEEZE_DIMS, p->squeeze_dims, &p->squeeze_len, "squeeze_dims", err);
}

static nml_status strided_slice(const nml_fb *fb, const nml_fb_table *t, nml_op_params *p,
                                nml_error *err) {
    NML_TRY(nml_fb_i32(fb, t, TFL_SS_BEGIN_MASK, 0, &p->begin_mask, err));
    NML_TRY(nml_fb_i32(fb, t, TFL_SS_END_MASK, 0, &p->end_mask, err));
    NML_TRY(nml_fb_i32(fb, t, TFL_SS_ELLIPSIS_MASK, 0, &p->ellipsis_mask, err));
    NML_TRY(nml_fb_i32(fb, t, TFL_SS_NEW_AXIS_MASK, 0, &p->new_axis_mask, err));
    NML_TRY(nml_fb_i32(fb, t, TFL_SS_SHRINK_AXIS_MASK, 0, &p->shrink_axis_mask, err));
    return nml_fb_u8(fb, t, TFL_SS_OFFSET, 0, &p->offset, err);
}

static nml_status num_splits(const nml_fb *fb, const nml_fb_table *t, nml_op_params *p,
                             nml_error *err) {
    return nml_fb_i32(fb, t, TFL_NUM_SPLITS, 0, &p->num_splits, err);
}

static nml_status cast(const nml_fb *fb, const nml_fb_table *t, nml_op_params *p, nml_error *err) {
    NML_TRY(tensor_type(fb, t, TFL_CAST_IN_TYPE, &p->in_type, err));
    return tensor_type(fb, t, TFL_CAST_OUT_TYPE, &p->out_type, err);
}

static nml_status arg_max(const nml_fb *fb, const nml_fb_table *t, nml_op_params *p,
                          nml_error *err) {
    return tensor_type(fb, t, TFL_ARG_MAX_OUTPUT_TYPE, &p->out_type, err);
}

static nml_status shape(const nml_fb *fb, const nml_fb_table *t, nml_op_params *p, nml_error *err) {
    return tensor_type(fb, t, TFL_SHAPE_OUT_TYPE, &p->out_type, err);
}

static nml_status transpose_conv(const nml_fb *fb, const nml_fb_table *t, nml_op_params *p,
                                 nml_error *err) {
    NML_TRY(padding(fb, t, TFL_TCONV_PADDING, p, err));
    NML_TRY(nml_fb_i32(fb, t, TFL_TCONV_STRIDE_W, 0, &p->stride_w, err));
    NML_TRY(nml_fb_i32(fb, t, TFL_TCONV_STRIDE_H, 0, &p->stride_h, err));
    return activation(fb, t, TFL_TCONV_ACTIVATION, p, err);
}

static nml_status pack(const nml_fb *fb, const nml_fb_table *t, nml_op_params *p, nml_error *err) {
    NML_TRY(nml_fb_i32(fb, t, TFL_PACK_VALUES_COUNT, 0, &p->count, err));
    return nml_fb_i32(fb, t, TFL_PACK_AXIS, 0, &p->axis, err);
}

static nml_status unpack(const nml_fb *fb, const nml_fb_table *t, nml_op_params *p,
                         nml_error *err) {
    NML_TRY(nml_fb_i32(fb, t, TFL_UNPACK_NUM, 0, &p->count, err));
    return nml_fb_i32(fb, t, TFL_UNPACK_AXIS, 0, &p->axis, err);
}

static nml_status leaky_relu(const nml_fb *fb, const nml_fb_table *t, nml_op_params *p,
                             nml_error *err) {
    return nml_fb_f32(fb, t, TFL_LEAKY_RELU_ALPHA, 0.0f, &p->alpha, err);
}

static nml_status mirror_pad(const nml_fb *fb, const nml_fb_table *t, nml_op_params *p,
                             nml_error *err) {
    NML_TRY(nml_fb_u8(fb, t, TFL_MIRROR_PAD_MODE, 0, &p->mirror_mode, err));
    if (p->mirror_mode > 1)
        return nml_fail(err, NML_E_FORMAT, "mirror pad mode %u is unknown",
                        (unsigned)p->mirror_mode);
    return NML_OK;
}

static nml_status batch_matmul(const nml_fb *fb, const nml_fb_table *t, nml_op_params *p,
                               nml_error *err) {
    NML_TRY(nml_fb_u8(fb, t, TFL_BMM_ADJ_X, 0, &p->adj_x, err));
    return nml_fb_u8(fb, t, TFL_BMM_ADJ_Y, 0, &p->adj_y, err);
}

/* Options tables without fields. */
static nml_status no_fields(const nml_fb *fb, const nml_fb_table *t, nml_op_params *p,
                            nml_error *err) {
    (void)fb, (void)t, (void)p, (void)err;
    return NML_OK;
}

typedef struct option_kind {
    int32_t builtin;
    uint8_t type; /* BuiltinOptions union type, TFL_OPT_NONE for operators without options */
    const char *table;
    decode_fn decode;
} option_kind;

static const option_kind kinds[] = {
    {NML_OP_ADD, TFL_OPT_ADD, "AddOptions", add_sub},
    {NML_OP_AVERAGE_POOL_2D, TFL_OPT_POOL_2D, "Pool2DOptions", pool_2d},
    {NML_OP_CONCATENATION, TFL_OPT_CONCATENATION, "ConcatenationOptions", concatenation},
    {NML_OP_CONV_2D, TFL_OPT_CONV_2D, "Conv2DOptions", conv_2d},
    {NML_OP_DEPTHWISE_CONV_2D, TFL_OPT_DEPTHWISE_CONV_2D, "DepthwiseConv2DOptions",
     depthwise_conv_2d},
    {NML_OP_DEPTH_TO_SPACE, TFL_OPT_DEPTH_TO_SPACE, "DepthToSpaceOptions", block_size},
    {NML_OP_DEQUANTIZE, TFL_OPT_DEQUANTIZE, "DequantizeOptions", no_fields},
    {NML_OP_FLOOR, TFL_OPT_NONE, NULL, no_fields},
    {NML_OP_FULLY_CONNECTED, TFL_OPT_FULLY_CONNECTED, "FullyConnectedOptions", fully_connected},
    {NML_OP_L2_NORMALIZATION, TFL_OPT_L2_NORM, "L2NormOptions", activation_only},
    {NML_OP_LOGISTIC, TFL_OPT_NONE, NULL, no_fields},
    {NML_OP_MAX_POOL_2D, TFL_OPT_POOL_2D, "Pool2DOptions", pool_2d},
    {NML_OP_MUL, TFL_OPT_MUL, "MulOptions", activation_only},
    {NML_OP_RELU, TFL_OPT_NONE, NULL, no_fields},
    {NML_OP_RELU_N1_TO_1, TFL_OPT_NONE, NULL, no_fields},
    {NML_OP_RELU6, TFL_OPT_NONE, NULL, no_fields},
    {NML_OP_RESHAPE, TFL_OPT_RESHAPE, "ReshapeOptions", reshape},
    {NML_OP_RESIZE_BILINEAR, TFL_OPT_RESIZE_BILINEAR, "ResizeBilinearOptions", resize_bilinear},
    {NML_OP_SOFTMAX, TFL_OPT_SOFTMAX, "SoftmaxOptions", softmax},
    {NML_OP_SPACE_TO_DEPTH, TFL_OPT_SPACE_TO_DEPTH, "SpaceToDepthOptions", block_size},
    {NML_OP_TANH, TFL_OPT_NONE, NULL, no_fields},
    {NML_OP_PAD, TFL_OPT_PAD, "PadOptions", no_fields},
    {NML_OP_GATHER, TFL_OPT_GATHER, "GatherOptions", gather},
    {NML_OP_TRANSPOSE, TFL_OPT_TRANSPOSE, "TransposeOptions", no_fields},
    {NML_OP_MEAN, TFL_OPT_REDUCER, "ReducerOptions", reducer},
    {NML_OP_SUB, TFL_OPT_SUB, "SubOptions", add_sub},
    {NML_OP_DIV, TFL_OPT_DIV, "DivOptions", activation_only},
    {NML_OP_SQUEEZE, TFL_OPT_SQUEEZE, "SqueezeOptions", squeeze},
    {NML_OP_STRIDED_SLICE, TFL_OPT_STRIDED_SLICE, "StridedSliceOptions", strided_slice},
    {NML_OP_EXP, TFL_OPT_EXP, "ExpOptions", no_fields},
    {NML_OP_SPLIT, TFL_OPT_SPLIT, "SplitOptions", num_splits},
    {NML_OP_LOG_SOFTMAX, TFL_OPT_LOG_SOFTMAX, "LogSoftmaxOptions", no_fields},
    {NML_OP_CAST, TFL_OPT_CAST, "CastOptions", cast},
    {NML_OP_PRELU, TFL_OPT_NONE, NULL, no_fields},
    {NML_OP_MAXIMUM, TFL_OPT_MAXIMUM_MINIMUM, "MaximumMinimumOptions", no_fields},
    {NML_OP_ARG_MAX, TFL_OPT_ARG_MAX, "ArgMaxOptions", arg_max},
    {NML_OP_MINIMUM, TFL_OPT_MAXIMUM_MINIMUM, "MaximumMinimumOptions", no_fields},
    {NML_OP_NEG, TFL_OPT_NEG, "NegOptions", no_fields},
    {NML_OP_PADV2, TFL_OPT_PADV2, "PadV2Options", no_fields},
    {NML_OP_SLICE, TFL_OPT_SLICE, "SliceOptions", no_fields},
    {NML_OP_TRANSPOSE_CONV, TFL_OPT_TRANSPOSE_CONV, "TransposeConvOptions", transpose_conv},
    {NML_OP_EXPAND_DIMS, TFL_OPT_EXPAND_DIMS, "ExpandDimsOptions", no_fields},
    {NML_OP_SUM, TFL_OPT_REDUCER, "ReducerOptions", reducer},
    {NML_OP_SQRT, TFL_OPT_NONE, NULL, no_fields},
    {NML_OP_RSQRT, TFL_OPT_NONE, NULL, no_fields},
    {NML_OP_SHAPE, TFL_OPT_SHAPE, "ShapeOptions", shape},
    {NML_OP_POW, TFL_OPT_POW, "PowOptions", no_fields},
    {NML_OP_REDUCE_MAX, TFL_OPT_REDUCER, "ReducerOptions", reducer},
    {NML_OP_PACK, TFL_OPT_PACK, "PackOptions", pack},
    {NML_OP_UNPACK, TFL_OPT_UNPACK, "UnpackOptions", unpack},
    {NML_OP_SQUARE, TFL_OPT_SQUARE, "SquareOptions", no_fields},
    {NML_OP_RESIZE_NEAREST_NEIGHBOR, TFL_OPT_RESIZE_NEAREST_NEIGHBOR,
     "ResizeNearestNeighborOptions", resize_nearest},
    {NML_OP_LEAKY_RELU, TFL_OPT_LEAKY_RELU, "LeakyReluOptions", leaky_relu},
    {NML_OP_SQUARED_DIFFERENCE, TFL_OPT_SQUARED_DIFFERENCE, "SquaredDifferenceOptions", no_fields},
    {NML_OP_MIRROR_PAD, TFL_OPT_MIRROR_PAD, "MirrorPadOptions", mirror_pad},
    {NML_OP_ABS, TFL_OPT_ABS, "AbsOptions", no_fields},
    {NML_OP_SPLIT_V, TFL_OPT_SPLIT_V, "SplitVOptions", num_splits},
    {NML_OP_QUANTIZE, TFL_OPT_QUANTIZE, "QuantizeOptions", no_fields},
    {NML_OP_HARD_SWISH, TFL_OPT_HARD_SWISH, "HardSwishOptions", no_fields},
    {NML_OP_BATCH_MATMUL, TFL_OPT_BATCH_MATMUL, "BatchMatMulOptions", batch_matmul},
};

static const option_kind *kind_of(int32_t builtin) {
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if (kinds[i].builtin == builtin) return &kinds[i];
    return NULL;
}

nml_status nml_decode_options(const nml_fb *fb, const nml_fb_table *op, int32_t builtin,
                              nml_op_params *p, nml_error *err) {
    uint8_t type;
    nml_fb_table opts;
    nml_op_params_default(p);
    NML_TRY(nml_fb_union_field(fb, op, TFL_OP_BUILTIN_OPTIONS_TYPE, &type, &opts, err));
    const option_kind *k = kind_of(builtin);
    if (!k) return NML_OK; /* CUSTOM or an operator nanoml has no kernel for: nothing to decode */
    if (type != TFL_OPT_NONE && type != k->type) {
        if (k->type == TFL_OPT_NONE)
            return nml_fail(err, NML_E_FORMAT, "builtin options of type %u, but %s has none",
                            (unsigned)type, nml_op_name(builtin));
        return nml_fail(err, NML_E_FORMAT, "builtin options of type %u, expected %u (%s)",
                        (unsigned)type, (unsigned)k->type, k->table);
    }
    return k->decode(fb, &opts, p, err);
}

nml_status nml_model_op_params(const nml_model *m, uint32_t i, nml_op_params *p, nml_error *err) {
    nml_model_op op;
    nml_op_params_default(p);
    NML_TRY(nml_model_operator(m, i, &op, err));
    nml_fb fb = nml_model_fb(m);
    nml_fb_table t;
    NML_TRY(nml_fb_table_at(&fb, op.table, &t, err));
    nml_status st = nml_decode_options(&fb, &t, op.builtin, p, err);
    if (st != NML_OK)
        nml_error_prefix(err, "operator %lu (%s): ", (unsigned long)i, nml_model_op_name(&op));
    return st;
}
