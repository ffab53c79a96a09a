/* Networks: building (shape inference, naming, parameter creation) and the forward and
 * reverse-mode backward passes. Nodes are stored in creation order, which is a topological
 * order because a layer can only be called on tensors that already exist. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "activation.h"
#include "net_internal.h"

/* ---- creation ---- */

nml_status nml_net_create(nml_net **out, const char *name, uint64_t seed, nml_error *err) {
    *out = NULL;
    nml_net *net = calloc(1, sizeof *net);
    if (!net) return nml_fail(err, NML_E_NOMEM, "out of memory");
    snprintf(net->name, sizeof net->name, "%s", name && *name ? name : "model");
    nml_rng_seed(&net->rng, seed);
    *out = net;
    return NML_OK;
}

void nml_net_free(nml_net *net) {
    if (!net) return;
    for (int i = 0; i < net->n_nodes; i++) {
        nml_layer_free(net->nodes[i].layer);
        free(net->nodes[i].act);
        free(net->nodes[i].grad);
    }
    free(net->nodes);
    free(net->params);
    free(net->act_tmp);
    for (int i = 0; i < NML_MAX_OP_INPUTS; i++) free(net->fan_tmp[i]);
    free(net);
}

/* Records the first building error; every later building call repeats it. */
static nml_status sticky(nml_net *net, nml_error *err) {
    if (net->failure.status == NML_OK) {
        if (err && err->status != NML_OK)
            net->failure = *err;
        else
            nml_fail(&net->failure, NML_E_INTERNAL, "building failed");
    }
    return err ? err->status : net->failure.status;
}

static nml_status replay(const nml_net *net, nml_error *err) {
    if (err) *err = net->failure;
    return net->failure.status;
}

static nml_status building_error(nml_net *net, nml_error *err, nml_status status,
                                 const char *what) {
    nml_error local;
    nml_error *e = err ? err : &local;
    nml_fail(e, status, "%s", what);
    return sticky(net, e);
}

static nml_status grow_nodes(nml_net *net, nml_error *err) {
    if (net->n_nodes < net->cap_nodes) return NML_OK;
    int cap = net->cap_nodes ? 2 * net->cap_nodes : 16;
    nml_node *grown = realloc(net->nodes, (size_t)cap * sizeof *grown);
    if (!grown) return nml_fail(err, NML_E_NOMEM, "out of memory");
    net->nodes = grown;
    net->cap_nodes = cap;
    return NML_OK;
}

static int name_taken(const nml_net *net, const char *name) {
    for (int i = 0; i < net->n_nodes; i++) {
        const nml_node *n = &net->nodes[i];
        if (strcmp(n->layer ? n->layer->name : n->input_name, name) == 0) return 1;
    }
    return 0;
}

/* Keras-style default names: "Conv2D" -> "conv2d_1", "AveragePooling2D" -> "average_pooling2d_1". */
static void default_name(const nml_net *net, const char *kind, char *out, size_t cap) {
    char base[NML_LAYER_NAME_MAX - 8];
    size_t n = 0;
    for (size_t i = 0; kind[i] && n + 2 < sizeof base; i++) {
        unsigned char ch = (unsigned char)kind[i];
        if (isupper(ch) && i > 0 && islower((unsigned char)kind[i - 1])) base[n++] = '_';
        base[n++] = isalnum(ch) ? (char)tolower(ch) : '_';
    }
    base[n] = '\0';
    for (int k = 1;; k++) {
        int w = snprintf(out, cap, "%s_%d", base, k);
        if (w > 0 && (size_t)w < cap && !name_taken(net, out)) return;
    }
}

/* needs_grad of every node, from its inputs and parameters, in execution order. */
static void mark_needs_grad(nml_net *net) {
    for (int k = 0; k < net->n_nodes; k++) {
        nml_node *n = &net->nodes[k];
        if (!n->layer) {
            n->needs_grad = net->want_input_grad;
            continue;
        }
        n->needs_grad = 0;
        for (int i = 0; i < n->layer->n_params; i++)
            if (n->layer->params[i]->trainable) n->needs_grad = 1;
        for (int j = 0; j < n->n_in; j++)
            if (net->nodes[n->in[j]].needs_grad) n->needs_grad = 1;
    }
}

