/* MAC counts per operator; the convention is documented in include/nanoml/macs.h. */
#include "nanoml/macs.h"

static uint64_t count(const nml_tensor *t) {
    if (!t) return 0;
    uint64_t n = 1;
    for (uint32_t i = 0; i < t->rank; i++)
        n *= (uint64_t)t->dims[i];
    return n;
}

/* dims[i] counted from the end (1 = last), or 0 when the tensor is too small. */
static uint64_t dim_back(const nml_tensor *t, uint32_t i) {
    return t && i >= 1 && i <= t->rank ? (uint64_t)t->dims[t->rank - i] : 0;
}

/* Product of the spatial filter dims KH x KW of an OHWI / 1HWC filter. */
static uint64_t filter_window(const nml_tensor *f) {
    return f && f->rank == 4 ? (uint64_t)f->dims[1] * (uint64_t)f->dims[2] : 0;
}

static uint64_t batch_matmul(const nml_op_params *p, const nml_tensor *a) {
    /* inner dimension: the last dim of A, or the one before it when A is transposed */
    return p && p->adj_x ? dim_back(a, 2) : dim_back(a, 1);
}

uint64_t nml_op_macs(int32_t builtin, const nml_op_params *p, const nml_tensor *in0,
                     const nml_tensor *in1, const nml_tensor *in2, const nml_tensor *out0) {
    switch (builtin) {
    case NML_OP_CONV_2D:
        return count(out0) * filter_window(in1) * dim_back(in1, 1);
    case NML_OP_DEPTHWISE_CONV_2D:
        return count(out0) * filter_window(in1);
    case NML_OP_TRANSPOSE_CONV: /* inputs: output shape, filter (OC x KH x KW x IC), input */
        return count(in2) * filter_window(in1) * (in1 && in1->rank == 4 ? in1->dims[0] : 0);
    case NML_OP_FULLY_CONNECTED:
        return count(out0) * dim_back(in1, 1);
    case NML_OP_BATCH_MATMUL:
        return count(out0) * batch_matmul(p, in0);
    case NML_OP_AVERAGE_POOL_2D:
    case NML_OP_MAX_POOL_2D:
        return p && p->filter_w > 0 && p->filter_h > 0
                   ? count(out0) * (uint64_t)p->filter_w * (uint64_t)p->filter_h
                   : 0;
    case NML_OP_MEAN:
    case NML_OP_SUM:
    case NML_OP_REDUCE_MAX:
    case NML_OP_ARG_MAX:
        return count(in0);
    case NML_OP_RESIZE_BILINEAR:
        return 4 * count(out0);
    case NML_OP_RESHAPE:
    case NML_OP_SQUEEZE:
    case NML_OP_EXPAND_DIMS:
    case NML_OP_SHAPE:
    case NML_OP_PAD:
    case NML_OP_PADV2:
    case NML_OP_MIRROR_PAD:
    case NML_OP_CONCATENATION:
    case NML_OP_TRANSPOSE:
    case NML_OP_GATHER:
    case NML_OP_SLICE:
    case NML_OP_STRIDED_SLICE:
    case NML_OP_SPLIT:
    case NML_OP_SPLIT_V:
    case NML_OP_PACK:
    case NML_OP_UNPACK:
    case NML_OP_DEPTH_TO_SPACE:
    case NML_OP_SPACE_TO_DEPTH:
    case NML_OP_RESIZE_NEAREST_NEIGHBOR:
    case NML_OP_CUSTOM:
        return 0;
    default:
        return count(out0); /* element-wise */
    }
}

static nml_status operand(const nml_model *m, const int32_t *list, uint16_t n, uint32_t k,
                          nml_tensor *t, const nml_tensor **out, nml_error *err) {
    *out = NULL;
    if (k >= n || list[k] < 0) return NML_OK;
    NML_TRY(nml_model_tensor(m, (uint32_t)list[k], t, err));
    *out = t;
    return NML_OK;
}

nml_status nml_model_op_macs(const nml_model *m, uint32_t i, uint64_t *macs, nml_error *err) {
    nml_model_op op;
    nml_op_params p;
    nml_tensor t[4];
    const nml_tensor *in[3], *out;
    *macs = 0;
    NML_TRY(nml_model_operator(m, i, &op, err));
    NML_TRY(nml_model_op_params(m, i, &p, err));
    for (uint32_t k = 0; k < 3; k++)
        NML_TRY(operand(m, op.inputs, op.n_inputs, k, &t[k], &in[k], err));
    NML_TRY(operand(m, op.outputs, op.n_outputs, 0, &t[3], &out, err));
    *macs = nml_op_macs(op.builtin, &p, in[0], in[1], in[2], out);
    return NML_OK;
}
