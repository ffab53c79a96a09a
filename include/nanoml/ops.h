/* Operators: TFLite builtin operator codes and the decoded operator options.
 * The numeric values are TFLite's BuiltinOperator values (schema v3), so a code read from a
 * .tflite file is an nml_op as is. nml_op_params is the one decoded form of an operator's
 * builtin options, shared by the runtime (decoded from the flatbuffer at prepare time) and the
 * host libraries (written back by the .tflite writer). */
#ifndef NANOML_OPS_H
#define NANOML_OPS_H

#include <stdint.h>

#include "nanoml/types.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum nml_op {
    NML_OP_ADD = 0,
    NML_OP_AVERAGE_POOL_2D = 1,
    NML_OP_CONCATENATION = 2,
    NML_OP_CONV_2D = 3,
    NML_OP_DEPTHWISE_CONV_2D = 4,
    NML_OP_DEPTH_TO_SPACE = 5,
    NML_OP_DEQUANTIZE = 6,
    NML_OP_FLOOR = 8,
    NML_OP_FULLY_CONNECTED = 9,
    NML_OP_L2_NORMALIZATION = 11,
    NML_OP_LOGISTIC = 14,
    NML_OP_MAX_POOL_2D = 17,
    NML_OP_MUL = 18,
    NML_OP_RELU = 19,
    NML_OP_RELU_N1_TO_1 = 20,
    NML_OP_RELU6 = 21,
    NML_OP_RESHAPE = 22,
    NML_OP_RESIZE_BILINEAR = 23,
    NML_OP_SOFTMAX = 25,
    NML_OP_SPACE_TO_DEPTH = 26,
    NML_OP_TANH = 28,
    NML_OP_CUSTOM = 32,
    NML_OP_PAD = 34,
    NML_OP_GATHER = 36,
    NML_OP_TRANSPOSE = 39,
    NML_OP_MEAN = 40,
    NML_OP_SUB = 41,
    NML_OP_DIV = 42,
    NML_OP_SQUEEZE = 43,
    NML_OP_STRIDED_SLICE = 45,
    NML_OP_EXP = 47,
    NML_OP_SPLIT = 49,
    NML_OP_LOG_SOFTMAX = 50,
    NML_OP_CAST = 53,
    NML_OP_PRELU = 54,
    NML_OP_MAXIMUM = 55,
    NML_OP_ARG_MAX = 56,
    NML_OP_MINIMUM = 57,
    NML_OP_NEG = 59,
    NML_OP_PADV2 = 60,
    NML_OP_SLICE = 65,
    NML_OP_TRANSPOSE_CONV = 67,
    NML_OP_EXPAND_DIMS = 70,
    NML_OP_SUM = 74,
    NML_OP_SQRT = 75,
    NML_OP_RSQRT = 76,
    NML_OP_SHAPE = 77,
    NML_OP_POW = 78,
    NML_OP_REDUCE_MAX = 82,
    NML_OP_PACK = 83,
    NML_OP_UNPACK = 88,
    NML_OP_SQUARE = 92,
    NML_OP_RESIZE_NEAREST_NEIGHBOR = 97,
    NML_OP_LEAKY_RELU = 98,
    NML_OP_SQUARED_DIFFERENCE = 99,
    NML_OP_MIRROR_PAD = 100,
    NML_OP_ABS = 101,
    NML_OP_SPLIT_V = 102,
    NML_OP_QUANTIZE = 114,
    NML_OP_HARD_SWISH = 117,
    NML_OP_BATCH_MATMUL = 126,
    NML_OP_PLACEHOLDER_FOR_GREATER_OP_CODES = 127
} nml_op;

/* "CONV_2D", "ADD", ... ("UNKNOWN" for codes nanoml has no name for). */
const char *nml_op_name(int32_t builtin_code);

typedef enum nml_padding { NML_PAD_SAME = 0, NML_PAD_VALID = 1 } nml_padding;

typedef enum nml_activation {
    NML_ACT_NONE = 0,
    NML_ACT_RELU = 1,
    NML_ACT_RELU_N1_TO_1 = 2,
    NML_ACT_RELU6 = 3,
    NML_ACT_TANH = 4,
    NML_ACT_SIGN_BIT = 5
} nml_activation;

/* Decoded builtin options. The flatbuffer decoder sets every field the operator's options
 * table has, using the schema's default when the field is absent (so a CONV_2D without
 * stride_w decodes to stride 0, which the kernel then rejects). Fields the operator has no
 * option for keep the values of nml_op_params_default(). */
typedef struct nml_op_params {
    uint8_t padding;    /* nml_padding */
    uint8_t activation; /* nml_activation (fused) */
    int32_t stride_w, stride_h;
    int32_t dilation_w, dilation_h;
    int32_t filter_w, filter_h;   /* pooling */
    int32_t depth_multiplier;     /* DEPTHWISE_CONV_2D */
    int32_t axis;                 /* CONCATENATION, GATHER, SPLIT(_V) via tensor, PACK */
    int32_t batch_dims;           /* GATHER */
    int32_t num_splits;           /* SPLIT, SPLIT_V */
    float beta;                   /* SOFTMAX */
    float alpha;                  /* LEAKY_RELU */
    uint8_t keep_dims;            /* MEAN, SUM, REDUCE_MAX */
    uint8_t keep_num_dims;        /* FULLY_CONNECTED */
    uint8_t weights_format;       /* FULLY_CONNECTED: 0 = default */
    uint8_t align_corners;        /* RESIZE_* */
    uint8_t half_pixel_centers;   /* RESIZE_* */
    uint8_t pot_scale_int16;      /* ADD, SUB */
    uint8_t mirror_mode;          /* MIRROR_PAD: 0 reflect, 1 symmetric */
    int32_t begin_mask, end_mask, ellipsis_mask, new_axis_mask, shrink_axis_mask; /* STRIDED_SLICE */
    uint8_t offset;               /* STRIDED_SLICE */
    int32_t new_shape_len;        /* RESHAPE: -1 when the option is absent */
    int32_t new_shape[NML_MAX_RANK];
    int32_t squeeze_len;          /* SQUEEZE */
    int32_t squeeze_dims[NML_MAX_RANK];
    int32_t in_type, out_type;    /* CAST; ARG_MAX, SHAPE output type (-1: not given) */
    int32_t block_size;           /* DEPTH_TO_SPACE, SPACE_TO_DEPTH */
    int32_t count;                /* PACK values_count, UNPACK num */
    uint8_t adj_x, adj_y;         /* BATCH_MATMUL */
} nml_op_params;

/* Convenient defaults for building operators in host code: strides, dilations, filter sizes and
 * depth multiplier 1, padding SAME, no activation, beta 1, new_shape_len -1, types -1. */
void nml_op_params_default(nml_op_params *p);

#ifdef __cplusplus
}
#endif
#endif
