/* nanoml train: trains a model defined in C on an image dataset and writes a float32 .tflite. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "cli_numbers.h"
#include "nanoml/file.h"
#include "nanoml/idx.h"
#include "nanoml/progress.h"
#include "nanoml/train_export.h"
#include "nanoml/train_fit.h"
#include "nanoml/train_gemm.h"
#include "nanoml/train_lenet5.h"

#define CMD "train"

enum { NORM_NONE = 0, NORM_STANDARDIZE, NORM_STANDARDIZE_MEAN_PAD };

typedef struct train_args {
    const char *model, *out, *data;
    nml_lenet5_style style;
    nml_lenet5_init init;
    int32_t epochs, batch, limit, test_limit;
    float lr, momentum, val_split, min_lr, warmup, beta1, beta2, epsilon, weight_decay;
    int normalize; /* NORM_* */
    uint64_t seed;
    nml_optim_kind optimizer;
    nml_schedule_kind schedule;
    int summary, profile, shift, flip, test_each_epoch;
} train_args;

static void usage(FILE *f) {
    fprintf(f,
            "usage: nanoml train lenet5 [options] --out MODEL.tflite\n\n"
            "Defines LeNet-5 in C, trains it on Fashion-MNIST on one CPU thread, prints the test\n"
            "accuracy and writes the trained model as a float32 .tflite file.\n\n"
            "options:\n"
            "  --style S         how the model is defined: sequential, functional or custom\n"
            "                    (a user-defined callback layer); all give the same network\n"
            "                    (default sequential)\n"
            "  --init I          weight initialization: centered (He uniform; C3 and C5, which\n"
            "                    read the sigmoid outputs, with zero-sum filters scaled by 4),\n"
            "                    he or glorot (uniform) (default centered)\n"
            "  --epochs N        passes over the training data (default 10)\n"
            "  --batch B         mini-batch size (default 16)\n"
            "  --optimizer O     adam or sgd (default adam)\n"
            "  --lr X            initial learning rate (default 0.0015 for adam, 0.01 for sgd)\n"
            "  --momentum M      sgd momentum (default 0.9)\n"
            "  --schedule S      learning-rate schedule: constant, step (x0.1 every 4 epochs)\n"
            "                    or cosine (to 0 over all epochs) (default cosine)\n"
            "  --warmup E        raise the learning rate linearly over the first E epochs\n"
            "                    (default 0.3)\n"
            "  --beta1 B, --beta2 B, --eps E\n"
            "                    adam moment decay rates and epsilon (default 0.9, 0.999, 1e-7)\n"
            "  --weight-decay W  L2 term W * w added to every gradient (default 0)\n"
            "  --normalize N     input pixels: none ([0, 1], zero padding), standardize (with\n"
            "                    the training images' mean and std; the padding is the\n"
            "                    standardized black background, and the exported model still\n"
            "                    reads [0, 1] pixels: the transform is folded into the first\n"
            "                    convolution) or mean-pad (standardize, padding with the mean;\n"
            "                    cannot be exported exactly, so no --out) (default standardize)\n"
            "  --seed S          seed for weights and shuffling (default 1)\n"
            "  --val-split F     fraction of the training set held out for validation\n"
            "                    (default 0)\n"
            "  --limit N         train on the first N training images only\n"
            "  --test-limit N    report the accuracy on the first N test images only\n"
            "  --shift N         augment: move training images up to N pixels inside the\n"
            "                    padded frame (default 0, at most 2 for 28x28 in 32x32)\n"
            "  --flip            augment: mirror half of the training images left-right\n"
            "  --data DIR        Fashion-MNIST .gz files (default %s)\n"
            "  --summary         print the model summary and exit\n"
            "  --profile         print the time spent in each layer after training\n"
            "  --test-each-epoch report the test accuracy after every epoch (for learning\n"
            "                    curves; the final test accuracy is always printed)\n"
            "  --out FILE        where to write the trained float32 .tflite\n"
            "  -h, --help        show this help\n",
            NML_FASHION_MNIST_DIR);
}

/* Numeric options: limits in cli_numbers.c. */
static int int_option(const char *opt, const char *v, int64_t *out) {
    return cli_int(CMD, opt, v, out);
}

