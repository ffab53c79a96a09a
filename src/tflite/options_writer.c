/* Builtin options tables: nml_op_params back to each operator's options table of the TFLite
 * schema. Field ids and defaults are the schema's; scalars equal to the schema default are
 * omitted, so e.g. dilation 1 costs nothing while stride 1 is written (its default is 0). */
#include "tflite/options_writer.h"

#include "tflite/tflite_schema.h"

/* Options shared by CONV_2D, DEPTHWISE_CONV_2D, the pools and TRANSPOSE_CONV start with
 * padding, stride_w, stride_h. */
static void add_padding_strides(nml_fbb *b, const nml_op_params *p) {
    nml_fbb_add_i8(b, 0, (int8_t)p->padding, 0);
    nml_fbb_add_i32(b, 1, p->stride_w, 0);
    nml_fbb_add_i32(b, 2, p->stride_h, 0);
}

static nml_fbb_ref conv_options(nml_fbb *b, const nml_ir_op *op) {
    const nml_op_params *p = &op->params;
    nml_fbb_start_table(b);
    add_padding_strides(b, p);
    if (op->builtin == NML_OP_CONV_2D) {
        nml_fbb_add_i8(b, 3, (int8_t)p->activation, 0);
        nml_fbb_add_i32(b, 4, p->dilation_w, 1);
        nml_fbb_add_i32(b, 5, p->dilation_h, 1);
    } else { /* DEPTHWISE_CONV_2D: depth_multiplier sits before the activation */
        nml_fbb_add_i32(b, 3, p->depth_multiplier, 0);
        nml_fbb_add_i8(b, 4, (int8_t)p->activation, 0);
        nml_fbb_add_i32(b, 5, p->dilation_w, 1);
        nml_fbb_add_i32(b, 6, p->dilation_h, 1);
    }
    return nml_fbb_end_table(b);
}

static nml_fbb_ref pool_options(nml_fbb *b, const nml_op_params *p) {
    nml_fbb_start_table(b);
    add_padding_strides(b, p);
    nml_fbb_add_i32(b, 3, p->filter_w, 0);
    nml_fbb_add_i32(b, 4, p->filter_h, 0);
    nml_fbb_add_i8(b, 5, (int8_t)p->activation, 0);
    return nml_fbb_end_table(b);
}

static nml_fbb_ref transpose_conv_options(nml_fbb *b, const nml_op_params *p) {
    nml_fbb_start_table(b);
    add_padding_strides(b, p);
    nml_fbb_add_i8(b, 3, (int8_t)p->activation, 0);
    return nml_fbb_end_table(b);
}

static nml_fbb_ref fully_connected_options(nml_fbb *b, const nml_op_params *p) {
    nml_fbb_start_table(b);
    nml_fbb_add_i8(b, 0, (int8_t)p->activation, 0);
    nml_fbb_add_i8(b, 1, (int8_t)p->weights_format, 0);
    nml_fbb_add_bool(b, 2, p->keep_num_dims, 0);
    return nml_fbb_end_table(b);
}

/* A table with only the fused activation at field 0 (MUL, DIV, L2_NORMALIZATION). */
static nml_fbb_ref activation_options(nml_fbb *b, const nml_op_params *p) {
    nml_fbb_start_table(b);
    nml_fbb_add_i8(b, 0, (int8_t)p->activation, 0);
    return nml_fbb_end_table(b);
}

/* ADD and SUB: activation, then pot_scale_int16 (default true). */
static nml_fbb_ref add_sub_options(nml_fbb *b, const nml_op_params *p) {
    nml_fbb_start_table(b);
    nml_fbb_add_i8(b, 0, (int8_t)p->activation, 0);
    nml_fbb_add_bool(b, 1, p->pot_scale_int16, 1);
    return nml_fbb_end_table(b);
}

static nml_fbb_ref empty_options(nml_fbb *b) {
    nml_fbb_start_table(b);
    return nml_fbb_end_table(b);
}

