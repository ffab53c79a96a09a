/* The operator rules of full-integer quantization and the checks that a model can be
 * quantized at all. */
#include <stdio.h>
#include <string.h>

#include "compress/ptq_internal.h"

#define ALL_INPUTS 0xffffu

/* Which kernels accept which quantization, from TFLite's int8 kernels (which nanoml's runtime
 * follows): pooling and data movement require identical input/output quantization, LOGISTIC /
 * TANH / SOFTMAX have fixed output quantization, LiteRT's CONCATENATION, MAXIMUM and MINIMUM
 * require identical quantization on every input and the output. */
static const ptq_rule RULES[] = {
    {NML_OP_CONV_2D, PTQ_WEIGHTS, 1u, 0, 0.0f, 0},
    {NML_OP_DEPTHWISE_CONV_2D, PTQ_WEIGHTS, 1u, 3, 0.0f, 0},
    {NML_OP_FULLY_CONNECTED, PTQ_WEIGHTS, 1u, 0, 0.0f, 0},
    {NML_OP_ADD, PTQ_FREE, 3u, 0, 0.0f, 0},
    {NML_OP_SUB, PTQ_FREE, 3u, 0, 0.0f, 0},
    {NML_OP_MUL, PTQ_FREE, 3u, 0, 0.0f, 0},
    {NML_OP_MEAN, PTQ_FREE, 1u, 0, 0.0f, 0},
    {NML_OP_SUM, PTQ_FREE, 1u, 0, 0.0f, 0},
    {NML_OP_RELU, PTQ_FREE, 1u, 0, 0.0f, 0},
    {NML_OP_RELU6, PTQ_FREE, 1u, 0, 0.0f, 0},
    {NML_OP_LEAKY_RELU, PTQ_FREE, 1u, 0, 0.0f, 0},
    {NML_OP_HARD_SWISH, PTQ_FREE, 1u, 0, 0.0f, 0},
    {NML_OP_LOGISTIC, PTQ_FIXED, 1u, 0, 1.0f / 256.0f, -128},
    {NML_OP_SOFTMAX, PTQ_FIXED, 1u, 0, 1.0f / 256.0f, -128},
    {NML_OP_TANH, PTQ_FIXED, 1u, 0, 1.0f / 128.0f, 0},
    {NML_OP_AVERAGE_POOL_2D, PTQ_SAME, 1u, 0, 0.0f, 0},
    {NML_OP_MAX_POOL_2D, PTQ_SAME, 1u, 0, 0.0f, 0},
    {NML_OP_RESHAPE, PTQ_SAME, 1u, 0, 0.0f, 0},
    {NML_OP_SQUEEZE, PTQ_SAME, 1u, 0, 0.0f, 0},
    {NML_OP_EXPAND_DIMS, PTQ_SAME, 1u, 0, 0.0f, 0},
    {NML_OP_TRANSPOSE, PTQ_SAME, 1u, 0, 0.0f, 0},
    {NML_OP_PAD, PTQ_SAME, 1u, 0, 0.0f, 0},
    {NML_OP_PADV2, PTQ_SAME, 1u | 4u, 0, 0.0f, 0},
    {NML_OP_SLICE, PTQ_SAME, 1u, 0, 0.0f, 0},
    {NML_OP_STRIDED_SLICE, PTQ_SAME, 1u, 0, 0.0f, 0},
    {NML_OP_GATHER, PTQ_SAME, 1u, 0, 0.0f, 0},
    {NML_OP_SPLIT, PTQ_SAME, 2u, 0, 0.0f, 0},
    {NML_OP_SPLIT_V, PTQ_SAME, 1u, 0, 0.0f, 0},
    {NML_OP_RESIZE_BILINEAR, PTQ_SAME, 1u, 0, 0.0f, 0},
    {NML_OP_RESIZE_NEAREST_NEIGHBOR, PTQ_SAME, 1u, 0, 0.0f, 0},
    {NML_OP_REDUCE_MAX, PTQ_SAME, 1u, 0, 0.0f, 0},
    {NML_OP_CONCATENATION, PTQ_SHARED, ALL_INPUTS, 0, 0.0f, 0},
    {NML_OP_MAXIMUM, PTQ_SHARED, 3u, 0, 0.0f, 0},
    {NML_OP_MINIMUM, PTQ_SHARED, 3u, 0, 0.0f, 0},
};

const ptq_rule *ptq_rule_for(int32_t builtin) {
    for (size_t i = 0; i < sizeof RULES / sizeof RULES[0]; i++)
        if (RULES[i].builtin == builtin) return &RULES[i];
    return NULL;
}

