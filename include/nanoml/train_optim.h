/* Optimizers (SGD with momentum, Adam) and learning-rate schedules. An optimizer updates every
 * trainable parameter of a network from the gradients left by nml_net_backward; masked
 * (pruned) entries get no update and stay zero. */
#ifndef NANOML_TRAIN_OPTIM_H
#define NANOML_TRAIN_OPTIM_H

#include <stdint.h>

#include "nanoml/status.h"
#include "nanoml/train_net.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum nml_optim_kind { NML_OPTIM_SGD = 0, NML_OPTIM_ADAM } nml_optim_kind;

typedef enum nml_schedule_kind {
    NML_SCHEDULE_CONSTANT = 0,
    NML_SCHEDULE_STEP,   /* lr * gamma^floor(epoch / step_epochs) */
    NML_SCHEDULE_COSINE  /* from lr to min_lr over all epochs, half a cosine, per step */
} nml_schedule_kind;

typedef struct nml_schedule {
    nml_schedule_kind kind;
    int32_t step_epochs; /* STEP: 0 means 1 */
    float gamma;         /* STEP: 0 means 0.1 */
    float min_lr;        /* COSINE */
    float warmup_epochs; /* any kind: rise linearly from 0 to lr over this many epochs first
                            (COSINE then decays over the remaining epochs) */
} nml_schedule;

typedef struct nml_optim_opts {
    nml_optim_kind kind;
    float lr;            /* 0: 0.01 for SGD, 0.001 for Adam */
    float momentum;      /* SGD: v = momentum * v - lr * g; w += v */
    int nesterov;        /* SGD: w += momentum * v - lr * g instead */
    float beta1, beta2;  /* Adam: 0 means 0.9 and 0.999 */
    float epsilon;       /* Adam: 0 means 1e-7 (the Keras default) */
    float weight_decay;  /* L2 term added to the gradient (0: none) */
    nml_schedule schedule;
} nml_optim_opts;

typedef struct nml_optim nml_optim;

/* Allocates the optimizer's state for the trainable parameters of net (which must be built and
 * must outlive the optimizer). */
nml_status nml_optim_create(nml_optim **opt, nml_net *net, const nml_optim_opts *opts,
                            nml_error *err);
void nml_optim_free(nml_optim *opt);

/* Learning rate at a point of training: epoch in [0, epochs), fraction of that epoch done in
 * [0, 1). Also stored as the rate the next steps use. */
float nml_optim_set_progress(nml_optim *opt, int32_t epoch, int32_t epochs, double fraction);
float nml_optim_lr(const nml_optim *opt);

/* One update of every trainable parameter. */
nml_status nml_optim_step(nml_optim *opt, nml_error *err);

/* Learning rate of a schedule (pure function, for reports and tests). */
float nml_schedule_lr(const nml_schedule *s, float base_lr, int32_t epoch, int32_t epochs,
                      double fraction);

#ifdef __cplusplus
}
#endif
#endif
