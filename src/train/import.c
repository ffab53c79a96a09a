/* Float32 IR -> trainable network (see train_import.h). Operators are visited in execution
 * order; each becomes one layer (a FULLY_CONNECTED on an image becomes Flatten + Dense), whose
 * weights are copied from the model's constants and whose inferred output shape is checked
 * against the model's, so an import that builds also computes what the model computes. */
#include "nanoml/train_import.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nanoml/train_layers.h"

typedef struct importer {
    const nml_ir *ir;
    nml_import_opts o;
    nml_net *net;
    int *handle;    /* per IR tensor: the network tensor holding it, -1 while none */
    char *absorbed; /* per operator: merged into its producer's layer */
    char (*input_names)[NML_LAYER_NAME_MAX];
    int n_input_names;
} importer;

static const char *op_name(const nml_ir *ir, int i) {
    return nml_op_name(ir->ops[i].builtin);
}

static nml_status op_fail(const importer *im, int i, nml_status st, const char *what,
                          nml_error *err) {
    return nml_fail(err, st, "operator %d (%s): %s", i, op_name(im->ir, i), what);
}

/* ---- tensors ---- */

static nml_status check_float(const nml_ir *ir, int t, int want_const, nml_error *err) {
    if (t < 0 || t >= ir->n_tensors)
        return nml_fail(err, NML_E_FORMAT, "tensor %d does not exist (model has %d)", t,
                        ir->n_tensors);
    const nml_ir_tensor *x = &ir->tensors[t];
    if (x->type != NML_FLOAT32 || x->n_q > 0)
        return nml_fail(err, NML_E_UNSUPPORTED,
                        "tensor %d (%s) is %s%s: training needs a float32 model (quantize after "
                        "training)",
                        t, x->name, nml_dtype_name(x->type), x->n_q ? " with quantization" : "");
    if (want_const && !x->data)
        return nml_fail(err, NML_E_UNSUPPORTED, "tensor %d (%s) must be constant weights", t,
                        x->name);
    if (!want_const && x->data)
        return nml_fail(err, NML_E_UNSUPPORTED,
                        "tensor %d (%s) is a constant where a computed value is expected", t,
                        x->name);
    if (x->is_variable)
        return nml_fail(err, NML_E_UNSUPPORTED, "tensor %d (%s) is a variable", t, x->name);
    return NML_OK;
}

/* Per-sample shape: the tensor without its batch dimension of 1. */
static nml_status sample_shape(const nml_ir *ir, int t, nml_shape *s, nml_error *err) {
    const nml_ir_tensor *x = &ir->tensors[t];
    if (x->rank < 2 || x->dims[0] != 1)
        return nml_fail(err, NML_E_UNSUPPORTED,
                        "tensor %d (%s) has no batch dimension of 1 (rank %d, first dimension %d)",
                        t, x->name, x->rank, x->rank ? (int)x->dims[0] : 0);
    memset(s, 0, sizeof *s);
    s->rank = x->rank - 1;
    for (int i = 1; i < x->rank; i++)
        s->dims[i - 1] = x->dims[i];
    return nml_shape_check(s, err);
}

static nml_status data_input(const importer *im, int i, int k, int *h, nml_error *err) {
    const nml_ir_op *op = &im->ir->ops[i];
    if (k >= op->n_inputs || op->inputs[k] < 0)
        return op_fail(im, i, NML_E_FORMAT, "an input is missing", err);
    if (check_float(im->ir, op->inputs[k], 0, err) != NML_OK)
        return nml_error_prefix(err, "operator %d (%s): ", i, op_name(im->ir, i));
    *h = im->handle[op->inputs[k]];
    if (*h < 0) return op_fail(im, i, NML_E_FORMAT, "reads a tensor computed later", err);
    return NML_OK;
}

