/* Recipes: steps and their key=value settings, checked as they are read so that every mistake
 * is reported with its line and setting. */
#include <stdlib.h>
#include <string.h>

#include "compress/compress_internal.h"
#include "nanoml/compress.h"
#include "nanoml/parse.h"

#define MAX_WORDS 64
#define MAX_LINE 4096

const char *nml_step_name(nml_step_kind k) {
    switch (k) {
    case NML_STEP_PRUNE:
        return "prune";
    case NML_STEP_CLUSTER:
        return "cluster";
    case NML_STEP_QAT:
        return "qat";
    case NML_STEP_QUANTIZE:
        return "quantize";
    case NML_STEP_PACK:
        return "pack";
    }
    return "?";
}

static int step_kind(const char *name, nml_step_kind *k) {
    for (int i = NML_STEP_PRUNE; i <= NML_STEP_PACK; i++)
        if (strcmp(name, nml_step_name((nml_step_kind)i)) == 0) {
            *k = (nml_step_kind)i;
            return 1;
        }
    return 0;
}

void nml_compress_step_default(nml_compress_step *s, nml_step_kind kind) {
    memset(s, 0, sizeof *s);
    s->kind = kind;
    s->train.epochs =
        kind == NML_STEP_PRUNE ? 2 : (kind == NML_STEP_CLUSTER || kind == NML_STEP_QAT);
    s->train.batch = 32;
    s->train.lr = 1e-4f;
    s->train.seed = 1;
    s->prune.structure = NML_PRUNE_UNSTRUCTURED;
    nml_prune_schedule_default(&s->prune.schedule);
    s->prune.schedule.kind = NML_PRUNE_POLYNOMIAL;
    s->prune.schedule.target_sparsity = 0.5f;
    s->end_auto = 1;
    s->remove_channels = 1;
    nml_cluster_opts_default(&s->cluster);
    s->qat.ema_decay = 0.999f;
    nml_quant_options_default(&s->quant);
    nml_pack_options_default(&s->pack);
}

void nml_compress_step_free(nml_compress_step *s) {
    if (!s) return;
    for (int i = 0; i < s->prune.n_layers; i++)
        free((char *)s->prune.layers[i].layer);
    for (int i = 0; i < s->cluster.n_layers; i++)
        free((char *)s->cluster.layers[i].layer);
    free((void *)s->prune.layers);
    free((void *)s->cluster.layers);
    free(s->calib);
    memset(s, 0, sizeof *s);
}

/* ---- values ---- */

static nml_status choice(const char *v, const char *const *names, int n, int *out, const char *list,
                         nml_error *err) {
    for (int i = 0; i < n; i++)
        if (strcmp(v, names[i]) == 0) {
            *out = i;
            return NML_OK;
        }
    return nml_fail(err, NML_E_ARG, "unknown value '%s' (%s)", v, list);
}

