/* nanoml inspect: what a .tflite model contains and what it costs on the microcontroller. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_tensor.h"
#include "nanoml/macs.h"
#include "nanoml/model_stats.h"
#include "nanoml/op_order.h"
#include "nanoml/pack.h"
#include "nanoml/runtime_host.h"

#define CMD "inspect"

static void usage(FILE *out) {
    fprintf(
        out,
        "usage: nanoml inspect MODEL.tflite [--json] [--verbose]\n\n"
        "Verifies a TFLite model and prints its operators (inputs and outputs with types and\n"
        "shapes, multiply-accumulates), tensor and parameter counts, flash bytes (the file as\n"
        "stored, its constant data, and the file's gzip -9 size for comparisons with\n"
        "TF-MOT's compressed sizes) and the exact tensor arena the nanoml runtime needs. When\n"
        "an operator has no nanoml kernel, the arena is reported as unknown with the reason.\n"
        "The activation lower bound is given for the file's operator order and for the order\n"
        "needing the fewest activation bytes (the one nanoml export and deploy choose).\n"
        "Packed weights (nanoml's sparse/clustered encodings) count with their stored bytes.\n\n"
        "options:\n"
        "  --json     machine-readable output (always lists the constant tensors)\n"
        "  --verbose  list every constant tensor: encoding, stored and dense bytes\n"
        "  -h, --help show this help\n");
}

typedef struct op_row {
    char name[64];
    char *inputs, *outputs; /* "int8 1x16, int32 16" */
    unsigned long long macs;
} op_row;

typedef struct report {
    const char *path;
    nml_model model;
    size_t file_bytes;
    nml_model_stats stats;
    unsigned long long constant_bytes, parameters, macs;
    op_row *rows;
    /* arena */
    int arena_ok;
    size_t arena_bytes, persistent_bytes, activation_bytes, activation_min_bytes;
    nml_error arena_err;
    /* the operator order needing the fewest activation bytes (when the arena is known) */
    int order_ok;
    nml_op_order order;
} report;

static char *describe_list(const nml_model *m, const int32_t *idx, uint16_t n, nml_error *err) {
    size_t cap = (size_t)n * 112 + 1;
    char *s = malloc(cap);
    if (!s) return NULL;
    s[0] = '\0';
    for (uint16_t k = 0; k < n; k++) {
        char one[112];
        nml_tensor t;
        if (idx[k] < 0) {
            snprintf(one, sizeof one, "-");
        } else if (nml_model_tensor(m, (uint32_t)idx[k], &t, err) == NML_OK) {
            cli_tensor_desc(one, sizeof one, &t);
        } else {
            free(s);
            return NULL;
        }
        size_t len = strlen(s);
        snprintf(s + len, cap - len, "%s%s", k ? ", " : "", one);
    }
    return s;
}

static nml_status collect(report *r, const uint8_t *file, nml_error *err) {
    const nml_model *m = &r->model;
    NML_TRY(nml_model_stats_of(m, file, r->file_bytes, &r->stats, err));
    r->constant_bytes = r->stats.constant_bytes;
    r->parameters = r->stats.parameters;
    r->rows = calloc(m->n_operators ? m->n_operators : 1, sizeof *r->rows);
    if (!r->rows) return nml_fail(err, NML_E_NOMEM, "out of memory");
    for (uint32_t i = 0; i < m->n_operators; i++) {
        nml_model_op op;
        uint64_t macs;
        op_row *row = &r->rows[i];
        NML_TRY(nml_model_operator(m, i, &op, err));
        NML_TRY(nml_model_op_macs(m, i, &macs, err));
        snprintf(row->name, sizeof row->name, "%s", nml_model_op_name(&op));
        row->inputs = describe_list(m, op.inputs, op.n_inputs, err);
        row->outputs = describe_list(m, op.outputs, op.n_outputs, err);
        if (!row->inputs || !row->outputs) return nml_fail(err, NML_E_NOMEM, "out of memory");
        row->macs = macs;
        r->macs += macs;
    }
    return NML_OK;
}

