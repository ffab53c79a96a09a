/* TFLite schema v3 (tensorflow/lite/schema/schema.fbs): the field ids nanoml reads and the
 * BuiltinOptions union type ids. A field id is the field's position in its table declaration
 * (0-based); a union occupies two ids, its type byte first and its value next. Checked against
 * schema.fbs of tensorflow/tflite-micro. */
#ifndef NANOML_RUNTIME_SCHEMA_H
#define NANOML_RUNTIME_SCHEMA_H

#define TFL_IDENTIFIER "TFL3"
#define TFL_SCHEMA_VERSION 3

/* table Model */
enum {
    TFL_MODEL_VERSION = 0,        /* uint */
    TFL_MODEL_OPERATOR_CODES = 1, /* [OperatorCode] */
    TFL_MODEL_SUBGRAPHS = 2,      /* [SubGraph] */
    TFL_MODEL_DESCRIPTION = 3,    /* string */
    TFL_MODEL_BUFFERS = 4,        /* [Buffer] */
    TFL_MODEL_METADATA_BUFFER = 5,
    TFL_MODEL_METADATA = 6,
    TFL_MODEL_SIGNATURE_DEFS = 7
};

/* table OperatorCode */
enum {
    TFL_OPCODE_DEPRECATED_BUILTIN_CODE = 0, /* byte */
    TFL_OPCODE_CUSTOM_CODE = 1,             /* string */
    TFL_OPCODE_VERSION = 2,                 /* int = 1 */
    TFL_OPCODE_BUILTIN_CODE = 3             /* BuiltinOperator (int32) */
};

/* table SubGraph */
enum {
    TFL_SUBGRAPH_TENSORS = 0,   /* [Tensor] */
    TFL_SUBGRAPH_INPUTS = 1,    /* [int] */
    TFL_SUBGRAPH_OUTPUTS = 2,   /* [int] */
    TFL_SUBGRAPH_OPERATORS = 3, /* [Operator] */
    TFL_SUBGRAPH_NAME = 4       /* string */
};

/* table Tensor */
enum {
    TFL_TENSOR_SHAPE = 0,        /* [int] */
    TFL_TENSOR_TYPE = 1,         /* TensorType (byte) */
    TFL_TENSOR_BUFFER = 2,       /* uint */
    TFL_TENSOR_NAME = 3,         /* string */
    TFL_TENSOR_QUANTIZATION = 4, /* QuantizationParameters */
    TFL_TENSOR_IS_VARIABLE = 5,  /* bool */
    TFL_TENSOR_SPARSITY = 6,     /* SparsityParameters */
    TFL_TENSOR_SHAPE_SIGNATURE = 7,
    TFL_TENSOR_HAS_RANK = 8,
    TFL_TENSOR_VARIANT_TENSORS = 9
};

/* table QuantizationParameters */
enum {
    TFL_QUANT_MIN = 0,                /* [float] */
    TFL_QUANT_MAX = 1,                /* [float] */
    TFL_QUANT_SCALE = 2,              /* [float] */
    TFL_QUANT_ZERO_POINT = 3,         /* [long] */
    TFL_QUANT_DETAILS_TYPE = 4,       /* union QuantizationDetails: type */
    TFL_QUANT_DETAILS = 5,            /*                            value */
    TFL_QUANT_QUANTIZED_DIMENSION = 6 /* int */
};

/* union QuantizationDetails: CustomQuantization (type 1) { custom: [ubyte] (force_align: 16) } */
#define TFL_QUANT_DETAILS_CUSTOM 1
enum { TFL_CUSTOM_QUANT_CUSTOM = 0 };

/* table Operator */
enum {
    TFL_OP_OPCODE_INDEX = 0,         /* uint */
    TFL_OP_INPUTS = 1,               /* [int], -1 = optional input absent */
    TFL_OP_OUTPUTS = 2,              /* [int] */
    TFL_OP_BUILTIN_OPTIONS_TYPE = 3, /* union BuiltinOptions: type */
    TFL_OP_BUILTIN_OPTIONS = 4,      /*                       value */
    TFL_OP_CUSTOM_OPTIONS = 5,       /* [ubyte] */
    TFL_OP_CUSTOM_OPTIONS_FORMAT = 6,
    TFL_OP_MUTATING_VARIABLE_INPUTS = 7,
    TFL_OP_INTERMEDIATES = 8,
    TFL_OP_LARGE_CUSTOM_OPTIONS_OFFSET = 9,
    TFL_OP_LARGE_CUSTOM_OPTIONS_SIZE = 10,
    TFL_OP_BUILTIN_OPTIONS_2_TYPE = 11,
    TFL_OP_BUILTIN_OPTIONS_2 = 12
};

/* table Buffer */
enum {
    TFL_BUFFER_DATA = 0,   /* [ubyte] (force_align: 16) */
    TFL_BUFFER_OFFSET = 1, /* ulong: data outside the flatbuffer when > 1 */
    TFL_BUFFER_SIZE = 2    /* ulong */
};