static nml_fbb_ref one_i32_options(nml_fbb *b, int32_t v) {
    nml_fbb_start_table(b);
    nml_fbb_add_i32(b, 0, v, 0);
    return nml_fbb_end_table(b);
}

static nml_fbb_ref one_bool_options(nml_fbb *b, int v) {
    nml_fbb_start_table(b);
    nml_fbb_add_bool(b, 0, v, 0);
    return nml_fbb_end_table(b);
}

static nml_fbb_ref one_i8_options(nml_fbb *b, int v) {
    nml_fbb_start_table(b);
    nml_fbb_add_i8(b, 0, (int8_t)v, 0);
    return nml_fbb_end_table(b);
}

static nml_fbb_ref two_i32_options(nml_fbb *b, int32_t v0, int32_t v1) {
    nml_fbb_start_table(b);
    nml_fbb_add_i32(b, 0, v0, 0);
    nml_fbb_add_i32(b, 1, v1, 0);
    return nml_fbb_end_table(b);
}

static nml_fbb_ref one_f32_options(nml_fbb *b, float v) {
    nml_fbb_start_table(b);
    nml_fbb_add_f32(b, 0, v, 0.0f);
    return nml_fbb_end_table(b);
}

static nml_fbb_ref reshape_options(nml_fbb *b, const nml_op_params *p) {
    nml_fbb_ref shape = 0;
    if (p->new_shape_len >= 0)
        shape = nml_fbb_vector_i32(b, p->new_shape, (size_t)p->new_shape_len);
    nml_fbb_start_table(b);
    nml_fbb_add_ref(b, 0, shape);
    return nml_fbb_end_table(b);
}

static nml_fbb_ref squeeze_options(nml_fbb *b, const nml_op_params *p) {
    /* no squeeze_dims means "all size-1 dimensions" */
    nml_fbb_ref dims = 0;
    if (p->squeeze_len > 0) dims = nml_fbb_vector_i32(b, p->squeeze_dims, (size_t)p->squeeze_len);
    nml_fbb_start_table(b);
    nml_fbb_add_ref(b, 0, dims);
    return nml_fbb_end_table(b);
}

static nml_fbb_ref strided_slice_options(nml_fbb *b, const nml_op_params *p) {
    nml_fbb_start_table(b);
    nml_fbb_add_i32(b, 0, p->begin_mask, 0);
    nml_fbb_add_i32(b, 1, p->end_mask, 0);
    nml_fbb_add_i32(b, 2, p->ellipsis_mask, 0);
    nml_fbb_add_i32(b, 3, p->new_axis_mask, 0);
    nml_fbb_add_i32(b, 4, p->shrink_axis_mask, 0);
    nml_fbb_add_bool(b, 5, p->offset, 0);
    return nml_fbb_end_table(b);
}

static nml_fbb_ref resize_options(nml_fbb *b, const nml_ir_op *op) {
    /* ResizeBilinearOptions keeps two deprecated fields (new_height, new_width) in front */
    int first = op->builtin == NML_OP_RESIZE_BILINEAR ? 2 : 0;
    nml_fbb_start_table(b);
    nml_fbb_add_bool(b, first, op->params.align_corners, 0);
    nml_fbb_add_bool(b, first + 1, op->params.half_pixel_centers, 0);
    return nml_fbb_end_table(b);
}

static nml_fbb_ref batch_matmul_options(nml_fbb *b, const nml_op_params *p) {
    nml_fbb_start_table(b);
    nml_fbb_add_bool(b, 0, p->adj_x, 0);
    nml_fbb_add_bool(b, 1, p->adj_y, 0);
    return nml_fbb_end_table(b);
}

/* A TensorType option: the explicit parameter, or else the tensor's own type (which is what
 * TFLite kernels actually use). */
static int type_or(int32_t explicit_type, const nml_ir *ir, int32_t t) {
    if (explicit_type >= 0) return explicit_type;
    return t >= 0 && t < ir->n_tensors ? ir->tensors[t].type : 0;
}

