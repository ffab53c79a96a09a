/* Quantization-aware training: a float model is imported with FakeQuant layers wherever the
 * int8 model will round activations, every kernel gets the fake-quantizing weight transform
 * (keeping zeros and clusters when asked), and the trained network is exported through the
 * post-training quantizer with the learned ranges. */
#include <stdlib.h>
#include <string.h>

#include "compress/compress_internal.h"
#include "nanoml/cluster.h"
#include "nanoml/qat.h"
#include "nanoml/train_export.h"
#include "nanoml/train_import.h"

typedef struct observed {
    nml_layer *layer;
    nml_fq *fq;
} observed;

struct nml_qat {
    nml_net *net;
    nml_qat_opts o;
    observed *ema; /* the moving-average layers */
    int n_ema, cap_ema;
};

typedef struct builder {
    nml_qat *q;
    const nml_fq **fq_of; /* per IR tensor: the quantization its values are on (NULL: none) */
} builder;

static int has_own_range(int32_t op) {
    return op == NML_OP_CONV_2D || op == NML_OP_DEPTHWISE_CONV_2D || op == NML_OP_FULLY_CONNECTED ||
           op == NML_OP_ADD || op == NML_OP_CONCATENATION || op == NML_OP_RELU ||
           op == NML_OP_RELU6;
}

static nml_status remember(nml_qat *q, nml_layer *l, nml_fq *fq, nml_error *err) {
    if (q->n_ema == q->cap_ema) {
        const int cap = q->cap_ema ? 2 * q->cap_ema : 16;
        observed *e = realloc(q->ema, (size_t)cap * sizeof *e);
        if (!e) return nml_fail(err, NML_E_NOMEM, "out of memory");
        q->ema = e;
        q->cap_ema = cap;
    }
    q->ema[q->n_ema++] = (observed){l, fq};
    return NML_OK;
}

/* The importer's callback: a FakeQuant layer after every tensor the int8 model rounds. */
static nml_status insert_fq(void *user, nml_net *net, const nml_ir *ir, int t, int h, int *use,
                            nml_error *err) {
    builder *b = user;
    const int p = nml_ir_producer(ir, t);
    const int32_t op = p >= 0 ? ir->ops[p].builtin : -1;
    const int in = p >= 0 ? ir->ops[p].inputs[0] : -1;
    nml_fq *fq = NULL;
    nml_layer *l = NULL;
    char name[NML_LAYER_NAME_MAX];
    snprintf(name, sizeof name, "%.*s/fq", NML_LAYER_NAME_MAX - 4, ir->tensors[t].name);
    const char *nm = nml_net_find_layer(net, name) ? NULL : name;
    int is_output = 0;
    for (int k = 0; k < ir->n_outputs; k++)
        is_output |= ir->outputs[k] == t;
    if (p < 0 || has_own_range(op)) {
        l = nml_fq_layer_ema(nm, b->q->o.ema_decay, &fq);
    } else if (is_output && (op == NML_OP_TANH || op == NML_OP_LOGISTIC || op == NML_OP_SOFTMAX)) {
        /* probabilities rounded to 1/256 would feed the loss zeros (an exploding
         * cross-entropy gradient); TF-MOT leaves a final softmax unquantized too */
        b->fq_of[t] = NULL;
        return NML_OK;
    } else if (op == NML_OP_TANH) {
        l = nml_fq_layer_fixed(nm, 1.0f / 128.0f, 0, &fq);
    } else if (op == NML_OP_LOGISTIC || op == NML_OP_SOFTMAX) {
        l = nml_fq_layer_fixed(nm, 1.0f / 256.0f, -128, &fq);
    } else if (op == NML_OP_AVERAGE_POOL_2D && in >= 0 && b->fq_of[in]) {
        l = nml_fq_layer_follow(nm, b->fq_of[in], &fq);
    } else {
        /* values move without changing (max pooling, flatten, zero padding): same grid */
        b->fq_of[t] = in >= 0 ? b->fq_of[in] : NULL;
        return NML_OK;
    }
    if (!l) return nml_fail(err, NML_E_NOMEM, "out of memory");
    NML_TRY(nml_net_call1(net, l, h, use, err));
    b->fq_of[t] = fq;
    if (nml_fq_is_ema(fq)) NML_TRY(remember(b->q, l, fq, err));
    return NML_OK;
}

