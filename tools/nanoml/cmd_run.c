/* nanoml run: one inference of a .tflite model with the nanoml runtime. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_numbers.h"
#include "cli_tensor.h"
#include "nanoml/file.h"
#include "nanoml/npy.h"
#include "nanoml/runtime_host.h"

#define CMD "run"
#define MAX_FILES 16
#define PRINT_LIMIT 256

static void usage(FILE *out) {
    fprintf(out,
            "usage: nanoml run MODEL.tflite --input FILE [--input FILE ...] [--output FILE ...]\n"
            "                  [--arena BYTES]\n"
            "\n"
            "Runs one inference with the nanoml runtime (exact arena, reference kernels) and\n"
            "prints every output tensor; int8/uint8 outputs are also shown dequantized.\n\n"
            "options:\n"
            "  --input FILE   one per model input, in order: a .npy file (dtype and shape must\n"
            "                 match the input tensor) or raw little-endian tensor bytes (the\n"
            "                 size must match)\n"
            "  --output FILE  one per model output, in order: writes .npy, or raw bytes when\n"
            "                 FILE ends in .bin\n"
            "  --arena BYTES  run inside an arena of exactly this size, as on the microcontroller\n"
            "                 (e.g. 96K, 131072); guard bytes around it are checked after the\n"
            "                 inference. Default: the exact size the model needs\n"
            "  -h, --help     show this help\n");
}

static int same_shape(const nml_npy *a, const nml_tensor *t) {
    if (a->rank != t->rank) return 0;
    for (int i = 0; i < a->rank; i++)
        if (a->dims[i] != t->dims[i]) return 0;
    return 1;
}

static nml_status load_input(const char *path, uint32_t index, nml_tensor *t, nml_error *err) {
    char want[112];
    cli_tensor_desc(want, sizeof want, t);
    if (cli_ends_with(path, ".npy")) {
        nml_npy a;
        NML_TRY(nml_npy_read(path, &a, err));
        nml_tensor got = {0};
        got.type = (uint8_t)a.dtype;
        got.rank = (uint8_t)a.rank;
        memcpy(got.dims, a.dims, sizeof a.dims);
        char have[112];
        cli_tensor_desc(have, sizeof have, &got);
        nml_status st = NML_OK;
        if (a.dtype != t->type || !same_shape(&a, t))
            st = nml_fail(err, NML_E_SHAPE, "%s: array is %s, input %u is %s", path, have,
                          (unsigned)index, want);
        else
            memcpy(t->data, a.data, t->bytes);
        nml_npy_free(&a);
        return st;
    }
    uint8_t *raw;
    size_t size;
    nml_status rst = nml_read_file(path, (size_t)t->bytes, &raw, &size, err);
    if (rst == NML_E_LIMIT) /* larger than the tensor: not read at all */
        return nml_fail(err, NML_E_SHAPE, "%s: more than %u bytes, input %u (%s) needs %u", path,
                        (unsigned)t->bytes, (unsigned)index, want, (unsigned)t->bytes);
    NML_TRY(rst);
    nml_status st = NML_OK;
    if (size != t->bytes)
        st = nml_fail(err, NML_E_SHAPE, "%s: %zu bytes, input %u (%s) needs %u", path, size,
                      (unsigned)index, want, (unsigned)t->bytes);
    else
        memcpy(t->data, raw, size);
    free(raw);
    return st;
}

static void print_values(const nml_tensor *t, int dequantize) {
    uint32_t n = nml_tensor_count(t);
    uint32_t shown = n < PRINT_LIMIT ? n : PRINT_LIMIT;
    printf(dequantize ? "  dequantized: [" : "  values:      [");
    for (uint32_t i = 0; i < shown; i++) {
        double v = cli_tensor_value(t->data, t->type, i);
        if (dequantize) v = (double)t->scale * (v - t->zero_point);
        if (t->type == NML_FLOAT32 || t->type == NML_FLOAT64 || dequantize)
            printf("%s%.9g", i ? ", " : "", v);
        else
            printf("%s%.0f", i ? ", " : "", v);
    }
    if (shown < n) printf(", ... (%u more; use --output for all)", (unsigned)(n - shown));
    printf("]\n");
}

static void print_output(nml_interpreter *it, uint32_t i) {
    nml_tensor *t = nml_output(it, i);
    char desc[112];
    cli_tensor_desc(desc, sizeof desc, t);
    printf("output %u: %s (%s", (unsigned)i, desc, t->name[0] ? t->name : "unnamed");
    if (t->n_q == 1) printf(", scale %.9g, zero point %d", t->scale, (int)t->zero_point);
    printf(")\n");
    int numeric = t->type != NML_FLOAT16 && t->type != NML_INT4 && t->type != NML_COMPLEX64;
    if (!numeric) {
        printf("  (%u bytes of %s; use --output to save them)\n", (unsigned)t->bytes,
               nml_dtype_name(t->type));
        return;
    }
    print_values(t, 0);
    if ((t->type == NML_INT8 || t->type == NML_UINT8) && t->n_q >= 1) print_values(t, 1);
}