/* A float constant input of the given rank (k-th input), or NULL with the error set. */
static const nml_ir_tensor *const_input(const importer *im, int i, int k, int rank,
                                        nml_error *err) {
    const nml_ir_op *op = &im->ir->ops[i];
    if (k >= op->n_inputs || op->inputs[k] < 0) {
        op_fail(im, i, NML_E_FORMAT, "weights are missing", err);
        return NULL;
    }
    if (check_float(im->ir, op->inputs[k], 1, err) != NML_OK) {
        nml_error_prefix(err, "operator %d (%s): ", i, op_name(im->ir, i));
        return NULL;
    }
    const nml_ir_tensor *x = &im->ir->tensors[op->inputs[k]];
    if (x->rank != rank) {
        nml_fail(err, NML_E_SHAPE, "operator %d (%s): tensor %s has rank %d, expected %d", i,
                 op_name(im->ir, i), x->name, x->rank, rank);
        return NULL;
    }
    return x;
}

/* ---- names ---- */

static int name_used(const importer *im, const char *name) {
    if (nml_net_find_layer(im->net, name)) return 1;
    for (int i = 0; i < im->n_input_names; i++)
        if (strcmp(im->input_names[i], name) == 0) return 1;
    return 0;
}

/* The tensor's name, shortened to fit and made unique in the network ("" lets the network
 * choose). */
static void layer_name(const importer *im, const char *base, const char *suffix, char *out) {
    char want[NML_LAYER_NAME_MAX];
    snprintf(want, sizeof want, "%.*s%s", (int)(NML_LAYER_NAME_MAX - 1 - strlen(suffix)), base,
             suffix);
    if (!want[0]) {
        out[0] = '\0';
        return;
    }
    snprintf(out, NML_LAYER_NAME_MAX, "%s", want);
    for (int k = 2; name_used(im, out) && k < 100000; k++) {
        char tail[16];
        int n = snprintf(tail, sizeof tail, "_%d", k);
        snprintf(out, NML_LAYER_NAME_MAX, "%.*s%s", (int)(NML_LAYER_NAME_MAX - 1 - n), want, tail);
    }
}

/* ---- activations ---- */

static int fused_afn(uint8_t act, nml_afn *afn) {
    switch (act) {
    case NML_ACT_NONE:
        *afn = NML_AFN_LINEAR;
        return 1;
    case NML_ACT_RELU:
        *afn = NML_AFN_RELU;
        return 1;
    case NML_ACT_RELU6:
        *afn = NML_AFN_RELU6;
        return 1;
    case NML_ACT_TANH:
        *afn = NML_AFN_TANH;
        return 1;
    default:
        return 0;
    }
}

/* The activation an activation operator computes; 0 for other operators. */
static int activation_op(const nml_ir_op *op, nml_afn *afn) {
    switch (op->builtin) {
    case NML_OP_TANH:
        *afn = NML_AFN_TANH;
        return 1;
    case NML_OP_LOGISTIC:
        *afn = NML_AFN_SIGMOID;
        return 1;
    case NML_OP_RELU:
        *afn = NML_AFN_RELU;
        return 1;
    case NML_OP_RELU6:
        *afn = NML_AFN_RELU6;
        return 1;
    case NML_OP_SOFTMAX:
        *afn = NML_AFN_SOFTMAX;
        return op->params.beta == 1.0f;
    default:
        return 0;
    }
}

/* The activation operator the exporter wrote for this operator's own activation: the only
 * reader of its output, named "<output>/<activation>". -1 when there is none. */
static int own_activation(const importer *im, int i, nml_afn *afn) {
    const nml_ir *ir = im->ir;
    if (im->o.split_activations || ir->ops[i].params.activation != NML_ACT_NONE) return -1;
    const int t = ir->ops[i].outputs[0];
    if (nml_ir_count_uses(ir, t) != 1) return -1;
    for (int j = i + 1; j < ir->n_ops; j++) {
        const nml_ir_op *c = &ir->ops[j];
        if (c->n_inputs < 1 || c->inputs[0] != t) continue;
        if (!activation_op(c, afn) || c->n_outputs != 1) return -1;
        char want[512];
        snprintf(want, sizeof want, "%s/%s", ir->tensors[t].name, nml_afn_name(*afn));
        return strcmp(ir->tensors[c->outputs[0]].name, want) == 0 ? j : -1;
    }
    return -1;
}