static int real_option(const char *opt, const char *v, float *out) {
    double d;
    if (cli_real(CMD, opt, v, &d)) return 2;
    *out = (float)d;
    return 0;
}

static int parse_args(int argc, char **argv, train_args *a) {
    memset(a, 0, sizeof *a);
    a->epochs = 10;
    a->batch = 16;
    a->momentum = 0.9f;
    a->seed = 1;
    a->optimizer = NML_OPTIM_ADAM;
    a->schedule = NML_SCHEDULE_COSINE;
    /* the recipe chosen on a validation split (docs/training.md) */
    a->warmup = 0.3f;
    a->normalize = NORM_STANDARDIZE;
    a->data = NML_FASHION_MNIST_DIR;
    for (int i = 1; i < argc; i++) {
        const char *v = NULL;
        int64_t n;
        int r;
        if ((r = cli_take_value(CMD, argc, argv, &i, "--style", &v))) {
            if (r < 0) return 2;
            if (nml_lenet5_style_parse(v, &a->style) != 0)
                return cli_usage_error(CMD, "unknown style '%s' (sequential, functional, custom)",
                                       v);
        } else if ((r = cli_take_value(CMD, argc, argv, &i, "--init", &v))) {
            if (r < 0) return 2;
            if (nml_lenet5_init_parse(v, &a->init) != 0)
                return cli_usage_error(CMD, "unknown initialization '%s' (centered, he, glorot)",
                                       v);
        } else if ((r = cli_take_value(CMD, argc, argv, &i, "--epochs", &v))) {
            if (r < 0 || int_option("--epochs", v, &n)) return 2;
            a->epochs = (int32_t)n;
        } else if ((r = cli_take_value(CMD, argc, argv, &i, "--batch", &v))) {
            if (r < 0 || int_option("--batch", v, &n)) return 2;
            a->batch = (int32_t)n;
        } else if ((r = cli_take_value(CMD, argc, argv, &i, "--limit", &v))) {
            if (r < 0 || int_option("--limit", v, &n)) return 2;
            a->limit = (int32_t)n;
        } else if ((r = cli_take_value(CMD, argc, argv, &i, "--test-limit", &v))) {
            if (r < 0 || int_option("--test-limit", v, &n)) return 2;
            a->test_limit = (int32_t)n;
        } else if ((r = cli_take_value(CMD, argc, argv, &i, "--lr", &v))) {
            if (r < 0 || real_option("--lr", v, &a->lr)) return 2;
        } else if ((r = cli_take_value(CMD, argc, argv, &i, "--momentum", &v))) {
            if (r < 0 || real_option("--momentum", v, &a->momentum)) return 2;
        } else if ((r = cli_take_value(CMD, argc, argv, &i, "--warmup", &v))) {
            if (r < 0 || real_option("--warmup", v, &a->warmup)) return 2;
        } else if ((r = cli_take_value(CMD, argc, argv, &i, "--beta1", &v))) {
            if (r < 0 || real_option("--beta1", v, &a->beta1)) return 2;
        } else if ((r = cli_take_value(CMD, argc, argv, &i, "--beta2", &v))) {
            if (r < 0 || real_option("--beta2", v, &a->beta2)) return 2;
        } else if ((r = cli_take_value(CMD, argc, argv, &i, "--eps", &v))) {
            if (r < 0 || real_option("--eps", v, &a->epsilon)) return 2;
        } else if ((r = cli_take_value(CMD, argc, argv, &i, "--weight-decay", &v))) {
            if (r < 0 || real_option("--weight-decay", v, &a->weight_decay)) return 2;
        } else if ((r = cli_take_value(CMD, argc, argv, &i, "--normalize", &v))) {
            if (r < 0) return 2;
            if (strcmp(v, "none") == 0)
                a->normalize = NORM_NONE;
            else if (strcmp(v, "standardize") == 0)
                a->normalize = NORM_STANDARDIZE;
            else if (strcmp(v, "mean-pad") == 0)
                a->normalize = NORM_STANDARDIZE_MEAN_PAD;
            else
                return cli_usage_error(CMD, "unknown normalization '%s' (none, standardize, "
                                            "mean-pad)", v);
        } else if ((r = cli_take_value(CMD, argc, argv, &i, "--val-split", &v))) {
            if (r < 0 || real_option("--val-split", v, &a->val_split)) return 2;
        } else if ((r = cli_take_value(CMD, argc, argv, &i, "--seed", &v))) {
            if (r < 0 || int_option("--seed", v, &n)) return 2;
            a->seed = (uint64_t)n;
        } else if ((r = cli_take_value(CMD, argc, argv, &i, "--optimizer", &v))) {
            if (r < 0) return 2;
            if (strcmp(v, "adam") == 0)
                a->optimizer = NML_OPTIM_ADAM;
            else if (strcmp(v, "sgd") == 0)
                a->optimizer = NML_OPTIM_SGD;
            else
                return cli_usage_error(CMD, "unknown optimizer '%s' (adam, sgd)", v);
        } else if ((r = cli_take_value(CMD, argc, argv, &i, "--schedule", &v))) {
            if (r < 0) return 2;
            if (strcmp(v, "constant") == 0)
                a->schedule = NML_SCHEDULE_CONSTANT;
            else if (strcmp(v, "step") == 0)
                a->schedule = NML_SCHEDULE_STEP;
            else if (strcmp(v, "cosine") == 0)
                a->schedule = NML_SCHEDULE_COSINE;
            else
                return cli_usage_error(CMD, "unknown schedule '%s' (constant, step, cosine)", v);
        } else if ((r = cli_take_value(CMD, argc, argv, &i, "--data", &v))) {
            if (r < 0) return 2;
            a->data = v;
        } else if ((r = cli_take_value(CMD, argc, argv, &i, "--out", &v))) {
            if (r < 0) return 2;
            a->out = v;
        } else if (strcmp(argv[i], "--summary") == 0) {
            a->summary = 1;
        } else if (strcmp(argv[i], "--profile") == 0) {
            a->profile = 1;
        } else if (strcmp(argv[i], "--test-each-epoch") == 0) {
            a->test_each_epoch = 1;
        } else if (strcmp(argv[i], "--flip") == 0) {
            a->flip = 1;
        } else if ((r = cli_take_value(CMD, argc, argv, &i, "--shift", &v))) {
            if (r < 0 || int_option("--shift", v, &n)) return 2;
            a->shift = (int32_t)n;
        } else if (argv[i][0] == '-') {
            return cli_usage_error(CMD, "unknown option '%s'", argv[i]);
        } else if (!a->model) {
            a->model = argv[i];
        } else {
            return cli_usage_error(CMD, "unexpected argument '%s'", argv[i]);
        }
    }
    if (!a->model) return cli_usage_error(CMD, "which model? (lenet5)");
    if (strcmp(a->model, "lenet5") != 0)
        return cli_usage_error(CMD, "unknown model '%s' (available: lenet5)", a->model);
    if (a->normalize == NORM_STANDARDIZE_MEAN_PAD && a->out)
        return cli_usage_error(CMD, "--normalize mean-pad cannot be folded into the model; "
                                    "use standardize to write --out");
    if (a->lr == 0.0f) a->lr = a->optimizer == NML_OPTIM_ADAM ? 1.5e-3f : 1e-2f;
    return 0;
}