nml_status nml_net_input(nml_net *net, const char *name, nml_shape shape, int *tensor,
                         nml_error *err) {
    if (tensor) *tensor = -1;
    if (net->failure.status != NML_OK) return replay(net, err);
    if (net->built) return building_error(net, err, NML_E_STATE, "network is already built");
    if (net->n_inputs >= NML_NET_MAX_IO)
        return building_error(net, err, NML_E_LIMIT, "too many network inputs");
    char label[NML_LAYER_NAME_MAX];
    if (name && *name)
        snprintf(label, sizeof label, "%s", name);
    else
        default_name(net, "Input", label, sizeof label);
    if (name_taken(net, label)) {
        nml_fail(err, NML_E_ARG, "name '%s' is already used in the network", label);
        return sticky(net, err);
    }
    if (nml_shape_check(&shape, err) != NML_OK) {
        nml_error_prefix(err, "input %s: ", label);
        return sticky(net, err);
    }
    if (grow_nodes(net, err) != NML_OK) return sticky(net, err);
    nml_node *n = &net->nodes[net->n_nodes];
    memset(n, 0, sizeof *n);
    snprintf(n->input_name, sizeof n->input_name, "%s", label);
    n->shape = shape;
    n->count = nml_shape_count(&shape);
    n->needs_grad = net->want_input_grad;
    net->inputs[net->n_inputs++] = net->n_nodes;
    if (tensor) *tensor = net->n_nodes;
    net->n_nodes++;
    return NML_OK;
}

/* Checks arity and inputs, names the layer, infers its output shape and creates its weights. */
static nml_status attach_layer(nml_net *net, nml_layer *layer, int n_in, const int *inputs,
                               nml_error *err) {
    const nml_layer_ops *ops = layer->ops;
    if (!ops || !ops->output_shape || !ops->forward || !ops->backward || !ops->kind)
        return nml_fail(err, NML_E_ARG, "layer %s: callback table lacks kind, output_shape, "
                        "forward or backward", layer->name[0] ? layer->name : "(unnamed)");
    if (!layer->name[0]) default_name(net, ops->kind, layer->name, sizeof layer->name);
    if (name_taken(net, layer->name))
        return nml_fail(err, NML_E_ARG, "name '%s' is already used in the network", layer->name);
    int max_in = ops->max_inputs > 0 ? ops->max_inputs : NML_MAX_OP_INPUTS;
    if (n_in < ops->min_inputs || n_in > max_in || n_in > NML_MAX_OP_INPUTS || n_in < 1)
        return nml_fail(err, NML_E_ARG, "%s (%s): called on %d inputs, takes %d to %d",
                        layer->name, ops->kind, n_in, ops->min_inputs, max_in);
    nml_shape in_shape[NML_MAX_OP_INPUTS];
    for (int i = 0; i < n_in; i++) {
        if (inputs[i] < 0 || inputs[i] >= net->n_nodes)
            return nml_fail(err, NML_E_ARG, "%s (%s): input %d is not a tensor of this network",
                            layer->name, ops->kind, i);
        in_shape[i] = net->nodes[inputs[i]].shape;
    }
    nml_shape out;
    memset(&out, 0, sizeof out);
    nml_status st = ops->output_shape(layer, n_in, in_shape, &out, err);
    if (st == NML_OK) st = nml_shape_check(&out, err);
    if (st != NML_OK) return nml_error_prefix(err, "%s (%s): ", layer->name, ops->kind);
    layer->n_in = n_in;
    memcpy(layer->in_shape, in_shape, (size_t)n_in * sizeof in_shape[0]);
    layer->out_shape = out;
    if (ops->parameters) {
        st = ops->parameters(layer, n_in, in_shape, &out, err);
        if (st != NML_OK) return nml_error_prefix(err, "%s (%s): ", layer->name, ops->kind);
    }
    for (int i = 0; i < layer->n_params; i++)
        NML_TRY(nml_param_initialize(layer->params[i], &net->rng, err));
    return NML_OK;
}

