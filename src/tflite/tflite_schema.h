/* Field ids and union type ids of the TFLite flatbuffer schema (schema.fbs, version 3), as used
 * by the writer. A field's id is its position in its table; a union field takes two ids (the
 * type byte, then the value). Union type ids count the union's members from 1 (0 = NONE). */
#ifndef NML_TFLITE_SCHEMA_H
#define NML_TFLITE_SCHEMA_H

#define NML_TFL_IDENTIFIER "TFL3"
#define NML_TFL_SCHEMA_VERSION 3

/* table Model */
enum {
    NML_TFL_MODEL_VERSION = 0,
    NML_TFL_MODEL_OPERATOR_CODES = 1,
    NML_TFL_MODEL_SUBGRAPHS = 2,
    NML_TFL_MODEL_DESCRIPTION = 3,
    NML_TFL_MODEL_BUFFERS = 4,
    NML_TFL_MODEL_METADATA_BUFFER = 5,
    NML_TFL_MODEL_METADATA = 6,
    NML_TFL_MODEL_SIGNATURE_DEFS = 7
};

/* table SubGraph */
enum {
    NML_TFL_SUBGRAPH_TENSORS = 0,
    NML_TFL_SUBGRAPH_INPUTS = 1,
    NML_TFL_SUBGRAPH_OUTPUTS = 2,
    NML_TFL_SUBGRAPH_OPERATORS = 3,
    NML_TFL_SUBGRAPH_NAME = 4
};

/* table Tensor */
enum {
    NML_TFL_TENSOR_SHAPE = 0,
    NML_TFL_TENSOR_TYPE = 1,
    NML_TFL_TENSOR_BUFFER = 2,
    NML_TFL_TENSOR_NAME = 3,
    NML_TFL_TENSOR_QUANTIZATION = 4,
    NML_TFL_TENSOR_IS_VARIABLE = 5,
    NML_TFL_TENSOR_SPARSITY = 6,
    NML_TFL_TENSOR_SHAPE_SIGNATURE = 7,
    NML_TFL_TENSOR_HAS_RANK = 8
};

/* table QuantizationParameters */
enum {
    NML_TFL_QUANT_MIN = 0,
    NML_TFL_QUANT_MAX = 1,
    NML_TFL_QUANT_SCALE = 2,
    NML_TFL_QUANT_ZERO_POINT = 3,
    NML_TFL_QUANT_DETAILS_TYPE = 4, /* union QuantizationDetails: 4 type, 5 value */
    NML_TFL_QUANT_QUANTIZED_DIMENSION = 6
};

/* union QuantizationDetails: type 1 = table CustomQuantization { custom: [ubyte]
 * (force_align: 16) } (nanoml's packed-weights record) */
#define NML_TFL_QUANT_DETAILS_CUSTOM 1
#define NML_TFL_CUSTOM_QUANT_ALIGN 16
enum { NML_TFL_CUSTOM_QUANT_CUSTOM = 0 };

/* table OperatorCode */
enum {
    NML_TFL_OPCODE_DEPRECATED_BUILTIN_CODE = 0,
    NML_TFL_OPCODE_CUSTOM_CODE = 1,
    NML_TFL_OPCODE_VERSION = 2, /* default 1 */
    NML_TFL_OPCODE_BUILTIN_CODE = 3
};

/* table Operator */
enum {
    NML_TFL_OP_OPCODE_INDEX = 0,
    NML_TFL_OP_INPUTS = 1,
    NML_TFL_OP_OUTPUTS = 2,
    NML_TFL_OP_BUILTIN_OPTIONS_TYPE = 3, /* union BuiltinOptions: 3 type, 4 value */
    NML_TFL_OP_BUILTIN_OPTIONS = 4,
    NML_TFL_OP_CUSTOM_OPTIONS = 5,
    NML_TFL_OP_CUSTOM_OPTIONS_FORMAT = 6
};

