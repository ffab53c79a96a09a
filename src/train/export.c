/* Network -> host IR. Nodes are visited in execution order. Before a layer is exported the
 * exporter looks ahead along its single consumer: a BatchNormalization there is folded into the
 * layer's weights (when the layer has no activation of its own), and an Activation layer there
 * becomes the layer's activation. The activation is then fused into the operator when TFLite
 * allows it (relu, relu6 on ops with a fused_activation_function) and emitted as its own
 * operator otherwise (tanh, logistic, softmax). Nodes absorbed this way emit nothing. */
#include "nanoml/train_export.h"

#include <stdlib.h>
#include <string.h>

#include "layer_util.h"
#include "net_internal.h"

/* Thin wrappers over the IR: every exported operator has exactly one output. */
static nml_status ir_add_tensor(nml_ir *ir, const char *name, int type, int rank,
                                const int32_t *dims, const void *data, size_t bytes, int *index,
                                nml_error *err) {
    return nml_ir_add_tensor(ir, name, type, rank, dims, data, bytes, index, err);
}
static nml_status ir_add_op(nml_ir *ir, int32_t builtin, const nml_op_params *params, int n_in,
                            const int32_t *in, int32_t out, int *index, nml_error *err) {
    return nml_ir_add_op(ir, builtin, params, n_in, in, 1, &out, index, err);
}
static nml_status ir_set_io(nml_ir *ir, int n_in, const int32_t *in, int n_out, const int32_t *out,
                            nml_error *err) {
    return nml_ir_set_io(ir, n_in, in, n_out, out, err);
}

/* A constant tensor named "LAYER/suffix" with `rank` dims of esize-byte elements. */
static nml_status export_const(nml_export_ctx *x, const nml_layer *l, const char *suffix, int type,
                               size_t esize, int rank, const int32_t *dims, const void *data,
                               int32_t *index, nml_error *err) {
    char name[NML_LAYER_NAME_MAX + 32];
    snprintf(name, sizeof name, "%s/%s", l->name, suffix);
    size_t count = 1;
    for (int i = 0; i < rank; i++)
        count *= (size_t)dims[i];
    int idx;
    NML_TRY(ir_add_tensor(x->ir, name, type, rank, dims, data, count * esize, &idx, err));
    *index = idx;
    return NML_OK;
}

nml_status nml_export_const(nml_export_ctx *x, const nml_layer *l, const char *suffix, int rank,
                            const int32_t *dims, const float *data, int32_t *index,
                            nml_error *err) {
    return export_const(x, l, suffix, NML_FLOAT32, sizeof(float), rank, dims, data, index, err);
}

nml_status nml_export_const_i32(nml_export_ctx *x, const nml_layer *l, const char *suffix, int rank,
                                const int32_t *dims, const int32_t *data, int32_t *index,
                                nml_error *err) {
    return export_const(x, l, suffix, NML_INT32, sizeof(int32_t), rank, dims, data, index, err);
}

nml_status nml_export_activation(nml_export_ctx *x, const char *name, const nml_shape *shape,
                                 int32_t *index, nml_error *err) {
    int32_t dims[NML_MAX_RANK];
    if (shape->rank < 1 || shape->rank >= NML_MAX_RANK)
        return nml_fail(err, NML_E_SHAPE, "%s: cannot export a rank-%d tensor", name,
                        (int)shape->rank);
    dims[0] = 1;
    for (int32_t i = 0; i < shape->rank; i++)
        dims[i + 1] = shape->dims[i];
    int idx;
    NML_TRY(ir_add_tensor(x->ir, name, NML_FLOAT32, shape->rank + 1, dims, NULL, 0, &idx, err));
    *index = idx;
    return NML_OK;
}