/* ---- layers ---- */

/* Adds the layer on the given inputs and checks its output shape against the model's tensor. */
static nml_status call_layer(importer *im, int i, nml_layer *l, int n_in, const int *in, int t,
                             int *out, nml_error *err) {
    if (!l) return op_fail(im, i, NML_E_NOMEM, "out of memory", err);
    if (nml_net_call(im->net, l, n_in, in, out, err) != NML_OK)
        return nml_error_prefix(err, "operator %d (%s): ", i, op_name(im->ir, i));
    nml_shape want;
    if (sample_shape(im->ir, t, &want, err) != NML_OK)
        return nml_error_prefix(err, "operator %d (%s): ", i, op_name(im->ir, i));
    if (!nml_shape_equal(&want, &l->out_shape)) {
        char a[64], b[64];
        return nml_fail(err, NML_E_SHAPE,
                        "operator %d (%s): the model's output %s is 1x%s, the "
                        "layer computes 1x%s",
                        i, op_name(im->ir, i), im->ir->tensors[t].name,
                        nml_shape_str(&want, a, sizeof a),
                        nml_shape_str(&l->out_shape, b, sizeof b));
    }
    return NML_OK;
}

static nml_status copy_param(const importer *im, int i, nml_layer *l, const char *which,
                             const nml_ir_tensor *src, nml_error *err) {
    nml_param *p = nml_layer_find_param(l, which);
    if (!src) return NML_OK;
    if (!p || (uint64_t)p->count != nml_ir_tensor_count(src))
        return nml_fail(err, NML_E_SHAPE,
                        "operator %d (%s): %s %s has %llu values, the layer "
                        "needs %zu",
                        i, op_name(im->ir, i), which, src->name,
                        (unsigned long long)nml_ir_tensor_count(src), p ? p->count : (size_t)0);
    memcpy(p->value, src->data, p->count * sizeof(float));
    return NML_OK;
}

/* The optional bias (input 2) of a convolution or matrix product. */
static nml_status bias_input(const importer *im, int i, int32_t channels, const nml_ir_tensor **b,
                             nml_error *err) {
    const nml_ir_op *op = &im->ir->ops[i];
    *b = NULL;
    if (op->n_inputs < 3 || op->inputs[2] < 0) return NML_OK;
    *b = const_input(im, i, 2, 1, err);
    if (!*b) return err ? err->status : NML_E_ARG;
    if ((*b)->dims[0] != channels)
        return nml_fail(err, NML_E_SHAPE, "operator %d (%s): bias has %d values for %d channels", i,
                        op_name(im->ir, i), (int)(*b)->dims[0], (int)channels);
    return NML_OK;
}

static nml_status check_geometry(const importer *im, int i, nml_error *err) {
    const nml_op_params *p = &im->ir->ops[i].params;
    if (p->stride_h < 1 || p->stride_w < 1)
        return op_fail(im, i, NML_E_FORMAT, "strides must be at least 1", err);
    if ((im->ir->ops[i].builtin == NML_OP_CONV_2D ||
         im->ir->ops[i].builtin == NML_OP_DEPTHWISE_CONV_2D) &&
        (p->dilation_h != 1 || p->dilation_w != 1))
        return op_fail(im, i, NML_E_UNSUPPORTED, "dilated convolutions cannot be trained", err);
    return NML_OK;
}

