/* Decoding an Operator's builtin_options union into nml_op_params.
 *
 * Each operator nanoml knows maps to the one options table the schema gives it (or none). The
 * union's type must be that table or NONE; an absent table decodes exactly like a table whose
 * fields are all absent, i.e. to the schema defaults (CONV_2D strides 0, dilations 1, ...). The
 * one exception is the type fields of CAST, ARG_MAX and SHAPE: without a table they stay -1
 * ("not given") instead of the schema's FLOAT32, so kernels can fall back to the tensor types. */
#include "model_internal.h"
#include "options_extra.h"
#include "schema.h"

/* firmware builds (NML_OPTIONS_BY_KERNELS, options_extra.h) reach the list and type reader
 * through a weak reference; every other build links it */
#if defined(NML_OPTIONS_BY_KERNELS) && defined(__GNUC__) && defined(__ELF__)
#pragma weak nml_options_read_extra
#endif
#if defined(NML_OPTIONS_BY_KERNELS) && defined(NML_NO_OPTIONS_EXTRA)
/* firmware whose model has no operator with such fields (`nanoml deploy`): known at compile
 * time, so the call is not compiled either */
#define EXTRA_LINKED() 0
#elif defined(NML_OPTIONS_BY_KERNELS) && defined(__GNUC__) && defined(__ELF__)
#define EXTRA_LINKED() (nml_options_read_extra != NULL)
#else
#define EXTRA_LINKED() 1
#endif

#include <stddef.h>
#include <string.h>

/* The options are read by one loop over a table of field descriptions rather than by a
 * function per table: the runtime carries this decoder in every firmware, and a few bytes of
 * table per field cost much less code than a call sequence per field. */
typedef nml_option_field field;

#define F_U8 NML_F_U8
#define F_PADDING NML_F_PADDING
#define F_ACTIVATION NML_F_ACTIVATION
#define F_MIRROR NML_F_MIRROR
#define F_I32 NML_F_I32
#define F_TYPE NML_F_TYPE
#define F_LIST NML_F_LIST

_Static_assert(sizeof(nml_op_params) <= 255, "field offsets are 8-bit");

#define P(member) ((uint8_t)offsetof(nml_op_params, member))
#define FIELD(id, kind, member, def) {id, kind, P(member), def}

