/* Float32 graph outputs over DEQUANTIZE (nml_recalib_float_output). */
#include <string.h>

#include "nanoml/recalib.h"

/* A new float32 activation shaped like tensor t. */
static nml_status add_float_like(nml_ir *ir, int t, const char *suffix, int *index,
                                 nml_error *err) {
    char name[256];
    nml_format(name, sizeof name, "%s%s", ir->tensors[t].name, suffix);
    int32_t dims[NML_MAX_RANK];
    memcpy(dims, ir->tensors[t].dims, sizeof dims);
    return nml_ir_add_tensor(ir, name, NML_FLOAT32, ir->tensors[t].rank, dims, NULL, 0, index, err);
}

/* The tensor a requantizing QUANTIZE (int8 -> int8) reads, else t itself. */
static int32_t skip_requantize(const nml_ir *ir, int32_t t) {
    int p = nml_ir_producer(ir, t);
    if (p < 0 || ir->ops[p].builtin != NML_OP_QUANTIZE) return t;
    int32_t src = ir->ops[p].inputs[0];
    int type = ir->tensors[src].type;
    return (type == NML_INT8 || type == NML_UINT8) && nml_ir_count_uses(ir, t) == 1 ? src : t;
}

static nml_status make_float(nml_ir *ir, int32_t t, nml_error *err) {
    ir->tensors[t].type = NML_FLOAT32;
    return nml_ir_set_quant(ir, (int)t, 0, NULL, NULL, 0, err);
}

/* CONCATENATION of quantized inputs -> DEQUANTIZE each input, concatenate in float. */
static nml_status float_concat(nml_ir *ir, int p, nml_error *err) {
    for (int j = 0; j < ir->ops[p].n_inputs; j++) {
        int32_t src = skip_requantize(ir, ir->ops[p].inputs[j]);
        if (ir->tensors[src].type == NML_FLOAT32) {
            ir->ops[p].inputs[j] = src;
            continue;
        }
        int deq;
        NML_TRY(add_float_like(ir, src, "/dequantized", &deq, err));
        int32_t in[1] = {src}, out[1] = {deq};
        NML_TRY(nml_ir_insert_op(ir, p, NML_OP_DEQUANTIZE, NULL, 1, in, 1, out, NULL, err));
        p++; /* the concatenation moved down by one */
        ir->ops[p].inputs[j] = deq;
    }
    return make_float(ir, ir->ops[p].outputs[0], err);
}

nml_status nml_recalib_float_output(nml_ir *q, int output, nml_error *err) {
    if (output < 0 || output >= q->n_outputs)
        return nml_fail(err, NML_E_ARG, "output %d out of range (%d outputs)", output,
                        q->n_outputs);
    int32_t t = q->outputs[output];
    int type = q->tensors[t].type;
    if (type == NML_FLOAT32) return NML_OK;
    if (type != NML_INT8 && type != NML_UINT8)
        return nml_fail(err, NML_E_UNSUPPORTED, "output %d is %s, not int8/uint8", output,
                        nml_dtype_name(type));
    int p = nml_ir_producer(q, t);
    if (p >= 0 && q->ops[p].builtin == NML_OP_CONCATENATION && nml_ir_count_uses(q, t) == 1) {
        NML_TRY(float_concat(q, p, err));
    } else {
        int deq;
        NML_TRY(add_float_like(q, t, "/dequantized", &deq, err));
        int32_t in[1] = {t}, out[1] = {deq};
        NML_TRY(nml_ir_add_op(q, NML_OP_DEQUANTIZE, NULL, 1, in, 1, out, NULL, err));
        q->outputs[output] = deq;
    }
    nml_ir_remove_dead_ops(q);
    NML_TRY(nml_ir_compact(q, err));
    return nml_ir_validate(q, err);
}
