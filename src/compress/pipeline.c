/* Running compression steps: IR in, trainable network, technique + fine-tuning, IR out. */
#include <stdlib.h>
#include <string.h>

#include "compress/compress_internal.h"
#include "nanoml/compress.h"
#include "nanoml/train_export.h"
#include "nanoml/train_import.h"

#define DEFAULT_CALIB "fashion-mnist:1000"

static FILE *log_of(const nml_compress_env *env) {
    return env ? env->log : NULL;
}

static nml_status import(const nml_ir *in, const nml_compress_step *s, nml_net **net,
                         nml_error *err) {
    const nml_import_opts o = {.name = nml_step_name(s->kind), .seed = s->train.seed};
    return nml_net_from_ir(net, in, &o, err);
}

static nml_status tune(nml_net *net, const nml_compress_step *s, const nml_compress_env *env,
                       nml_status (*on_step)(void *, int64_t, nml_error *), void *user,
                       nml_error *err) {
    return nml_finetune(net, env ? env->train : NULL, &s->train, on_step, user,
                        env ? env->on_progress : NULL, env ? env->progress_user : NULL, err);
}

static nml_status export_net(const nml_net *net, nml_ir *out, nml_error *err) {
    nml_ir_init(out);
    nml_status st = nml_net_export(net, out, err);
    if (st != NML_OK) nml_ir_free(out);
    return st;
}

static void log_stats(FILE *f, const nml_ir *ir) {
    nml_weight_stats ws;
    if (!f || nml_weight_stats_of(ir, &ws, NULL) != NML_OK) return;
    fprintf(f,
            "  result: %llu parameters, %.1f%% of %llu weights zero, at most %u distinct "
            "values in a layer\n",
            (unsigned long long)ws.params,
            ws.kernel ? 100.0 * (double)ws.zeros / (double)ws.kernel : 0.0,
            (unsigned long long)ws.kernel, ws.max_distinct);
}

/* ---- prune ---- */

/* The schedule in steps: "auto" ends at 70% of the fine-tuning, leaving the rest to recover. */
static nml_prune_schedule resolve_schedule(const nml_compress_step *s,
                                           const nml_compress_env *env) {
    nml_prune_schedule sc = s->prune.schedule;
    if (!s->end_auto) return sc;
    const nml_data *d = env ? env->train : NULL;
    const int64_t per_epoch =
        d && s->train.batch > 0 ? (d->n + s->train.batch - 1) / s->train.batch : 0;
    const int64_t total = per_epoch * (s->train.epochs > 0 ? s->train.epochs : 0);
    sc.end_step = sc.begin_step + (int64_t)(0.7 * (double)(total - sc.begin_step));
    if (sc.end_step <= sc.begin_step) sc.end_step = sc.begin_step + 1;
    return sc;
}

static const char *structure_text(const nml_prune_opts *o, char *buf, size_t cap) {
    if (o->structure == NML_PRUNE_NM)
        snprintf(buf, cap, "%d:%d", o->n, o->m);
    else
        snprintf(buf, cap, "%s", o->structure == NML_PRUNE_FILTERS ? "filters" : "unstructured");
    return buf;
}

static void log_pruner(FILE *f, const nml_pruner *p) {
    if (!f) return;
    for (int i = 0; i < nml_pruner_layer_count(p); i++) {
        nml_prune_layer_report r;
        nml_pruner_layer_report(p, i, &r);
        fprintf(f, "  %-16s %8zu weights %8zu zero (%5.1f%%, target %.1f%%)\n", r.layer, r.weights,
                r.zeros, r.weights ? 100.0 * (double)r.zeros / (double)r.weights : 0.0,
                100.0 * r.target);
    }
}