/* union BuiltinOptions: type ids (NONE = 0, then declaration order from 1) */
enum {
    TFL_OPT_NONE = 0,
    TFL_OPT_CONV_2D = 1,
    TFL_OPT_DEPTHWISE_CONV_2D = 2,
    TFL_OPT_POOL_2D = 5,
    TFL_OPT_FULLY_CONNECTED = 8,
    TFL_OPT_SOFTMAX = 9,
    TFL_OPT_CONCATENATION = 10,
    TFL_OPT_ADD = 11,
    TFL_OPT_L2_NORM = 12,
    TFL_OPT_RESIZE_BILINEAR = 15,
    TFL_OPT_RESHAPE = 17,
    TFL_OPT_SPACE_TO_DEPTH = 19,
    TFL_OPT_MUL = 21,
    TFL_OPT_PAD = 22,
    TFL_OPT_GATHER = 23,
    TFL_OPT_TRANSPOSE = 26,
    TFL_OPT_REDUCER = 27,
    TFL_OPT_SUB = 28,
    TFL_OPT_DIV = 29,
    TFL_OPT_SQUEEZE = 30,
    TFL_OPT_STRIDED_SLICE = 32,
    TFL_OPT_EXP = 33,
    TFL_OPT_SPLIT = 35,
    TFL_OPT_LOG_SOFTMAX = 36,
    TFL_OPT_CAST = 37,
    TFL_OPT_DEQUANTIZE = 38,
    TFL_OPT_MAXIMUM_MINIMUM = 39,
    TFL_OPT_ARG_MAX = 40,
    TFL_OPT_NEG = 42,
    TFL_OPT_PADV2 = 43,
    TFL_OPT_SLICE = 48,
    TFL_OPT_TRANSPOSE_CONV = 49,
    TFL_OPT_EXPAND_DIMS = 52,
    TFL_OPT_SHAPE = 55,
    TFL_OPT_POW = 56,
    TFL_OPT_PACK = 59,
    TFL_OPT_UNPACK = 64,
    TFL_OPT_SQUARE = 66,
    TFL_OPT_RESIZE_NEAREST_NEIGHBOR = 74,
    TFL_OPT_LEAKY_RELU = 75,
    TFL_OPT_SQUARED_DIFFERENCE = 76,
    TFL_OPT_MIRROR_PAD = 77,
    TFL_OPT_ABS = 78,
    TFL_OPT_SPLIT_V = 79,
    TFL_OPT_QUANTIZE = 89,
    TFL_OPT_HARD_SWISH = 91,
    TFL_OPT_DEPTH_TO_SPACE = 94,
    TFL_OPT_BATCH_MATMUL = 101
};

/* Fields of the option tables (declaration order). */
enum {
    TFL_CONV_PADDING,
    TFL_CONV_STRIDE_W,
    TFL_CONV_STRIDE_H,
    TFL_CONV_ACTIVATION,
    TFL_CONV_DILATION_W,
    TFL_CONV_DILATION_H,
    TFL_CONV_QUANTIZED_BIAS_TYPE
};
enum {
    TFL_DW_PADDING,
    TFL_DW_STRIDE_W,
    TFL_DW_STRIDE_H,
    TFL_DW_DEPTH_MULTIPLIER,
    TFL_DW_ACTIVATION,
    TFL_DW_DILATION_W,
    TFL_DW_DILATION_H
};
enum {
    TFL_POOL_PADDING,
    TFL_POOL_STRIDE_W,
    TFL_POOL_STRIDE_H,
    TFL_POOL_FILTER_W,
    TFL_POOL_FILTER_H,
    TFL_POOL_ACTIVATION
};
enum {
    TFL_FC_ACTIVATION,
    TFL_FC_WEIGHTS_FORMAT,
    TFL_FC_KEEP_NUM_DIMS,
    TFL_FC_ASYMMETRIC_QUANTIZE_INPUTS,
    TFL_FC_QUANTIZED_BIAS_TYPE
};
enum { TFL_SOFTMAX_BETA };
enum { TFL_CONCAT_AXIS, TFL_CONCAT_ACTIVATION };
enum { TFL_ADD_ACTIVATION, TFL_ADD_POT_SCALE_INT16 }; /* AddOptions, SubOptions */
enum { TFL_ACT_ONLY_ACTIVATION };                     /* MulOptions, DivOptions, L2NormOptions */
enum {
    TFL_RESIZE_BILINEAR_NEW_HEIGHT,
    TFL_RESIZE_BILINEAR_NEW_WIDTH,
    TFL_RESIZE_BILINEAR_ALIGN_CORNERS,
    TFL_RESIZE_BILINEAR_HALF_PIXEL_CENTERS
};
enum { TFL_RESIZE_NN_ALIGN_CORNERS, TFL_RESIZE_NN_HALF_PIXEL_CENTERS };
enum { TFL_RESHAPE_NEW_SHAPE };
enum { TFL_BLOCK_SIZE }; /* SpaceToDepthOptions, DepthToSpaceOptions */
enum { TFL_GATHER_AXIS, TFL_GATHER_BATCH_DIMS };
enum { TFL_REDUCER_KEEP_DIMS };
enum { TFL_SQUEEZE_DIMS };
enum {
    TFL_SS_BEGIN_MASK,
    TFL_SS_END_MASK,
    TFL_SS_ELLIPSIS_MASK,
    TFL_SS_NEW_AXIS_MASK,
    TFL_SS_SHRINK_AXIS_MASK,
    TFL_SS_OFFSET
};
enum { TFL_NUM_SPLITS }; /* SplitOptions, SplitVOptions */
enum { TFL_CAST_IN_TYPE, TFL_CAST_OUT_TYPE };
enum { TFL_ARG_MAX_OUTPUT_TYPE };
enum {
    TFL_TCONV_PADDING,
    TFL_TCONV_STRIDE_W,
    TFL_TCONV_STRIDE_H,
    TFL_TCONV_ACTIVATION,
    TFL_TCONV_QUANTIZED_BIAS_TYPE
};
enum { TFL_SHAPE_OUT_TYPE };
enum { TFL_PACK_VALUES_COUNT, TFL_PACK_AXIS };
enum { TFL_UNPACK_NUM, TFL_UNPACK_AXIS };
enum { TFL_LEAKY_RELU_ALPHA };
enum { TFL_MIRROR_PAD_MODE };
enum { TFL_BMM_ADJ_X, TFL_BMM_ADJ_Y, TFL_BMM_ASYMMETRIC_QUANTIZE_INPUTS };

#endif
