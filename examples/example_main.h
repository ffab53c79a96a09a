/* The part the LeNet-5 examples share: command line, Fashion-MNIST, training, evaluation and
 * export, and the LeNet-5 layers all three definitions use. Each example only defines the model
 * (its define_model function), in its own style.
 *
 * The training recipe is the one `nanoml train lenet5` uses (docs/training.md): inputs
 * standardized with the training images' pixel statistics (folded back into C1 at export, so
 * the model reads [0, 1] pixels), C3 and C5 initialized centered (example_center_filters),
 * Adam with learning rate 0.0015, 0.3 epochs of warm-up then cosine decay, batch 16, seed 1.
 * With the same --epochs (and --limit) an example writes the same .tflite bytes as
 * `nanoml train lenet5 --style ...` (tests/scripts/test_lenet5_styles.sh). */
#ifndef NML_EXAMPLE_MAIN_H
#define NML_EXAMPLE_MAIN_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nanoml/file.h"
#include "nanoml/idx.h"
#include "nanoml/train_data.h"
#include "nanoml/train_export.h"
#include "nanoml/train_fit.h"
#include "nanoml/train_layers.h"
#include "nanoml/train_lenet5.h"
#include "nanoml/train_net.h"
#include "nanoml/train_param.h"

typedef nml_status (*define_fn)(nml_net **net, nml_error *err);

/* Centered initialization of a convolution that reads sigmoid outputs (C3, C5): each filter
 * is shifted to sum zero and scaled by 1 / sigmoid'(0), so the sigmoids' 0.5 offset does not
 * couple all its inputs at the start of training. Call after nml_net_build. */
static nml_status example_center_filters(nml_net *net, const char *layer, nml_error *err) {
    nml_layer *l = nml_net_find_layer(net, layer);
    nml_param *k = l ? nml_layer_find_param(l, "kernel") : NULL;
    if (!k) return nml_fail(err, NML_E_ARG, "the model has no layer '%s' with a kernel", layer);
    return nml_param_center_rows(k, NML_LENET5_CENTERED_GAIN, err);
}

/* ---- LeNet-5's layers, as all three examples define them ---- */

/* C1, C3, C5: 5x5 convolutions with tanh, He-uniform initialized. */
static inline nml_layer *example_conv(const char *name, int32_t filters) {
    return nml_conv2d(&(nml_conv2d_opts){.name = name,
                                         .filters = filters,
                                         .kernel = 5,
                                         .activation = NML_AFN_TANH,
                                         .kernel_init = NML_INIT_HE_UNIFORM});
}

/* S2, S4: 2x2 average pooling (each followed by a sigmoid layer). */
static inline nml_layer *example_pool(const char *name) {
    return nml_average_pooling2d(&(nml_pool2d_opts){.name = name, .pool = 2});
}

/* The 10-way softmax classifier after F6. */
static inline nml_layer *example_classifier(void) {
    return nml_dense(
        &(nml_dense_opts){.name = "output", .units = 10, .activation = NML_AFN_SOFTMAX});
}

/* LeNet-5 from C1 to Flatten, appended in sequence, for the custom-layer example (whose point
 * is F6; the sequential example spells the whole list out). Building errors are sticky, so the
 * caller checks only nml_net_build. */
static inline void example_add_features(nml_net *net, nml_error *err) {
    nml_net_add(net, example_conv("c1", 6), err);
    nml_net_add(net, example_pool("s2"), err);
    nml_net_add(net, nml_activation_layer("s2_sigmoid", NML_AFN_SIGMOID), err);
    nml_net_add(net, example_conv("c3", 16), err);
    nml_net_add(net, example_pool("s4"), err);
    nml_net_add(net, nml_activation_layer("s4_sigmoid", NML_AFN_SIGMOID), err);
    nml_net_add(net, example_conv("c5", 120), err);
    nml_net_add(net, nml_flatten("flatten"), err);
}

/* Builds the network (n_outputs/outputs as nml_net_build takes them), gives C3 and C5 their
 * centered start (they read sigmoid outputs, see example_center_filters) and hands it to *out;
 * frees it on failure. */
static inline nml_status example_build(nml_net *net, int n_outputs, const int *outputs,
                                       nml_net **out, nml_error *err) {
    nml_status st = nml_net_build(net, n_outputs, outputs, err);
    if (st == NML_OK) st = example_center_filters(net, "c3", err);
    if (st == NML_OK) st = example_center_filters(net, "c5", err);
    if (st != NML_OK) {
        nml_net_free(net);
        return st;
    }
    *out = net;
    return NML_OK;
}

