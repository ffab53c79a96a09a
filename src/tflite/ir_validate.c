/* Structural checks of an IR before it is serialized or handed to another pass. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nanoml/ir.h"
#include "runtime/packed.h"
#include "tflite/ir_internal.h"

static nml_status validate_quant(const nml_ir_tensor *t, nml_error *err) {
    if (t->n_q == 0) return NML_OK;
    if (!t->scales || !t->zero_points)
        return nml_fail(err, NML_E_FORMAT, "%u scales or zero points missing", t->n_q);
    if (t->n_q > 1) {
        if (t->q_dim < 0 || t->q_dim >= t->rank)
            return nml_fail(err, NML_E_SHAPE, "quantized dimension %ld outside a rank %d shape",
                            (long)t->q_dim, t->rank);
        if ((uint32_t)t->dims[t->q_dim] != t->n_q)
            return nml_fail(err, NML_E_SHAPE, "%u per-channel scales, dimension %ld has %ld",
                            t->n_q, (long)t->q_dim, (long)t->dims[t->q_dim]);
    }
    for (uint32_t c = 0; c < t->n_q; c++)
        if (!isfinite(t->scales[c]))
            return nml_fail(err, NML_E_FORMAT, "scale %u is not finite", c);
    return NML_OK;
}

nml_status nml_ir_check_packed(const nml_ir_tensor *t, nml_error *err) {
    nml_packed p;
    if (t->pack_bytes > UINT32_MAX || t->data_bytes > UINT32_MAX)
        return nml_fail(err, NML_E_LIMIT, "packed weights exceed 4 GB");
    if (t->rank < 1 || t->rank > NML_MAX_RANK)
        return nml_fail(err, NML_E_SHAPE, "packed weights need rank 1..%d, not %d", NML_MAX_RANK,
                        t->rank);
    nml_status st = nml_packed_parse(t->pack, (uint32_t)t->pack_bytes, t->type, t->rank, t->dims,
                                     t->data, (uint32_t)t->data_bytes, &p, err);
    if (st == NML_OK) st = nml_packed_verify(&p, err);
    if (st != NML_OK) nml_error_prefix(err, "packed weights: ");
    return st;
}

static nml_status validate_tensor(const nml_ir_tensor *t, nml_error *err) {
    if (!t->name) return nml_fail(err, NML_E_FORMAT, "no name");
    if (!nml_ir_dtype_known(t->type))
        return nml_fail(err, NML_E_UNSUPPORTED, "unknown type %d", t->type);
    if (t->rank < 0 || t->rank > NML_MAX_RANK)
        return nml_fail(err, NML_E_LIMIT, "rank %d outside 0..%d", t->rank, NML_MAX_RANK);
    for (int i = 0; i < t->rank; i++)
        if (t->dims[i] < 0)
            return nml_fail(err, NML_E_SHAPE,
                            "dimension %d is %ld (dynamic shapes are not supported)", i,
                            (long)t->dims[i]);
    if (t->pack) {
        NML_TRY(nml_ir_check_packed(t, err));
    } else if (t->data) {
        size_t want;
        NML_TRY(nml_ir_tensor_bytes(t, &want, err));
        if (want != t->data_bytes)
            return nml_fail(err, NML_E_SHAPE, "%zu data bytes, shape needs %zu", t->data_bytes,
                            want);
    } else if (t->data_bytes) {
        return nml_fail(err, NML_E_FORMAT, "%zu data bytes but no data", t->data_bytes);
    }
    return validate_quant(t, err);
}

static int tensor_ok(const nml_ir *ir, int32_t t) {
    return t >= 0 && t < ir->n_tensors;
}

static nml_status validate_io(const nml_ir *ir, nml_error *err) {
    if (ir->n_inputs < 0 || ir->n_outputs < 0 || (ir->n_inputs && !ir->inputs) ||
        (ir->n_outputs && !ir->outputs))
        return nml_fail(err, NML_E_FORMAT, "graph inputs/outputs malformed");
    for (int i = 0; i < ir->n_inputs; i++) {
        int32_t t = ir->inputs[i];
        if (!tensor_ok(ir, t))
            return nml_fail(err, NML_E_FORMAT, "graph input %d is tensor %ld (IR has %d)", i,
                            (long)t, ir->n_tensors);
        if (ir->tensors[t].data)
            return nml_fail(err, NML_E_FORMAT, "graph input %d (%s) is a constant", i,
                            ir->tensors[t].name);
    }
    for (int i = 0; i < ir->n_outputs; i++) {
        if (!tensor_ok(ir, ir->outputs[i]))
            return nml_fail(err, NML_E_FORMAT, "graph output %d is tensor %ld (IR has %d)", i,
                            (long)ir->outputs[i], ir->n_tensors);
        if (ir->tensors[ir->outputs[i]].pack)
            return nml_fail(err, NML_E_FORMAT, "graph output %d (%s) holds packed weights", i,
                            ir->tensors[ir->outputs[i]].name);
    }
    return NML_OK;
}

/* Where each tensor's value comes from, for the order check. */
enum { SRC_NONE = 0, SRC_CONST, SRC_INPUT, SRC_VARIABLE, SRC_OP };