static nml_fbb_ref cast_options(nml_fbb *b, const nml_ir *ir, const nml_ir_op *op) {
    int in = type_or(op->params.in_type, ir, op->n_inputs ? op->inputs[0] : -1);
    int out = type_or(op->params.out_type, ir, op->n_outputs ? op->outputs[0] : -1);
    nml_fbb_start_table(b);
    nml_fbb_add_i8(b, 0, (int8_t)in, 0);
    nml_fbb_add_i8(b, 1, (int8_t)out, 0);
    return nml_fbb_end_table(b);
}

/* Options whose table is empty in the schema; written anyway, like TFLite's converter does. */
static uint8_t empty_options_type(int32_t builtin) {
    switch (builtin) {
    case NML_OP_PAD:
        return NML_TFL_OPT_PAD;
    case NML_OP_PADV2:
        return NML_TFL_OPT_PADV2;
    case NML_OP_TRANSPOSE:
        return NML_TFL_OPT_TRANSPOSE;
    case NML_OP_EXP:
        return NML_TFL_OPT_EXP;
    case NML_OP_LOG_SOFTMAX:
        return NML_TFL_OPT_LOG_SOFTMAX;
    case NML_OP_DEQUANTIZE:
        return NML_TFL_OPT_DEQUANTIZE;
    case NML_OP_MAXIMUM:
    case NML_OP_MINIMUM:
        return NML_TFL_OPT_MAXIMUM_MINIMUM;
    case NML_OP_NEG:
        return NML_TFL_OPT_NEG;
    case NML_OP_SLICE:
        return NML_TFL_OPT_SLICE;
    case NML_OP_EXPAND_DIMS:
        return NML_TFL_OPT_EXPAND_DIMS;
    case NML_OP_POW:
        return NML_TFL_OPT_POW;
    case NML_OP_SQUARE:
        return NML_TFL_OPT_SQUARE;
    case NML_OP_SQUARED_DIFFERENCE:
        return NML_TFL_OPT_SQUARED_DIFFERENCE;
    case NML_OP_ABS:
        return NML_TFL_OPT_ABS;
    case NML_OP_QUANTIZE:
        return NML_TFL_OPT_QUANTIZE;
    case NML_OP_HARD_SWISH:
        return NML_TFL_OPT_HARD_SWISH;
    default:
        return NML_TFL_OPT_NONE;
    }
}

