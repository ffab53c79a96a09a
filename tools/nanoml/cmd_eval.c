/* nanoml eval: runs a .tflite classifier in the nanoml runtime over a labelled image dataset and
 * reports accuracy and the confusion matrix. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_numbers.h"
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

/* Writes image i (rows x cols bytes) into the model input: scaled to [0, 1], zero-padded to
 * h x w, quantized for integer inputs. */
static void fill_input(nml_tensor *in, const uint8_t *img, int32_t rows, int32_t cols, int32_t h,
                       int32_t w) {
    const int32_t top = (h - rows) / 2, left = (w - cols) / 2;
    for (int32_t y = 0; y < h; y++)
        for (int32_t x = 0; x < w; x++) {
            int32_t sy = y - top, sx = x - left;
            float v = sy >= 0 && sy < rows && sx >= 0 && sx < cols ? img[sy * cols + sx] / 255.0f
                                                                   : 0.0f;
            size_t i = (size_t)y * w + x;
            if (in->type == NML_FLOAT32) {
                ((float *)in->data)[i] = v;
            } else {
                float q = roundf(v / in->scale) + (float)in->zero_point;
                float lo = in->type == NML_INT8 ? -128.0f : 0.0f;
                float hi = in->type == NML_INT8 ? 127.0f : 255.0f;
                q = q < lo ? lo : (q > hi ? hi : q);
                if (in->type == NML_INT8)
                    ((int8_t *)in->data)[i] = (int8_t)q;
                else
                    ((uint8_t *)in->data)[i] = (uint8_t)q;
            }
        }
}

static float output_value(const nml_tensor *out, uint32_t i) {
    switch (out->type) {
    case NML_FLOAT32: return ((const float *)out->data)[i];
    case NML_INT8: return out->scale * (float)(((const int8_t *)out->data)[i] - out->zero_point);
    default: return out->scale * (float)(((const uint8_t *)out->data)[i] - out->zero_point);
    }
}

static int check_io(const nml_tensor *in, const nml_tensor *out, const nml_idx_dataset *ds,
                    int32_t *h, int32_t *w) {
    if (!in || !out) return cli_errorf(CMD, "model needs one input and one output");
    if (in->rank != 4 || in->dims[0] != 1 || in->dims[3] != 1)
        return cli_errorf(CMD, "model input must be 1 x H x W x 1 (a grey image)");
    *h = in->dims[1], *w = in->dims[2];
    if (*h < ds->rows || *w < ds->cols)
        return cli_errorf(CMD, "model input %dx%d is smaller than the %dx%d images", (int)*h,
                          (int)*w, (int)ds->rows, (int)ds->cols);
    if (in->type != NML_FLOAT32 && in->type != NML_INT8 && in->type != NML_UINT8)
        return cli_errorf(CMD, "model input type %s is not supported", nml_dtype_name(in->type));
    if (in->type != NML_FLOAT32 && in->scale <= 0.0f)
        return cli_errorf(CMD, "quantized model input has no scale");
    if (out->type != NML_FLOAT32 && out->type != NML_INT8 && out->type != NML_UINT8)
        return cli_errorf(CMD, "model output type %s is not supported", nml_dtype_name(out->type));
    if ((int32_t)nml_tensor_count(out) < ds->n_classes)
        return cli_errorf(CMD, "model has %u outputs, the dataset %d classes",
                          nml_tensor_count(out), (int)ds->n_classes);
    return 0;
}

/* Tries arenas of growing size until the interpreter fits. */
static nml_status init_interpreter(nml_interpreter *it, const nml_model *m, size_t max,
                                   uint8_t **arena, nml_error *err) {
    for (size_t size = (size_t)64 << 10;; size *= 2) {
        if (size > max) size = max;
        *arena = aligned_alloc(16, size);
        if (!*arena) return nml_fail(err, NML_E_NOMEM, "cannot allocate a %zu-byte arena", size);
        nml_status st = nml_interpreter_init(it, m, nml_ops_all(), *arena, size, err);
        if (st != NML_E_ARENA || size == max) return st;
        free(*arena);
        *arena = NULL;
    }
}

static int evaluate(const eval_args *a, const nml_idx_dataset *ds) {
    nml_error err;
    uint8_t *bytes = NULL, *arena = NULL;
    size_t size = 0;
    int rc = 1;
    nml_model model;
    nml_interpreter it;
    if (nml_read_file(a->model, (size_t)1 << 30, &bytes, &size, &err) != NML_OK ||
        nml_model_load(&model, bytes, size, &err) != NML_OK ||
        init_interpreter(&it, &model, a->arena_max, &arena, &err) != NML_OK) {
        rc = cli_error(CMD, &err);
        goto done;
    }
    nml_tensor *in = nml_input(&it, 0), *out = nml_output(&it, 0);
    int32_t h = 0, w = 0;
    if (check_io(in, out, ds, &h, &w)) goto done;
    const int32_t classes = ds->n_classes, n = a->limit && a->limit < ds->n ? a->limit : ds->n;
    int32_t *confusion = calloc((size_t)classes * classes, sizeof(int32_t));
    if (!confusion) {
        rc = cli_errorf(CMD, "out of memory");
        goto done;
    }
    nml_progress bar;
    nml_progress_begin(&bar, "eval", (uint64_t)n, "img");
    int64_t correct = 0;
    for (int32_t i = 0; i < n; i++) {
        fill_input(in, ds->images + (size_t)i * ds->rows * ds->cols, ds->rows, ds->cols, h, w);
        if (nml_invoke(&it, &err) != NML_OK) {
            nml_progress_end(&bar);
            nml_error_prefix(&err, "image %d: ", (int)i);
            rc = cli_error(CMD, &err);
            free(confusion);
            goto done;
        }
        int32_t best = 0;
        for (int32_t c = 1; c < classes; c++)
            if (output_value(out, (uint32_t)c) > output_value(out, (uint32_t)best)) best = c;
        const int32_t label = ds->labels[i];
        correct += best == label;
        confusion[label * classes + best]++;
        nml_progress_set(&bar, (uint64_t)i + 1);
    }
    nml_progress_end(&bar);
    printf("%s: accuracy %.2f%% (%lld of %d %s images of %s)\n", a->model,
           100.0 * correct / n, (long long)correct, (int)n, a->split, a->dataset);
    print_confusion(confusion, classes, strcmp(a->dataset, "fashion-mnist") == 0);
    free(confusion);
    rc = 0;
done:
    free(arena);
    free(bytes);
    return rc;
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
