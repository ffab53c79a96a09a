/* Operator versions for OperatorCode.version. TFLite runtimes register each kernel for a range
 * of versions and refuse operators whose version they do not know; the version is a function of
 * the operator's tensor types and options. The rules below follow the facts in TFLite's
 * op_version.cc (tensorflow/lite/tools/versioning), reduced to the operators nanoml knows. */
#include "nanoml/ir.h"

/* What the rules look at: types of the first inputs/outputs, ranks, quantization. */
typedef struct op_sig {
    int in0, in1, in3, out0;   /* types, -1 when absent */
    int rank0, max_in_rank;
    int broadcast;             /* the first two inputs differ in shape */
    int in0_quantized, in0_per_channel, per_channel_w, out_per_channel;
    float in0_scale, in1_scale, out_scale; /* 0 when not quantized */
} op_sig;

static const nml_ir_tensor *tensor_at(const nml_ir *ir, const nml_ir_op *op, int k, int out) {
    int n = out ? op->n_outputs : op->n_inputs;
    if (k >= n) return NULL;
    int32_t t = out ? op->outputs[k] : op->inputs[k];
    return t >= 0 && t < ir->n_tensors ? &ir->tensors[t] : NULL;
}

static int same_shape(const nml_ir_tensor *a, const nml_ir_tensor *b) {
    if (a->rank != b->rank) return 0;
    for (int i = 0; i < a->rank; i++)
        if (a->dims[i] != b->dims[i]) return 0;
    return 1;
}

static op_sig signature(const nml_ir *ir, const nml_ir_op *op) {
    op_sig s = {-1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0.0f, 0.0f, 0.0f};
    const nml_ir_tensor *i0 = tensor_at(ir, op, 0, 0), *i1 = tensor_at(ir, op, 1, 0);
    const nml_ir_tensor *i3 = tensor_at(ir, op, 3, 0), *o0 = tensor_at(ir, op, 0, 1);
    if (i0) {
        s.in0 = i0->type;
        s.rank0 = i0->rank;
        s.in0_quantized = i0->n_q > 0;
        s.in0_per_channel = i0->n_q > 1;
        s.in0_scale = i0->n_q && i0->scales ? i0->scales[0] : 0.0f;
    }
    if (i1) {
        s.in1 = i1->type;
        s.per_channel_w = i1->n_q > 1;
        s.in1_scale = i1->n_q && i1->scales ? i1->scales[0] : 0.0f;
    }
    if (i3) s.in3 = i3->type;
    if (o0) {
        s.out0 = o0->type;
        s.out_per_channel = o0->n_q > 1;
        s.out_scale = o0->n_q && o0->scales ? o0->scales[0] : 0.0f;
    }
    for (int k = 0; k < op->n_inputs; k++) {
        const nml_ir_tensor *t = tensor_at(ir, op, k, 0);
        if (t && t->rank > s.max_in_rank) s.max_in_rank = t->rank;
    }
    s.broadcast = i0 && i1 && !same_shape(i0, i1);
    return s;
}

static int32_t conv_2d_version(const nml_ir *ir, const nml_ir_op *op, const op_sig *s) {
    const nml_ir_tensor *in = tensor_at(ir, op, 0, 0), *w = tensor_at(ir, op, 1, 0);
    if (in && w && in->rank == 4 && w->rank == 4 && in->dims[3] != w->dims[3]) return 6;
    if (s->in0 == NML_INT16) return 4; /* 16x8 kernels */
    if (s->in0 == NML_INT8 && s->in1 == NML_INT8 && s->out0 == NML_INT8) return 3;
    if (s->in0 == NML_INT8 && s->in1 == NML_INT4 && s->out0 == NML_INT8) return 7;
    if (s->in0 == NML_FLOAT32 && s->in1 == NML_INT8 && s->out0 == NML_FLOAT32)
        return s->per_channel_w ? 5 : 2;
    return 1;
}

static int32_t depthwise_version(const nml_ir_op *op, const op_sig *s) {
    if (s->in0 == NML_INT16) return 5;
    if (s->in0 == NML_FLOAT32 && s->in1 == NML_INT8 && s->out0 == NML_FLOAT32)
        return s->per_channel_w ? 6 : 4;
    if (s->in0 == NML_INT8 && s->in1 == NML_INT8 && s->out0 == NML_INT8) return 3;
    if (s->in0 == NML_INT8 && s->in1 == NML_INT4 && s->out0 == NML_INT8) return 7;
    if (op->params.dilation_w != 1 || op->params.dilation_h != 1) return 2;
    return 1;
}

