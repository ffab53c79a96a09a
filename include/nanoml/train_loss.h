/* Loss functions over a batch of network outputs. */
#ifndef NANOML_TRAIN_LOSS_H
#define NANOML_TRAIN_LOSS_H

#include <stddef.h>
#include <stdint.h>

#include "nanoml/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum nml_loss {
    /* pred: probabilities (a softmax output), target: one class index per sample (stored as a
     * float). Loss = mean over the batch of -log(max(p[target], 1e-7)). */
    NML_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY = 0,
    /* pred and target: count values per sample. Loss = mean over all values of (p - t)^2. */
    NML_LOSS_MSE
} nml_loss;

const char *nml_loss_name(nml_loss loss);

/* Floats of target per sample: 1 for sparse labels, count for MSE. */
size_t nml_loss_target_count(nml_loss loss, size_t count);

/* Mean loss of a batch (batch samples of count values) into *value, and, when grad is not NULL,
 * d loss / d pred into grad (batch x count). A class index outside [0, count) is an error that
 * names the sample. */
nml_status nml_loss_eval(nml_loss loss, const float *pred, const float *target, int32_t batch,
                         size_t count, double *value, float *grad, nml_error *err);

#ifdef __cplusplus
}
#endif
#endif
