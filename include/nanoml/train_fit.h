/* Fitting and evaluation loops: mini-batches, per-epoch shuffling, a train/validation split,
 * the learning-rate schedule and progress reporting. */
#ifndef NANOML_TRAIN_FIT_H
#define NANOML_TRAIN_FIT_H

#include <stdint.h>
#include <stdio.h>

#include "nanoml/status.h"
#include "nanoml/train_data.h"
#include "nanoml/train_loss.h"
#include "nanoml/train_net.h"
#include "nanoml/train_optim.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct nml_fit_progress {
    int32_t epoch, epochs;     /* epoch counts from 0 */
    int32_t done, total;       /* training samples done in this epoch */
    double loss, accuracy;     /* running means over the epoch (accuracy < 0: not a classifier) */
    int end_of_epoch;          /* 1 on the last report of an epoch, with the fields below */
    double val_loss, val_accuracy; /* < 0 when there is no validation split */
    double seconds;            /* since the epoch started */
    float lr;
} nml_fit_progress;

typedef void (*nml_fit_callback)(const nml_fit_progress *p, void *user);

typedef struct nml_fit_opts {
    int32_t epochs;            /* 0: 1 */
    int32_t batch;             /* 0: 32 */
    nml_loss loss;
    float val_split;           /* the last fraction of the samples is held out for validation */
    int no_shuffle;
    uint64_t seed;             /* shuffling order */
    nml_fit_callback on_progress; /* optional; called every few batches and at epoch ends */
    void *user;
    /* Optional: called before every training step (mini-batch) with the number of steps taken
     * so far in this nml_fit call (0 before the first), e.g. to update pruning masks on a
     * schedule. A failure stops training with that error. */
    nml_status (*on_step)(void *user, int64_t step, nml_error *err);
    void *step_user;
} nml_fit_opts;

typedef struct nml_fit_epoch {
    double loss, accuracy, val_loss, val_accuracy, seconds;
    float lr;
} nml_fit_epoch;

/* Trains net (one input, one output) on data. history, when not NULL, receives one entry per
 * epoch. The data's input shape must match the network's input shape. */
nml_status nml_fit(nml_net *net, nml_optim *opt, const nml_data *data, const nml_fit_opts *opts,
                   nml_fit_epoch *history, nml_error *err);

typedef struct nml_eval_result {
    double loss, accuracy;     /* accuracy < 0 when the data is not a classification set */
    int32_t n;
} nml_eval_result;

/* Inference-mode evaluation over samples [first, first + count) of data (count 0: to the end).
 * confusion, when not NULL, receives n_classes x n_classes counts [true][predicted]. */
nml_status nml_evaluate(nml_net *net, const nml_data *data, int32_t first, int32_t count,
                        int32_t batch, nml_loss loss, nml_eval_result *result, int32_t *confusion,
                        nml_error *err);

/* Index of the largest of n values (first one on ties). */
int32_t nml_argmax(const float *v, int32_t n);

/* A progress printer for nml_fit_opts.on_progress: user is a FILE* (NULL: stderr). On a
 * terminal it redraws one bar per epoch; otherwise it prints one line per epoch. */
void nml_fit_print_progress(const nml_fit_progress *p, void *user);

#ifdef __cplusplus
}
#endif
#endif
