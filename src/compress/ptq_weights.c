/* The weight-only rewrites: dynamic range (int8 weights for the hybrid kernels) and float16
 * (constants halved in size, expanded by DEQUANTIZE operators). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compress/ptq_internal.h"

static int weight_axis(int32_t builtin) {
    switch (builtin) {
    case NML_OP_CONV_2D:
    case NML_OP_FULLY_CONNECTED:
        return 0;
    case NML_OP_DEPTHWISE_CONV_2D:
        return 3;
    default:
        return -2; /* no hybrid kernel */
    }
}

/* int8 copy of float weights w, per channel along axis (-1: per tensor). */
static nml_status int8_weights(nml_ir *ir, int w, int axis, int *out, nml_error *err) {
    const nml_ir_tensor *t = &ir->tensors[w];
    const uint64_t n = nml_ir_tensor_count(t);
    const int channels = axis >= 0 ? t->dims[axis] : 1;
    float *scales = malloc((size_t)channels * sizeof *scales);
    int8_t *q = malloc(n ? (size_t)n : 1);
    nml_status st =
        scales && q ? NML_OK : nml_fail(err, NML_E_NOMEM, "quantize: out of memory for weights");
    const float *v = (const float *)(const void *)t->data;
    if (st == NML_OK) st = nml_weight_scales(v, t->rank, t->dims, axis, 127, scales, err);
    if (st == NML_OK) st = nml_quantize_weights(v, t->rank, t->dims, axis, 127, scales, q, err);
    if (st == NML_OK) {
        char name[512];
        int32_t dims[NML_MAX_RANK];
        snprintf(name, sizeof name, "%s", t->name);
        memcpy(dims, t->dims, sizeof dims);
        const int rank = t->rank;
        st = nml_ir_add_tensor(ir, name, NML_INT8, rank, dims, q, (size_t)n, out, err);
    }
    if (st == NML_OK)
        st =
            nml_ir_set_quant(ir, *out, (uint32_t)channels, scales, NULL, axis >= 0 ? axis : 0, err);
    free(scales);
    free(q);
    return st;
}

nml_status ptq_dynamic_range(nml_ir *ir, const nml_quant_options *o, nml_quant_report *r,
                             nml_error *err) {
    const int n_original = ir->n_tensors;
    int *done = malloc(((size_t)n_original + 1) * sizeof *done);
    if (!done) return nml_fail(err, NML_E_NOMEM, "quantize: out of memory");
    for (int t = 0; t < n_original; t++)
        done[t] = -1;
    nml_status st = NML_OK;
    for (int i = 0; i < ir->n_ops && st == NML_OK; i++) {
        const int axis = weight_axis(ir->ops[i].builtin);
        if (axis < -1 || ir->ops[i].n_inputs < 2) continue;
        const int w = ir->ops[i].inputs[1];
        if (w < 0 || w >= n_original) continue;
        const nml_ir_tensor *t = &ir->tensors[w];
        if (t->type != NML_FLOAT32 || !t->data || nml_ir_tensor_count(t) < o->min_elements)
            continue;
        if (done[w] < 0) {
            st = int8_weights(ir, w, o->per_channel ? axis : -1, &done[w], err);
            if (st != NML_OK) {
                nml_error_prefix(err, "operator %d (%s): ", i, nml_op_name(ir->ops[i].builtin));
                break;
            }
            r->weights_quantized++;
        }
        ir->ops[i].inputs[1] = done[w];
    }
    free(done);
    return st;
}

/* Converts constant t to float16 behind a DEQUANTIZE operator placed at position *pos. */
static nml_status halve(nml_ir *ir, int t, int *pos, nml_error *err) {
    const uint64_t n = nml_ir_tensor_count(&ir->tensors[t]);
    uint16_t *h = malloc((size_t)(n ? n : 1) * sizeof *h);
    if (!h) return nml_fail(err, NML_E_NOMEM, "quantize: out of memory for tensor %d", t);
    const float *v = (const float *)(const void *)ir->tensors[t].data;
    for (uint64_t i = 0; i < n; i++) {
        /* the converter saturates to the largest finite half first; NaN stays NaN */
        const float c = v[i] > 65504.0f ? 65504.0f : (v[i] < -65504.0f ? -65504.0f : v[i]);
        h[i] = nml_f32_to_f16(c);
    }
    char name[512], renamed[512];
    int32_t dims[NML_MAX_RANK];
    snprintf(name, sizeof name, "%s", ir->tensors[t].name);
    snprintf(renamed, sizeof renamed, "%s/dequantize", ir->tensors[t].name);
    memcpy(dims, ir->tensors[t].dims, sizeof dims);
    int half;
    nml_status st = nml_ir_add_tensor(ir, name, NML_FLOAT16, ir->tensors[t].rank, dims, h,
                                      (size_t)n * sizeof *h, &half, err);
    free(h);
    NML_TRY(st);
    /* the float32 tensor stays where the model reads it, now computed by DEQUANTIZE */
    char *copy = malloc(strlen(renamed) + 1);
    if (!copy) return nml_fail(err, NML_E_NOMEM, "quantize: out of memory");
    memcpy(copy, renamed, strlen(renamed) + 1);
    NML_TRY(nml_ir_set_data(ir, t, NML_FLOAT32, NULL, 0, err));
    free(ir->tensors[t].name);
    ir->tensors[t].name = copy;
    const int32_t in = half, out = t;
    NML_TRY(nml_ir_insert_op(ir, *pos, NML_OP_DEQUANTIZE, NULL, 1, &in, 1, &out, NULL, err));
    (*pos)++;
    return NML_OK;
}

nml_status ptq_float16(nml_ir *ir, const nml_quant_options *o, nml_quant_report *r,
                       nml_error *err) {
    const int n_original = ir->n_tensors;
    int pos = 0;
    for (int t = 0; t < n_original; t++) {
        const nml_ir_tensor *x = &ir->tensors[t];
        if (x->type != NML_FLOAT32 || !x->data || nml_ir_count_uses(ir, t) == 0 ||
            nml_ir_tensor_count(x) < o->min_elements)
            continue;
        if (halve(ir, t, &pos, err) != NML_OK)
            return nml_error_prefix(err, "quantize: tensor %d: ", t);
        r->weights_quantized++;
    }
    return NML_OK;
}
