/* The training and evaluation loops. */
#include "nanoml/train_fit.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int32_t nml_argmax(const float *v, int32_t n) {
    int32_t best = 0;
    for (int32_t i = 1; i < n; i++)
        if (v[i] > v[best]) best = i;
    return best;
}

/* The network must take the data's samples and produce what the loss compares with targets. */
static nml_status check_fit(const nml_net *net, const nml_data *data, nml_loss loss,
                            nml_error *err) {
    char a[64], b[64];
    if (nml_net_input_count(net) != 1 || nml_net_output_count(net) != 1)
        return nml_fail(err, NML_E_UNSUPPORTED, "%s: fitting needs one input and one output",
                        nml_net_name(net));
    nml_shape in = nml_net_input_shape(net, 0), out = nml_net_output_shape(net, 0);
    if (!nml_shape_equal(&in, &data->x_shape))
        return nml_fail(err, NML_E_SHAPE, "%s: data samples of shape %s do not match the model "
                        "input %s", nml_net_name(net), nml_shape_str(&data->x_shape, a, sizeof a),
                        nml_shape_str(&in, b, sizeof b));
    size_t out_count = nml_shape_count(&out);
    if ((size_t)data->y_count != nml_loss_target_count(loss, out_count))
        return nml_fail(err, NML_E_SHAPE, "%s: %s needs %zu target values per sample for output "
                        "%s, data has %d", nml_net_name(net), nml_loss_name(loss),
                        nml_loss_target_count(loss, out_count), nml_shape_str(&out, a, sizeof a),
                        (int)data->y_count);
    if (loss == NML_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY && (size_t)data->n_classes > out_count)
        return nml_fail(err, NML_E_SHAPE, "%s: data has %d classes, output %s has only %zu",
                        nml_net_name(net), (int)data->n_classes, nml_shape_str(&out, a, sizeof a),
                        out_count);
    return NML_OK;
}

/* Correct predictions in a batch (class index targets). */
static int32_t count_correct(const float *pred, const float *y, int32_t batch, int32_t classes,
                             int32_t *confusion) {
    int32_t correct = 0;
    for (int32_t i = 0; i < batch; i++) {
        int32_t p = nml_argmax(pred + (size_t)i * classes, classes);
        int32_t t = (int32_t)y[i];
        correct += p == t;
        if (confusion && t >= 0 && t < classes) confusion[t * classes + p]++;
    }
    return correct;
}

typedef struct buffers {
    float *x, *y;
    int32_t *idx;
} buffers;

static nml_status alloc_buffers(buffers *b, const nml_data *d, int32_t batch, int32_t n_idx,
                                nml_error *err) {
    b->x = malloc((size_t)batch * nml_shape_count(&d->x_shape) * sizeof(float));
    b->y = malloc((size_t)batch * (size_t)d->y_count * sizeof(float));
    b->idx = malloc((size_t)(n_idx > batch ? n_idx : batch) * sizeof(int32_t));
    if (!b->x || !b->y || !b->idx) return nml_fail(err, NML_E_NOMEM, "out of memory");
    return NML_OK;
}

static void free_buffers(buffers *b) {
    free(b->x);
    free(b->y);
    free(b->idx);
}

static nml_status evaluate_range(nml_net *net, const nml_data *data, int32_t first,
                                 int32_t count, int32_t batch, nml_loss loss, buffers *buf,
                                 nml_eval_result *res, int32_t *confusion, nml_error *err) {
    nml_shape os = nml_net_output_shape(net, 0);
    const int32_t classes = (int32_t)nml_shape_count(&os);
    const int classify = loss == NML_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY;
    double loss_sum = 0.0;
    int64_t correct = 0;
    for (int32_t start = 0; start < count; start += batch) {
        const int32_t bs = count - start < batch ? count - start : batch;
        for (int32_t i = 0; i < bs; i++) buf->idx[i] = first + start + i;
        NML_TRY(data->fetch(data, buf->idx, bs, buf->x, buf->y, 0, err));
        const float *in = buf->x;
        NML_TRY(nml_net_forward(net, &in, bs, 0, err));
        double l;
        NML_TRY(nml_loss_eval(loss, nml_net_output(net, 0), buf->y, bs, (size_t)classes, &l, NULL,
                              err));
        loss_sum += l * bs;
        if (classify) correct += count_correct(nml_net_output(net, 0), buf->y, bs, classes,
                                               confusion);
    }
    res->n = count;
    res->loss = count ? loss_sum / count : 0.0;
    res->accuracy = classify && count ? (double)correct / count : -1.0;
    return NML_OK;
}