static nml_status save_output(const char *path, const nml_tensor *t, nml_error *err) {
    if (cli_ends_with(path, ".bin")) return nml_write_file(path, t->data, t->bytes, err);
    return nml_npy_write(path, t->type, t->rank, t->dims, t->data, err);
}

typedef struct run_args {
    const char *model;
    const char *inputs[MAX_FILES], *outputs[MAX_FILES];
    int n_inputs, n_outputs;
    int fixed_arena; /* --arena given */
    uint64_t arena_bytes;
} run_args;

static int parse(int argc, char **argv, run_args *a) {
    memset(a, 0, sizeof *a);
    for (int i = 1; i < argc; i++) {
        const char *v;
        int r;
        if (cli_is_help(argv[i])) {
            usage(stdout);
            return 0;
        }
        if ((r = cli_take_value(CMD, argc, argv, &i, "--input", &v)) != 0) {
            if (r < 0) return 2;
            if (a->n_inputs == MAX_FILES) return cli_usage_error(CMD, "too many --input files");
            a->inputs[a->n_inputs++] = v;
        } else if ((r = cli_take_value(CMD, argc, argv, &i, "--output", &v)) != 0) {
            if (r < 0) return 2;
            if (a->n_outputs == MAX_FILES) return cli_usage_error(CMD, "too many --output files");
            a->outputs[a->n_outputs++] = v;
        } else if ((r = cli_take_value(CMD, argc, argv, &i, "--arena", &v)) != 0) {
            if (r < 0 || cli_size(CMD, "--arena", v, &a->arena_bytes)) return 2;
            a->fixed_arena = 1;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            return cli_usage_error(CMD, "unknown option '%s'", argv[i]);
        } else if (!a->model) {
            a->model = argv[i];
        } else {
            return cli_usage_error(CMD, "more than one model given ('%s')", argv[i]);
        }
    }
    if (!a->model) return cli_usage_error(CMD, "no model given");
    if (!a->n_inputs) return cli_usage_error(CMD, "no --input given");
    return -1; /* continue */
}

static nml_status run(const run_args *a, nml_interpreter *it, nml_error *err) {
    uint32_t n_in = nml_input_count(it), n_out = nml_output_count(it);
    if ((uint32_t)a->n_inputs != n_in)
        return nml_fail(err, NML_E_ARG, "the model has %u inputs, %d --input given", (unsigned)n_in,
                        a->n_inputs);
    if ((uint32_t)a->n_outputs > n_out)
        return nml_fail(err, NML_E_ARG, "the model has %u outputs, %d --output given",
                        (unsigned)n_out, a->n_outputs);
    for (uint32_t i = 0; i < n_in; i++)
        NML_TRY(load_input(a->inputs[i], i, nml_input(it, i), err));
    NML_TRY(nml_invoke(it, err));
    for (uint32_t i = 0; i < n_out; i++)
        print_output(it, i);
    for (int i = 0; i < a->n_outputs; i++)
        NML_TRY(save_output(a->outputs[i], nml_output(it, (uint32_t)i), err));
    return NML_OK;
}

/* --arena: the caller's arena size between guard bytes, as firmware would run it. */
static nml_status run_in_fixed_arena(const run_args *a, const nml_model *model, nml_interpreter *it,
                                     nml_error *err) {
    nml_guarded_arena g;
    NML_TRY(nml_guarded_arena_alloc(&g, (size_t)a->arena_bytes, err));
    nml_status st = nml_interpreter_init(it, model, nml_ops_all(), g.arena, g.bytes, err);
    if (st == NML_OK) st = run(a, it, err);
    if (st == NML_OK) st = nml_guarded_arena_check(&g, err);
    if (st == NML_OK)
        printf("arena: %zu of %zu bytes used, guard bytes intact\n", it->arena_used, g.bytes);
    nml_guarded_arena_free(&g);
    return st;
}

int cmd_run(int argc, char **argv);
int cmd_run(int argc, char **argv) {
    run_args a;
    int rc = parse(argc, argv, &a);
    if (rc >= 0) return rc;

    nml_model model;
    nml_interpreter it = {0};
    uint8_t *data = NULL, *arena = NULL;
    size_t size;
    nml_error err;
    nml_error_clear(&err);
    nml_status st = nml_load_model_file(a.model, &data, &size, &model, &err);
    if (st == NML_OK && a.fixed_arena)
        st = run_in_fixed_arena(&a, &model, &it, &err);
    else if (st == NML_OK) {
        st = nml_interpreter_init_alloc(&it, &model, nml_ops_all(), &arena, &err);
        if (st == NML_OK) st = run(&a, &it, &err);
    }
    rc = st == NML_OK ? 0 : cli_error(CMD, &err);
    free(arena);
    free(data);
    return rc;
}