static char *dup_n(const char *s, size_t n) {
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

/* Adds a per-layer entry (name, value); value < 0 for prune or 0 for cluster means skip. */
static nml_status add_layer(nml_compress_step *s, const char *name, size_t len, double value,
                            nml_error *err) {
    if (len == 0) return nml_fail(err, NML_E_ARG, "a layer name is empty");
    char *n = dup_n(name, len);
    if (!n) return nml_fail(err, NML_E_NOMEM, "out of memory");
    if (s->kind == NML_STEP_PRUNE) {
        nml_prune_layer *l =
            realloc((void *)s->prune.layers, (size_t)(s->prune.n_layers + 1) * sizeof *l);
        if (!l) {
            free(n);
            return nml_fail(err, NML_E_NOMEM, "out of memory");
        }
        l[s->prune.n_layers++] = (nml_prune_layer){n, (float)value};
        s->prune.layers = l;
    } else {
        nml_cluster_layer *l =
            realloc((void *)s->cluster.layers, (size_t)(s->cluster.n_layers + 1) * sizeof *l);
        if (!l) {
            free(n);
            return nml_fail(err, NML_E_NOMEM, "out of memory");
        }
        l[s->cluster.n_layers++] = (nml_cluster_layer){n, (int)value};
        s->cluster.layers = l;
    }
    return NML_OK;
}

/* "c1:0.5,c3:0.7" (with_value) or "c1,c3". */
static nml_status layer_list(nml_compress_step *s, const char *v, int with_value, nml_error *err) {
    while (*v) {
        const char *end = strchr(v, ',');
        const size_t len = end ? (size_t)(end - v) : strlen(v);
        const char *colon = memchr(v, ':', len);
        double value = s->kind == NML_STEP_PRUNE ? -1.0 : 0.0;
        if (with_value) {
            if (!colon) {
                char name[128];
                snprintf(name, sizeof name, "%.*s", (int)len, v);
                return nml_fail(err, NML_E_ARG, "'%s' lacks ':%s'", name,
                                s->kind == NML_STEP_PRUNE ? "SPARSITY" : "CLUSTERS");
            }
            char num[64];
            snprintf(num, sizeof num, "%.*s", (int)(len - (size_t)(colon + 1 - v)), colon + 1);
            if (s->kind == NML_STEP_PRUNE) {
                NML_TRY(nml_parse_double(num, -1e300, 1e300, &value, err));
                if (!(value >= 0.0 && value < 1.0)) {
                    nml_gbuf g;
                    return nml_fail(err, NML_E_ARG, "sparsity %s is outside [0, 1)",
                                    nml_g(&g, value));
                }
            } else {
                int k;
                NML_TRY(nml_parse_int(num, 1, NML_CLUSTERS_MAX, &k, err));
                value = k;
            }
        }
        NML_TRY(add_layer(s, v, colon && with_value ? (size_t)(colon - v) : len, value, err));
        v += len + (end != NULL);
    }
    return NML_OK;
}

static nml_status structure(nml_compress_step *s, const char *v, nml_error *err) {
    if (strcmp(v, "unstructured") == 0) {
        s->prune.structure = NML_PRUNE_UNSTRUCTURED;
    } else if (strcmp(v, "filters") == 0) {
        s->prune.structure = NML_PRUNE_FILTERS;
    } else {
        const char *colon = strchr(v, ':');
        char a[16] = "", b[16] = "";
        if (colon && (size_t)(colon - v) < sizeof a) {
            memcpy(a, v, (size_t)(colon - v));
            snprintf(b, sizeof b, "%s", colon + 1);
        }
        int n, m;
        if (!colon || nml_parse_int(a, 1, 64, &n, NULL) != NML_OK ||
            nml_parse_int(b, 2, 64, &m, NULL) != NML_OK || n >= m)
            return nml_fail(err, NML_E_ARG,
                            "unknown structure '%s' (unstructured, filters, or "
                            "N:M such as 2:4)",
                            v);
        s->prune.structure = NML_PRUNE_NM;
        s->prune.n = n;
        s->prune.m = m;
    }
    return NML_OK;
}

static nml_status preserve(nml_compress_step *s, const char *v, nml_error *err) {
    int sparsity = 0, clusters = 0;
    while (*v) {
        const char *end = strchr(v, ',');
        const size_t len = end ? (size_t)(end - v) : strlen(v);
        if (len == 8 && strncmp(v, "sparsity", 8) == 0)
            sparsity = 1;
        else if (len == 8 && strncmp(v, "clusters", 8) == 0 && s->kind == NML_STEP_QAT)
            clusters = 1;
        else if (!(len == 4 && strncmp(v, "none", 4) == 0)) {
            char what[128];
            snprintf(what, sizeof what, "%.*s", (int)len, v);
            return nml_fail(err, NML_E_ARG, "cannot preserve '%s' (%s)", what,
                            s->kind == NML_STEP_QAT ? "sparsity, clusters, none"
                                                    : "sparsity, none");
        }
        v += len + (end != NULL);
    }
    if (s->kind == NML_STEP_QAT) {
        s->qat.preserve_sparsity = sparsity;
        s->qat.preserve_clusters = clusters;
    } else {
        s->cluster.preserve_sparsity = sparsity;
    }
    return NML_OK;
}

/* ---- settings ---- */

enum { P = 1, C = 2, Q = 4, QZ = 8, K = 16, TRAIN = P | C | Q };

typedef struct setting {
    const char *key;
    unsigned steps;
} setting;

static const setting SETTINGS[] = {
    {"epochs", TRAIN},   {"batch", TRAIN},    {"lr", TRAIN},       {"seed", TRAIN},
    {"sparsity", P},     {"schedule", P},     {"initial", P},      {"begin", P},
    {"end", P},          {"frequency", P},    {"power", P},        {"structure", P},
    {"remove", P},       {"layers", P | C},   {"skip", P | C},     {"clusters", C},
    {"init", C},         {"iterations", C},   {"preserve", C | Q}, {"decay", Q},
    {"weights", Q | QZ}, {"io", Q | QZ},      {"mode", QZ},        {"calib", QZ},
    {"samples", QZ},     {"calibrator", QZ},  {"percentile", QZ},  {"sparse", K},
    {"clustered", K},    {"min-elements", K},
};

static unsigned step_bit(nml_step_kind k) {
    switch (k) {
    case NML_STEP_PRUNE:
        return P;
    case NML_STEP_CLUSTER:
        return C;
    case NML_STEP_QAT:
        return Q;
    case NML_STEP_QUANTIZE:
        return QZ;
    case NML_STEP_PACK:
        return K;
    }
    return 0;
}

/* The settings a step takes, for messages. */
static void list_settings(nml_step_kind k, char *buf, size_t cap) {
    size_t n = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < sizeof SETTINGS / sizeof SETTINGS[0]; i++)
        if (SETTINGS[i].steps & step_bit(k))
            n += (size_t)snprintf(buf + n, n < cap ? cap - n : 0, "%s%s", n ? ", " : "",
                                  SETTINGS[i].key);
}