static nml_status import_conv(importer *im, int i, const char *name, nml_afn act, int *out,
                              nml_error *err) {
    const nml_ir_op *op = &im->ir->ops[i];
    int in;
    NML_TRY(data_input(im, i, 0, &in, err));
    NML_TRY(check_geometry(im, i, err));
    const nml_ir_tensor *w = const_input(im, i, 1, 4, err), *b = NULL;
    if (!w) return err ? err->status : NML_E_ARG;
    const int dw = op->builtin == NML_OP_DEPTHWISE_CONV_2D;
    NML_TRY(bias_input(im, i, dw ? w->dims[3] : w->dims[0], &b, err));
    const nml_ir_tensor *x = &im->ir->tensors[op->inputs[0]];
    const int32_t in_c = x->rank == 4 ? x->dims[3] : 0;
    nml_layer *l;
    if (dw) {
        if (w->dims[0] != 1 || in_c < 1 || w->dims[3] % in_c != 0)
            return op_fail(im, i, NML_E_SHAPE,
                           "depthwise filters must be 1 x H x W x (channels "
                           "x multiplier)",
                           err);
        l = nml_depthwise_conv2d(
            &(nml_depthwise_conv2d_opts){.name = name,
                                         .kernel_h = w->dims[1],
                                         .kernel_w = w->dims[2],
                                         .stride_h = op->params.stride_h,
                                         .stride_w = op->params.stride_w,
                                         .depth_multiplier = w->dims[3] / in_c,
                                         .same_padding = op->params.padding == NML_PAD_SAME,
                                         .no_bias = b == NULL,
                                         .activation = act});
    } else {
        if (w->dims[3] != in_c)
            return op_fail(im, i, NML_E_SHAPE, "filters do not match the input channels", err);
        l = nml_conv2d(&(nml_conv2d_opts){.name = name,
                                          .filters = w->dims[0],
                                          .kernel_h = w->dims[1],
                                          .kernel_w = w->dims[2],
                                          .stride_h = op->params.stride_h,
                                          .stride_w = op->params.stride_w,
                                          .same_padding = op->params.padding == NML_PAD_SAME,
                                          .no_bias = b == NULL,
                                          .activation = act});
    }
    NML_TRY(call_layer(im, i, l, 1, &in, op->outputs[0], out, err));
    NML_TRY(copy_param(im, i, l, "kernel", w, err));
    return copy_param(im, i, l, "bias", b, err);
}

static nml_status import_dense(importer *im, int i, const char *name, nml_afn act, int *out,
                               nml_error *err) {
    const nml_ir_op *op = &im->ir->ops[i];
    int in;
    NML_TRY(data_input(im, i, 0, &in, err));
    if (op->params.weights_format != 0)
        return op_fail(im, i, NML_E_UNSUPPORTED, "shuffled weights cannot be trained", err);
    const nml_ir_tensor *w = const_input(im, i, 1, 2, err), *b = NULL;
    if (!w) return err ? err->status : NML_E_ARG;
    NML_TRY(bias_input(im, i, w->dims[0], &b, err));
    nml_shape xs;
    NML_TRY(sample_shape(im->ir, op->inputs[0], &xs, err));
    if (xs.rank > 1) { /* TFLite flattens the input itself */
        if (op->params.keep_num_dims)
            return op_fail(im, i, NML_E_UNSUPPORTED, "keep_num_dims on an image input", err);
        char fname[NML_LAYER_NAME_MAX];
        layer_name(im, name, "_flatten", fname);
        nml_layer *f = nml_flatten(fname[0] ? fname : NULL);
        if (!f) return op_fail(im, i, NML_E_NOMEM, "out of memory", err);
        if (nml_net_call1(im->net, f, in, &in, err) != NML_OK)
            return nml_error_prefix(err, "operator %d (%s): ", i, op_name(im->ir, i));
    }
    nml_layer *l = nml_dense(&(nml_dense_opts){
        .name = name, .units = w->dims[0], .no_bias = b == NULL, .activation = act});
    NML_TRY(call_layer(im, i, l, 1, &in, op->outputs[0], out, err));
    NML_TRY(copy_param(im, i, l, "kernel", w, err));
    return copy_param(im, i, l, "bias", b, err);
}