nml_status nml_net_call(nml_net *net, nml_layer *layer, int n_in, const int *inputs,
                        int *output, nml_error *err) {
    if (output) *output = -1;
    if (net->failure.status != NML_OK) {
        if (layer && !layer->in_net) nml_layer_free(layer);
        return replay(net, err);
    }
    if (!layer)
        return building_error(net, err, NML_E_NOMEM,
                              "a layer constructor failed (out of memory or bad options)");
    if (layer->in_net) {
        nml_error local;
        nml_error *e = err ? err : &local;
        nml_fail(e, NML_E_ARG, "%s: layer is already part of a network (call a layer once)",
                 layer->name);
        return sticky(net, e);
    }
    nml_status st = NML_OK;
    nml_error local;
    nml_error *e = err ? err : &local;
    if (net->built) st = nml_fail(e, NML_E_STATE, "network is already built");
    if (st == NML_OK) st = grow_nodes(net, e);
    if (st == NML_OK) st = attach_layer(net, layer, n_in, inputs, e);
    if (st != NML_OK) {
        nml_layer_free(layer);
        return sticky(net, e);
    }
    nml_node *n = &net->nodes[net->n_nodes];
    memset(n, 0, sizeof *n);
    n->layer = layer;
    n->n_in = n_in;
    n->needs_grad = 0;
    for (int i = 0; i < layer->n_params; i++)
        if (layer->params[i]->trainable) n->needs_grad = 1;
    for (int i = 0; i < n_in; i++) {
        n->in[i] = inputs[i];
        net->nodes[inputs[i]].n_consumers++;
        if (net->nodes[inputs[i]].needs_grad) n->needs_grad = 1;
    }
    n->shape = layer->out_shape;
    n->count = nml_shape_count(&n->shape);
    layer->in_net = 1;
    if (output) *output = net->n_nodes;
    net->n_nodes++;
    return NML_OK;
}

nml_status nml_net_call1(nml_net *net, nml_layer *layer, int input, int *output, nml_error *err) {
    return nml_net_call(net, layer, 1, &input, output, err);
}

nml_status nml_net_add(nml_net *net, nml_layer *layer, nml_error *err) {
    if (net->failure.status == NML_OK && net->n_nodes == 0) {
        nml_layer_free(layer);
        return building_error(net, err, NML_E_STATE,
                              "sequential model has no input (call nml_net_input first)");
    }
    int last = net->n_nodes - 1;
    return nml_net_call(net, layer, 1, &last, NULL, err);
}

nml_status nml_net_build(nml_net *net, int n_out, const int *outputs, nml_error *err) {
    if (net->failure.status != NML_OK) return replay(net, err);
    if (net->built) return building_error(net, err, NML_E_STATE, "network is already built");
    if (net->n_inputs == 0) return building_error(net, err, NML_E_STATE, "network has no input");
    int last = net->n_nodes - 1;
    if (n_out == 0) {
        n_out = 1;
        outputs = &last;
    }
    if (n_out < 0 || n_out > NML_NET_MAX_IO)
        return building_error(net, err, NML_E_LIMIT, "bad number of outputs");
    for (int i = 0; i < n_out; i++) {
        if (outputs[i] < 0 || outputs[i] >= net->n_nodes)
            return building_error(net, err, NML_E_ARG, "output is not a tensor of this network");
        net->outputs[i] = outputs[i];
        net->nodes[outputs[i]].is_output = 1;
    }
    net->n_outputs = n_out;
    int total = 0;
    for (int i = 0; i < net->n_nodes; i++)
        if (net->nodes[i].layer) total += net->nodes[i].layer->n_params;
    if (total > 0) {
        net->params = malloc((size_t)total * sizeof *net->params);
        if (!net->params) return building_error(net, err, NML_E_NOMEM, "out of memory");
    }
    for (int i = 0; i < net->n_nodes; i++) {
        nml_layer *l = net->nodes[i].layer;
        for (int j = 0; l && j < l->n_params; j++) net->params[net->n_params++] = l->params[j];
        if (net->nodes[i].count > net->max_count) net->max_count = net->nodes[i].count;
    }
    mark_needs_grad(net);
    net->built = 1;
    return NML_OK;
}

/* ---- introspection ---- */

const char *nml_net_name(const nml_net *net) { return net->name; }

int nml_net_layer_count(const nml_net *net) {
    int n = 0;
    for (int i = 0; i < net->n_nodes; i++) n += net->nodes[i].layer != NULL;
    return n;
}

nml_layer *nml_net_layer(const nml_net *net, int i) {
    for (int k = 0; k < net->n_nodes; k++) {
        if (!net->nodes[k].layer) continue;
        if (i-- == 0) return net->nodes[k].layer;
    }
    return NULL;
}