nml_status nml_export_op(nml_export_ctx *x, const nml_layer *l, int32_t builtin,
                         const nml_op_params *params, int n_in, const int32_t *in, int32_t out,
                         nml_error *err) {
    int idx;
    NML_TRY(ir_add_op(x->ir, builtin, params, n_in, in, out, &idx, err));
    nml_ir_op *op = &x->ir->ops[idx];
    if (op->version < 1) op->version = 1;
    if (!op->name) op->name = strdup(l->name); /* provenance only: a failed copy is harmless */
    return NML_OK;
}

/* The node consuming node k when it is the only consumer and k is not a network output. */
static int sole_consumer(const nml_net *net, int k) {
    const nml_node *n = &net->nodes[k];
    if (n->n_consumers != 1 || n->is_output) return -1;
    for (int c = k + 1; c < net->n_nodes; c++)
        for (int j = 0; j < net->nodes[c].n_in; j++)
            if (net->nodes[c].in[j] == k) return c;
    return -1;
}

static int32_t tflite_activation(nml_afn a) {
    switch (a) {
    case NML_AFN_RELU:
        return NML_ACT_RELU;
    case NML_AFN_RELU6:
        return NML_ACT_RELU6;
    default:
        return -1;
    }
}

static int32_t activation_op(nml_afn a) {
    switch (a) {
    case NML_AFN_RELU:
        return NML_OP_RELU;
    case NML_AFN_RELU6:
        return NML_OP_RELU6;
    case NML_AFN_TANH:
        return NML_OP_TANH;
    case NML_AFN_SIGMOID:
        return NML_OP_LOGISTIC;
    case NML_AFN_SOFTMAX:
        return NML_OP_SOFTMAX;
    case NML_AFN_LINEAR:
        break;
    }
    return -1;
}

typedef struct chain {
    int members[3], n_members; /* node k and the nodes it absorbs, in order */
    int last;                  /* the last node the exported operators stand for */
    nml_afn act;               /* activation at the end of the chain */
    float *fold_scale, *fold_shift;
} chain;

/* Decides which following nodes node k absorbs (see the file comment). */
static nml_status plan_chain(const nml_net *net, int k, char *absorbed, chain *ch, nml_error *err) {
    const nml_layer *l = net->nodes[k].layer;
    memset(ch, 0, sizeof *ch);
    ch->last = k;
    ch->members[ch->n_members++] = k;
    ch->act = l->act;
    int c = sole_consumer(net, k);
    if ((l->ops->flags & NML_LAYER_FOLDS_AFFINE) && ch->act == NML_AFN_LINEAR && c >= 0 &&
        nml_layer_is_batch_norm(net->nodes[c].layer)) {
        NML_TRY(nml_batch_norm_affine(net->nodes[c].layer, &ch->fold_scale, &ch->fold_shift, err));
        absorbed[c] = 1;
        ch->last = c;
        ch->members[ch->n_members++] = c;
        ch->act = net->nodes[c].layer->act;
        c = sole_consumer(net, c);
    }
    if (ch->act == NML_AFN_LINEAR && c >= 0 && nml_layer_is_activation(net->nodes[c].layer)) {
        absorbed[c] = 1;
        ch->last = c;
        ch->members[ch->n_members++] = c;
        ch->act = net->nodes[c].layer->act;
    }
    return NML_OK;
}

