/* A loaded runtime model copied into the IR (nml_recalib_read_model). */
#include <stdlib.h>
#include <string.h>

#include "nanoml/recalib.h"

static nml_status read_quant(nml_ir *ir, int index, const nml_tensor *t, nml_error *err) {
    if (t->n_q == 0) return NML_OK;
    float *scales = malloc(t->n_q * sizeof *scales);
    int64_t *zps = malloc(t->n_q * sizeof *zps);
    nml_status st = NML_OK;
    if (!scales || !zps) st = nml_fail(err, NML_E_NOMEM, "out of memory");
    for (uint32_t c = 0; st == NML_OK && c < t->n_q; c++) {
        scales[c] = nml_tensor_channel_scale(t, c);
        zps[c] = nml_tensor_channel_zero_point(t, c);
    }
    if (st == NML_OK) st = nml_ir_set_quant(ir, index, t->n_q, scales, zps, t->q_dim, err);
    free(scales);
    free(zps);
    return st;
}

static nml_status read_tensor(const nml_model *m, uint32_t i, nml_ir *ir, nml_error *err) {
    nml_tensor t;
    NML_TRY(nml_model_tensor(m, i, &t, err));
    int const_data = t.alloc == NML_ALLOC_CONST && t.data;
    int index;
    NML_TRY(nml_ir_add_tensor(ir, t.name, t.type, t.rank, t.dims, const_data ? t.data : NULL,
                              const_data ? t.bytes : 0, &index, err));
    ir->tensors[index].is_variable = t.alloc == NML_ALLOC_PERSIST;
    return read_quant(ir, index, &t, err);
}

static nml_status read_op(const nml_model *m, uint32_t i, nml_ir *ir, nml_error *err) {
    nml_model_op op;
    NML_TRY(nml_model_operator(m, i, &op, err));
    if (op.builtin == NML_OP_CUSTOM)
        return nml_fail(err, NML_E_UNSUPPORTED, "operator %u: custom operator '%s'", (unsigned)i,
                        op.custom_code ? op.custom_code : "");
    if (op.n_inputs > NML_MAX_OP_INPUTS || op.n_outputs > NML_MAX_OP_OUTPUTS)
        return nml_fail(err, NML_E_LIMIT, "operator %u: %u inputs, %u outputs", (unsigned)i,
                        (unsigned)op.n_inputs, (unsigned)op.n_outputs);
    nml_op_params params;
    NML_TRY(nml_model_op_params(m, i, &params, err));
    int index;
    NML_TRY(nml_ir_add_op(ir, op.builtin, &params, op.n_inputs, op.inputs, op.n_outputs, op.outputs,
                          &index, err));
    ir->ops[index].version = op.version;
    return NML_OK;
}

static nml_status read_io(const nml_model *m, nml_ir *ir, nml_error *err) {
    int32_t *in = malloc((m->n_inputs + 1) * sizeof *in);
    int32_t *out = malloc((m->n_outputs + 1) * sizeof *out);
    nml_status st = in && out ? NML_OK : nml_fail(err, NML_E_NOMEM, "out of memory");
    for (uint32_t i = 0; st == NML_OK && i < m->n_inputs; i++)
        in[i] = nml_model_input(m, i);
    for (uint32_t i = 0; st == NML_OK && i < m->n_outputs; i++)
        out[i] = nml_model_output(m, i);
    if (st == NML_OK) st = nml_ir_set_io(ir, (int)m->n_inputs, in, (int)m->n_outputs, out, err);
    free(in);
    free(out);
    return st;
}

nml_status nml_recalib_read_model(const nml_model *model, nml_ir *ir, nml_error *err) {
    nml_ir_init(ir);
    nml_status st = NML_OK;
    for (uint32_t i = 0; st == NML_OK && i < model->n_tensors; i++)
        if ((st = read_tensor(model, i, ir, err)) != NML_OK)
            nml_error_prefix(err, "tensor %u: ", i);
    for (uint32_t i = 0; st == NML_OK && i < model->n_operators; i++)
        st = read_op(model, i, ir, err);
    if (st == NML_OK) st = read_io(model, ir, err);
    if (st != NML_OK) nml_ir_free(ir);
    return st;
}