nml_layer *nml_net_find_layer(const nml_net *net, const char *name) {
    for (int k = 0; k < net->n_nodes; k++)
        if (net->nodes[k].layer && strcmp(net->nodes[k].layer->name, name) == 0)
            return net->nodes[k].layer;
    return NULL;
}

int nml_net_node_of_layer(const nml_net *net, const nml_layer *l) {
    for (int k = 0; k < net->n_nodes; k++)
        if (net->nodes[k].layer == l) return k;
    return -1;
}

int nml_net_input_count(const nml_net *net) { return net->n_inputs; }

nml_shape nml_net_input_shape(const nml_net *net, int i) {
    nml_shape none;
    memset(&none, 0, sizeof none);
    return i >= 0 && i < net->n_inputs ? net->nodes[net->inputs[i]].shape : none;
}

int nml_net_output_count(const nml_net *net) { return net->n_outputs; }

nml_shape nml_net_output_shape(const nml_net *net, int i) {
    nml_shape none;
    memset(&none, 0, sizeof none);
    return i >= 0 && i < net->n_outputs ? net->nodes[net->outputs[i]].shape : none;
}

int nml_net_param_count(const nml_net *net) { return net->n_params; }

nml_param *nml_net_param(const nml_net *net, int i) {
    return i >= 0 && i < net->n_params ? net->params[i] : NULL;
}

size_t nml_net_weight_count(const nml_net *net) {
    size_t n = 0;
    for (int k = 0; k < net->n_nodes; k++)
        if (net->nodes[k].layer) n += nml_layer_weight_count(net->nodes[k].layer);
    return n;
}

static const char *node_name(const nml_net *net, int k) {
    const nml_node *n = &net->nodes[k];
    return n->layer ? n->layer->name : n->input_name;
}

/* 61706 -> "61,706" */
static const char *grouped(size_t v, char *buf, size_t cap) {
    char digits[32];
    int n = snprintf(digits, sizeof digits, "%zu", v);
    size_t o = 0;
    for (int i = 0; i < n && o + 2 < cap; i++) {
        if (i > 0 && (n - i) % 3 == 0) buf[o++] = ',';
        buf[o++] = digits[i];
    }
    buf[o] = '\0';
    return buf;
}

void nml_net_summary(const nml_net *net, FILE *out) {
    char shape[64], kind[96], num[32];
    size_t total = 0, trainable = 0;
    fprintf(out, "Model: %s\n", net->name);
    fprintf(out, "%-44s %-16s %10s  %s\n", "Layer (type)", "Output shape", "Param #",
            "Connected to");
    for (int k = 0; k < net->n_nodes; k++) {
        const nml_node *n = &net->nodes[k];
        size_t params = n->layer ? nml_layer_weight_count(n->layer) : 0;
        if (n->layer) {
            for (int j = 0; j < n->layer->n_params; j++)
                if (n->layer->params[j]->trainable) trainable += n->layer->params[j]->count;
            if (n->layer->act != NML_AFN_LINEAR)
                snprintf(kind, sizeof kind, "%s (%s, %s)", n->layer->name, n->layer->ops->kind,
                         nml_afn_name(n->layer->act));
            else
                snprintf(kind, sizeof kind, "%s (%s)", n->layer->name, n->layer->ops->kind);
        } else {
            snprintf(kind, sizeof kind, "%s (Input)", n->input_name);
        }
        total += params;
        fprintf(out, "%-44s %-16s %10s ", kind, nml_shape_str(&n->shape, shape, sizeof shape),
                grouped(params, num, sizeof num));
        for (int j = 0; j < n->n_in; j++)
            fprintf(out, "%s%s", j ? ", " : " ", node_name(net, n->in[j]));
        fputc('\n', out);
    }
    fprintf(out, "Total params: %s\n", grouped(total, num, sizeof num));
    fprintf(out, "Trainable params: %s\n", grouped(trainable, num, sizeof num));
}

nml_rng *nml_net_rng(nml_net *net) { return &net->rng; }

void nml_net_want_input_grad(nml_net *net, int on) {
    net->want_input_grad = on;
    mark_needs_grad(net);
    for (int k = 0; k < net->n_nodes; k++) { /* buffers are sized again on the next forward */
        free(net->nodes[k].grad);
        net->nodes[k].grad = NULL;
    }
    net->cap_batch = 0;
}