static nml_status export_node(const nml_net *net, nml_ir *ir, int k, int32_t *tensor_of,
                              char *absorbed, nml_error *err) {
    const nml_node *n = &net->nodes[k];
    nml_layer *l = n->layer;
    if (nml_layer_is_batch_norm(l))
        return nml_fail(err, NML_E_UNSUPPORTED,
                        "%s (BatchNormalization): cannot fold: it must "
                        "directly follow a Conv2D, DepthwiseConv2D or Dense without activation "
                        "whose output only it reads",
                        l->name);
    if (!l->ops->export_ir)
        return nml_fail(err, NML_E_UNSUPPORTED, "%s (%s): layer has no export_ir callback", l->name,
                        l->ops->kind);
    chain ch;
    NML_TRY(plan_chain(net, k, absorbed, &ch, err));
    int32_t in[NML_MAX_OP_INPUTS];
    nml_shape in_shape[NML_MAX_OP_INPUTS];
    for (int j = 0; j < n->n_in; j++) {
        in[j] = tensor_of[n->in[j]];
        in_shape[j] = net->nodes[n->in[j]].shape;
    }
    nml_export_ctx x;
    memset(&x, 0, sizeof x);
    x.ir = ir;
    x.n_in = n->n_in;
    x.in = in;
    x.in_shape = in_shape;
    x.out_shape = n->shape;
    x.out = -1;
    x.fused_activation = NML_ACT_NONE;
    x.fold_scale = ch.fold_scale;
    x.fold_shift = ch.fold_shift;
    const int32_t fused = tflite_activation(ch.act);
    if ((l->ops->flags & NML_LAYER_FUSES_ACTIVATION) && fused >= 0)
        x.fused_activation = (uint8_t)fused;
    nml_status st = l->ops->export_ir(l, &x, err);
    free(ch.fold_scale);
    free(ch.fold_shift);
    if (st != NML_OK) return nml_error_prefix(err, "%s (%s): ", l->name, l->ops->kind);
    if (x.out < 0 || x.out >= ir->n_tensors)
        return nml_fail(err, NML_E_INTERNAL, "%s (%s): export_ir produced no output tensor",
                        l->name, l->ops->kind);
    int32_t result = x.out;
    if (ch.act != NML_AFN_LINEAR && x.fused_activation == NML_ACT_NONE) {
        const nml_layer *last = net->nodes[ch.last].layer;
        char name[NML_LAYER_NAME_MAX + 16];
        if (ch.last != k)
            snprintf(name, sizeof name, "%s", last->name);
        else
            snprintf(name, sizeof name, "%s/%s", l->name, nml_afn_name(ch.act));
        NML_TRY(nml_export_activation(&x, name, &n->shape, &result, err));
        nml_op_params p;
        nml_op_params_default(&p);
        p.beta = 1.0f;
        NML_TRY(nml_export_op(&x, last, activation_op(ch.act), &p, 1, &x.out, result, err));
    }
    for (int i = 0; i < ch.n_members; i++)
        tensor_of[ch.members[i]] = result;
    return NML_OK;
}

nml_status nml_net_export(const nml_net *net, nml_ir *ir, nml_error *err) {
    if (!net->built) return nml_fail(err, NML_E_STATE, "%s: network is not built", net->name);
    int32_t *tensor_of = malloc((size_t)net->n_nodes * sizeof *tensor_of);
    char *absorbed = calloc((size_t)net->n_nodes, 1);
    nml_status st = NML_OK;
    if (!tensor_of || !absorbed) st = nml_fail(err, NML_E_NOMEM, "out of memory");
    nml_export_ctx x;
    memset(&x, 0, sizeof x);
    x.ir = ir;
    for (int k = 0; st == NML_OK && k < net->n_nodes; k++) {
        const nml_node *n = &net->nodes[k];
        if (!n->layer) {
            st = nml_export_activation(&x, n->input_name, &n->shape, &tensor_of[k], err);
        } else if (!absorbed[k]) {
            st = export_node(net, ir, k, tensor_of, absorbed, err);
        }
    }
    if (st == NML_OK) {
        int32_t ins[NML_NET_MAX_IO], outs[NML_NET_MAX_IO];
        for (int i = 0; i < net->n_inputs; i++)
            ins[i] = tensor_of[net->inputs[i]];
        for (int i = 0; i < net->n_outputs; i++)
            outs[i] = tensor_of[net->outputs[i]];
        st = ir_set_io(ir, net->n_inputs, ins, net->n_outputs, outs, err);
    }
    free(tensor_of);
    free(absorbed);
    return st;
}