static int example_fail(const char *prog, const nml_error *err) {
    fprintf(stderr, "%s: %s\n", prog, err->msg);
    return 1;
}

static nml_status example_export(const nml_net *net, const char *path, nml_error *err) {
    nml_ir ir;
    nml_ir_init(&ir);
    uint8_t *bytes = NULL;
    size_t size = 0;
    nml_status st = nml_net_export(net, &ir, err);
    if (st == NML_OK) st = nml_ir_to_tflite(&ir, &bytes, &size, err);
    if (st == NML_OK) st = nml_write_file(path, bytes, size, err);
    free(bytes);
    nml_ir_free(&ir);
    return st;
}

/* Standardizes both sets with the training images' pixel mean and standard deviation. */
static nml_status example_standardize(nml_data *train, nml_data *test, int32_t n_train, float *mean,
                                      float *std, nml_error *err) {
    NML_TRY(nml_data_image_stats(train, 0, n_train, mean, std, err));
    NML_TRY(nml_data_standardize(train, *mean, *std, 0, err));
    return nml_data_standardize(test, *mean, *std, 0, err);
}

/* usage: PROGRAM [--epochs N] [--limit N] [--summary] [--out MODEL.tflite] */
static int example_main(int argc, char **argv, define_fn define) {
    int epochs = 10, limit = 0, summary = 0;
    const char *out = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--epochs") == 0 && i + 1 < argc) {
            epochs = atoi(argv[++i]);
        } else if (strcmp(argv[i], "--limit") == 0 && i + 1 < argc) {
            limit = atoi(argv[++i]);
        } else if (strcmp(argv[i], "--out") == 0 && i + 1 < argc) {
            out = argv[++i];
        } else if (strcmp(argv[i], "--summary") == 0) {
            summary = 1;
        } else {
            printf("usage: %s [--epochs N] [--limit N] [--summary] [--out MODEL.tflite]\n"
                   "  --limit N  train on the first N training images only\n",
                   argv[0]);
            return strcmp(argv[i], "--help") == 0 ? 0 : 2;
        }
    }
    if (epochs < 1) epochs = 1;
    nml_error err;
    nml_net *net = NULL;
    if (define(&net, &err) != NML_OK) return example_fail(argv[0], &err);
    nml_net_summary(net, stdout);
    if (summary) {
        nml_net_free(net);
        return 0;
    }
    nml_idx_dataset train_set, test_set;
    if (nml_idx_load_split(NML_FASHION_MNIST_DIR, "train", &train_set, &err) != NML_OK)
        return example_fail(argv[0], &err);
    if (nml_idx_load_split(NML_FASHION_MNIST_DIR, "t10k", &test_set, &err) != NML_OK)
        return example_fail(argv[0], &err);
    if (limit > 0 && limit < train_set.n) train_set.n = limit;
    nml_data train, test;
    float mean = 0.0f, std = 1.0f;
    nml_optim *opt = NULL;
    nml_optim_opts oo = {.kind = NML_OPTIM_ADAM,
                         .lr = 1.5e-3f,
                         .schedule = {.kind = NML_SCHEDULE_COSINE, .warmup_epochs = 0.3f}};
    nml_fit_opts fo = {.epochs = epochs,
                       .batch = 16,
                       .loss = NML_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY,
                       .seed = 1,
                       .on_progress = nml_fit_print_progress};
    nml_eval_result r;
    int rc = 0;
    if (nml_data_from_images(&train, &train_set, 32, 32, &err) != NML_OK ||
        nml_data_from_images(&test, &test_set, 32, 32, &err) != NML_OK ||
        example_standardize(&train, &test, train_set.n, &mean, &std, &err) != NML_OK ||
        nml_optim_create(&opt, net, &oo, &err) != NML_OK ||
        nml_fit(net, opt, &train, &fo, NULL, &err) != NML_OK ||
        nml_evaluate(net, &test, 0, 0, 256, fo.loss, &r, NULL, &err) != NML_OK) {
        rc = example_fail(argv[0], &err);
    } else {
        printf("test accuracy: %.2f%%\n", 100.0 * r.accuracy);
        /* the exported model reads [0, 1] pixels: the standardization moves into C1 */
        if (out && (nml_net_fold_input_affine(net, 0, 1.0f / std, -mean / std, &err) != NML_OK ||
                    example_export(net, out, &err) != NML_OK))
            rc = example_fail(argv[0], &err);
        else if (out)
            printf("wrote %s\n", out);
    }
    nml_optim_free(opt);
    nml_net_free(net);
    nml_idx_dataset_free(&train_set);
    nml_idx_dataset_free(&test_set);
    return rc;
}

#endif
