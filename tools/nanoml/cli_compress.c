#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_compress.h"
#include "nanoml/compress.h"
#include "nanoml/file.h"
#include "nanoml/idx.h"
#include "nanoml/parse.h"
#include "nanoml/runtime.h"
#include "nanoml/train_import.h"

#define MODEL_MAX_BYTES ((size_t)1 << 30)
#define RECIPE_MAX_BYTES ((size_t)1 << 20)
#define MAX_SETTINGS 64

const char CLI_COMPRESS_COMMON_HELP[] =
    "  --out FILE        where to write the result (.tflite; required)\n"
    "  --data DIR        Fashion-MNIST .gz files for fine-tuning and calibration\n"
    "                    (default " NML_FASHION_MNIST_DIR ")\n"
    "  --limit N         fine-tune on the first N training images only\n"
    "  --no-pack         write a quantized result with plain int8 weights (default:\n"
    "                    pruned / clustered weights packed as by `nanoml pack`, which\n"
    "                    only nanoml runs; a recipe may end with its own pack step)\n"
    "  --quiet           no progress display\n"
    "  -h, --help        show this help\n";

typedef struct args {
    const char *model, *out, *data, *recipe_file, *quantize, *calib;
    const char *settings[MAX_SETTINGS]; /* "key=value" for the command's step */
    char *owned[MAX_SETTINGS];
    int n_settings;
    const char *steps[MAX_SETTINGS]; /* compress --step "..." */
    int n_steps;
    int32_t limit;
    int quiet, no_pack;
} args;

static void free_args(args *a) {
    for (int i = 0; i < a->n_settings; i++)
        free(a->owned[i]);
}

/* --key value -> "key=value" for the step parser, which knows the settings. */
static int add_setting(const cli_compress_cmd *c, args *a, const char *key, const char *value) {
    if (a->n_settings == MAX_SETTINGS) return cli_usage_error(c->name, "too many options");
    const size_t n = strlen(key) + strlen(value) + 2;
    char *s = malloc(n);
    if (!s) return cli_usage_error(c->name, "out of memory");
    snprintf(s, n, "%s=%s", key, value);
    a->owned[a->n_settings] = s;
    a->settings[a->n_settings++] = s;
    return 0;
}

static int parse_cli_option(const cli_compress_cmd *c, args *a, int argc, char **argv, int *i) {
    const char *v;
    int r;
    if ((r = cli_take_value(c->name, argc, argv, i, "--out", &v))) {
        a->out = v;
    } else if ((r = cli_take_value(c->name, argc, argv, i, "--data", &v))) {
        a->data = v;
    } else if ((r = cli_take_value(c->name, argc, argv, i, "--limit", &v))) {
        nml_error err;
        int n = 0;
        if (r > 0 && nml_parse_int(v, 1, 1 << 30, &n, &err) != NML_OK)
            return cli_usage_error(c->name, "--limit: %s", err.msg);
        if (r > 0) a->limit = n;
    } else if (!c->step && (r = cli_take_value(c->name, argc, argv, i, "--recipe", &v))) {
        a->recipe_file = v;
    } else if (!c->step && (r = cli_take_value(c->name, argc, argv, i, "--step", &v))) {
        if (r > 0 && a->n_steps == MAX_SETTINGS) return cli_usage_error(c->name, "too many --step");
        if (r > 0) a->steps[a->n_steps++] = v;
    } else if (c->allow_quantize &&
               (r = cli_take_value(c->name, argc, argv, i, "--quantize", &v))) {
        a->quantize = v;
    } else if (c->allow_quantize && (r = cli_take_value(c->name, argc, argv, i, "--calib", &v))) {
        a->calib = v;
    } else {
        return -3; /* not a shared option */
    }
    return r < 0 ? 2 : 0;
}