static void plan_arena(report *r) {
    nml_interpreter it = {0};
    uint8_t *arena = NULL;
    nml_error_clear(&r->arena_err);
    if (nml_interpreter_init_alloc(&it, &r->model, nml_ops_all(), &arena, &r->arena_err) ==
        NML_OK) {
        r->arena_ok = 1;
        r->arena_bytes = it.arena_used;
        r->persistent_bytes = it.persistent_bytes;
        r->activation_bytes = it.activation_bytes;
        r->activation_min_bytes = it.activation_min_bytes;
        nml_error err;
        r->order_ok = nml_order_search(&r->model, nml_ops_all(), NULL, &r->order, &err) == NML_OK;
    }
    free(arena);
}

static void print_order_text(const report *r) {
    const nml_op_order *o = &r->order;
    printf("order       activation lower bound %llu B in the file's order, %llu B in the best "
           "order (%s",
           (unsigned long long)o->original_peak, (unsigned long long)o->peak,
           nml_order_method_name(o->method));
    if (o->method == NML_ORDER_EXACT)
        printf(" search, %llu sets of executed operators", (unsigned long long)o->states);
    else
        printf(": %s", o->note);
    printf(")%s\n", nml_order_is_identity(o) ? ", the file's order is one" : "");
}

static void print_io_text(const report *r, const char *what, int inputs) {
    const nml_model *m = &r->model;
    uint32_t n = inputs ? m->n_inputs : m->n_outputs;
    for (uint32_t i = 0; i < n; i++) {
        nml_tensor t;
        char desc[112];
        int32_t idx = inputs ? nml_model_input(m, i) : nml_model_output(m, i);
        if (nml_model_tensor(m, (uint32_t)idx, &t, NULL) != NML_OK) continue;
        cli_tensor_desc(desc, sizeof desc, &t);
        printf("%-12s%u: %s (tensor %d, %s", i ? "" : what, (unsigned)i, desc, (int)idx,
               t.name[0] ? t.name : "unnamed");
        if (t.n_q == 1) printf(", scale %.9g, zero point %d", t.scale, (int)t.zero_point);
        printf(")\n");
    }
}

/* One line per constant tensor: how it is stored. */
static void print_constants_text(const nml_model *m) {
    printf("\nconstants\n");
    for (uint32_t i = 0; i < m->n_tensors; i++) {
        nml_tensor t;
        nml_pack_info info;
        char desc[112];
        if (nml_model_tensor(m, i, &t, NULL) != NML_OK || t.alloc != NML_ALLOC_CONST ||
            nml_pack_info_of(&t, &info, NULL) != NML_OK)
            continue;
        cli_tensor_desc(desc, sizeof desc, &t);
        printf("%4u  %-16s %8zu bytes stored, %8zu plain  %-30s %s", (unsigned)i, desc,
               info.stored_bytes, info.dense_bytes, info.encoding_name,
               t.name[0] ? t.name : "unnamed");
        if (info.packed) {
            printf(" (%u of %u values, %u-bit", (unsigned)info.stored, (unsigned)info.elements,
                   (unsigned)info.value_bits);
            if (info.tables)
                printf(", %u table%s of %u", (unsigned)info.tables, info.tables > 1 ? "s" : "",
                       (unsigned)info.table_size);
            printf(", record %zu bytes)", info.record_bytes);
        }
        printf("\n");
    }
}

