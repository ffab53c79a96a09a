/* nanoml compare: models side by side (bytes, gzip bytes, parameters, sparsity, distinct
 * weights, accuracy) as a markdown table, CSV and a size-versus-accuracy plot. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_numbers.h"
#include "nanoml/compare.h"
#include "nanoml/progress.h"

#define CMD "compare"
#define MAX_MODELS 64

typedef struct compare_args {
    const char *models[MAX_MODELS];
    const char *labels[MAX_MODELS];
    int n_models, n_labels;
    const char *dataset, *data, *split, *csv, *md, *plot, *title;
    int32_t limit;
    size_t arena_max;
    int log_x;
} compare_args;

static void usage(FILE *f) {
    fprintf(f,
            "usage: nanoml compare MODEL.tflite... [options]\n\n"
            "Compares models: file bytes (what the microcontroller stores), gzip -9 bytes (to\n"
            "compare with TF-MOT's compressed sizes), constant bytes, parameters, sparsity (share\n"
            "of zero weights in the CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED filters),\n"
            "the most distinct weight values in one layer, and the accuracy on a test set run in\n"
            "the nanoml runtime (as `nanoml eval`). Prints a markdown table.\n\n"
            "options:\n"
            "  --dataset NAME    fashion-mnist (default), mnist, or none (sizes only)\n"
            "  --data DIR        folder with the IDX .gz files (default for fashion-mnist:\n"
            "                    %s)\n"
            "  --split NAME      t10k (the test set, default) or train\n"
            "  --limit N         evaluate the first N images only\n"
            "  --labels NAME...  one label per model, in order (up to the next option;\n"
            "                    default: the file names)\n"
            "  --csv FILE        also write the table as CSV\n"
            "  --md FILE         also write the markdown table to FILE\n"
            "  --plot FILE.png   scatter plot of file bytes against accuracy\n"
            "  --log-x           logarithmic size axis in the plot\n"
            "  --title TEXT      plot title (default: size vs accuracy on the dataset)\n"
            "  --arena-max BYTES largest tensor arena to try (default 64 MiB)\n"
            "  -h, --help        show this help\n",
            NML_FASHION_MNIST_DIR);
}

/* Options that take one value. Returns 1 when argv[*i] was one, -1 on a usage error. */
static int take_option(int argc, char **argv, int *i, compare_args *a) {
    static const char *const names[] = {"--dataset", "--data", "--split", "--csv",
                                        "--md",      "--plot", "--title"};
    const char **slots[] = {&a->dataset, &a->data, &a->split, &a->csv, &a->md, &a->plot, &a->title};
    const char *v;
    for (size_t k = 0; k < sizeof names / sizeof *names; k++) {
        int r = cli_take_value(CMD, argc, argv, i, names[k], &v);
        if (r < 0) return -1;
        if (r) {
            *slots[k] = v;
            return 1;
        }
    }
    int64_t n; /* limits in cli_numbers.c */
    int r = cli_take_value(CMD, argc, argv, i, "--limit", &v);
    if (r) {
        if (r < 0 || cli_int(CMD, "--limit", v, &n)) return -1;
        a->limit = (int32_t)n;
        return 1;
    }
    r = cli_take_value(CMD, argc, argv, i, "--arena-max", &v);
    if (r) {
        uint64_t bytes;
        if (r < 0 || cli_size(CMD, "--arena-max", v, &bytes)) return -1;
        a->arena_max = (size_t)bytes;
        return 1;
    }
    return 0;
}

static int check_args(compare_args *a) {
    if (a->n_models == 0) return cli_usage_error(CMD, "no models given");
    if (a->n_labels && a->n_labels != a->n_models)
        return cli_usage_error(CMD, "%d labels for %d models", a->n_labels, a->n_models);
    if (strcmp(a->dataset, "fashion-mnist") == 0) {
        if (!a->data) a->data = NML_FASHION_MNIST_DIR;
    } else if (strcmp(a->dataset, "mnist") == 0) {
        if (!a->data) return cli_usage_error(CMD, "mnist needs --data DIR");
    } else if (strcmp(a->dataset, "none") == 0) {
        if (a->plot) return cli_usage_error(CMD, "--plot needs accuracies (a --dataset)");
    } else {
        return cli_usage_error(CMD, "unknown dataset '%s' (fashion-mnist, mnist, none)",
                               a->dataset);
    }
    if (strcmp(a->split, "t10k") != 0 && strcmp(a->split, "train") != 0)
        return cli_usage_error(CMD, "unknown split '%s' (t10k, train)", a->split);
    return 0;
}