const float *nml_net_input_grad(const nml_net *net, int i) {
    if (!net->want_input_grad || i < 0 || i >= net->n_inputs) return NULL;
    return net->nodes[net->inputs[i]].grad;
}

static double clock_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void nml_net_set_profiling(nml_net *net, int on) {
    net->profiling = on;
    net->profiled_samples = 0;
    for (int k = 0; k < net->n_nodes; k++) net->nodes[k].fwd_seconds = net->nodes[k].bwd_seconds = 0;
}

void nml_net_print_profile(const nml_net *net, FILE *out) {
    double total = 0.0;
    for (int k = 0; k < net->n_nodes; k++)
        total += net->nodes[k].fwd_seconds + net->nodes[k].bwd_seconds;
    if (net->profiled_samples == 0 || total <= 0.0) {
        fprintf(out, "no profile (enable it with nml_net_set_profiling before training)\n");
        return;
    }
    const double per = 1e6 / (double)net->profiled_samples; /* ms per 1000 samples */
    fprintf(out, "%-24s %12s %12s %7s\n", "layer", "forward ms", "backward ms", "share");
    for (int k = 0; k < net->n_nodes; k++) {
        const nml_node *n = &net->nodes[k];
        if (!n->layer) continue;
        fprintf(out, "%-24s %12.3f %12.3f %6.1f%%\n", n->layer->name, n->fwd_seconds * per,
                n->bwd_seconds * per, 100.0 * (n->fwd_seconds + n->bwd_seconds) / total);
    }
    fprintf(out, "%-24s %25.3f ms per 1000 samples (forward + backward, layers only)\n", "total",
            total * per);
}

/* ---- running ---- */

static nml_status reserve(nml_net *net, int32_t batch, nml_error *err) {
    if (batch <= net->cap_batch) return NML_OK;
    for (int k = 0; k < net->n_nodes; k++) {
        nml_node *n = &net->nodes[k];
        size_t floats = (size_t)batch * n->count;
        float *act = realloc(n->act, floats * sizeof(float));
        if (!act) return nml_fail(err, NML_E_NOMEM, "cannot allocate activations for batch %d",
                                  (int)batch);
        n->act = act;
        if (n->needs_grad || n->is_output) {
            float *grad = realloc(n->grad, floats * sizeof(float));
            if (!grad) return nml_fail(err, NML_E_NOMEM, "cannot allocate gradients for batch %d",
                                       (int)batch);
            n->grad = grad;
        }
    }
    float *tmp = realloc(net->act_tmp, (size_t)batch * net->max_count * sizeof(float));
    if (!tmp) return nml_fail(err, NML_E_NOMEM, "cannot allocate scratch for batch %d", (int)batch);
    net->act_tmp = tmp;
    for (int i = 0; i < NML_MAX_OP_INPUTS; i++) {
        free(net->fan_tmp[i]); /* reallocated on demand at the new size */
        net->fan_tmp[i] = NULL;
    }
    net->cap_batch = batch;
    return NML_OK;
}

static void node_tensor(const nml_node *n, int32_t batch, float *data, nml_ftensor *t) {
    t->data = data;
    t->batch = batch;
    t->shape = n->shape;
}

nml_status nml_net_forward(nml_net *net, const float *const *inputs, int32_t batch, int training,
                           nml_error *err) {
    if (!net->built) return nml_fail(err, NML_E_STATE, "%s: network is not built", net->name);
    if (batch < 1) return nml_fail(err, NML_E_ARG, "%s: batch size %d", net->name, (int)batch);
    NML_TRY(reserve(net, batch, err));
    for (int i = 0; i < net->n_params; i++) nml_param_before_forward(net->params[i]);
    for (int k = 0; k < net->n_nodes; k++) {
        nml_node *n = &net->nodes[k];
        if (!n->layer) {
            int which = 0;
            while (net->inputs[which] != k) which++;
            memcpy(n->act, inputs[which], (size_t)batch * n->count * sizeof(float));
            continue;
        }
        nml_ftensor in[NML_MAX_OP_INPUTS], out;
        for (int j = 0; j < n->n_in; j++) {
            const nml_node *p = &net->nodes[n->in[j]];
            node_tensor(p, batch, p->act, &in[j]);
        }
        node_tensor(n, batch, n->act, &out);
        nml_fwd f = {batch, training, n->n_in, in, &out, &net->rng};
        const int timed = net->profiling && training;
        const double t0 = timed ? clock_seconds() : 0.0;
        nml_status st = n->layer->ops->forward(n->layer, &f, err);
        if (st != NML_OK) return nml_error_prefix(err, "%s: ", n->layer->name);
        nml_act_forward(n->layer->act, n->act, (size_t)batch * n->count,
                        (size_t)n->shape.dims[n->shape.rank - 1]);
        if (timed) n->fwd_seconds += clock_seconds() - t0;
    }
    if (net->profiling && training) net->profiled_samples += batch;
    net->batch = batch;
    net->last_training = training;
    return NML_OK;
}