static int parse_args(const cli_compress_cmd *c, int argc, char **argv, args *a) {
    memset(a, 0, sizeof *a);
    a->data = NML_FASHION_MNIST_DIR;
    for (int i = 1; i < argc; i++) {
        const int r = parse_cli_option(c, a, argc, argv, &i);
        if (r == 2) return 2;
        if (r != -3) continue;
        if (strcmp(argv[i], "--quiet") == 0) {
            a->quiet = 1;
        } else if (strcmp(argv[i], "--no-pack") == 0) {
            a->no_pack = 1;
        } else if (c->step && strncmp(argv[i], "--", 2) == 0 && argv[i][2]) {
            if (i + 1 >= argc) return cli_usage_error(c->name, "option %s needs a value", argv[i]);
            if (add_setting(c, a, argv[i] + 2, argv[i + 1])) return 2;
            i++;
        } else if (argv[i][0] == '-') {
            return cli_usage_error(c->name, "unknown option '%s'", argv[i]);
        } else if (!a->model) {
            a->model = argv[i];
        } else {
            return cli_usage_error(c->name, "unexpected argument '%s'", argv[i]);
        }
    }
    if (!a->model) return cli_usage_error(c->name, "no model given (a float .tflite file)");
    if (!a->out) return cli_usage_error(c->name, "--out is required");
    if (!c->step && !a->recipe_file && a->n_steps == 0)
        return cli_usage_error(c->name, "give the steps: --recipe FILE or --step \"...\"");
    if (!c->step && a->recipe_file && a->n_steps)
        return cli_usage_error(c->name, "give either --recipe or --step, not both");
    if (a->calib && !a->quantize) return cli_usage_error(c->name, "--calib needs --quantize");
    return 0;
}

/* ---- the recipe ---- */

static char *recipe_file_text(const args *a, nml_error *err) {
    uint8_t *data;
    size_t size;
    if (nml_read_file(a->recipe_file, RECIPE_MAX_BYTES, &data, &size, err) != NML_OK) return NULL;
    if (strlen((const char *)data) != size) {
        free(data);
        nml_fail(err, NML_E_FORMAT, "%s: the recipe contains a NUL byte", a->recipe_file);
        return NULL;
    }
    return (char *)data;
}

/* --step "..." options, one recipe line each (errors count them as lines). */
static char *steps_text(const args *a, nml_error *err) {
    size_t n = 1;
    for (int i = 0; i < a->n_steps; i++)
        n += strlen(a->steps[i]) + 1;
    char *t = malloc(n);
    if (!t) {
        nml_fail(err, NML_E_NOMEM, "out of memory");
        return NULL;
    }
    size_t o = 0;
    for (int i = 0; i < a->n_steps; i++)
        o += (size_t)snprintf(t + o, n - o, "%s\n", a->steps[i]);
    t[o] = '\0';
    return t;
}

/* The command's own step from its options, then --quantize. */
static nml_status option_recipe(const cli_compress_cmd *c, const args *a, nml_recipe *r,
                                nml_error *err) {
    memset(r, 0, sizeof *r);
    r->steps = calloc(2, sizeof *r->steps);
    if (!r->steps) return nml_fail(err, NML_E_NOMEM, "out of memory");
    NML_TRY(nml_compress_step_parse(c->step, a->n_settings, a->settings, &r->steps[0], err));
    r->n = 1;
    if (!a->quantize) return NML_OK;
    char mode[64], calib[1100];
    snprintf(mode, sizeof mode, "mode=%s", a->quantize);
    snprintf(calib, sizeof calib, "calib=%s", a->calib ? a->calib : "");
    const char *words[2] = {mode, calib};
    NML_TRY(nml_compress_step_parse("quantize", a->calib ? 2 : 1, words, &r->steps[1], err));
    r->n = 2;
    return NML_OK;
}

static nml_status make_recipe(const cli_compress_cmd *c, const args *a, nml_recipe *r,
                              nml_error *err) {
    if (c->step) return option_recipe(c, a, r, err);
    char *text = a->recipe_file ? recipe_file_text(a, err) : steps_text(a, err);
    if (!text) return err->status;
    nml_status st = nml_recipe_parse(text, r, err);
    if (st != NML_OK && a->recipe_file) nml_error_prefix(err, "%s: ", a->recipe_file);
    free(text);
    return st;
}

static int needs_training(const nml_recipe *r) {
    for (int i = 0; i < r->n; i++)
        if ((r->steps[i].kind == NML_STEP_PRUNE || r->steps[i].kind == NML_STEP_CLUSTER ||
             r->steps[i].kind == NML_STEP_QAT) &&
            r->steps[i].train.epochs > 0)
            return 1;
    return 0;
}

/* A quantized result is packed by default: a pack step with the default settings is appended
 * unless the recipe has one (or --no-pack). A float result has nothing to pack. */
static nml_status add_default_pack(const args *a, nml_recipe *r, nml_error *err) {
    const nml_compress_step *last = &r->steps[r->n - 1];
    if (last->kind == NML_STEP_PACK && a->no_pack)
        return nml_fail(err, NML_E_ARG, "--no-pack contradicts the pack step on line %d",
                        last->line);
    if (a->no_pack || (last->kind != NML_STEP_QAT && last->kind != NML_STEP_QUANTIZE))
        return NML_OK;
    nml_compress_step *grown = realloc(r->steps, (size_t)(r->n + 1) * sizeof *grown);
    if (!grown) return nml_fail(err, NML_E_NOMEM, "out of memory");
    r->steps = grown;
    return nml_compress_step_parse("pack", 0, NULL, &r->steps[r->n++], err);
}