static nml_status import_pool(importer *im, int i, const char *name, nml_afn act, int *out,
                              nml_error *err) {
    const nml_ir_op *op = &im->ir->ops[i];
    int in;
    NML_TRY(data_input(im, i, 0, &in, err));
    NML_TRY(check_geometry(im, i, err));
    if (op->params.filter_h < 1 || op->params.filter_w < 1)
        return op_fail(im, i, NML_E_FORMAT, "pool size must be at least 1", err);
    const nml_pool2d_opts po = {.name = name,
                                .pool_h = op->params.filter_h,
                                .pool_w = op->params.filter_w,
                                .stride_h = op->params.stride_h,
                                .stride_w = op->params.stride_w,
                                .same_padding = op->params.padding == NML_PAD_SAME};
    nml_layer *l =
        op->builtin == NML_OP_MAX_POOL_2D ? nml_max_pooling2d(&po) : nml_average_pooling2d(&po);
    return call_layer(im, i, nml_layer_set_activation(l, act), 1, &in, op->outputs[0], out, err);
}

static nml_status import_reshape(importer *im, int i, const char *name, int *out, nml_error *err) {
    const nml_ir_op *op = &im->ir->ops[i];
    int in;
    NML_TRY(data_input(im, i, 0, &in, err));
    nml_shape xs, ys;
    NML_TRY(sample_shape(im->ir, op->inputs[0], &xs, err));
    NML_TRY(sample_shape(im->ir, op->outputs[0], &ys, err));
    if (nml_shape_equal(&xs, &ys)) {
        *out = in; /* a no-op reshape */
        return NML_OK;
    }
    if (ys.rank != 1)
        return op_fail(im, i, NML_E_UNSUPPORTED,
                       "only a reshape to 1 x N (Flatten) can be "
                       "trained",
                       err);
    return call_layer(im, i, nml_flatten(name), 1, &in, op->outputs[0], out, err);
}

static nml_status import_pad(importer *im, int i, const char *name, int *out, nml_error *err) {
    const nml_ir_op *op = &im->ir->ops[i];
    int in;
    NML_TRY(data_input(im, i, 0, &in, err));
    const int pt = op->n_inputs > 1 ? op->inputs[1] : -1;
    const nml_ir_tensor *p = pt >= 0 ? &im->ir->tensors[pt] : NULL;
    if (!p || p->type != NML_INT32 || !p->data || p->rank != 2 || p->dims[0] != 4 ||
        p->dims[1] != 2)
        return op_fail(im, i, NML_E_UNSUPPORTED,
                       "paddings must be a constant 4 x 2 int32 "
                       "tensor (an image input)",
                       err);
    int32_t v[8];
    memcpy(v, p->data, sizeof v);
    if (v[0] || v[1] || v[6] || v[7])
        return op_fail(im, i, NML_E_UNSUPPORTED, "only height and width can be padded", err);
    nml_layer *l = nml_zero_padding2d(&(nml_zero_padding2d_opts){
        .name = name, .top = v[2], .bottom = v[3], .left = v[4], .right = v[5]});
    return call_layer(im, i, l, 1, &in, op->outputs[0], out, err);
}

static nml_status import_merge(importer *im, int i, const char *name, nml_afn act, int *out,
                               nml_error *err) {
    const nml_ir_op *op = &im->ir->ops[i];
    int in[NML_MAX_OP_INPUTS];
    if (op->n_inputs < 2) return op_fail(im, i, NML_E_FORMAT, "needs two or more inputs", err);
    for (int k = 0; k < op->n_inputs; k++)
        NML_TRY(data_input(im, i, k, &in[k], err));
    nml_layer *l;
    if (op->builtin == NML_OP_ADD) {
        if (op->n_inputs != 2) return op_fail(im, i, NML_E_FORMAT, "needs two inputs", err);
        l = nml_add(name);
    } else {
        const int rank = im->ir->tensors[op->outputs[0]].rank;
        if (op->params.axis != rank - 1 && op->params.axis != -1)
            return op_fail(im, i, NML_E_UNSUPPORTED, "only the last axis can be concatenated", err);
        l = nml_concatenate(name);
    }
    return call_layer(im, i, nml_layer_set_activation(l, act), op->n_inputs, in, op->outputs[0],
                      out, err);
}

