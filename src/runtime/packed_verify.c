/* The loader's checks of packed tensors (src/runtime/model.c calls them through the weak
 * references of packed_weak.h): the data walk of each packed tensor, and where packed tensors
 * may be used. In their own file, with the symbol that links packed weights into a static
 * link (nml_packed_support, see NML_LINK_PACKED_WEIGHTS), so that a runtime without packed
 * weights carries neither these checks nor the decoders. */
#include "packed.h"

const uint8_t nml_packed_support = 1;

nml_status nml_packed_read_tensor(nml_tensor *t, uint8_t is_variable, const uint8_t *data,
                                  uint32_t data_bytes, nml_error *err) {
    nml_packed p;
    if (is_variable)
        return nml_fail(err, NML_E_FORMAT, "a variable tensor cannot hold packed weights");
    nml_status st = nml_packed_parse(t->pack, t->pack_bytes, t->type, t->rank, t->dims, data,
                                     data_bytes, &p, err);
    if (st != NML_OK) {
        nml_error_prefix(err, "packed weights: ");
        return st;
    }
    t->data = (void *)(uintptr_t)data; /* read only: alloc says so */
    t->bytes = data_bytes;
    t->alloc = NML_ALLOC_CONST;
    return NML_OK;
}

/* The data walk that nml_model_tensor leaves out (it only checks the header). */
nml_status nml_packed_verify_tensor(const nml_tensor *t, uint32_t i, nml_error *err) {
    nml_packed p;
    nml_status st = nml_packed_parse(t->pack, t->pack_bytes, t->type, t->rank, t->dims, t->data,
                                     t->bytes, &p, err);
    if (st == NML_OK) st = nml_packed_verify(&p, err);
    if (st != NML_OK) nml_error_prefix(err, "tensor %lu: packed weights: ", (unsigned long)i);
    return st;
}

/* Packed weights are read only by the filters of the kernels that decode them, along their
 * output-channel axis. */
nml_status nml_packed_check_use(const nml_model *m, uint32_t i, const nml_model_op *op,
                                nml_error *err) {
    nml_tensor t;
    for (uint32_t k = 0; k < op->n_inputs; k++) {
        if (op->inputs[k] < 0) continue;
        NML_TRY(nml_model_tensor(m, (uint32_t)op->inputs[k], &t, err));
        if (!t.pack) continue;
        const int filter = op->builtin == NML_OP_CONV_2D ||
                           op->builtin == NML_OP_DEPTHWISE_CONV_2D ||
                           op->builtin == NML_OP_FULLY_CONNECTED;
        if (!filter || k != 1)
            return nml_fail(err, NML_E_UNSUPPORTED,
                            "operator %lu (%s): input %lu (tensor %d) holds packed weights, which "
                            "only the filter of CONV_2D, DEPTHWISE_CONV_2D or FULLY_CONNECTED "
                            "can read",
                            (unsigned long)i, nml_model_op_name(op), (unsigned long)k,
                            (int)op->inputs[k]);
        nml_packed pk;
        NML_TRY(nml_packed_parse(t.pack, t.pack_bytes, t.type, t.rank, t.dims, t.data, t.bytes, &pk,
                                 err));
        const uint32_t axis = op->builtin == NML_OP_DEPTHWISE_CONV_2D ? t.rank - 1u : 0u;
        if (pk.row_axis != axis)
            return nml_fail(err, NML_E_FORMAT,
                            "operator %lu (%s): filter (tensor %d) is packed along axis %u, the "
                            "output channels are axis %lu",
                            (unsigned long)i, nml_model_op_name(op), (int)op->inputs[k],
                            (unsigned)pk.row_axis, (unsigned long)axis);
    }
    return NML_OK;
}

static nml_status io_not_packed(const nml_model *m, int inputs, nml_error *err) {
    nml_tensor t;
    const uint32_t n = inputs ? m->n_inputs : m->n_outputs;
    for (uint32_t i = 0; i < n; i++) {
        const int32_t idx = inputs ? nml_model_input(m, i) : nml_model_output(m, i);
        NML_TRY(nml_model_tensor(m, (uint32_t)idx, &t, err));
        if (t.pack)
            return nml_fail(err, NML_E_FORMAT, "subgraph %s %lu (tensor %d) holds packed weights",
                            inputs ? "input" : "output", (unsigned long)i, (int)idx);
    }
    return NML_OK;
}

nml_status nml_packed_check_io(const nml_model *m, nml_error *err) {
    NML_TRY(io_not_packed(m, 1, err));
    return io_not_packed(m, 0, err);
}