static const field fields[] = {
#define CONV_2D 0 /* Conv2DOptions */
    FIELD(TFL_CONV_PADDING, F_PADDING, padding, NML_PAD_SAME),
    FIELD(TFL_CONV_STRIDE_W, F_I32, stride_w, 0),
    FIELD(TFL_CONV_STRIDE_H, F_I32, stride_h, 0),
    FIELD(TFL_CONV_ACTIVATION, F_ACTIVATION, activation, NML_ACT_NONE),
    FIELD(TFL_CONV_DILATION_W, F_I32, dilation_w, 1),
    FIELD(TFL_CONV_DILATION_H, F_I32, dilation_h, 1),
#define DEPTHWISE (CONV_2D + 6) /* DepthwiseConv2DOptions */
    FIELD(TFL_DW_PADDING, F_PADDING, padding, NML_PAD_SAME),
    FIELD(TFL_DW_STRIDE_W, F_I32, stride_w, 0),
    FIELD(TFL_DW_STRIDE_H, F_I32, stride_h, 0),
    FIELD(TFL_DW_DEPTH_MULTIPLIER, F_I32, depth_multiplier, 0),
    FIELD(TFL_DW_ACTIVATION, F_ACTIVATION, activation, NML_ACT_NONE),
    FIELD(TFL_DW_DILATION_W, F_I32, dilation_w, 1),
    FIELD(TFL_DW_DILATION_H, F_I32, dilation_h, 1),
#define POOL_2D (DEPTHWISE + 7) /* Pool2DOptions */
    FIELD(TFL_POOL_PADDING, F_PADDING, padding, NML_PAD_SAME),
    FIELD(TFL_POOL_STRIDE_W, F_I32, stride_w, 0),
    FIELD(TFL_POOL_STRIDE_H, F_I32, stride_h, 0),
    FIELD(TFL_POOL_FILTER_W, F_I32, filter_w, 0),
    FIELD(TFL_POOL_FILTER_H, F_I32, filter_h, 0),
    FIELD(TFL_POOL_ACTIVATION, F_ACTIVATION, activation, NML_ACT_NONE),
#define FULLY_CONNECTED (POOL_2D + 6) /* FullyConnectedOptions */
    FIELD(TFL_FC_ACTIVATION, F_ACTIVATION, activation, NML_ACT_NONE),
    FIELD(TFL_FC_WEIGHTS_FORMAT, F_U8, weights_format, 0),
    FIELD(TFL_FC_KEEP_NUM_DIMS, F_U8, keep_num_dims, 0),
#define SOFTMAX (FULLY_CONNECTED + 3) /* SoftmaxOptions */
    FIELD(TFL_SOFTMAX_BETA, F_I32, beta, 0),
#define CONCATENATION (SOFTMAX + 1) /* ConcatenationOptions */
    FIELD(TFL_CONCAT_AXIS, F_I32, axis, 0),
    FIELD(TFL_CONCAT_ACTIVATION, F_ACTIVATION, activation, NML_ACT_NONE),
#define ADD_SUB (CONCATENATION + 2) /* AddOptions, SubOptions */
    FIELD(TFL_ADD_ACTIVATION, F_ACTIVATION, activation, NML_ACT_NONE),
    FIELD(TFL_ADD_POT_SCALE_INT16, F_U8, pot_scale_int16, 1),
#define ACTIVATION_ONLY (ADD_SUB + 2) /* MulOptions, DivOptions, L2NormOptions */
    FIELD(TFL_ACT_ONLY_ACTIVATION, F_ACTIVATION, activation, NML_ACT_NONE),
#define RESIZE_BILINEAR (ACTIVATION_ONLY + 1) /* ResizeBilinearOptions */
    FIELD(TFL_RESIZE_BILINEAR_ALIGN_CORNERS, F_U8, align_corners, 0),
    FIELD(TFL_RESIZE_BILINEAR_HALF_PIXEL_CENTERS, F_U8, half_pixel_centers, 0),
#define RESIZE_NEAREST (RESIZE_BILINEAR + 2) /* ResizeNearestNeighborOptions */
    FIELD(TFL_RESIZE_NN_ALIGN_CORNERS, F_U8, align_corners, 0),
    FIELD(TFL_RESIZE_NN_HALF_PIXEL_CENTERS, F_U8, half_pixel_centers, 0),
#define RESHAPE (RESIZE_NEAREST + 2) /* ReshapeOptions: absent new_shape keeps -1 (2nd input) */
    FIELD(TFL_RESHAPE_NEW_SHAPE, F_LIST, new_shape_len, 0),
#define BLOCK_SIZE (RESHAPE + 1) /* DepthToSpaceOptions, SpaceToDepthOptions */
    FIELD(TFL_BLOCK_SIZE, F_I32, block_size, 0),
#define GATHER (BLOCK_SIZE + 1) /* GatherOptions */
    FIELD(TFL_GATHER_AXIS, F_I32, axis, 0),
    FIELD(TFL_GATHER_BATCH_DIMS, F_I32, batch_dims, 0),
#define REDUCER (GATHER + 2) /* ReducerOptions */
    FIELD(TFL_REDUCER_KEEP_DIMS, F_U8, keep_dims, 0),
#define SQUEEZE (REDUCER + 1) /* SqueezeOptions */
    FIELD(TFL_SQUEEZE_DIMS, F_LIST, squeeze_len, 0),
#define STRIDED_SLICE (SQUEEZE + 1) /* StridedSliceOptions */
    FIELD(TFL_SS_BEGIN_MASK, F_I32, begin_mask, 0),
    FIELD(TFL_SS_END_MASK, F_I32, end_mask, 0),
    FIELD(TFL_SS_ELLIPSIS_MASK, F_I32, ellipsis_mask, 0),
    FIELD(TFL_SS_NEW_AXIS_MASK, F_I32, new_axis_mask, 0),
    FIELD(TFL_SS_SHRINK_AXIS_MASK, F_I32, shrink_axis_mask, 0),
    FIELD(TFL_SS_OFFSET, F_U8, offset, 0),
#define NUM_SPLITS (STRIDED_SLICE + 6) /* SplitOptions, SplitVOptions */
    FIELD(TFL_NUM_SPLITS, F_I32, num_splits, 0),
#define CAST (NUM_SPLITS + 1) /* CastOptions */
    FIELD(TFL_CAST_IN_TYPE, F_TYPE, in_type, NML_FLOAT32),
    FIELD(TFL_CAST_OUT_TYPE, F_TYPE, out_type, NML_FLOAT32),
#define ARG_MAX (CAST + 2) /* ArgMaxOptions */
    FIELD(TFL_ARG_MAX_OUTPUT_TYPE, F_TYPE, out_type, NML_FLOAT32),
#define SHAPE (ARG_MAX + 1) /* ShapeOptions */
    FIELD(TFL_SHAPE_OUT_TYPE, F_TYPE, out_type, NML_FLOAT32),
#define TRANSPOSE_CONV (SHAPE + 1) /* TransposeConvOptions */
    FIELD(TFL_TCONV_PADDING, F_PADDING, padding, NML_PAD_SAME),
    FIELD(TFL_TCONV_STRIDE_W, F_I32, stride_w, 0),
    FIELD(TFL_TCONV_STRIDE_H, F_I32, stride_h, 0),
    FIELD(TFL_TCONV_ACTIVATION, F_ACTIVATION, activation, NML_ACT_NONE),
#define PACK (TRANSPOSE_CONV + 4) /* PackOptions */
    FIELD(TFL_PACK_VALUES_COUNT, F_I32, count, 0),
    FIELD(TFL_PACK_AXIS, F_I32, axis, 0),
#define UNPACK (PACK + 2) /* UnpackOptions */
    FIELD(TFL_UNPACK_NUM, F_I32, count, 0),
    FIELD(TFL_UNPACK_AXIS, F_I32, axis, 0),
#define LEAKY_RELU (UNPACK + 2) /* LeakyReluOptions */
    FIELD(TFL_LEAKY_RELU_ALPHA, F_I32, alpha, 0),
#define MIRROR_PAD (LEAKY_RELU + 1) /* MirrorPadOptions */
    FIELD(TFL_MIRROR_PAD_MODE, F_MIRROR, mirror_mode, 0),
#define BATCH_MATMUL (MIRROR_PAD + 1) /* BatchMatMulOptions */
    FIELD(TFL_BMM_ADJ_X, F_U8, adj_x, 0),
    FIELD(TFL_BMM_ADJ_Y, F_U8, adj_y, 0),
#define N_FIELDS (BATCH_MATMUL + 2)
};
_Static_assert(sizeof fields / sizeof fields[0] == N_FIELDS, "field groups miscounted");