static nml_status write_tflite(const nml_net *net, const char *path, size_t *bytes,
                               nml_error *err) {
    nml_ir ir;
    nml_ir_init(&ir);
    uint8_t *data = NULL;
    size_t size = 0;
    nml_status st = nml_net_export(net, &ir, err);
    if (st == NML_OK) st = nml_ir_to_tflite(&ir, &data, &size, err);
    if (st == NML_OK) st = nml_write_file(path, data, size, err);
    free(data);
    nml_ir_free(&ir);
    *bytes = size;
    return st;
}

typedef struct progress_ctx {
    nml_net *net;
    const nml_data *test;
    int test_each_epoch;
    nml_progress bar; /* of the current epoch */
    int32_t bar_epoch;
} progress_ctx;

static void epoch_summary(const nml_fit_progress *p) {
    fprintf(stderr, "epoch %d/%d: loss %.4f", (int)p->epoch + 1, (int)p->epochs, p->loss);
    if (p->accuracy >= 0.0) fprintf(stderr, " acc %.2f%%", 100.0 * p->accuracy);
    if (p->val_loss >= 0.0) {
        fprintf(stderr, " | val loss %.4f", p->val_loss);
        if (p->val_accuracy >= 0.0) fprintf(stderr, " val acc %.2f%%", 100.0 * p->val_accuracy);
    }
    fprintf(stderr, " | %.1f s, %.0f img/s, lr %.2g\n", p->seconds,
            p->seconds > 0 ? p->done / p->seconds : 0.0, (double)p->lr);
}