static nml_status set_training(nml_compress_step *s, const char *k, const char *v, nml_error *err) {
    int i = 0;
    double d = 0.0;
    int64_t l = 0;
    if (strcmp(k, "epochs") == 0) {
        NML_TRY(nml_parse_int(v, 0, 10000, &i, err));
        s->train.epochs = i;
    } else if (strcmp(k, "batch") == 0) {
        NML_TRY(nml_parse_int(v, 1, 65536, &i, err));
        s->train.batch = i;
    } else if (strcmp(k, "lr") == 0) {
        NML_TRY(nml_parse_double(v, 1e-9, 10.0, &d, err));
        s->train.lr = (float)d;
    } else {
        NML_TRY(nml_parse_i64(v, 0, (int64_t)1 << 53, &l, err));
        s->train.seed = (uint64_t)l;
        s->cluster.seed = (uint64_t)l;
        s->qat.seed = (uint64_t)l;
    }
    return NML_OK;
}

static nml_status set_prune(nml_compress_step *s, const char *k, const char *v, nml_error *err) {
    nml_prune_schedule *sc = &s->prune.schedule;
    double d = 0.0;
    int64_t l = 0;
    int c = 0;
    static const char *const SCHEDULES[] = {"constant", "polynomial"};
    static const char *const YESNO[] = {"no", "yes"};
    if (strcmp(k, "sparsity") == 0 || strcmp(k, "initial") == 0) {
        NML_TRY(nml_parse_double(v, -1e300, 1e300, &d, err));
        if (!(d >= 0.0 && d < 1.0)) {
            nml_gbuf g;
            return nml_fail(err, NML_E_ARG, "%s %s is outside [0, 1)", k, nml_g(&g, d));
        }
        if (k[0] == 's')
            sc->target_sparsity = (float)d;
        else
            sc->initial_sparsity = (float)d;
    } else if (strcmp(k, "schedule") == 0) {
        NML_TRY(choice(v, SCHEDULES, 2, &c, "constant, polynomial", err));
        sc->kind = c ? NML_PRUNE_POLYNOMIAL : NML_PRUNE_CONSTANT;
    } else if (strcmp(k, "begin") == 0) {
        NML_TRY(nml_parse_i64(v, 0, INT64_MAX / 4, &l, err));
        sc->begin_step = l;
    } else if (strcmp(k, "end") == 0) {
        s->end_auto = strcmp(v, "auto") == 0;
        if (!s->end_auto) {
            NML_TRY(nml_parse_i64(v, -1, INT64_MAX / 4, &l, err));
            sc->end_step = l;
        }
    } else if (strcmp(k, "frequency") == 0) {
        NML_TRY(nml_parse_i64(v, 1, INT64_MAX / 4, &l, err));
        sc->frequency = l;
    } else if (strcmp(k, "power") == 0) {
        NML_TRY(nml_parse_double(v, 1e-3, 100.0, &d, err));
        sc->power = (float)d;
    } else if (strcmp(k, "structure") == 0) {
        NML_TRY(structure(s, v, err));
    } else {
        NML_TRY(choice(v, YESNO, 2, &c, "yes, no", err));
        s->remove_channels = c;
    }
    return NML_OK;
}