nml_fbb_ref nml_tfl_write_options(nml_fbb *b, const nml_ir *ir, const nml_ir_op *op,
                                  uint8_t *type) {
    const nml_op_params *p = &op->params;
    switch (op->builtin) {
    case NML_OP_CONV_2D:
        *type = NML_TFL_OPT_CONV_2D;
        return conv_options(b, op);
    case NML_OP_DEPTHWISE_CONV_2D:
        *type = NML_TFL_OPT_DEPTHWISE_CONV_2D;
        return conv_options(b, op);
    case NML_OP_AVERAGE_POOL_2D:
    case NML_OP_MAX_POOL_2D:
        *type = NML_TFL_OPT_POOL_2D;
        return pool_options(b, p);
    case NML_OP_TRANSPOSE_CONV:
        *type = NML_TFL_OPT_TRANSPOSE_CONV;
        return transpose_conv_options(b, p);
    case NML_OP_FULLY_CONNECTED:
        *type = NML_TFL_OPT_FULLY_CONNECTED;
        return fully_connected_options(b, p);
    case NML_OP_SOFTMAX:
        *type = NML_TFL_OPT_SOFTMAX;
        return one_f32_options(b, p->beta);
    case NML_OP_LEAKY_RELU:
        *type = NML_TFL_OPT_LEAKY_RELU;
        return one_f32_options(b, p->alpha);
    case NML_OP_CONCATENATION: {
        *type = NML_TFL_OPT_CONCATENATION;
        nml_fbb_start_table(b);
        nml_fbb_add_i32(b, 0, p->axis, 0);
        nml_fbb_add_i8(b, 1, (int8_t)p->activation, 0);
        return nml_fbb_end_table(b);
    }
    case NML_OP_ADD:
        *type = NML_TFL_OPT_ADD;
        return add_sub_options(b, p);
    case NML_OP_SUB:
        *type = NML_TFL_OPT_SUB;
        return add_sub_options(b, p);
    case NML_OP_MUL:
        *type = NML_TFL_OPT_MUL;
        return activation_options(b, p);
    case NML_OP_DIV:
        *type = NML_TFL_OPT_DIV;
        return activation_options(b, p);
    case NML_OP_L2_NORMALIZATION:
        *type = NML_TFL_OPT_L2_NORM;
        return activation_options(b, p);
    case NML_OP_RESIZE_BILINEAR:
        *type = NML_TFL_OPT_RESIZE_BILINEAR;
        return resize_options(b, op);
    case NML_OP_RESIZE_NEAREST_NEIGHBOR:
        *type = NML_TFL_OPT_RESIZE_NEAREST_NEIGHBOR;
        return resize_options(b, op);
    case NML_OP_RESHAPE:
        *type = NML_TFL_OPT_RESHAPE;
        return reshape_options(b, p);
    case NML_OP_SQUEEZE:
        *type = NML_TFL_OPT_SQUEEZE;
        return squeeze_options(b, p);
    case NML_OP_SPACE_TO_DEPTH:
        *type = NML_TFL_OPT_SPACE_TO_DEPTH;
        return one_i32_options(b, p->block_size);
    case NML_OP_DEPTH_TO_SPACE:
        *type = NML_TFL_OPT_DEPTH_TO_SPACE;
        return one_i32_options(b, p->block_size);
    case NML_OP_GATHER:
        *type = NML_TFL_OPT_GATHER;
        return two_i32_options(b, p->axis, p->batch_dims);
    case NML_OP_MEAN:
    case NML_OP_SUM:
    case NML_OP_REDUCE_MAX:
        *type = NML_TFL_OPT_REDUCER;
        return one_bool_options(b, p->keep_dims);
    case NML_OP_STRIDED_SLICE:
        *type = NML_TFL_OPT_STRIDED_SLICE;
        return strided_slice_options(b, p);
    case NML_OP_SPLIT:
        *type = NML_TFL_OPT_SPLIT;
        return one_i32_options(b, p->num_splits);
    case NML_OP_SPLIT_V:
        *type = NML_TFL_OPT_SPLIT_V;
        return one_i32_options(b, p->num_splits);
    case NML_OP_CAST:
        *type = NML_TFL_OPT_CAST;
        return cast_options(b, ir, op);
    case NML_OP_ARG_MAX:
        *type = NML_TFL_OPT_ARG_MAX;
        return one_i8_options(b, type_or(p->out_type, ir, op->n_outputs ? op->outputs[0] : -1));
    case NML_OP_SHAPE:
        *type = NML_TFL_OPT_SHAPE;
        return one_i8_options(b, type_or(p->out_type, ir, op->n_outputs ? op->outputs[0] : -1));
    case NML_OP_PACK:
        *type = NML_TFL_OPT_PACK;
        return two_i32_options(b, op->n_inputs, p->axis);
    case NML_OP_UNPACK:
        *type = NML_TFL_OPT_UNPACK;
        return two_i32_options(b, op->n_outputs, p->axis);
    case NML_OP_MIRROR_PAD:
        *type = NML_TFL_OPT_MIRROR_PAD;
        return one_i8_options(b, p->mirror_mode);
    case NML_OP_BATCH_MATMUL:
        *type = NML_TFL_OPT_BATCH_MATMUL;
        return batch_matmul_options(b, p);
    default:
        *type = empty_options_type(op->builtin);
        return *type == NML_TFL_OPT_NONE ? 0 : empty_options(b);
    }
}