/* One nanoml/progress.h bar per epoch on a terminal, labelled with the running loss, then a
 * summary line per epoch, plus the test accuracy when asked for. */
static void on_progress(const nml_fit_progress *p, void *user) {
    progress_ctx *ctx = user;
    char label[sizeof ctx->bar.label];
    snprintf(label, sizeof label, "epoch %d/%d loss %.4f", (int)p->epoch + 1, (int)p->epochs,
             p->loss);
    if (ctx->bar_epoch != p->epoch) {
        /* logs get the summary line per epoch only, terminals a live bar as well */
        nml_progress_begin_ex(&ctx->bar, label, (uint64_t)p->total, "img", stderr,
                              isatty(fileno(stderr)) ? NML_PROGRESS_AUTO : NML_PROGRESS_OFF);
        ctx->bar_epoch = p->epoch;
    }
    memcpy(ctx->bar.label, label, sizeof label); /* the running loss in the bar's label */
    nml_progress_set(&ctx->bar, (uint64_t)p->done);
    if (!p->end_of_epoch) return;
    nml_progress_end(&ctx->bar);
    epoch_summary(p);
    if (!ctx->test_each_epoch) return;
    nml_eval_result r;
    nml_error err;
    if (nml_evaluate(ctx->net, ctx->test, 0, 0, 256, NML_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY, &r,
                     NULL, &err) == NML_OK)
        fprintf(stderr, "  test accuracy after epoch %d: %.2f%% (loss %.4f)\n", (int)p->epoch + 1,
                100.0 * r.accuracy, r.loss);
    else
        fprintf(stderr, "  test evaluation failed: %s\n", err.msg);
}