static nml_status run_prune(const nml_ir *in, const nml_compress_step *s,
                            const nml_compress_env *env, nml_ir *out, nml_error *err) {
    FILE *f = log_of(env);
    nml_prune_opts po = s->prune;
    po.schedule = resolve_schedule(s, env);
    char sb[32];
    if (f)
        fprintf(f, "prune: %s, %s sparsity %g%s over steps %lld..%lld every %lld, %d epoch(s)\n",
                structure_text(&po, sb, sizeof sb),
                po.schedule.kind == NML_PRUNE_POLYNOMIAL ? "polynomial" : "constant",
                (double)po.schedule.target_sparsity, po.n_layers ? " (and per-layer targets)" : "",
                (long long)po.schedule.begin_step, (long long)po.schedule.end_step,
                (long long)po.schedule.frequency, (int)s->train.epochs);
    nml_net *net;
    NML_TRY(import(in, s, &net, err));
    nml_pruner *p = NULL;
    nml_status st = nml_pruner_create(&p, net, &po, err);
    if (st == NML_OK) st = tune(net, s, env, nml_pruner_on_step, p, err);
    if (st == NML_OK) st = nml_pruner_finish(p, err);
    if (st == NML_OK) log_pruner(f, p);
    if (st == NML_OK) st = export_net(net, out, err);
    nml_pruner_free(p);
    nml_net_free(net);
    if (st != NML_OK || po.structure != NML_PRUNE_FILTERS || !s->remove_channels) return st;
    nml_channel_report r;
    st = nml_remove_zero_channels(out, &r, err);
    if (st != NML_OK) {
        nml_ir_free(out);
        return st;
    }
    if (f) {
        fprintf(f, "  removed %d channels: %llu -> %llu parameters\n", r.removed,
                (unsigned long long)r.weights_before, (unsigned long long)r.weights_after);
        if (r.kept_zero) fprintf(f, "  kept %d zero channels (%s)\n", r.kept_zero, r.note);
    }
    return NML_OK;
}

/* ---- cluster ---- */

static nml_status run_cluster(const nml_ir *in, const nml_compress_step *s,
                              const nml_compress_env *env, nml_ir *out, nml_error *err) {
    FILE *f = log_of(env);
    if (f)
        fprintf(f, "cluster: %d clusters per layer, %s initialization%s, %d epoch(s)\n",
                s->cluster.clusters, nml_centroid_init_name(s->cluster.init),
                s->cluster.preserve_sparsity ? ", zeros preserved" : "", (int)s->train.epochs);
    nml_net *net;
    NML_TRY(import(in, s, &net, err));
    nml_clusterer *c = NULL;
    nml_status st = nml_clusterer_create(&c, net, &s->cluster, err);
    if (st == NML_OK) st = tune(net, s, env, NULL, NULL, err);
    for (int i = 0; st == NML_OK && f && i < nml_clusterer_layer_count(c); i++) {
        nml_cluster_layer_report r;
        nml_clusterer_layer_report(c, i, &r);
        fprintf(f, "  %-16s %8zu weights %4d clusters %4d distinct values (k-means: %d rounds)\n",
                r.layer, r.weights, r.clusters, r.distinct, r.iterations);
    }
    if (st == NML_OK) st = export_net(net, out, err);
    nml_clusterer_free(c);
    nml_net_free(net);
    return st;
}

/* ---- qat and quantize ---- */

static nml_quant_options quant_options(const nml_compress_step *s, const nml_compress_env *env) {
    nml_quant_options o = s->quant;
    o.per_channel = !s->per_tensor_weights;
    o.progress = env ? env->quant_progress : NULL;
    o.progress_user = env ? env->quant_progress_user : NULL;
    return o;
}

static nml_status run_qat(const nml_ir *in, const nml_compress_step *s, const nml_compress_env *env,
                          nml_ir *out, nml_error *err) {
    FILE *f = log_of(env);
    if (f)
        fprintf(f, "qat: int8, %s weights%s%s, %d epoch(s)\n",
                s->per_tensor_weights ? "per-tensor" : "per-channel",
                s->qat.preserve_sparsity ? ", zeros preserved" : "",
                s->qat.preserve_clusters ? ", clusters preserved" : "", (int)s->train.epochs);
    nml_qat_opts qo = s->qat;
    qo.per_tensor = s->per_tensor_weights; /* the training graph rounds as the export will */
    nml_qat *q;
    NML_TRY(nml_qat_create(&q, in, &qo, err));
    nml_status st = tune(nml_qat_net(q), s, env, NULL, NULL, err);
    for (int i = 0; st == NML_OK && f && i < nml_qat_range_count(q); i++) {
        const char *layer;
        float lo, hi;
        nml_qat_range(q, i, &layer, &lo, &hi);
        fprintf(f, "  %-24s learned range [%g, %g]\n", layer, (double)lo, (double)hi);
    }
    const nml_quant_options o = quant_options(s, env);
    if (st == NML_OK) st = nml_qat_export(q, &o, NULL, out, NULL, err);
    nml_qat_free(q);
    return st;
}