static int32_t fully_connected_version(const nml_ir_op *op, const op_sig *s) {
    if (s->in0 == NML_FLOAT32 && s->in1 == NML_INT8 && s->out0 == NML_FLOAT32 &&
        s->per_channel_w)
        return 12;
    if (s->in0 == NML_INT16 && s->in1 == NML_INT16 && s->out0 == NML_INT16) return 7;
    if (op->n_inputs == 2) return 6; /* no bias input at all */
    if (op->params.keep_num_dims) return 5;
    if (s->in0 == NML_INT8 && s->in1 == NML_INT8 && s->out0 == NML_INT8) return 4;
    if (s->in0 == NML_INT8 && s->in1 == NML_INT4 && s->out0 == NML_INT8) return 10;
    if (s->in0 == NML_FLOAT32 && s->in1 == NML_INT8 && s->out0 == NML_FLOAT32) return 3;
    if (op->params.weights_format != 0) return 2;
    return 1;
}

/* int16 -> v3, int8 -> v2: the common pattern of the activation and reduction operators. */
static int32_t int16_3_int8_2(const op_sig *s) {
    if (s->in0 == NML_INT16) return 3;
    if (s->in0 == NML_INT8) return 2;
    return 1;
}

static int32_t int8_2(const op_sig *s) { return s->in0 == NML_INT8 ? 2 : 1; }

static int32_t binary_version(const nml_ir_op *op, const op_sig *s) {
    switch (op->builtin) {
    case NML_OP_ADD:
        if (s->in0 == NML_INT16 && !s->in0_quantized) return 5;
        if (s->in0 == NML_INT64) return 4;
        if (s->in0 == NML_INT16 && s->out0 == NML_INT16 && !op->params.pot_scale_int16) return 3;
        return int8_2(s);
    case NML_OP_SUB:
        if (s->in0 == NML_INT16 && s->out0 == NML_INT16 && !op->params.pot_scale_int16) return 5;
        if (s->in0 == NML_INT64) return 4;
        if (s->broadcast && s->max_in_rank > 4) return 3;
        return int8_2(s);
    case NML_OP_MUL:
        if (s->in0 == NML_INT16 && !s->in0_quantized) return 7;
        if (s->in0 == NML_COMPLEX64) return 6;
        if (s->in0 == NML_INT64) return 5;
        if (s->in0 == NML_INT16) return 4;
        if (s->in0_scale != 0.0f && s->in1_scale != 0.0f && s->out_scale != 0.0f &&
            s->in0_scale * s->in1_scale / s->out_scale >= 1.0f)
            return 3;
        return int8_2(s);
    case NML_OP_DIV:
        return s->broadcast && s->max_in_rank > 4 ? 2 : 1;
    case NML_OP_MAXIMUM:
    case NML_OP_MINIMUM:
        if (s->in0 == NML_INT16 && s->out0 == NML_INT16) return 4;
        if (s->broadcast && s->max_in_rank > 4) return 3;
        return int8_2(s);
    default:
        return 1;
    }
}

static int32_t shape_op_version(const nml_ir_op *op, const op_sig *s) {
    const nml_op_params *p = &op->params;
    switch (op->builtin) {
    case NML_OP_PAD:
    case NML_OP_PADV2:
        if (s->rank0 > 4) return 4;
        return int16_3_int8_2(s);
    case NML_OP_TRANSPOSE:
        if (s->rank0 > 5) return 6;
        if (s->in0 == NML_INT16) return 5;
        if (s->rank0 > 4) return 4;
        if (s->in0 == NML_BOOL) return 3;
        return int8_2(s);
    case NML_OP_STRIDED_SLICE:
        if (p->offset) return 8;
        if (p->ellipsis_mask || p->new_axis_mask) return 6;
        if (s->in0 == NML_STRING) return 5;
        if (s->rank0 > 4) return 4;
        if (s->in0 == NML_BOOL) return 3;
        return int8_2(s);
    case NML_OP_SLICE:
        if (s->rank0 > 4) return 5;
        if (s->in0 == NML_INT16) return 4;
        if (s->in0 == NML_STRING) return 3;
        return int8_2(s);
    case NML_OP_GATHER:
        if (s->in0 == NML_INT4) return 7;
        if (s->in1 == NML_INT16) return 6;
        if (p->batch_dims != 0) return 5;
        if (s->in0 == NML_INT16) return 4;
        if (s->in0 == NML_BOOL) return 3;
        return int8_2(s);
    case NML_OP_SPLIT: /* input 0 is the axis, the data is input 1 */
        if (s->in1 == NML_INT16) return 4;
        if (s->in1 == NML_INT32) return 3;
        return s->in1 == NML_INT8 ? 2 : 1;
    case NML_OP_PACK:
        if (s->in0 == NML_INT8) return 2;
        if (s->in0 == NML_INT16 && s->out0 == NML_INT16) return 3;
        return 1;
    case NML_OP_UNPACK:
        if (s->in0 == NML_INT8 || s->in0 == NML_UINT8) return 2;
        if (s->in0 == NML_BOOL) return 3;
        if (s->in0 == NML_INT16 && s->out0 == NML_INT16) return 4;
        return 1;
    case NML_OP_SQUEEZE:
        return s->in0 == NML_STRING ? 2 : 1;
    case NML_OP_CONCATENATION:
        return int16_3_int8_2(s);
    default:
        return 1;
    }
}