static void print_text(const report *r, int verbose) {
    const nml_model *m = &r->model;
    const nml_model_stats *st = &r->stats;
    printf("model       %s\n", r->path);
    printf("flash       %zu bytes stored (file), constant data %llu bytes; gzip -9: %zu bytes\n",
           r->file_bytes, r->constant_bytes, st->gzip_bytes);
    if (st->packed_tensors)
        printf("packed      %u weight tensors; constant data %llu bytes stored, %llu bytes plain\n",
               (unsigned)st->packed_tensors, (unsigned long long)st->constant_bytes,
               (unsigned long long)st->constant_dense_bytes);
    if (st->weight_count)
        printf("weights     %u filters, %llu values, %.1f%% zero, at most %u distinct per "
               "tensor\n",
               (unsigned)st->weight_tensors, (unsigned long long)st->weight_count,
               100.0 * (double)st->weight_zeros / (double)st->weight_count,
               (unsigned)st->max_distinct);
    printf("tensors     %u (%llu parameters)\n", (unsigned)m->n_tensors, r->parameters);
    printf("operators   %u (%llu MACs)\n", (unsigned)m->n_operators, r->macs);
    print_io_text(r, "inputs", 1);
    print_io_text(r, "outputs", 0);
    if (r->arena_ok)
        printf("arena       %zu bytes (persistent %zu, activations %zu; activation lower bound "
               "%zu)\n",
               r->arena_bytes, r->persistent_bytes, r->activation_bytes, r->activation_min_bytes);
    else
        printf("arena       unknown: %s\n", r->arena_err.msg);
    if (r->order_ok) print_order_text(r);

    int wn = 8, wi = 6, wo = 7;
    for (uint32_t i = 0; i < m->n_operators; i++) {
        int a = (int)strlen(r->rows[i].name), b = (int)strlen(r->rows[i].inputs),
            c = (int)strlen(r->rows[i].outputs);
        wn = a > wn ? a : wn;
        wi = b > wi ? b : wi;
        wo = c > wo ? c : wo;
    }
    printf("\n%4s  %-*s  %-*s  %-*s  %12s\n", "#", wn, "operator", wi, "inputs", wo, "outputs",
           "MACs");
    for (uint32_t i = 0; i < m->n_operators; i++)
        printf("%4u  %-*s  %-*s  %-*s  %12llu\n", (unsigned)i, wn, r->rows[i].name, wi,
               r->rows[i].inputs, wo, r->rows[i].outputs, r->rows[i].macs);
    if (verbose) print_constants_text(m);
}

static void json_tensor(const nml_model *m, int32_t idx) {
    nml_tensor t;
    if (idx < 0 || nml_model_tensor(m, (uint32_t)idx, &t, NULL) != NML_OK) {
        printf("null");
        return;
    }
    printf("{\"tensor\": %d, \"name\": ", (int)idx);
    cli_json_string(stdout, t.name);
    printf(", \"type\": \"%s\", \"shape\": ", nml_dtype_name(t.type));
    cli_json_shape(stdout, &t);
    if (t.n_q == 1)
        printf(", \"scale\": %.9g, \"zero_point\": %d", t.scale, (int)t.zero_point);
    else if (t.n_q > 1)
        printf(", \"channels\": %u", (unsigned)t.n_q);
    printf("}");
}

static void json_list(const nml_model *m, const int32_t *idx, uint32_t n) {
    printf("[");
    for (uint32_t k = 0; k < n; k++) {
        if (k) printf(", ");
        json_tensor(m, idx[k]);
    }
    printf("]");
}

static void json_constants(const nml_model *m) {
    printf("  \"constants\": [");
    int first = 1;
    for (uint32_t i = 0; i < m->n_tensors; i++) {
        nml_tensor t;
        nml_pack_info info;
        if (nml_model_tensor(m, i, &t, NULL) != NML_OK || t.alloc != NML_ALLOC_CONST ||
            nml_pack_info_of(&t, &info, NULL) != NML_OK)
            continue;
        printf("%s\n    {\"tensor\": %u, \"name\": ", first ? "" : ",", (unsigned)i);
        first = 0;
        cli_json_string(stdout, t.name);
        printf(", \"type\": \"%s\", \"encoding\": \"%s\", \"stored_bytes\": %zu, "
               "\"dense_bytes\": %zu, \"elements\": %u, \"stored_values\": %u, "
               "\"record_bytes\": %zu, \"value_bits\": %u, \"tables\": %u, \"table_size\": %u}",
               nml_dtype_name(t.type), info.encoding_name, info.stored_bytes, info.dense_bytes,
               (unsigned)info.elements, (unsigned)info.stored, info.record_bytes,
               (unsigned)info.value_bits, (unsigned)info.tables, (unsigned)info.table_size);
    }
    printf("%s],\n", first ? "" : "\n  ");
}