/* Cluster assignment from a layer's distinct values (cluster-preserving QAT). */
static nml_status clusters_from_values(const nml_layer *l, const nml_param *k, int keep_zero,
                                       nml_weight_hook_cfg *cfg, int32_t *index, float *cent,
                                       nml_error *err) {
    float *s = malloc(k->count * sizeof *s);
    if (!s) return nml_fail(err, NML_E_NOMEM, "out of memory");
    memcpy(s, k->value, k->count * sizeof *s);
    size_t d = nml_count_distinct(s, k->count);
    if (d > NML_CLUSTERS_MAX) {
        free(s);
        return nml_fail(err, NML_E_ARG,
                        "layer %s: %zu distinct weight values; cluster-preserving "
                        "QAT keeps at most %d (cluster the model first)",
                        l->name, d, NML_CLUSTERS_MAX);
    }
    /* the distinct values in ascending order become the centroids */
    int n = 0;
    for (size_t i = 0; i < k->count; i++) {
        int found = 0;
        for (int c = 0; c < n && !found; c++)
            found = cent[c] == k->value[i];
        if (!found) cent[n++] = k->value[i];
    }
    for (int a = 1; a < n; a++)
        for (int c = a; c > 0 && cent[c - 1] > cent[c]; c--) {
            const float t = cent[c];
            cent[c] = cent[c - 1];
            cent[c - 1] = t;
        }
    cfg->zero_cluster = -1;
    for (size_t i = 0; i < k->count; i++) {
        int lo = 0, hi = n - 1;
        while (lo < hi) {
            const int mid = (lo + hi) / 2;
            if (cent[mid] < k->value[i])
                lo = mid + 1;
            else
                hi = mid;
        }
        index[i] = lo;
        if (keep_zero && k->value[i] == 0.0f) cfg->zero_cluster = lo;
    }
    cfg->k = n;
    cfg->index = index;
    cfg->centroids = cent;
    free(s);
    return NML_OK;
}

static nml_status quantize_kernel(nml_qat *q, nml_layer *l, nml_error *err) {
    nml_param *k = nml_compress_kernel(l);
    if (!k) return NML_OK;
    nml_weight_hook_cfg cfg = {.qmax = 127,
                               .axis = q->o.per_tensor ? -1 : nml_compress_channel_axis(l),
                               .zero_cluster = -1};
    int32_t *index = malloc(k->count * sizeof *index);
    float *cent = malloc((NML_CLUSTERS_MAX + 1) * sizeof *cent);
    uint8_t *mask = malloc(k->count);
    nml_status st = index && cent && mask ? NML_OK : nml_fail(err, NML_E_NOMEM, "out of memory");
    size_t zeros = 0;
    for (size_t i = 0; st == NML_OK && i < k->count; i++) {
        mask[i] = k->value[i] != 0.0f;
        zeros += !mask[i];
    }
    if (st == NML_OK && q->o.preserve_sparsity && zeros) st = nml_param_set_mask(k, mask, err);
    if (st == NML_OK && q->o.preserve_clusters)
        st = clusters_from_values(l, k, q->o.preserve_sparsity, &cfg, index, cent, err);
    if (st == NML_OK) st = nml_weight_hook_install(k, &cfg, err);
    free(index);
    free(cent);
    free(mask);
    return st;
}

void nml_qat_free(nml_qat *q) {
    if (!q) return;
    nml_net_free(q->net);
    free(q->ema);
    free(q);
}