/* The largest valid value of each ubyte kind, and its name in errors. */
static const uint8_t u8_max[] = {
    [F_U8] = 255, [F_PADDING] = NML_PAD_VALID, [F_ACTIVATION] = NML_ACT_SIGN_BIT, [F_MIRROR] = 1};
static const char *const u8_name[] = {
    [F_U8] = "", [F_PADDING] = "padding", [F_ACTIVATION] = "fused activation",
    [F_MIRROR] = "mirror pad mode"};

/* Fields first .. first + n - 1 of the table above, from the options table t. */
static nml_status decode_fields(const nml_fb *fb, const nml_fb_table *t, uint32_t first,
                                uint32_t n, nml_op_params *p, nml_error *err) {
    uint8_t *params = (uint8_t *)p;
    for (const field *f = fields + first; f < fields + first + n; f++) {
        uint8_t b;
        uint32_t w;
        switch (f->kind) {
        case F_I32:
            NML_TRY(nml_fb_u32(fb, t, f->id, (uint32_t)(int32_t)f->def, &w, err));
            break;
        case F_TYPE:
        case F_LIST:
            if (!EXTRA_LINKED())
                return nml_fail(err, NML_E_UNSUPPORTED,
                                "not supported: no kernel of this operator is linked, nor the "
                                "reader of its list or type options");
            NML_TRY(nml_options_read_extra(fb, t, f, params, err));
            continue;
        default: /* the ubyte kinds */
            NML_TRY(nml_fb_u8(fb, t, f->id, (uint8_t)f->def, &b, err));
            if (b > u8_max[f->kind])
                return nml_fail(err, NML_E_FORMAT, "%s %u is %s", u8_name[f->kind], (unsigned)b,
                                f->kind == F_PADDING ? "neither SAME nor VALID" : "unknown");
            params[f->offset] = b;
            continue;
        }
        memcpy(params + f->offset, &w, 4); /* int32 or float bits */
    }
    return NML_OK;
}