static int32_t resize_version(const nml_ir_op *op, const op_sig *s) {
    if (s->in0 == NML_INT16) return 4;
    if (op->params.half_pixel_centers) return 3;
    if (op->builtin == NML_OP_RESIZE_NEAREST_NEIGHBOR && op->params.align_corners) return 3;
    return int8_2(s);
}

static int32_t conversion_version(const nml_ir_op *op, const op_sig *s) {
    switch (op->builtin) {
    case NML_OP_DEQUANTIZE:
        if (s->in0 == NML_INT4) return 6;
        if (s->in0 == NML_INT16 || s->in0 == NML_FLOAT16) return 3;
        if (s->in0 == NML_INT8) return s->in0_per_channel ? 5 : 2;
        return 1;
    case NML_OP_QUANTIZE:
        if (s->in0 == NML_INT4 || s->out0 == NML_INT4) return 4;
        if (s->out_per_channel) return 3;
        return s->out0 == NML_INT16 ? 2 : 1;
    case NML_OP_CAST:
        if (s->in0 == NML_INT4 && s->out0 == NML_FLOAT32) return 6;
        if (s->in0 == NML_FLOAT64 || s->out0 == NML_FLOAT64 || s->in0 == NML_FLOAT16 ||
            s->out0 == NML_FLOAT16)
            return 5;
        if (s->in0 == NML_INT8 || s->out0 == NML_INT8) return 3;
        return 1;
    default:
        return 1;
    }
}

int32_t nml_ir_op_min_version(const nml_ir *ir, const nml_ir_op *op) {
    op_sig s = signature(ir, op);
    switch (op->builtin) {
    case NML_OP_CONV_2D: return conv_2d_version(ir, op, &s);
    case NML_OP_DEPTHWISE_CONV_2D: return depthwise_version(op, &s);
    case NML_OP_FULLY_CONNECTED: return fully_connected_version(op, &s);
    case NML_OP_TRANSPOSE_CONV:
        if (op->params.activation != NML_ACT_NONE) return 4;
        if (op->n_inputs == 4 && op->inputs[3] >= 0) return 3;
        return s.in1 == NML_INT8 ? 2 : 1;
    case NML_OP_AVERAGE_POOL_2D:
    case NML_OP_MAX_POOL_2D:
    case NML_OP_LOGISTIC:
    case NML_OP_TANH:
        if (s.in0 == NML_INT16 && s.out0 == NML_INT16) return 3;
        return int8_2(&s);
    case NML_OP_ADD:
    case NML_OP_SUB:
    case NML_OP_MUL:
    case NML_OP_DIV:
    case NML_OP_MAXIMUM:
    case NML_OP_MINIMUM: return binary_version(op, &s);
    case NML_OP_SOFTMAX:
    case NML_OP_MEAN:
    case NML_OP_MIRROR_PAD:
    case NML_OP_REDUCE_MAX:
    case NML_OP_RELU6:
    case NML_OP_RSQRT: return int16_3_int8_2(&s);
    case NML_OP_RELU:
        if (s.in0 == NML_INT16) return 3;
        return s.in0 == NML_INT8 || s.in0 == NML_UINT8 ? 2 : 1;
    case NML_OP_SPLIT_V:
    case NML_OP_SUM:
    case NML_OP_LOG_SOFTMAX:
    case NML_OP_SQUARED_DIFFERENCE:
    case NML_OP_DEPTH_TO_SPACE:
    case NML_OP_SPACE_TO_DEPTH:
    case NML_OP_BATCH_MATMUL:
        if (op->builtin == NML_OP_BATCH_MATMUL && s.in0 == NML_INT16) return 3;
        return int8_2(&s);
    case NML_OP_EXP: return s.in0 == NML_INT8 || s.in0 == NML_INT16 ? 2 : 1;
    case NML_OP_LEAKY_RELU: return s.in0 == NML_INT16 ? 2 : 1;
    case NML_OP_L2_NORMALIZATION: return s.out0 == NML_INT8 ? 2 : 1;
    case NML_OP_ARG_MAX:
        if (s.in0 == NML_BOOL) return 3;
        return int8_2(&s);
    case NML_OP_ABS:
        if (s.in0 == NML_INT32) return 5;
        if (s.in0 == NML_INT16) return s.in0_quantized ? 3 : 4;
        return s.in0 == NML_INT8 || s.in0 == NML_UINT8 ? 2 : 1;
    case NML_OP_RESIZE_BILINEAR:
    case NML_OP_RESIZE_NEAREST_NEIGHBOR: return resize_version(op, &s);
    case NML_OP_DEQUANTIZE:
    case NML_OP_QUANTIZE:
    case NML_OP_CAST: return conversion_version(op, &s);
    default: return shape_op_version(op, &s);
    }
}