const float *nml_net_output(const nml_net *net, int i) {
    return i >= 0 && i < net->n_outputs ? net->nodes[net->outputs[i]].act : NULL;
}

float *nml_net_output_grad(nml_net *net, int i) {
    return i >= 0 && i < net->n_outputs ? net->nodes[net->outputs[i]].grad : NULL;
}

/* Where input j of node n writes its gradient: the producer's own buffer when this is the first
 * contribution, otherwise a temporary that is added afterwards. */
static nml_status grad_target(nml_net *net, nml_node *n, int j, float **din, int *fan,
                              nml_error *err) {
    nml_node *p = &net->nodes[n->in[j]];
    *fan = 0;
    *din = NULL;
    if (!p->needs_grad) return NML_OK;
    if (!p->grad_ready) {
        p->grad_ready = 1;
        *din = p->grad;
        return NML_OK;
    }
    if (!net->fan_tmp[j]) {
        net->fan_tmp[j] = malloc((size_t)net->cap_batch * net->max_count * sizeof(float));
        if (!net->fan_tmp[j]) return nml_fail(err, NML_E_NOMEM, "out of memory");
    }
    *din = net->fan_tmp[j];
    *fan = 1;
    return NML_OK;
}

nml_status nml_net_backward(nml_net *net, nml_error *err) {
    if (!net->built || net->batch < 1)
        return nml_fail(err, NML_E_STATE, "%s: backward needs a forward pass first", net->name);
    if (!net->last_training)
        return nml_fail(err, NML_E_STATE, "%s: backward needs a training forward pass",
                        net->name);
    const int32_t batch = net->batch;
    for (int i = 0; i < net->n_params; i++)
        if (net->params[i]->grad)
            memset(net->params[i]->grad, 0, net->params[i]->count * sizeof(float));
    for (int k = 0; k < net->n_nodes; k++) net->nodes[k].grad_ready = net->nodes[k].is_output;
    for (int k = net->n_nodes - 1; k >= 0; k--) {
        nml_node *n = &net->nodes[k];
        if (!n->layer || !n->needs_grad || !n->grad_ready) continue;
        const double t0 = net->profiling ? clock_seconds() : 0.0;
        const size_t total = (size_t)batch * n->count;
        const float *dout = n->grad;
        if (n->layer->act != NML_AFN_LINEAR) {
            nml_act_backward(n->layer->act, n->act, n->grad, net->act_tmp, total,
                             (size_t)n->shape.dims[n->shape.rank - 1]);
            dout = net->act_tmp;
        }
        nml_ftensor in[NML_MAX_OP_INPUTS], out;
        float *din[NML_MAX_OP_INPUTS];
        int fan[NML_MAX_OP_INPUTS];
        for (int j = 0; j < n->n_in; j++) {
            const nml_node *p = &net->nodes[n->in[j]];
            node_tensor(p, batch, p->act, &in[j]);
            NML_TRY(grad_target(net, n, j, &din[j], &fan[j], err));
        }
        node_tensor(n, batch, n->act, &out);
        nml_bwd b = {batch, n->n_in, in, &out, dout, din};
        nml_status st = n->layer->ops->backward(n->layer, &b, err);
        if (st != NML_OK) return nml_error_prefix(err, "%s: ", n->layer->name);
        for (int j = 0; j < n->n_in; j++) {
            if (!fan[j]) continue;
            nml_node *p = &net->nodes[n->in[j]];
            size_t m = (size_t)batch * p->count;
            for (size_t e = 0; e < m; e++) p->grad[e] += din[j][e];
        }
        for (int i = 0; i < n->layer->n_params; i++)
            nml_param_after_backward(n->layer->params[i]);
        if (net->profiling) n->bwd_seconds += clock_seconds() - t0;
    }
    return NML_OK;
}