/* table Buffer */
enum { NML_TFL_BUFFER_DATA = 0, NML_TFL_BUFFER_OFFSET = 1, NML_TFL_BUFFER_SIZE = 2 };
#define NML_TFL_BUFFER_ALIGN 16 /* Buffer.data is declared (force_align: 16) */

/* table Metadata */
enum { NML_TFL_METADATA_NAME = 0, NML_TFL_METADATA_BUFFER = 1 };

/* table SignatureDef, table TensorMap */
enum {
    NML_TFL_SIGDEF_INPUTS = 0,
    NML_TFL_SIGDEF_OUTPUTS = 1,
    NML_TFL_SIGDEF_SIGNATURE_KEY = 2,
    NML_TFL_SIGDEF_SUBGRAPH_INDEX = 4
};
enum { NML_TFL_TENSORMAP_NAME = 0, NML_TFL_TENSORMAP_TENSOR_INDEX = 1 };

/* union BuiltinOptions member ids */
enum {
    NML_TFL_OPT_NONE = 0,
    NML_TFL_OPT_CONV_2D = 1,
    NML_TFL_OPT_DEPTHWISE_CONV_2D = 2,
    NML_TFL_OPT_POOL_2D = 5,
    NML_TFL_OPT_FULLY_CONNECTED = 8,
    NML_TFL_OPT_SOFTMAX = 9,
    NML_TFL_OPT_CONCATENATION = 10,
    NML_TFL_OPT_ADD = 11,
    NML_TFL_OPT_L2_NORM = 12,
    NML_TFL_OPT_RESIZE_BILINEAR = 15,
    NML_TFL_OPT_RESHAPE = 17,
    NML_TFL_OPT_SPACE_TO_DEPTH = 19,
    NML_TFL_OPT_MUL = 21,
    NML_TFL_OPT_PAD = 22,
    NML_TFL_OPT_GATHER = 23,
    NML_TFL_OPT_TRANSPOSE = 26,
    NML_TFL_OPT_REDUCER = 27,
    NML_TFL_OPT_SUB = 28,
    NML_TFL_OPT_DIV = 29,
    NML_TFL_OPT_SQUEEZE = 30,
    NML_TFL_OPT_STRIDED_SLICE = 32,
    NML_TFL_OPT_EXP = 33,
    NML_TFL_OPT_SPLIT = 35,
    NML_TFL_OPT_LOG_SOFTMAX = 36,
    NML_TFL_OPT_CAST = 37,
    NML_TFL_OPT_DEQUANTIZE = 38,
    NML_TFL_OPT_MAXIMUM_MINIMUM = 39,
    NML_TFL_OPT_ARG_MAX = 40,
    NML_TFL_OPT_NEG = 42,
    NML_TFL_OPT_PADV2 = 43,
    NML_TFL_OPT_SLICE = 48,
    NML_TFL_OPT_TRANSPOSE_CONV = 49,
    NML_TFL_OPT_EXPAND_DIMS = 52,
    NML_TFL_OPT_SHAPE = 55,
    NML_TFL_OPT_POW = 56,
    NML_TFL_OPT_PACK = 59,
    NML_TFL_OPT_UNPACK = 64,
    NML_TFL_OPT_SQUARE = 66,
    NML_TFL_OPT_RESIZE_NEAREST_NEIGHBOR = 74,
    NML_TFL_OPT_LEAKY_RELU = 75,
    NML_TFL_OPT_SQUARED_DIFFERENCE = 76,
    NML_TFL_OPT_MIRROR_PAD = 77,
    NML_TFL_OPT_ABS = 78,
    NML_TFL_OPT_SPLIT_V = 79,
    NML_TFL_OPT_QUANTIZE = 89,
    NML_TFL_OPT_HARD_SWISH = 91,
    NML_TFL_OPT_DEPTH_TO_SPACE = 94,
    NML_TFL_OPT_BATCH_MATMUL = 101
};

#endif