/* ---- the walk ---- */

static nml_status import_op(importer *im, int i, nml_error *err) {
    const nml_ir_op *op = &im->ir->ops[i];
    if (op->n_outputs != 1 || op->outputs[0] < 0 || op->outputs[0] >= im->ir->n_tensors)
        return op_fail(im, i, NML_E_UNSUPPORTED, "needs exactly one output", err);
    int result = op->outputs[0];
    NML_TRY(check_float(im->ir, result, 0, err));
    nml_afn act = NML_AFN_LINEAR, own;
    if (!fused_afn(op->params.activation, &act) &&
        (op->builtin == NML_OP_CONV_2D || op->builtin == NML_OP_DEPTHWISE_CONV_2D ||
         op->builtin == NML_OP_FULLY_CONNECTED || op->builtin == NML_OP_ADD ||
         op->builtin == NML_OP_CONCATENATION || op->builtin == NML_OP_AVERAGE_POOL_2D ||
         op->builtin == NML_OP_MAX_POOL_2D))
        return op_fail(im, i, NML_E_UNSUPPORTED, "fused activation cannot be trained", err);
    int merged = -1;
    switch (op->builtin) {
    case NML_OP_CONV_2D:
    case NML_OP_DEPTHWISE_CONV_2D:
    case NML_OP_FULLY_CONNECTED:
    case NML_OP_AVERAGE_POOL_2D:
    case NML_OP_MAX_POOL_2D:
    case NML_OP_ADD:
    case NML_OP_CONCATENATION:
        merged = own_activation(im, i, &own);
        if (merged >= 0) {
            act = own;
            im->absorbed[merged] = 1;
        }
        break;
    default:
        break;
    }
    char name[NML_LAYER_NAME_MAX];
    layer_name(im, im->ir->tensors[result].name, "", name);
    const char *nm = name[0] ? name : NULL;
    int h = -1;
    nml_afn a;
    switch (op->builtin) {
    case NML_OP_CONV_2D:
    case NML_OP_DEPTHWISE_CONV_2D:
        NML_TRY(import_conv(im, i, nm, act, &h, err));
        break;
    case NML_OP_FULLY_CONNECTED:
        NML_TRY(import_dense(im, i, nm, act, &h, err));
        break;
    case NML_OP_AVERAGE_POOL_2D:
    case NML_OP_MAX_POOL_2D:
        NML_TRY(import_pool(im, i, nm, act, &h, err));
        break;
    case NML_OP_RESHAPE:
        NML_TRY(import_reshape(im, i, nm, &h, err));
        break;
    case NML_OP_PAD:
        NML_TRY(import_pad(im, i, nm, &h, err));
        break;
    case NML_OP_ADD:
    case NML_OP_CONCATENATION:
        NML_TRY(import_merge(im, i, nm, act, &h, err));
        break;
    default: {
        if (!activation_op(op, &a))
            return op_fail(im, i, NML_E_UNSUPPORTED,
                           op->builtin == NML_OP_SOFTMAX
                               ? "only beta 1 can be trained"
                               : "operator cannot be trained (supported: CONV_2D, "
                                 "DEPTHWISE_CONV_2D, FULLY_CONNECTED, AVERAGE_POOL_2D, "
                                 "MAX_POOL_2D, RESHAPE, PAD, ADD, CONCATENATION, TANH, LOGISTIC, "
                                 "SOFTMAX, RELU, RELU6)",
                           err);
        int in;
        NML_TRY(data_input(im, i, 0, &in, err));
        NML_TRY(call_layer(im, i, nml_activation_layer(nm, a), 1, &in, result, &h, err));
    }
    }
    if (merged >= 0) result = im->ir->ops[merged].outputs[0]; /* only it reads the layer */
    int use = h;
    if (im->o.after_tensor)
        NML_TRY(im->o.after_tensor(im->o.user, im->net, im->ir, result, h, &use, err));
    im->handle[result] = use;
    return NML_OK;
}

