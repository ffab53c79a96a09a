/* The part the LeNet-5 examples share: command line, Fashion-MNIST, training, evaluation and
 * export. Each example only defines the model (its define_model function). */
#ifndef NML_EXAMPLE_MAIN_H
#define NML_EXAMPLE_MAIN_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nanoml/file.h"
#include "nanoml/idx.h"
#include "nanoml/train_export.h"
#include "nanoml/train_fit.h"

typedef nml_status (*define_fn)(nml_net **net, nml_error *err);

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

/* usage: PROGRAM [--epochs N] [--summary] [--out MODEL.tflite] */
static int example_main(int argc, char **argv, define_fn define) {
    int epochs = 10, summary = 0;
    const char *out = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--epochs") == 0 && i + 1 < argc) {
            epochs = atoi(argv[++i]);
        } else if (strcmp(argv[i], "--out") == 0 && i + 1 < argc) {
            out = argv[++i];
        } else if (strcmp(argv[i], "--summary") == 0) {
            summary = 1;
        } else {
            printf("usage: %s [--epochs N] [--summary] [--out MODEL.tflite]\n", argv[0]);
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
    nml_data train, test;
    nml_data_from_images(&train, &train_set, 32, 32, &err);
    nml_data_from_images(&test, &test_set, 32, 32, &err);
    nml_optim *opt = NULL;
    nml_optim_opts oo = {.kind = NML_OPTIM_ADAM, .lr = 1e-3f,
                         .schedule = {.kind = NML_SCHEDULE_COSINE}};
    nml_fit_opts fo = {.epochs = epochs, .batch = 16,
                       .loss = NML_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY, .seed = 1,
                       .on_progress = nml_fit_print_progress};
    nml_eval_result r;
    int rc = 0;
    if (nml_optim_create(&opt, net, &oo, &err) != NML_OK ||
        nml_fit(net, opt, &train, &fo, NULL, &err) != NML_OK ||
        nml_evaluate(net, &test, 0, 0, 256, fo.loss, &r, NULL, &err) != NML_OK) {
        rc = example_fail(argv[0], &err);
    } else {
        printf("test accuracy: %.2f%%\n", 100.0 * r.accuracy);
        if (out) {
            if (example_export(net, out, &err) != NML_OK)
                rc = example_fail(argv[0], &err);
            else
                printf("wrote %s\n", out);
        }
    }
    nml_optim_free(opt);
    nml_net_free(net);
    nml_idx_dataset_free(&train_set);
    nml_idx_dataset_free(&test_set);
    return rc;
}

#endif