/* As the runtime's loader demands: filters only, packed along the output channels. */
static int packed_use_ok(const nml_ir *ir, const nml_ir_op *op, int k, int32_t t) {
    const nml_ir_tensor *w = &ir->tensors[t];
    const int filter = op->builtin == NML_OP_CONV_2D || op->builtin == NML_OP_DEPTHWISE_CONV_2D ||
                       op->builtin == NML_OP_FULLY_CONNECTED;
    if (!filter || k != 1 || w->pack_bytes < NML_PACK_HEADER_BYTES) return 0;
    nml_packed p;
    if (nml_packed_parse(w->pack, (uint32_t)w->pack_bytes, w->type, w->rank, w->dims, w->data,
                         (uint32_t)w->data_bytes, &p, NULL) != NML_OK)
        return 0;
    return p.row_axis == (op->builtin == NML_OP_DEPTHWISE_CONV_2D ? w->rank - 1 : 0);
}

static nml_status validate_op(const nml_ir *ir, int i, unsigned char *src, nml_error *err) {
    const nml_ir_op *op = &ir->ops[i];
    const char *name = nml_op_name(op->builtin);
    if (op->builtin < 0)
        return nml_fail(err, NML_E_FORMAT, "operator %d: code %ld is negative", i,
                        (long)op->builtin);
    if (op->builtin == NML_OP_CUSTOM && (!op->custom_code || !op->custom_code[0]))
        return nml_fail(err, NML_E_FORMAT, "operator %d (CUSTOM): no custom code", i);
    if (op->n_inputs < 0 || op->n_inputs > NML_MAX_OP_INPUTS || op->n_outputs < 0 ||
        op->n_outputs > NML_MAX_OP_OUTPUTS)
        return nml_fail(err, NML_E_LIMIT, "operator %d (%s): %d inputs, %d outputs", i, name,
                        op->n_inputs, op->n_outputs);
    if (op->custom_options_bytes && !op->custom_options)
        return nml_fail(err, NML_E_FORMAT, "operator %d (%s): custom options missing", i, name);
    /* the option arrays hold NML_MAX_RANK entries; longer lengths would be read past them */
    if (op->builtin == NML_OP_RESHAPE &&
        (op->params.new_shape_len < -1 || op->params.new_shape_len > NML_MAX_RANK))
        return nml_fail(err, NML_E_LIMIT, "operator %d (RESHAPE): new_shape_len %ld outside -1..%d",
                        i, (long)op->params.new_shape_len, NML_MAX_RANK);
    if (op->builtin == NML_OP_SQUEEZE &&
        (op->params.squeeze_len < 0 || op->params.squeeze_len > NML_MAX_RANK))
        return nml_fail(err, NML_E_LIMIT, "operator %d (SQUEEZE): squeeze_len %ld outside 0..%d", i,
                        (long)op->params.squeeze_len, NML_MAX_RANK);
    for (int k = 0; k < op->n_inputs; k++) {
        int32_t t = op->inputs[k];
        if (t == -1) continue;
        if (!tensor_ok(ir, t))
            return nml_fail(err, NML_E_FORMAT,
                            "operator %d (%s): input %d is tensor %ld (IR has %d)", i, name, k,
                            (long)t, ir->n_tensors);
        if (ir->tensors[t].pack && !packed_use_ok(ir, op, k, t))
            return nml_fail(err, NML_E_FORMAT,
                            "operator %d (%s): input %d, tensor %ld (%s), holds packed weights; "
                            "only the filter of CONV_2D, DEPTHWISE_CONV_2D or FULLY_CONNECTED "
                            "along its output channels can",
                            i, name, k, (long)t, ir->tensors[t].name);
        if (src[t] == SRC_NONE) {
            int later = nml_ir_producer(ir, t);
            if (later >= 0)
                return nml_fail(err, NML_E_FORMAT,
                                "operator %d (%s): reads tensor %ld (%s) before operator %d "
                                "writes it",
                                i, name, (long)t, ir->tensors[t].name, later);
            return nml_fail(err, NML_E_FORMAT,
                            "operator %d (%s): reads tensor %ld (%s), which is no constant, "
                            "graph input or variable and no earlier operator writes",
                            i, name, (long)t, ir->tensors[t].name);
        }
    }
    for (int k = 0; k < op->n_outputs; k++) {
        int32_t t = op->outputs[k];
        if (!tensor_ok(ir, t))
            return nml_fail(err, NML_E_FORMAT,
                            "operator %d (%s): output %d is tensor %ld (IR has %d)", i, name, k,
                            (long)t, ir->n_tensors);
        const char *why = src[t] == SRC_CONST   ? "a constant"
                          : src[t] == SRC_INPUT ? "a graph input"
                          : src[t] == SRC_OP    ? "already written by another operator"
                                                : NULL;
        if (why)
            return nml_fail(err, NML_E_FORMAT,
                            "operator %d (%s): output %d, tensor %ld (%s), is %s", i, name, k,
                            (long)t, ir->tensors[t].name, why);
        if (src[t] != SRC_VARIABLE) src[t] = SRC_OP;
    }
    return NML_OK;
}