static nml_status import_inputs(importer *im, nml_error *err) {
    const nml_ir *ir = im->ir;
    im->input_names = calloc((size_t)ir->n_inputs + 1, sizeof *im->input_names);
    if (!im->input_names) return nml_fail(err, NML_E_NOMEM, "out of memory");
    for (int k = 0; k < ir->n_inputs; k++) {
        const int t = ir->inputs[k];
        nml_shape s;
        if (check_float(ir, t, 0, err) != NML_OK || sample_shape(ir, t, &s, err) != NML_OK)
            return nml_error_prefix(err, "input %d: ", k);
        char name[NML_LAYER_NAME_MAX];
        layer_name(im, ir->tensors[t].name, "", name);
        if (!name[0]) snprintf(name, sizeof name, "input_%d", k);
        int h, use;
        NML_TRY(nml_net_input(im->net, name, s, &h, err));
        snprintf(im->input_names[im->n_input_names++], NML_LAYER_NAME_MAX, "%s", name);
        use = h;
        if (im->o.after_tensor)
            NML_TRY(im->o.after_tensor(im->o.user, im->net, ir, t, h, &use, err));
        im->handle[t] = use;
    }
    return NML_OK;
}

static nml_status run(importer *im, nml_error *err) {
    const nml_ir *ir = im->ir;
    if (ir->n_inputs < 1 || ir->n_outputs < 1)
        return nml_fail(err, NML_E_UNSUPPORTED, "the model needs at least one input and output");
    NML_TRY(import_inputs(im, err));
    for (int i = 0; i < ir->n_ops; i++)
        if (!im->absorbed[i]) NML_TRY(import_op(im, i, err));
    int outs[16];
    if (ir->n_outputs > 16) return nml_fail(err, NML_E_LIMIT, "more than 16 model outputs");
    for (int k = 0; k < ir->n_outputs; k++) {
        const int t = ir->outputs[k];
        if (t < 0 || t >= ir->n_tensors || im->handle[t] < 0)
            return nml_fail(err, NML_E_FORMAT, "output %d is never computed", k);
        outs[k] = im->handle[t];
    }
    return nml_net_build(im->net, ir->n_outputs, outs, err);
}

nml_status nml_net_from_ir(nml_net **net, const nml_ir *ir, const nml_import_opts *opts,
                           nml_error *err) {
    *net = NULL;
    if (nml_ir_validate(ir, err) != NML_OK) return nml_error_prefix(err, "import: ");
    importer im;
    memset(&im, 0, sizeof im);
    im.ir = ir;
    if (opts) im.o = *opts;
    nml_status st = nml_net_create(&im.net, im.o.name ? im.o.name : "imported", im.o.seed, err);
    if (st != NML_OK) return st;
    im.handle = malloc(((size_t)ir->n_tensors + 1) * sizeof *im.handle);
    im.absorbed = calloc((size_t)ir->n_ops + 1, 1);
    if (!im.handle || !im.absorbed) st = nml_fail(err, NML_E_NOMEM, "import: out of memory");
    for (int t = 0; st == NML_OK && t < ir->n_tensors; t++)
        im.handle[t] = -1;
    if (st == NML_OK) st = run(&im, err);
    free(im.handle);
    free(im.absorbed);
    free(im.input_names);
    if (st != NML_OK) {
        nml_net_free(im.net);
        return nml_error_prefix(err, "import: ");
    }
    *net = im.net;
    return NML_OK;
}

nml_status nml_import_check(const nml_ir *ir, nml_error *err) {
    nml_net *net;
    NML_TRY(nml_net_from_ir(&net, ir, NULL, err));
    nml_net_free(net);
    return NML_OK;
}