nml_status nml_evaluate(nml_net *net, const nml_data *data, int32_t first, int32_t count,
                        int32_t batch, nml_loss loss, nml_eval_result *result, int32_t *confusion,
                        nml_error *err) {
    memset(result, 0, sizeof *result);
    NML_TRY(check_fit(net, data, loss, err));
    if (first < 0 || first > data->n || count < 0 || count > data->n - first)
        return nml_fail(err, NML_E_ARG, "samples [%d, +%d) outside the %d of the data",
                        (int)first, (int)count, (int)data->n);
    if (count == 0) count = data->n - first;
    if (batch < 1) batch = 128;
    if (confusion) {
        nml_shape os = nml_net_output_shape(net, 0);
        size_t c = nml_shape_count(&os);
        memset(confusion, 0, c * c * sizeof(int32_t));
    }
    buffers buf = {0};
    nml_status st = alloc_buffers(&buf, data, batch, batch, err);
    if (st == NML_OK)
        st = evaluate_range(net, data, first, count, batch, loss, &buf, result, confusion, err);
    free_buffers(&buf);
    return st;
}

static void report(const nml_fit_opts *o, nml_fit_progress *p) {
    if (o->on_progress) o->on_progress(p, o->user);
}

static nml_status train_epoch(nml_net *net, nml_optim *opt, const nml_data *data,
                              const nml_fit_opts *o, int32_t batch, int32_t n_train,
                              buffers *buf, nml_rng *rng, nml_fit_progress *p, int64_t *step,
                              nml_error *err) {
    nml_shape os = nml_net_output_shape(net, 0);
    const int32_t classes = (int32_t)nml_shape_count(&os);
    const int classify = o->loss == NML_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY;
    if (!o->no_shuffle) nml_rng_shuffle(rng, buf->idx, (size_t)n_train);
    const double t0 = now_seconds();
    double loss_sum = 0.0;
    int64_t correct = 0;
    for (int32_t start = 0; start < n_train; start += batch) {
        const int32_t bs = n_train - start < batch ? n_train - start : batch;
        if (o->on_step) NML_TRY(o->on_step(o->step_user, *step, err));
        (*step)++;
        float lr = nml_optim_set_progress(opt, p->epoch, p->epochs, (double)start / n_train);
        NML_TRY(data->fetch(data, buf->idx + start, bs, buf->x, buf->y, 1, err));
        const float *in = buf->x;
        NML_TRY(nml_net_forward(net, &in, bs, 1, err));
        double l;
        NML_TRY(nml_loss_eval(o->loss, nml_net_output(net, 0), buf->y, bs, (size_t)classes, &l,
                              nml_net_output_grad(net, 0), err));
        NML_TRY(nml_net_backward(net, err));
        NML_TRY(nml_optim_step(opt, err));
        loss_sum += l * bs;
        if (classify) correct += count_correct(nml_net_output(net, 0), buf->y, bs, classes, NULL);
        p->done = start + bs;
        p->loss = loss_sum / p->done;
        p->accuracy = classify ? (double)correct / p->done : -1.0;
        p->seconds = now_seconds() - t0;
        p->lr = lr;
        report(o, p);
    }
    return NML_OK;
}

nml_status nml_fit(nml_net *net, nml_optim *opt, const nml_data *data, const nml_fit_opts *opts,
                   nml_fit_epoch *history, nml_error *err) {
    NML_TRY(check_fit(net, data, opts->loss, err));
    const int32_t epochs = opts->epochs > 0 ? opts->epochs : 1;
    const int32_t batch = opts->batch > 0 ? opts->batch : 32;
    if (!(opts->val_split >= 0.0f && opts->val_split < 1.0f))
        return nml_fail(err, NML_E_ARG, "validation split must be in [0, 1)");
    const int32_t n_val = (int32_t)((double)data->n * opts->val_split);
    const int32_t n_train = data->n - n_val;
    if (n_train < 1) return nml_fail(err, NML_E_ARG, "no training samples left after the split");
    buffers buf = {0};
    nml_status st = alloc_buffers(&buf, data, batch, n_train, err);
    if (st != NML_OK) {
        free_buffers(&buf);
        return st;
    }
    for (int32_t i = 0; i < n_train; i++) buf.idx[i] = i;
    nml_rng rng;
    nml_rng_seed(&rng, opts->seed);
    nml_fit_progress p;
    memset(&p, 0, sizeof p);
    p.epochs = epochs;
    p.total = n_train;
    int64_t step = 0;
    for (int32_t e = 0; e < epochs && st == NML_OK; e++) {
        p.epoch = e;
        p.end_of_epoch = 0;
        p.val_loss = p.val_accuracy = -1.0;
        st = train_epoch(net, opt, data, opts, batch, n_train, &buf, &rng, &p, &step, err);
        if (st == NML_OK && n_val > 0) {
            nml_eval_result r;
            st = nml_evaluate(net, data, n_train, n_val, batch > 128 ? batch : 128, opts->loss, &r,
                              NULL, err);
            p.val_loss = r.loss;
            p.val_accuracy = r.accuracy;
        }
        if (st != NML_OK) break;
        p.end_of_epoch = 1;
        report(opts, &p);
        if (history) {
            history[e].loss = p.loss;
            history[e].accuracy = p.accuracy;
            history[e].val_loss = p.val_loss;
            history[e].val_accuracy = p.val_accuracy;
            history[e].seconds = p.seconds;
            history[e].lr = p.lr;
        }
    }
    free_buffers(&buf);
    if (st != NML_OK) nml_error_prefix(err, "epoch %d: ", (int)p.epoch + 1);
    return st;
}