nml_status nml_ir_validate(const nml_ir *ir, nml_error *err) {
    if (ir->n_tensors < 0 || ir->n_ops < 0 || (ir->n_tensors && !ir->tensors) ||
        (ir->n_ops && !ir->ops))
        return nml_fail(err, NML_E_FORMAT, "IR tables malformed");
    for (int t = 0; t < ir->n_tensors; t++)
        if (validate_tensor(&ir->tensors[t], err) != NML_OK)
            return nml_error_prefix(err, "tensor %d (%s): ", t,
                                    ir->tensors[t].name ? ir->tensors[t].name : "?");
    NML_TRY(validate_io(ir, err));
    for (int m = 0; m < ir->n_metadata; m++)
        if (!ir->metadata[m].name || (ir->metadata[m].bytes && !ir->metadata[m].data))
            return nml_fail(err, NML_E_FORMAT, "metadata %d malformed", m);

    unsigned char *src = calloc((size_t)ir->n_tensors + 1, 1);
    if (!src) return nml_fail(err, NML_E_NOMEM, "validate: out of memory");
    for (int t = 0; t < ir->n_tensors; t++)
        src[t] = ir->tensors[t].data          ? SRC_CONST
                 : ir->tensors[t].is_variable ? SRC_VARIABLE
                                              : SRC_NONE;
    for (int i = 0; i < ir->n_inputs; i++)
        src[ir->inputs[i]] = SRC_INPUT;
    nml_status st = NML_OK;
    for (int i = 0; i < ir->n_ops && st == NML_OK; i++)
        st = validate_op(ir, i, src, err);
    free(src);
    return st;
}