/* ---- data ---- */

static nml_status load_data(const args *a, const nml_ir *model, nml_idx_dataset *ds, nml_data *d,
                            nml_error *err) {
    const nml_ir_tensor *in = &model->tensors[model->inputs[0]];
    char dims[96];
    nml_format_dims(dims, sizeof dims, in->dims, in->rank);
    if (model->n_inputs != 1 || in->rank != 4 || in->dims[0] != 1 || in->dims[3] != 1)
        return nml_fail(err, NML_E_SHAPE,
                        "the model input %s (%s) is not a 1 x H x W x 1 image: "
                        "fine-tuning on Fashion-MNIST needs one (or give epochs 0)",
                        in->name, dims);
    NML_TRY(nml_idx_load_split(a->data, "train", ds, err));
    if (in->dims[1] < ds->rows || in->dims[2] < ds->cols)
        return nml_fail(err, NML_E_SHAPE,
                        "the model input %s is smaller than the %dx%d training "
                        "images",
                        dims, (int)ds->rows, (int)ds->cols);
    if (a->limit > 0 && a->limit < ds->n) ds->n = a->limit;
    return nml_data_from_images(d, ds, in->dims[1], in->dims[2], err);
}

/* ---- output ---- */

static nml_status write_model(const args *a, const nml_ir *ir, FILE *f, nml_error *err) {
    uint8_t *bytes = NULL;
    size_t size = 0;
    nml_status st = nml_ir_to_tflite(ir, &bytes, &size, err);
    if (st == NML_OK) st = nml_write_file(a->out, bytes, size, err);
    if (st == NML_OK) fprintf(f, "wrote %s (%zu bytes)\n", a->out, size);
    free(bytes);
    return st;
}

static nml_status run(const args *a, const nml_recipe *r, nml_error *err) {
    uint8_t *bytes = NULL;
    size_t size = 0;
    nml_ir model, out;
    nml_ir_init(&model);
    nml_ir_init(&out);
    nml_idx_dataset ds;
    memset(&ds, 0, sizeof ds);
    nml_data data;
    nml_status st = nml_read_file(a->model, MODEL_MAX_BYTES, &bytes, &size, err);
    if (st == NML_OK && (st = nml_ir_from_tflite(&model, bytes, size, err)) != NML_OK)
        nml_error_prefix(err, "%s: ", a->model);
    const int imports = r->steps[0].kind != NML_STEP_QUANTIZE;
    if (st == NML_OK && imports && (st = nml_import_check(&model, err)) != NML_OK)
        nml_error_prefix(err, "%s: ", a->model);
    const int train = needs_training(r);
    if (st == NML_OK && train) st = load_data(a, &model, &ds, &data, err);
    cli_bar bar;
    cli_bar_init(&bar, "sample", a->quiet);
    const nml_compress_env env = {.train = train ? &data : NULL,
                                  .fashion_dir = a->data,
                                  .on_progress = a->quiet ? NULL : nml_fit_print_progress,
                                  .quant_progress = cli_bar_update,
                                  .quant_progress_user = &bar,
                                  .log = stdout};
    if (st == NML_OK) st = nml_compress_run(&model, r, &env, &out, err);
    cli_bar_end(&bar);
    if (st == NML_OK) st = write_model(a, &out, stdout, err);
    nml_ir_free(&model);
    nml_ir_free(&out);
    nml_idx_dataset_free(&ds);
    free(bytes);
    return st;
}

int cli_compress_main(const cli_compress_cmd *c, int argc, char **argv) {
    for (int i = 1; i < argc; i++)
        if (cli_is_help(argv[i])) {
            c->usage(stdout);
            return 0;
        }
    args a;
    int rc = parse_args(c, argc, argv, &a);
    if (rc) {
        free_args(&a);
        return rc;
    }
    nml_error err;
    nml_error_clear(&err);
    nml_recipe r;
    memset(&r, 0, sizeof r);
    if (make_recipe(c, &a, &r, &err) != NML_OK ||
        add_default_pack(&a, &r, &err) != NML_OK) /* typed settings are usage errors */
        rc = a.recipe_file || err.status == NML_E_IO ? cli_error(c->name, &err)
                                                     : cli_usage_error(c->name, "%s", err.msg);
    else
        rc = run(&a, &r, &err) == NML_OK ? 0 : cli_error(c->name, &err);
    nml_recipe_free(&r);
    free_args(&a);
    return rc;
}