typedef struct option_kind {
    uint8_t builtin;
    uint8_t type;  /* BuiltinOptions union type, TFL_OPT_NONE for operators without options */
    uint8_t first; /* fields[first .. first + n - 1] */
    uint8_t n;
    const char *table;
} option_kind;

#define KIND(op, type, table, group, n) {NML_OP_##op, type, group, n, table}
#define NONE(op) {NML_OP_##op, TFL_OPT_NONE, 0, 0, NULL}
#define EMPTY(op, type, table) {NML_OP_##op, type, 0, 0, table}

static const option_kind kinds[] = {
    KIND(ADD, TFL_OPT_ADD, "AddOptions", ADD_SUB, 2),
    KIND(AVERAGE_POOL_2D, TFL_OPT_POOL_2D, "Pool2DOptions", POOL_2D, 6),
    KIND(CONCATENATION, TFL_OPT_CONCATENATION, "ConcatenationOptions", CONCATENATION, 2),
    KIND(CONV_2D, TFL_OPT_CONV_2D, "Conv2DOptions", CONV_2D, 6),
    KIND(DEPTHWISE_CONV_2D, TFL_OPT_DEPTHWISE_CONV_2D, "DepthwiseConv2DOptions", DEPTHWISE, 7),
    KIND(DEPTH_TO_SPACE, TFL_OPT_DEPTH_TO_SPACE, "DepthToSpaceOptions", BLOCK_SIZE, 1),
    EMPTY(DEQUANTIZE, TFL_OPT_DEQUANTIZE, "DequantizeOptions"),
    NONE(FLOOR),
    KIND(FULLY_CONNECTED, TFL_OPT_FULLY_CONNECTED, "FullyConnectedOptions", FULLY_CONNECTED, 3),
    KIND(L2_NORMALIZATION, TFL_OPT_L2_NORM, "L2NormOptions", ACTIVATION_ONLY, 1),
    NONE(LOGISTIC),
    KIND(MAX_POOL_2D, TFL_OPT_POOL_2D, "Pool2DOptions", POOL_2D, 6),
    KIND(MUL, TFL_OPT_MUL, "MulOptions", ACTIVATION_ONLY, 1),
    NONE(RELU),
    NONE(RELU_N1_TO_1),
    NONE(RELU6),
    KIND(RESHAPE, TFL_OPT_RESHAPE, "ReshapeOptions", RESHAPE, 1),
    KIND(RESIZE_BILINEAR, TFL_OPT_RESIZE_BILINEAR, "ResizeBilinearOptions", RESIZE_BILINEAR, 2),
    KIND(SOFTMAX, TFL_OPT_SOFTMAX, "SoftmaxOptions", SOFTMAX, 1),
    KIND(SPACE_TO_DEPTH, TFL_OPT_SPACE_TO_DEPTH, "SpaceToDepthOptions", BLOCK_SIZE, 1),
    NONE(TANH),
    EMPTY(PAD, TFL_OPT_PAD, "PadOptions"),
    KIND(GATHER, TFL_OPT_GATHER, "GatherOptions", GATHER, 2),
    EMPTY(TRANSPOSE, TFL_OPT_TRANSPOSE, "TransposeOptions"),
    KIND(MEAN, TFL_OPT_REDUCER, "ReducerOptions", REDUCER, 1),
    KIND(SUB, TFL_OPT_SUB, "SubOptions", ADD_SUB, 2),
    KIND(DIV, TFL_OPT_DIV, "DivOptions", ACTIVATION_ONLY, 1),
    KIND(SQUEEZE, TFL_OPT_SQUEEZE, "SqueezeOptions", SQUEEZE, 1),
    KIND(STRIDED_SLICE, TFL_OPT_STRIDED_SLICE, "StridedSliceOptions", STRIDED_SLICE, 6),
    EMPTY(EXP, TFL_OPT_EXP, "ExpOptions"),
    KIND(SPLIT, TFL_OPT_SPLIT, "SplitOptions", NUM_SPLITS, 1),
    EMPTY(LOG_SOFTMAX, TFL_OPT_LOG_SOFTMAX, "LogSoftmaxOptions"),
    KIND(CAST, TFL_OPT_CAST, "CastOptions", CAST, 2),
    NONE(PRELU),
    EMPTY(MAXIMUM, TFL_OPT_MAXIMUM_MINIMUM, "MaximumMinimumOptions"),
    KIND(ARG_MAX, TFL_OPT_ARG_MAX, "ArgMaxOptions", ARG_MAX, 1),
    EMPTY(MINIMUM, TFL_OPT_MAXIMUM_MINIMUM, "MaximumMinimumOptions"),
    EMPTY(NEG, TFL_OPT_NEG, "NegOptions"),
    EMPTY(PADV2, TFL_OPT_PADV2, "PadV2Options"),
    EMPTY(SLICE, TFL_OPT_SLICE, "SliceOptions"),
    KIND(TRANSPOSE_CONV, TFL_OPT_TRANSPOSE_CONV, "TransposeConvOptions", TRANSPOSE_CONV, 4),
    EMPTY(EXPAND_DIMS, TFL_OPT_EXPAND_DIMS, "ExpandDimsOptions"),
    KIND(SUM, TFL_OPT_REDUCER, "ReducerOptions", REDUCER, 1),
    NONE(SQRT),
    NONE(RSQRT),
    KIND(SHAPE, TFL_OPT_SHAPE, "ShapeOptions", SHAPE, 1),
    EMPTY(POW, TFL_OPT_POW, "PowOptions"),
    KIND(REDUCE_MAX, TFL_OPT_REDUCER, "ReducerOptions", REDUCER, 1),
    KIND(PACK, TFL_OPT_PACK, "PackOptions", PACK, 2),
    KIND(UNPACK, TFL_OPT_UNPACK, "UnpackOptions", UNPACK, 2),
    EMPTY(SQUARE, TFL_OPT_SQUARE, "SquareOptions"),
    KIND(RESIZE_NEAREST_NEIGHBOR, TFL_OPT_RESIZE_NEAREST_NEIGHBOR, "ResizeNearestNeighborOptions",
         RESIZE_NEAREST, 2),
    KIND(LEAKY_RELU, TFL_OPT_LEAKY_RELU, "LeakyReluOptions", LEAKY_RELU, 1),
    EMPTY(SQUARED_DIFFERENCE, TFL_OPT_SQUARED_DIFFERENCE, "SquaredDifferenceOptions"),
    KIND(MIRROR_PAD, TFL_OPT_MIRROR_PAD, "MirrorPadOptions", MIRROR_PAD, 1),
    EMPTY(ABS, TFL_OPT_ABS, "AbsOptions"),
    KIND(SPLIT_V, TFL_OPT_SPLIT_V, "SplitVOptions", NUM_SPLITS, 1),
    EMPTY(QUANTIZE, TFL_OPT_QUANTIZE, "QuantizeOptions"),
    EMPTY(HARD_SWISH, TFL_OPT_HARD_SWISH, "HardSwishOptions"),
    KIND(BATCH_MATMUL, TFL_OPT_BATCH_MATMUL, "BatchMatMulOptions", BATCH_MATMUL, 2),
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
    return decode_fields(fb, &opts, k->first, k->n, p, err);
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
