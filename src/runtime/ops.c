#include "nanoml/ops.h"

#include <string.h>

const char *nml_op_name(int32_t code) {
    switch (code) {
    case NML_OP_ADD: return "ADD";
    case NML_OP_AVERAGE_POOL_2D: return "AVERAGE_POOL_2D";
    case NML_OP_CONCATENATION: return "CONCATENATION";
    case NML_OP_CONV_2D: return "CONV_2D";
    case NML_OP_DEPTHWISE_CONV_2D: return "DEPTHWISE_CONV_2D";
    case NML_OP_DEPTH_TO_SPACE: return "DEPTH_TO_SPACE";
    case NML_OP_DEQUANTIZE: return "DEQUANTIZE";
    case NML_OP_FLOOR: return "FLOOR";
    case NML_OP_FULLY_CONNECTED: return "FULLY_CONNECTED";
    case NML_OP_L2_NORMALIZATION: return "L2_NORMALIZATION";
    case NML_OP_LOGISTIC: return "LOGISTIC";
    case NML_OP_MAX_POOL_2D: return "MAX_POOL_2D";
    case NML_OP_MUL: return "MUL";
    case NML_OP_RELU: return "RELU";
    case NML_OP_RELU_N1_TO_1: return "RELU_N1_TO_1";
    case NML_OP_RELU6: return "RELU6";
    case NML_OP_RESHAPE: return "RESHAPE";
    case NML_OP_RESIZE_BILINEAR: return "RESIZE_BILINEAR";
    case NML_OP_SOFTMAX: return "SOFTMAX";
    case NML_OP_SPACE_TO_DEPTH: return "SPACE_TO_DEPTH";
    case NML_OP_TANH: return "TANH";
    case NML_OP_CUSTOM: return "CUSTOM";
    case NML_OP_PAD: return "PAD";
    case NML_OP_GATHER: return "GATHER";
    case NML_OP_TRANSPOSE: return "TRANSPOSE";
    case NML_OP_MEAN: return "MEAN";
    case NML_OP_SUB: return "SUB";
    case NML_OP_DIV: return "DIV";
    case NML_OP_SQUEEZE: return "SQUEEZE";
    case NML_OP_STRIDED_SLICE: return "STRIDED_SLICE";
    case NML_OP_EXP: return "EXP";
    case NML_OP_SPLIT: return "SPLIT";
    case NML_OP_LOG_SOFTMAX: return "LOG_SOFTMAX";
    case NML_OP_CAST: return "CAST";
    case NML_OP_PRELU: return "PRELU";
    case NML_OP_MAXIMUM: return "MAXIMUM";
    case NML_OP_ARG_MAX: return "ARG_MAX";
    case NML_OP_MINIMUM: return "MINIMUM";
    case NML_OP_NEG: return "NEG";
    case NML_OP_PADV2: return "PADV2";
    case NML_OP_SLICE: return "SLICE";
    case NML_OP_TRANSPOSE_CONV: return "TRANSPOSE_CONV";
    case NML_OP_EXPAND_DIMS: return "EXPAND_DIMS";
    case NML_OP_SUM: return "SUM";
    case NML_OP_SQRT: return "SQRT";
    case NML_OP_RSQRT: return "RSQRT";
    case NML_OP_SHAPE: return "SHAPE";
    case NML_OP_POW: return "POW";
    case NML_OP_REDUCE_MAX: return "REDUCE_MAX";
    case NML_OP_PACK: return "PACK";
    case NML_OP_UNPACK: return "UNPACK";
    case NML_OP_SQUARE: return "SQUARE";
    case NML_OP_RESIZE_NEAREST_NEIGHBOR: return "RESIZE_NEAREST_NEIGHBOR";
    case NML_OP_LEAKY_RELU: return "LEAKY_RELU";
    case NML_OP_SQUARED_DIFFERENCE: return "SQUARED_DIFFERENCE";
    case NML_OP_MIRROR_PAD: return "MIRROR_PAD";
    case NML_OP_ABS: return "ABS";
    case NML_OP_SPLIT_V: return "SPLIT_V";
    case NML_OP_QUANTIZE: return "QUANTIZE";
    case NML_OP_HARD_SWISH: return "HARD_SWISH";
    case NML_OP_BATCH_MATMUL: return "BATCH_MATMUL";
    default: return "UNKNOWN";
    }
}

/* One constant copied rather than a store per field: this runs for every operator at load
 * and init, and a table in flash costs no code. Members not named here are 0. */
static const nml_op_params op_params_default = {
    .padding = NML_PAD_SAME,
    .activation = NML_ACT_NONE,
    .stride_w = 1,
    .stride_h = 1,
    .dilation_w = 1,
    .dilation_h = 1,
    .filter_w = 1,
    .filter_h = 1,
    .depth_multiplier = 1,
    .beta = 1.0f,
    .pot_scale_int16 = 1,
    .new_shape_len = -1,
    .in_type = -1,
    .out_type = -1,
};

void nml_op_params_default(nml_op_params *p) {
    memcpy(p, &op_params_default, sizeof *p);
}