static nml_status run_quantize(const nml_ir *in, const nml_compress_step *s,
                               const nml_compress_env *env, nml_ir *out, nml_error *err) {
    FILE *f = log_of(env);
    const nml_quant_options o = quant_options(s, env);
    const int full = o.mode == NML_QUANT_INT8 || o.mode == NML_QUANT_INT4;
    const char *spec = s->calib ? s->calib : DEFAULT_CALIB;
    nml_calib_source src;
    memset(&src, 0, sizeof src);
    if (full) NML_TRY(nml_calib_open_spec(&src, spec, in, env ? env->fashion_dir : NULL, err));
    nml_quant_report r;
    nml_status st = nml_quantize(in, out, &o, full ? &src : NULL, &r, err);
    if (st == NML_OK && f) {
        static const char *const MODES[] = {"int8", "dynamic", "float16", "int4"};
        fprintf(f, "quantize: %s", MODES[o.mode]);
        if (full) fprintf(f, ", %u calibration samples from %s", (unsigned)r.samples, src.name);
        fprintf(f, "\n");
    }
    if (st == NML_OK) nml_quant_report_free(&r);
    nml_calib_close(&src);
    return st;
}

/* ---- pack ---- */

static void log_pack(FILE *f, const nml_ir *ir, const nml_pack_report *r) {
    if (!f) return;
    fprintf(f, "pack: weights %zu -> %zu bytes\n", r->dense_bytes, r->packed_bytes);
    for (int i = 0; i < r->n_layers; i++) {
        const nml_pack_layer *l = &r->layers[i];
        const char *name =
            l->tensor >= 0 && l->tensor < ir->n_tensors && ir->tensors[l->tensor].name
                ? ir->tensors[l->tensor].name
                : "?";
        fprintf(f, "  %-32s %-28s %7zu -> %7zu bytes\n", name,
                l->encoding_name ? l->encoding_name : "?", l->dense_bytes, l->packed_bytes);
    }
}

static nml_status run_pack(const nml_ir *in, const nml_compress_step *s,
                           const nml_compress_env *env, nml_ir *out, nml_error *err) {
    NML_TRY(nml_ir_clone(out, in, err));
    nml_pack_report r;
    memset(&r, 0, sizeof r);
    nml_status st = nml_pack_weights(out, &s->pack, &r, err);
    if (st == NML_OK) log_pack(log_of(env), out, &r);
    nml_pack_report_free(&r);
    if (st != NML_OK) nml_ir_free(out);
    return st;
}

nml_status nml_compress_step_run(const nml_ir *in, const nml_compress_step *s,
                                 const nml_compress_env *env, nml_ir *out, nml_error *err) {
    nml_ir_init(out);
    nml_status st;
    switch (s->kind) {
    case NML_STEP_PRUNE:
        st = run_prune(in, s, env, out, err);
        break;
    case NML_STEP_CLUSTER:
        st = run_cluster(in, s, env, out, err);
        break;
    case NML_STEP_QAT:
        st = run_qat(in, s, env, out, err);
        break;
    case NML_STEP_QUANTIZE:
        st = run_quantize(in, s, env, out, err);
        break;
    case NML_STEP_PACK:
        return run_pack(in, s, env, out, err); /* the weights are as before */
    default:
        return nml_fail(err, NML_E_ARG, "unknown step %d", (int)s->kind);
    }
    if (st == NML_OK) log_stats(log_of(env), out);
    return st;
}

nml_status nml_compress_run(const nml_ir *in, const nml_recipe *r, const nml_compress_env *env,
                            nml_ir *out, nml_error *err) {
    nml_ir_init(out);
    if (r->n == 0) return nml_fail(err, NML_E_ARG, "the recipe has no steps");
    nml_ir cur;
    nml_ir_init(&cur);
    for (int i = 0; i < r->n; i++) {
        nml_ir next;
        const nml_status st = nml_compress_step_run(i ? &cur : in, &r->steps[i], env, &next, err);
        nml_ir_free(&cur);
        if (st != NML_OK) {
            if (r->steps[i].line > 0)
                return nml_error_prefix(err, "line %d (%s): ", r->steps[i].line,
                                        nml_step_name(r->steps[i].kind));
            return nml_error_prefix(err, "%s: ", nml_step_name(r->steps[i].kind));
        }
        cur = next;
    }
    *out = cur;
    return NML_OK;
}
