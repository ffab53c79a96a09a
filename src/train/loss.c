/* Loss functions. Gradients are of the batch mean, so learning rates do not depend on the batch
 * size. Cross-entropy clips probabilities at 1e-7 like Keras, so a confident wrong answer costs
 * at most -log(1e-7) = 16.1 and never produces an infinite gradient. */
#include "nanoml/train_loss.h"

#include <math.h>
#include <string.h>

#define CE_EPSILON 1e-7f

const char *nml_loss_name(nml_loss loss) {
    switch (loss) {
    case NML_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY: return "sparse_categorical_crossentropy";
    case NML_LOSS_MSE: return "mse";
    }
    return "?";
}

size_t nml_loss_target_count(nml_loss loss, size_t count) {
    return loss == NML_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY ? 1 : count;
}

static nml_status sparse_ce(const float *pred, const float *target, int32_t batch, size_t count,
                            double *value, float *grad, nml_error *err) {
    double total = 0.0;
    if (grad) memset(grad, 0, (size_t)batch * count * sizeof(float));
    for (int32_t b = 0; b < batch; b++) {
        float t = target[b];
        if (!(t >= 0.0f && t < (float)count) || t != floorf(t))
            return nml_fail(err, NML_E_ARG, "sample %d: label %ld is not a class in [0, %zu)",
                            (int)b, (long)t, count);
        const size_t y = (size_t)t;
        float p = pred[(size_t)b * count + y];
        float clipped = p < CE_EPSILON ? CE_EPSILON : (p > 1.0f ? 1.0f : p);
        total -= log((double)clipped);
        /* the clip has zero slope outside [eps, 1] */
        if (grad && p >= CE_EPSILON && p <= 1.0f)
            grad[(size_t)b * count + y] = -1.0f / ((float)batch * clipped);
    }
    *value = total / batch;
    return NML_OK;
}

static void mse(const float *pred, const float *target, int32_t batch, size_t count,
                double *value, float *grad) {
    double total = 0.0;
    const size_t n = (size_t)batch * count;
    const float scale = 2.0f / (float)n;
    for (size_t i = 0; i < n; i++) {
        float d = pred[i] - target[i];
        total += (double)d * d;
        if (grad) grad[i] = scale * d;
    }
    *value = total / (double)n;
}

nml_status nml_loss_eval(nml_loss loss, const float *pred, const float *target, int32_t batch,
                         size_t count, double *value, float *grad, nml_error *err) {
    *value = 0.0;
    if (batch < 1 || count < 1)
        return nml_fail(err, NML_E_ARG, "loss of an empty batch (%d x %zu)", (int)batch, count);
    switch (loss) {
    case NML_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY:
        return sparse_ce(pred, target, batch, count, value, grad, err);
    case NML_LOSS_MSE: mse(pred, target, batch, count, value, grad); return NML_OK;
    }
    return nml_fail(err, NML_E_ARG, "unknown loss %d", (int)loss);
}