static void print_json(const report *r) {
    const nml_model *m = &r->model;
    const nml_model_stats *st = &r->stats;
    printf("{\n  \"model\": ");
    cli_json_string(stdout, r->path);
    printf(",\n  \"file_bytes\": %zu,\n  \"gzip_bytes\": %zu,\n  \"constant_bytes\": %llu,\n"
           "  \"constant_dense_bytes\": %llu,\n  \"packed_tensors\": %u,\n  \"tensors\": %u,\n"
           "  \"parameters\": %llu,\n  \"macs\": %llu,\n",
           r->file_bytes, st->gzip_bytes, r->constant_bytes,
           (unsigned long long)st->constant_dense_bytes, (unsigned)st->packed_tensors,
           (unsigned)m->n_tensors, r->parameters, r->macs);
    printf("  \"weight_values\": %llu,\n  \"weight_zeros\": %llu,\n  \"weight_sparsity\": %.6f,\n"
           "  \"max_distinct\": %u,\n",
           (unsigned long long)st->weight_count, (unsigned long long)st->weight_zeros,
           st->weight_count ? (double)st->weight_zeros / (double)st->weight_count : 0.0,
           (unsigned)st->max_distinct);
    json_constants(m);
    printf("  \"inputs\": [");
    for (uint32_t i = 0; i < m->n_inputs; i++) {
        if (i) printf(", ");
        json_tensor(m, nml_model_input(m, i));
    }
    printf("],\n  \"outputs\": [");
    for (uint32_t i = 0; i < m->n_outputs; i++) {
        if (i) printf(", ");
        json_tensor(m, nml_model_output(m, i));
    }
    printf("],\n");
    if (r->arena_ok)
        printf("  \"arena_bytes\": %zu,\n  \"persistent_bytes\": %zu,\n  \"activation_bytes\": "
               "%zu,\n  \"activation_min_bytes\": %zu,\n  \"arena_error\": null,\n",
               r->arena_bytes, r->persistent_bytes, r->activation_bytes, r->activation_min_bytes);
    if (r->order_ok)
        printf("  \"best_order_min_bytes\": %llu,\n  \"best_order_method\": \"%s\",\n",
               (unsigned long long)r->order.peak, nml_order_method_name(r->order.method));
    if (!r->arena_ok) {
        printf("  \"arena_bytes\": null,\n  \"arena_error\": ");
        cli_json_string(stdout, r->arena_err.msg);
        printf(",\n");
    }
    printf("  \"operators\": [");
    for (uint32_t i = 0; i < m->n_operators; i++) {
        nml_model_op op;
        if (nml_model_operator(m, i, &op, NULL) != NML_OK) continue;
        printf("%s\n    {\"index\": %u, \"op\": ", i ? "," : "", (unsigned)i);
        cli_json_string(stdout, r->rows[i].name);
        printf(", \"builtin\": %d, \"macs\": %llu, \"inputs\": ", (int)op.builtin, r->rows[i].macs);
        json_list(m, op.inputs, op.n_inputs);
        printf(", \"outputs\": ");
        json_list(m, op.outputs, op.n_outputs);
        printf("}");
    }
    printf("%s]\n}\n", m->n_operators ? "\n  " : "");
}

static void free_report(report *r) {
    if (r->order_ok) nml_op_order_free(&r->order);
    r->order_ok = 0;
    if (!r->rows) return;
    for (uint32_t i = 0; i < r->model.n_operators; i++) {
        free(r->rows[i].inputs);
        free(r->rows[i].outputs);
    }
    free(r->rows);
}

int cmd_inspect(int argc, char **argv);
int cmd_inspect(int argc, char **argv) {
    const char *path = NULL;
    int json = 0, verbose = 0;
    for (int i = 1; i < argc; i++) {
        if (cli_is_help(argv[i])) {
            usage(stdout);
            return 0;
        } else if (strcmp(argv[i], "--json") == 0) {
            json = 1;
        } else if (strcmp(argv[i], "--verbose") == 0) {
            verbose = 1;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            return cli_usage_error(CMD, "unknown option '%s'", argv[i]);
        } else if (!path) {
            path = argv[i];
        } else {
            return cli_usage_error(CMD, "more than one model given ('%s')", argv[i]);
        }
    }
    if (!path) return cli_usage_error(CMD, "no model given");

    report r;
    memset(&r, 0, sizeof r);
    r.path = path;
    uint8_t *data = NULL;
    nml_error err;
    nml_error_clear(&err);
    if (nml_load_model_file(path, &data, &r.file_bytes, &r.model, &err) != NML_OK)
        return cli_error(CMD, &err);
    int rc = 0;
    if (collect(&r, data, &err) != NML_OK) {
        rc = cli_error(CMD, &err);
    } else {
        plan_arena(&r);
        if (json)
            print_json(&r);
        else
            print_text(&r, verbose);
    }
    free_report(&r);
    free(data);
    return rc;
}
