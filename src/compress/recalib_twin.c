/* The float32 twin of a quantized graph (nml_recalib_float_twin). */
#include <stdlib.h>
#include <string.h>

#include "nanoml/recalib.h"

static int is_quantized_type(int type) {
    return type == NML_INT8 || type == NML_UINT8 || type == NML_INT16 || type == NML_INT32;
}

/* Element e's quantization channel. */
static uint32_t channel_of(const nml_ir_tensor *t, uint64_t e) {
    if (t->n_q <= 1) return 0;
    uint64_t inner = 1;
    for (int d = t->q_dim + 1; d < t->rank; d++)
        inner *= (uint64_t)t->dims[d];
    return (uint32_t)((e / inner) % (uint64_t)t->dims[t->q_dim]);
}

static double raw_value(const nml_ir_tensor *t, uint64_t e) {
    switch (t->type) {
    case NML_INT8:
        return ((const int8_t *)t->data)[e];
    case NML_UINT8:
        return t->data[e];
    case NML_INT16: {
        int16_t v;
        memcpy(&v, t->data + 2 * e, 2);
        return v;
    }
    default: {
        int32_t v;
        memcpy(&v, t->data + 4 * e, 4);
        return v;
    }
    }
}

/* Constant with quantization -> float32 real values: scale_c * (q - zero_point_c). */
static nml_status dequantize_constant(nml_ir *f, int i, nml_error *err) {
    nml_ir_tensor *t = &f->tensors[i];
    uint64_t n = nml_ir_tensor_count(t);
    float *v = malloc((size_t)(n ? n : 1) * sizeof *v);
    if (!v) return nml_fail(err, NML_E_NOMEM, "tensor %d: out of memory", i);
    for (uint64_t e = 0; e < n; e++) {
        uint32_t c = channel_of(t, e);
        double zp = t->zero_points ? (double)t->zero_points[c] : 0.0;
        v[e] = (float)((double)t->scales[c] * (raw_value(t, e) - zp));
    }
    nml_status st = nml_ir_set_quant(f, i, 0, NULL, NULL, 0, err);
    if (st == NML_OK) st = nml_ir_set_data(f, i, NML_FLOAT32, v, (size_t)n * sizeof *v, err);
    free(v);
    return st;
}

static nml_status convert_tensor(nml_ir *f, int i, nml_error *err) {
    nml_ir_tensor *t = &f->tensors[i];
    if (t->n_q == 0 || !is_quantized_type(t->type)) return NML_OK;
    if (t->data) return dequantize_constant(f, i, err);
    if (t->type == NML_INT32) return NML_OK; /* quantized int32 activations stay integers */
    t->type = NML_FLOAT32;
    return nml_ir_set_quant(f, i, 0, NULL, NULL, 0, err);
}

/* QUANTIZE/DEQUANTIZE compute the identity on real values: a RESHAPE to the same shape. */
static nml_status make_identity(nml_ir *f, int op_index, nml_error *err) {
    nml_ir_op *op = &f->ops[op_index];
    const nml_ir_tensor *out = &f->tensors[op->outputs[0]];
    int32_t rank = out->rank, dims[NML_MAX_RANK];
    memcpy(dims, out->dims, sizeof dims);
    char name[96];
    nml_format(name, sizeof name, "identity_shape_%d", op_index);
    int shape;
    NML_TRY(nml_ir_add_tensor(f, name, NML_INT32, 1, &rank, dims, (size_t)rank * 4, &shape, err));
    op = &f->ops[op_index]; /* the tensor table may have moved, not the op table */
    op->builtin = NML_OP_RESHAPE;
    op->version = 1;
    nml_op_params_default(&op->params);
    op->params.new_shape_len = rank;
    memcpy(op->params.new_shape, dims, sizeof dims);
    op->inputs[1] = shape;
    op->n_inputs = 2;
    return NML_OK;
}

nml_status nml_recalib_float_twin(const nml_ir *q, nml_ir *f, nml_error *err) {
    NML_TRY(nml_ir_clone(f, q, err));
    nml_status st = NML_OK;
    int n = f->n_tensors;
    for (int i = 0; st == NML_OK && i < n; i++)
        st = convert_tensor(f, i, err);
    for (int i = 0; st == NML_OK && i < f->n_ops; i++)
        if (f->ops[i].builtin == NML_OP_QUANTIZE || f->ops[i].builtin == NML_OP_DEQUANTIZE)
            st = make_identity(f, i, err);
    if (st == NML_OK) st = nml_ir_validate(f, err);
    if (st != NML_OK) {
        nml_ir_free(f);
        return nml_error_prefix(err, "float twin: ");
    }
    return NML_OK;
}