nml_status nml_qat_create(nml_qat **out, const nml_ir *model, const nml_qat_opts *o,
                          nml_error *err) {
    *out = NULL;
    nml_qat *q = calloc(1, sizeof *q);
    if (!q) return nml_fail(err, NML_E_NOMEM, "out of memory");
    if (o) q->o = *o;
    if (q->o.ema_decay == 0.0f) q->o.ema_decay = 0.999f;
    nml_status st = NML_OK;
    if (!(q->o.ema_decay > 0.0f && q->o.ema_decay < 1.0f))
        st = nml_fail(err, NML_E_ARG, "moving-average decay must be in (0, 1)");
    builder b = {q, NULL};
    b.fq_of = st == NML_OK ? calloc((size_t)model->n_tensors + 1, sizeof *b.fq_of) : NULL;
    if (st == NML_OK && !b.fq_of) st = nml_fail(err, NML_E_NOMEM, "out of memory");
    if (st == NML_OK) {
        nml_import_opts io = {.name = "qat",
                              .seed = q->o.seed,
                              .split_activations = 1,
                              .after_tensor = insert_fq,
                              .user = &b};
        st = nml_net_from_ir(&q->net, model, &io, err);
        if (st != NML_OK) nml_error_prefix(err, "QAT: ");
    }
    free(b.fq_of);
    for (int i = 0; st == NML_OK && i < nml_net_layer_count(q->net); i++)
        st = quantize_kernel(q, nml_net_layer(q->net, i), err);
    if (st != NML_OK) {
        nml_qat_free(q);
        return st;
    }
    *out = q;
    return NML_OK;
}

nml_net *nml_qat_net(nml_qat *q) {
    return q->net;
}

int nml_qat_range_count(const nml_qat *q) {
    return q->n_ema;
}

void nml_qat_range(const nml_qat *q, int i, const char **layer, float *lo, float *hi) {
    int ready;
    *layer = NULL;
    *lo = *hi = 0.0f;
    if (i < 0 || i >= q->n_ema) return;
    *layer = q->ema[i].layer->name;
    nml_fq_range(q->ema[i].fq, lo, hi, &ready);
}

nml_status nml_qat_export(nml_qat *q, const nml_quant_options *o, nml_calib_source *calib,
                          nml_ir *out, nml_quant_report *report, nml_error *err) {
    nml_ir_init(out);
    if (o->mode != NML_QUANT_INT8)
        return nml_fail(err, NML_E_UNSUPPORTED, "QAT trains for int8; export it as int8");
    if (o->per_channel == q->o.per_tensor)
        return nml_fail(err, NML_E_ARG, "QAT trained %s weight scales; export with the same",
                        q->o.per_tensor ? "per-tensor" : "per-channel");
    nml_ir f;
    nml_ir_init(&f);
    nml_quant_fixed_range *ranges = calloc((size_t)q->n_ema + 1, sizeof *ranges);
    nml_status st =
        ranges ? nml_net_export(q->net, &f, err) : nml_fail(err, NML_E_NOMEM, "out of memory");
    int n = 0;
    for (int i = 0; st == NML_OK && i < q->n_ema; i++) {
        int ready;
        const int32_t t = nml_fq_exported_tensor(q->ema[i].fq);
        nml_fq_range(q->ema[i].fq, &ranges[n].lo, &ranges[n].hi, &ready);
        if (!ready)
            st = nml_fail(err, NML_E_STATE,
                          "QAT: %s has no learned range (train at least one "
                          "step first)",
                          q->ema[i].layer->name);
        else if (t >= 0 && t < f.n_tensors)
            ranges[n++].name = f.tensors[t].name;
    }
    if (st == NML_OK) {
        nml_quant_options qo = *o;
        qo.fixed_ranges = ranges;
        qo.n_fixed_ranges = n;
        st = nml_quantize(&f, out, &qo, calib, report, err);
    }
    free(ranges);
    nml_ir_free(&f);
    return st;
}
