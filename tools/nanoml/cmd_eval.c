/* nanoml eval: runs a .tflite classifier in the nanoml runtime over a labelled image dataset and
 * reports accuracy and the confusion matrix. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_numbers.h"
#include "nanoml/classify.h"
#include "nanoml/file.h"
#include "nanoml/idx.h"
#include "nanoml/progress.h"
#include "nanoml/runtime.h"

#define CMD "eval"

static const char *const fashion_classes[10] = {"T-shirt/top", "Trouser", "Pullover", "Dress",
                                                "Coat",        "Sandal",  "Shirt",    "Sneaker",
                                                "Bag",         "Ankle boot"};

typedef struct eval_args {
    const char *model, *dataset, *data, *split;
    int32_t limit;
    size_t arena_max;
} eval_args;

static void usage(FILE *f) {
    fprintf(f,
            "usage: nanoml eval MODEL.tflite [--dataset fashion-mnist] [options]\n\n"
            "Runs an image classifier in the nanoml runtime on every test image and prints the\n"
            "accuracy and the confusion matrix. Images are scaled to [0, 1] and zero-padded\n"
            "(centered) to the model's input size, as `nanoml train` does; int8 and uint8 inputs\n"
            "are quantized with the input tensor's scale and zero point.\n\n"
            "options:\n"
            "  --dataset NAME    fashion-mnist (default) or mnist\n"
            "  --data DIR        folder with the IDX .gz files (default for fashion-mnist:\n"
            "                    %s)\n"
            "  --split NAME      t10k (the test set, default) or train\n"
            "  --limit N         evaluate the first N images only\n"
            "  --arena-max BYTES largest tensor arena to try (default 64 MiB)\n"
            "  -h, --help        show this help\n",
            NML_FASHION_MNIST_DIR);
}

static int parse_args(int argc, char **argv, eval_args *a) {
    memset(a, 0, sizeof *a);
    a->dataset = "fashion-mnist";
    a->split = "t10k";
    a->arena_max = (size_t)64 << 20;
    for (int i = 1; i < argc; i++) {
        const char *v = NULL;
        int r;
        if ((r = cli_take_value(CMD, argc, argv, &i, "--dataset", &v))) {
            if (r < 0) return 2;
            a->dataset = v;
        } else if ((r = cli_take_value(CMD, argc, argv, &i, "--data", &v))) {
            if (r < 0) return 2;
            a->data = v;
        } else if ((r = cli_take_value(CMD, argc, argv, &i, "--split", &v))) {
            if (r < 0) return 2;
            a->split = v;
        } else if ((r = cli_take_value(CMD, argc, argv, &i, "--limit", &v))) {
            int64_t n;
            if (r < 0 || cli_int(CMD, "--limit", v, &n)) return 2;
            a->limit = (int32_t)n;
        } else if ((r = cli_take_value(CMD, argc, argv, &i, "--arena-max", &v))) {
            uint64_t n;
            if (r < 0 || cli_size(CMD, "--arena-max", v, &n)) return 2;
            a->arena_max = (size_t)n;
        } else if (argv[i][0] == '-') {
            return cli_usage_error(CMD, "unknown option '%s'", argv[i]);
        } else if (!a->model) {
            a->model = argv[i];
        } else {
            return cli_usage_error(CMD, "unexpected argument '%s'", argv[i]);
        }
    }
    if (!a->model) return cli_usage_error(CMD, "which model? (a .tflite file)");
    if (strcmp(a->dataset, "fashion-mnist") == 0) {
        if (!a->data) a->data = NML_FASHION_MNIST_DIR;
    } else if (strcmp(a->dataset, "mnist") == 0) {
        if (!a->data) return cli_usage_error(CMD, "mnist needs --data DIR");
    } else {
        return cli_usage_error(CMD, "unknown dataset '%s' (fashion-mnist, mnist)", a->dataset);
    }
    if (strcmp(a->split, "t10k") != 0 && strcmp(a->split, "train") != 0)
        return cli_usage_error(CMD, "unknown split '%s' (t10k, train)", a->split);
    return 0;
}

static void print_confusion(const int32_t *m, int32_t classes, int fashion) {
    printf("\nconfusion matrix (rows: true class, columns: predicted class)\n%14s", "");
    for (int32_t p = 0; p < classes; p++) printf(" %5d", (int)p);
    printf("  recall\n");
    for (int32_t t = 0; t < classes; t++) {
        int64_t row = 0;
        for (int32_t p = 0; p < classes; p++) row += m[t * classes + p];
        if (fashion && classes == 10)
            printf("%2d %-11s", (int)t, fashion_classes[t]);
        else
            printf("%2d %-11s", (int)t, "");
        for (int32_t p = 0; p < classes; p++) printf(" %5d", (int)m[t * classes + p]);
        printf("  %5.1f%%\n", row ? 100.0 * m[t * classes + t] / (double)row : 0.0);
    }
}

/* nml_classify_eval's per-image callback drives the progress bar. */
static void show_progress(void *user, int32_t done, int32_t total, int64_t correct) {
    (void)total;
    (void)correct;
    nml_progress_set((nml_progress *)user, (uint64_t)done);
}

static int evaluate(const eval_args *a, const nml_idx_dataset *ds) {
    nml_error err;
    uint8_t *bytes = NULL;
    size_t size = 0;
    nml_model model;
    if (nml_read_file(a->model, (size_t)1 << 30, &bytes, &size, &err) != NML_OK ||
        nml_model_load(&model, bytes, size, &err) != NML_OK) {
        free(bytes);
        return cli_error(CMD, &err);
    }
    nml_classify_options o;
    nml_classify_options_default(&o);
    o.limit = a->limit;
    o.arena_max = a->arena_max;
    nml_progress bar;
    nml_progress_begin(&bar, "eval", (uint64_t)(a->limit && a->limit < ds->n ? a->limit : ds->n),
                       "img");
    o.progress = show_progress;
    o.progress_user = &bar;
    nml_classify_result r;
    nml_status st = nml_classify_eval(&model, ds, &o, &r, &err);
    nml_progress_end(&bar);
    free(bytes);
    if (st != NML_OK) return cli_error(CMD, &err);
    printf("%s: accuracy %.2f%% (%lld of %d %s images of %s)\n", a->model,
           100.0 * (double)r.correct / r.n, (long long)r.correct, (int)r.n, a->split, a->dataset);
    print_confusion(r.confusion, r.classes, strcmp(a->dataset, "fashion-mnist") == 0);
    nml_classify_result_free(&r);
    return 0;
}

int cmd_eval(int argc, char **argv); /* registered in main.c */

int cmd_eval(int argc, char **argv) {
    for (int i = 1; i < argc; i++)
        if (cli_is_help(argv[i])) {
            usage(stdout);
            return 0;
        }
    eval_args a;
    int rc = parse_args(argc, argv, &a);
    if (rc) return rc;
    nml_idx_dataset ds;
    nml_error err;
    if (nml_idx_load_split(a.data, a.split, &ds, &err) != NML_OK) return cli_error(CMD, &err);
    rc = evaluate(&a, &ds);
    nml_idx_dataset_free(&ds);
    return rc;
}