static nml_status set_cluster(nml_compress_step *s, const char *k, const char *v, nml_error *err) {
    int i = 0;
    if (strcmp(k, "clusters") == 0) {
        NML_TRY(nml_parse_int(v, -1000000, 1000000, &i, err));
        if (i < 1 || i > NML_CLUSTERS_MAX)
            return nml_fail(err, NML_E_ARG, "%d clusters: the number of clusters must be 1 to %d",
                            i, NML_CLUSTERS_MAX);
        s->cluster.clusters = i;
    } else if (strcmp(k, "init") == 0) {
        if (nml_centroid_init_parse(v, &s->cluster.init) != 0)
            return nml_fail(err, NML_E_ARG, "unknown value '%s' (kmeans++, linear, density)", v);
    } else {
        if (strcmp(v, "auto") == 0) {
            s->cluster.max_iter = -1;
            return NML_OK;
        }
        NML_TRY(nml_parse_int(v, 0, 100000, &i, err));
        s->cluster.max_iter = i;
    }
    return NML_OK;
}

static nml_status set_quant(nml_compress_step *s, const char *k, const char *v, nml_error *err) {
    static const char *const MODES[] = {"int8", "dynamic", "float16", "int4"};
    static const char *const IO[] = {"float", "int8", "uint8"};
    static const char *const CALS[] = {"minmax", "percentile", "mse"};
    static const char *const WEIGHTS[] = {"per-channel", "per-tensor"};
    int c = 0;
    double d = 0.0;
    if (strcmp(k, "decay") == 0) {
        NML_TRY(nml_parse_double(v, 1e-6, 0.999999, &d, err));
        s->qat.ema_decay = (float)d;
    } else if (strcmp(k, "weights") == 0) {
        NML_TRY(choice(v, WEIGHTS, 2, &c, "per-channel, per-tensor", err));
        s->per_tensor_weights = c;
        s->weights_given = 1;
    } else if (strcmp(k, "io") == 0) {
        NML_TRY(choice(v, IO, 3, &c, "float, int8, uint8", err));
        s->quant.io = (nml_quant_io)c;
    } else if (strcmp(k, "mode") == 0) {
        NML_TRY(choice(v, MODES, 4, &c, "int8, int4, dynamic, float16", err));
        s->quant.mode = (nml_quant_mode)c;
    } else if (strcmp(k, "calib") == 0) {
        free(s->calib);
        if (!(s->calib = dup_n(v, strlen(v)))) return nml_fail(err, NML_E_NOMEM, "out of memory");
    } else if (strcmp(k, "samples") == 0) {
        NML_TRY(nml_parse_int(v, 1, 1 << 30, &c, err));
        s->quant.max_samples = (uint32_t)c;
    } else if (strcmp(k, "calibrator") == 0) {
        NML_TRY(choice(v, CALS, 3, &c, "minmax, percentile, mse", err));
        s->quant.calibrator = (nml_calibrator)c;
    } else {
        NML_TRY(nml_parse_double(v, 50.000001, 100.0, &d, err));
        s->quant.percentile = d;
    }
    return NML_OK;
}