const char *ptq_fmt_float(char *buf, size_t cap, double v) {
    snprintf(buf, cap, "%g", v);
    return buf;
}

int ptq_is_float_activation(const nml_ir_tensor *t) {
    return t->type == NML_FLOAT32 && !t->data && !t->is_variable;
}

static int is_quantized_type(int type) {
    return type == NML_INT8 || type == NML_UINT8 || type == NML_INT16 || type == NML_INT4 ||
           type == NML_FLOAT16;
}

static nml_status check_tensor(const nml_ir *ir, int i, nml_error *err) {
    const nml_ir_tensor *t = &ir->tensors[i];
    char s[32];
    if (t->n_q > 0)
        return nml_fail(err, NML_E_UNSUPPORTED,
                        "tensor %d (%s) already has quantization parameters (scale %s): the "
                        "model is already quantized; quantize its float32 version",
                        i, t->name, ptq_fmt_float(s, sizeof s, t->scales[0]));
    if (is_quantized_type(t->type))
        return nml_fail(err, NML_E_UNSUPPORTED,
                        "tensor %d (%s) is %s: the model is already quantized; quantize its "
                        "float32 version",
                        i, t->name, nml_dtype_name(t->type));
    if (t->is_variable)
        return nml_fail(err, NML_E_UNSUPPORTED,
                        "tensor %d (%s) is a variable: stateful models are not supported", i,
                        t->name);
    return NML_OK;
}

static const char *output_name(const nml_ir *ir, const nml_ir_op *op) {
    return op->n_outputs > 0 && op->outputs[0] >= 0 ? ir->tensors[op->outputs[0]].name : "?";
}

/* Every float input must be covered by the rule, and weights must be constants. */
static nml_status check_rule(const nml_ir *ir, int i, const ptq_rule *r, nml_error *err) {
    const nml_ir_op *op = &ir->ops[i];
    for (int k = 0; k < op->n_inputs; k++) {
        if (op->inputs[k] < 0) continue;
        const nml_ir_tensor *t = &ir->tensors[op->inputs[k]];
        const int weights = r->kind == PTQ_WEIGHTS && (k == 1 || k == 2);
        if (weights) {
            if (t->type != NML_FLOAT32 || !t->data)
                return nml_fail(err, NML_E_UNSUPPORTED,
                                "operator %d (%s): %s tensor %d (%s) is not a float32 constant; "
                                "only constant weights can be quantized",
                                i, nml_op_name(op->builtin), k == 1 ? "weights" : "bias",
                                (int)op->inputs[k], t->name);
            continue;
        }
        if (t->type == NML_FLOAT32 && !(r->data_inputs & (1u << (k < 16 ? k : 15))))
            return nml_fail(err, NML_E_UNSUPPORTED,
                            "operator %d (%s): input %d (%s) is float32 but the operator's "
                            "int8 form takes no float values there",
                            i, nml_op_name(op->builtin), k, t->name);
    }
    return NML_OK;
}

nml_status ptq_check_float_model(const nml_ir *ir, nml_quant_mode mode, nml_error *err) {
    if (ir->n_ops == 0) return nml_fail(err, NML_E_ARG, "the model has no operators");
    for (int i = 0; i < ir->n_tensors; i++)
        NML_TRY(check_tensor(ir, i, err));
    const int full_integer = mode == NML_QUANT_INT8 || mode == NML_QUANT_INT4;
    for (int i = 0; i < ir->n_ops; i++) {
        const nml_ir_op *op = &ir->ops[i];
        if (op->builtin == NML_OP_QUANTIZE || op->builtin == NML_OP_DEQUANTIZE)
            return nml_fail(err, NML_E_UNSUPPORTED,
                            "operator %d (%s): the model already contains quantization "
                            "operators; quantize its float32 version",
                            i, nml_op_name(op->builtin));
        if (!full_integer) continue;
        const ptq_rule *r = ptq_rule_for(op->builtin);
        if (!r)
            return nml_fail(err, NML_E_UNSUPPORTED,
                            "operator %d (%s, output %s) has no int8 quantization rule in "
                            "nanoml; try --mode dynamic or float16",
                            i,
                            op->builtin == NML_OP_CUSTOM && op->custom_code
                                ? op->custom_code
                                : nml_op_name(op->builtin),
                            output_name(ir, op));
        NML_TRY(check_rule(ir, i, r, err));
    }
    return NML_OK;
}
