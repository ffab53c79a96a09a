/* Trainable parameters: one tensor of weights (a kernel, a bias, a batch-norm scale, ...) with
 * its gradient, initializer and the hooks model compression builds on:
 *  - a mask (pruning): entries with mask 0 are zero and stay zero through training, because the
 *    optimizer drops their gradient and re-applies the mask after every step;
 *  - a transform hook (quantization-aware training, weight clustering): before each forward
 *    pass hook.forward computes the weights the layer actually uses (p->effective) from the
 *    stored values (fake quantization, centroid lookup); after each backward pass
 *    hook.backward turns the gradient w.r.t. those weights into the gradient the optimizer
 *    applies to p->value (straight-through estimator: leave it; clustering: sum per centroid
 *    and give every member the shared gradient, so tied weights stay tied).
 * Layers always compute with nml_param_data(p) and write d loss / d nml_param_data(p) into
 * p->grad, so they work unchanged under any of these. */
#ifndef NANOML_TRAIN_PARAM_H
#define NANOML_TRAIN_PARAM_H

#include <stddef.h>
#include <stdint.h>

#include "nanoml/status.h"
#include "nanoml/train_rng.h"
#include "nanoml/train_tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum nml_init {
    NML_INIT_DEFAULT = 0,   /* the layer's choice: Glorot uniform for kernels, zeros for biases */
    NML_INIT_ZEROS,
    NML_INIT_ONES,
    NML_INIT_GLOROT_UNIFORM, /* U(-l, l), l = sqrt(6 / (fan_in + fan_out)) */
    NML_INIT_HE_UNIFORM      /* U(-l, l), l = sqrt(6 / fan_in) */
} nml_init;

typedef struct nml_param nml_param;

typedef struct nml_param_hook {
    void (*forward)(nml_param *p, void *user);  /* fill p->effective from p->value */
    void (*backward)(nml_param *p, void *user); /* rewrite p->grad for p->value */
    void (*destroy)(void *user);                /* optional: free user */
    void *user;
} nml_param_hook;

#define NML_PARAM_NAME_MAX 64

struct nml_param {
    char name[NML_PARAM_NAME_MAX]; /* "conv2d_1/kernel" */
    nml_shape shape;               /* layout as exported: conv kernels OHWI, dense [out, in] */
    size_t count;
    float *value;                  /* stored weights (owned) */
    float *grad;                   /* d loss / d weights (owned; NULL when not trainable) */
    float *effective;              /* weights the layer uses: == value unless a hook is set */
    uint8_t *mask;                 /* NULL, or count entries, 0 = pruned (owned) */
    nml_param_hook hook;           /* hook.forward == NULL: no transform */
    nml_init init;
    int32_t fan_in, fan_out;       /* for the initializers */
    int trainable;                 /* 0: state such as batch-norm moving statistics */
    float lr_scale;                /* the optimizer's learning rate is multiplied by this (1) */
};

/* The weights a layer computes with. */
static inline const float *nml_param_data(const nml_param *p) { return p->effective; }

/* Allocates a zeroed parameter; the initializer runs later (nml_param_initialize). */
nml_status nml_param_create(nml_param **p, const char *name, const nml_shape *shape,
                            nml_init init, int32_t fan_in, int32_t fan_out, int trainable,
                            nml_error *err);
void nml_param_free(nml_param *p);

/* Fills value with the parameter's initializer, drawing from rng; then applies the mask. */
nml_status nml_param_initialize(nml_param *p, nml_rng *rng, nml_error *err);

/* Copies count mask bytes (non-zero = keep) and zeroes the pruned values; NULL removes it. */
/* Initialization for a layer that reads sigmoid outputs (LeNet-5's C3 and C5): shifts each
 * output's weights (a slice along the first dimension: a conv filter, a dense row) to sum to zero,
 * so a constant input (the sigmoid's 0.5 offset) contributes nothing at the start, then multiplies
 * every weight by gain (e.g. 4 = 1 / sigmoid'(0), to undo the sigmoid's slope). Acts on the
 * stored values after nml_param_initialize; a masked parameter is refused (its zeros would move). */
nml_status nml_param_center_rows(nml_param *p, float gain, nml_error *err);

nml_status nml_param_set_mask(nml_param *p, const uint8_t *mask, nml_error *err);

/* Installs a transform hook (allocates p->effective) or, with NULL, removes it (destroying the
 * old hook's user data). */
nml_status nml_param_set_hook(nml_param *p, const nml_param_hook *hook, nml_error *err);

/* Called by the network around each pass; exposed for custom training loops. */
void nml_param_before_forward(nml_param *p);
void nml_param_after_backward(nml_param *p);

#ifdef __cplusplus
}
#endif
#endif