static nml_status set_pack(nml_compress_step *s, const char *k, const char *v, nml_error *err) {
    static const char *const YESNO[] = {"no", "yes"};
    int c = 0;
    if (strcmp(k, "min-elements") == 0) {
        NML_TRY(nml_parse_int(v, 0, INT32_MAX, &c, err));
        s->pack.min_elements = (uint32_t)c;
        return NML_OK;
    }
    NML_TRY(choice(v, YESNO, 2, &c, "yes, no", err));
    if (k[0] == 's')
        s->pack.sparse = c;
    else
        s->pack.clustered = c;
    return NML_OK;
}

static nml_status set(nml_compress_step *s, const char *k, const char *v, nml_error *err) {
    const setting *found = NULL;
    for (size_t i = 0; i < sizeof SETTINGS / sizeof SETTINGS[0] && !found; i++)
        if (strcmp(SETTINGS[i].key, k) == 0) found = &SETTINGS[i];
    if (!found || !(found->steps & step_bit(s->kind))) {
        char list[512];
        list_settings(s->kind, list, sizeof list);
        return nml_fail(err, NML_E_ARG, "unknown setting '%s' (%s)", k, list);
    }
    if (found->steps == TRAIN) return set_training(s, k, v, err);
    if (strcmp(k, "layers") == 0) return layer_list(s, v, 1, err);
    if (strcmp(k, "skip") == 0) return layer_list(s, v, 0, err);
    if (strcmp(k, "preserve") == 0) return preserve(s, v, err);
    if (s->kind == NML_STEP_PRUNE) return set_prune(s, k, v, err);
    if (s->kind == NML_STEP_CLUSTER) return set_cluster(s, k, v, err);
    if (s->kind == NML_STEP_PACK) return set_pack(s, k, v, err);
    return set_quant(s, k, v, err);
}

/* Settings that only make sense together. */
static nml_status check_step(nml_compress_step *s, nml_error *err) {
    if (s->kind == NML_STEP_PRUNE) {
        if (s->prune.schedule.kind == NML_PRUNE_CONSTANT && s->end_auto) {
            s->end_auto = 0;
            s->prune.schedule.end_step = -1;
        }
        if (!s->end_auto) NML_TRY(nml_prune_schedule_check(&s->prune.schedule, err));
    }
    if (s->kind == NML_STEP_QAT && s->train.epochs < 1)
        return nml_fail(err, NML_E_ARG,
                        "epochs=0: QAT learns its activation ranges while "
                        "training (at least 1 epoch)");
    if (s->kind == NML_STEP_QAT && s->qat.preserve_clusters && !s->weights_given)
        s->per_tensor_weights = 1;
    s->quant.per_channel = !s->per_tensor_weights;
    return NML_OK;
}

nml_status nml_compress_step_parse(const char *kind, int n_words, const char *const *words,
                                   nml_compress_step *s, nml_error *err) {
    nml_step_kind k;
    memset(s, 0, sizeof *s);
    if (!step_kind(kind, &k))
        return nml_fail(err, NML_E_ARG, "unknown step '%s' (prune, cluster, qat, quantize, pack)",
                        kind);
    nml_compress_step_default(s, k);
    for (int i = 0; i < n_words; i++) {
        const char *eq = strchr(words[i], '=');
        if (!eq || eq == words[i]) {
            nml_compress_step_free(s);
            return nml_fail(err, NML_E_ARG, "%s: '%s' is not a setting (expected key=value)", kind,
                            words[i]);
        }
        char key[32];
        snprintf(key, sizeof key, "%.*s", (int)(eq - words[i]), words[i]);
        if (set(s, key, eq + 1, err) != NML_OK) {
            nml_compress_step_free(s);
            return nml_error_prefix(err, "%s: %s: ", kind, words[i]);
        }
    }
    if (check_step(s, err) != NML_OK) {
        nml_compress_step_free(s);
        return nml_error_prefix(err, "%s: ", kind);
    }
    return NML_OK;
}