static double seconds_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int train(const train_args *a) {
    nml_error err;
    nml_error_clear(&err);
    nml_net *net = NULL;
    nml_optim *opt = NULL;
    nml_idx_dataset train_set = {0}, test_set = {0};
    int rc = 1;
    if (nml_lenet5_with_init(&net, a->style, a->seed, a->init, &err) != NML_OK) goto fail;
    if (a->summary) {
        nml_net_summary(net, stdout);
        rc = 0;
        goto done;
    }
    if (nml_idx_load_split(a->data, "train", &train_set, &err) != NML_OK ||
        nml_idx_load_split(a->data, "t10k", &test_set, &err) != NML_OK)
        goto fail;
    if (a->limit > 0 && a->limit < train_set.n) train_set.n = a->limit;
    if (a->test_limit > 0 && a->test_limit < test_set.n) test_set.n = a->test_limit;
    nml_data train_data, test_data;
    nml_shape in = nml_net_input_shape(net, 0);
    if (nml_data_from_images(&train_data, &train_set, in.dims[0], in.dims[1], &err) != NML_OK ||
        nml_data_from_images(&test_data, &test_set, in.dims[0], in.dims[1], &err) != NML_OK)
        goto fail;
    float mean = 0.0f, std = 1.0f;
    if (a->normalize != NORM_NONE) {
        /* statistics of the images actually trained on (not the validation part) */
        const int32_t n_fit = train_set.n - (int32_t)((double)train_set.n * a->val_split);
        if (nml_data_image_stats(&train_data, 0, n_fit, &mean, &std, &err) != NML_OK ||
            nml_data_standardize(&train_data, mean, std, a->normalize == NORM_STANDARDIZE_MEAN_PAD,
                                 &err) != NML_OK ||
            nml_data_standardize(&test_data, mean, std, a->normalize == NORM_STANDARDIZE_MEAN_PAD,
                                 &err) != NML_OK)
            goto fail;
        fprintf(stderr, "inputs standardized: pixel mean %.4f, std %.4f (training images)\n",
                (double)mean, (double)std);
    }
    nml_rng aug_rng;
    nml_rng_seed(&aug_rng, a->seed + 1);
    if (nml_data_augment(&train_data, a->shift, a->flip, &aug_rng, &err) != NML_OK) goto fail;
    nml_optim_opts oo = {.kind = a->optimizer, .lr = a->lr, .momentum = a->momentum,
                         .beta1 = a->beta1, .beta2 = a->beta2, .epsilon = a->epsilon,
                         .weight_decay = a->weight_decay,
                         .schedule = {.kind = a->schedule, .step_epochs = 4, .gamma = 0.1f,
                                      .warmup_epochs = a->warmup}};
    if (a->optimizer == NML_OPTIM_ADAM) oo.momentum = 0.0f;
    if (nml_optim_create(&opt, net, &oo, &err) != NML_OK) goto fail;
    fprintf(stderr,
            "lenet5 (%s style, %s init): %zu parameters; %d training images, batch %d, %s lr %g "
            "(%s, warm-up %g epochs), seed %llu, sgemm %s\n",
            nml_lenet5_style_name(a->style), nml_lenet5_init_name(a->init),
            nml_net_weight_count(net), (int)train_set.n, (int)a->batch,
            a->optimizer == NML_OPTIM_ADAM ? "adam" : "sgd", (double)a->lr,
            a->schedule == NML_SCHEDULE_COSINE ? "cosine"
            : a->schedule == NML_SCHEDULE_STEP ? "step" : "constant",
            (double)a->warmup, (unsigned long long)a->seed, nml_sgemm_kernel());
    nml_fit_opts fo = {.epochs = a->epochs, .batch = a->batch,
                       .loss = NML_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY,
                       .val_split = a->val_split, .seed = a->seed,
                       .on_progress = on_progress};
    progress_ctx pctx;
    memset(&pctx, 0, sizeof pctx);
    pctx.net = net;
    pctx.test = &test_data;
    pctx.test_each_epoch = a->test_each_epoch;
    pctx.bar_epoch = -1;
    fo.user = &pctx;
    nml_net_set_profiling(net, a->profile);
    const double t0 = seconds_now();
    if (nml_fit(net, opt, &train_data, &fo, NULL, &err) != NML_OK) goto fail;
    const double train_s = seconds_now() - t0;
    if (a->profile) nml_net_print_profile(net, stderr);
    nml_eval_result r;
    if (nml_evaluate(net, &test_data, 0, 0, 256, NML_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY, &r,
                     NULL, &err) != NML_OK)
        goto fail;
    const int32_t n_train = train_set.n - (int32_t)((double)train_set.n * a->val_split);
    printf("test accuracy: %.2f%% (%d images), test loss %.4f\n", 100.0 * r.accuracy, (int)r.n,
           r.loss);
    printf("training: %d epochs in %.1f s (%.0f images/s)\n", (int)a->epochs, train_s,
           (double)n_train * a->epochs / train_s);
    if (a->out) {
        size_t bytes = 0;
        /* the exported model reads [0, 1] pixels like every other consumer of it */
        if (a->normalize == NORM_STANDARDIZE &&
            nml_net_fold_input_affine(net, 0, 1.0f / std, -mean / std, &err) != NML_OK)
            goto fail;
        if (write_tflite(net, a->out, &bytes, &err) != NML_OK) goto fail;
        printf("wrote %s (%zu bytes)\n", a->out, bytes);
    }
    rc = 0;
    goto done;
fail:
    rc = cli_error(CMD, &err);
done:
    nml_optim_free(opt);
    nml_net_free(net);
    nml_idx_dataset_free(&train_set);
    nml_idx_dataset_free(&test_set);
    return rc;
}

int cmd_train(int argc, char **argv); /* registered in main.c */

int cmd_train(int argc, char **argv) {
    for (int i = 1; i < argc; i++)
        if (cli_is_help(argv[i])) {
            usage(stdout);
            return 0;
        }
    train_args a;
    int rc = parse_args(argc, argv, &a);
    if (rc) return rc;
    if (!a.out && !a.summary)
        fprintf(stderr, "nanoml train: no --out given; the trained model will not be saved\n");
    return train(&a);
}