static int parse_args(int argc, char **argv, compare_args *a) {
    memset(a, 0, sizeof *a);
    a->dataset = "fashion-mnist";
    a->split = "t10k";
    a->arena_max = (size_t)64 << 20;
    for (int i = 1; i < argc; i++) {
        int r = take_option(argc, argv, &i, a);
        if (r < 0) return 2;
        if (r) continue;
        if (strcmp(argv[i], "--log-x") == 0) {
            a->log_x = 1;
        } else if (strcmp(argv[i], "--labels") == 0) {
            while (i + 1 < argc && argv[i + 1][0] != '-') {
                if (a->n_labels == MAX_MODELS)
                    return cli_usage_error(CMD, "more than %d labels", MAX_MODELS);
                a->labels[a->n_labels++] = argv[++i];
            }
            if (a->n_labels == 0) return cli_usage_error(CMD, "--labels needs names");
        } else if (argv[i][0] == '-' && argv[i][1]) {
            return cli_usage_error(CMD, "unknown option '%s'", argv[i]);
        } else {
            if (a->n_models == MAX_MODELS)
                return cli_usage_error(CMD, "more than %d models", MAX_MODELS);
            a->models[a->n_models++] = argv[i];
        }
    }
    return check_args(a) ? 2 : 0;
}

static void on_image(void *user, int32_t done, int32_t total, int64_t correct) {
    (void)total;
    (void)correct;
    nml_progress_set(user, (uint64_t)done);
}

static int measure(const compare_args *a, const nml_idx_dataset *ds, nml_compare_row *rows) {
    nml_error err;
    for (int i = 0; i < a->n_models; i++) {
        nml_classify_options o;
        nml_classify_options_default(&o);
        o.limit = a->limit;
        o.arena_max = a->arena_max;
        nml_progress bar;
        const int32_t total = ds ? (a->limit && a->limit < ds->n ? a->limit : ds->n) : 0;
        if (ds) {
            nml_progress_begin(&bar, a->n_labels ? a->labels[i] : "eval", (uint64_t)total, "img");
            o.progress = on_image;
            o.progress_user = &bar;
        }
        nml_status st = nml_compare_model(a->models[i], a->n_labels ? a->labels[i] : NULL, ds, &o,
                                          &rows[i], &err);
        if (ds) nml_progress_end(&bar);
        if (st != NML_OK) return cli_error(CMD, &err);
    }
    return 0;
}

static int write_outputs(const compare_args *a, const nml_compare_row *rows) {
    nml_error err;
    const char *dataset = strcmp(a->dataset, "none") ? a->dataset : NULL;
    if (nml_compare_write_markdown(stdout, rows, a->n_models, dataset, &err) != NML_OK)
        return cli_error(CMD, &err);
    const char *paths[2] = {a->csv, a->md};
    for (int k = 0; k < 2; k++) {
        if (!paths[k]) continue;
        FILE *f = fopen(paths[k], "w");
        if (!f) return cli_errorf(CMD, "%s: %s", paths[k], strerror(errno));
        nml_status st = k == 0 ? nml_compare_write_csv(f, rows, a->n_models, &err)
                               : nml_compare_write_markdown(f, rows, a->n_models, dataset, &err);
        if (fclose(f) != 0 && st == NML_OK) st = nml_fail(&err, NML_E_IO, "close failed");
        if (st != NML_OK) return cli_errorf(CMD, "%s: %s", paths[k], err.msg);
    }
    if (a->plot) {
        char title[128];
        snprintf(title, sizeof title, "size vs accuracy (%s %s)", a->dataset,
                 strcmp(a->split, "t10k") ? "train" : "test set");
        if (nml_compare_plot(rows, a->n_models, a->title ? a->title : title, a->log_x, a->plot,
                             &err) != NML_OK)
            return cli_error(CMD, &err);
    }
    return 0;
}

int cmd_compare(int argc, char **argv); /* registered in main.c */

int cmd_compare(int argc, char **argv) {
    for (int i = 1; i < argc; i++)
        if (cli_is_help(argv[i])) {
            usage(stdout);
            return 0;
        }
    compare_args a;
    int rc = parse_args(argc, argv, &a);
    if (rc) return rc;
    nml_idx_dataset ds;
    memset(&ds, 0, sizeof ds);
    nml_error err;
    const int with_data = strcmp(a.dataset, "none") != 0;
    if (with_data && nml_idx_load_split(a.data, a.split, &ds, &err) != NML_OK)
        return cli_error(CMD, &err);
    nml_compare_row *rows = calloc((size_t)a.n_models, sizeof *rows);
    if (!rows) {
        nml_idx_dataset_free(&ds);
        return cli_errorf(CMD, "out of memory");
    }
    rc = measure(&a, with_data ? &ds : NULL, rows);
    if (rc == 0) rc = write_outputs(&a, rows);
    for (int i = 0; i < a.n_models; i++)
        nml_compare_row_free(&rows[i]);
    free(rows);
    nml_idx_dataset_free(&ds);
    return rc;
}