/* ---- recipes ---- */

static int split_words(char *line, char **words) {
    int n = 0;
    for (char *p = line; *p;) {
        while (*p == ' ' || *p == '\t' || *p == '\r')
            *p++ = '\0';
        if (!*p) break;
        if (n == MAX_WORDS) return -1;
        words[n++] = p;
        while (*p && *p != ' ' && *p != '\t' && *p != '\r')
            p++;
    }
    return n;
}

void nml_recipe_free(nml_recipe *r) {
    if (!r) return;
    for (int i = 0; i < r->n; i++)
        nml_compress_step_free(&r->steps[i]);
    free(r->steps);
    memset(r, 0, sizeof *r);
}

/* A quantized model cannot be trained again, and packing works on quantized weights: qat and
 * quantize may only be followed by pack, which comes last. */
static nml_status check_order(const nml_recipe *r, const char *step, int number, nml_error *err) {
    const nml_compress_step *last = r->n > 0 ? &r->steps[r->n - 1] : NULL;
    const int quantized = last && (last->kind == NML_STEP_QAT || last->kind == NML_STEP_QUANTIZE);
    if (last && last->kind == NML_STEP_PACK)
        return nml_fail(err, NML_E_ARG,
                        "line %d: %s cannot follow pack on line %d: packing "
                        "is the last step",
                        number, step, last->line);
    if (strcmp(step, "pack") == 0) {
        if (quantized) return NML_OK;
        if (!last)
            return nml_fail(err, NML_E_ARG,
                            "line %d: pack needs a quantized model: put qat or "
                            "quantize before it",
                            number);
        return nml_fail(err, NML_E_ARG,
                        "line %d: pack cannot follow %s on line %d: it packs "
                        "int8 or int4 weights (put qat or quantize before it)",
                        number, nml_step_name(last->kind), last->line);
    }
    if (quantized)
        return nml_fail(err, NML_E_ARG,
                        "line %d: %s cannot follow %s on line %d: that step "
                        "writes the final quantized model",
                        number, step, nml_step_name(last->kind), last->line);
    return NML_OK;
}

static nml_status parse_line(nml_recipe *r, char *line, int number, nml_error *err) {
    char *hash = strchr(line, '#');
    if (hash) *hash = '\0';
    char *words[MAX_WORDS];
    const int n = split_words(line, words);
    if (n < 0) return nml_fail(err, NML_E_LIMIT, "line %d: more than %d words", number, MAX_WORDS);
    if (n == 0) return NML_OK;
    NML_TRY(check_order(r, words[0], number, err));
    nml_compress_step *grown = realloc(r->steps, (size_t)(r->n + 1) * sizeof *grown);
    if (!grown) return nml_fail(err, NML_E_NOMEM, "out of memory");
    r->steps = grown;
    if (nml_compress_step_parse(words[0], n - 1, (const char *const *)words + 1, &r->steps[r->n],
                                err) != NML_OK)
        return nml_error_prefix(err, "line %d: ", number);
    r->steps[r->n++].line = number;
    return NML_OK;
}

nml_status nml_recipe_parse(const char *text, nml_recipe *r, nml_error *err) {
    memset(r, 0, sizeof *r);
    char line[MAX_LINE];
    int number = 0;
    for (const char *p = text; *p;) {
        const char *end = strchr(p, '\n');
        const size_t len = end ? (size_t)(end - p) : strlen(p);
        number++;
        if (len >= sizeof line) {
            nml_recipe_free(r);
            return nml_fail(err, NML_E_LIMIT, "line %d: longer than %d characters", number,
                            MAX_LINE - 1);
        }
        memcpy(line, p, len);
        line[len] = '\0';
        if (parse_line(r, line, number, err) != NML_OK) {
            nml_recipe_free(r);
            return err ? err->status : NML_E_ARG;
        }
        p += len + (end != NULL);
    }
    if (r->n == 0) return nml_fail(err, NML_E_ARG, "the recipe has no steps");
    return NML_OK;
}
