/* Layers: the unit a network is built from, and the callback table a user implements to write
 * a custom layer. Built-in layers (train_layers.h) use exactly this interface.
 *
 * A layer is defined by an nml_layer_ops table:
 *   output_shape  checks the input shapes and computes the output shape (called once, when the
 *                 layer is added to a network; a mismatch is reported there, not during training)
 *   parameters    declares the layer's weights with nml_layer_add_param (optional)
 *   forward       computes the output batch from the input batches
 *   backward      given d loss / d output, writes d loss / d input for every input whose din
 *                 pointer is not NULL (overwriting), and ADDS the weight gradients into each
 *                 parameter's grad (the network zeroes them before every backward pass)
 *   export_ir     emits TFLite operators for the layer (optional; see train_export.h)
 *   destroy       frees the layer's state (optional)
 * The layer's activation (nml_layer_set_activation) is applied by the network after forward and
 * differentiated before backward, so a layer never implements its own activation. */
#ifndef NANOML_TRAIN_LAYER_H
#define NANOML_TRAIN_LAYER_H

#include <stddef.h>
#include <stdint.h>

#include "nanoml/status.h"
#include "nanoml/train_param.h"
#include "nanoml/train_rng.h"
#include "nanoml/train_tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum nml_afn {
    NML_AFN_LINEAR = 0,
    NML_AFN_RELU,
    NML_AFN_RELU6,
    NML_AFN_TANH,
    NML_AFN_SIGMOID,
    NML_AFN_SOFTMAX /* over the last dimension */
} nml_afn;

/* "linear", "relu", ... ("?" for other values). */
const char *nml_afn_name(nml_afn a);

typedef struct nml_layer nml_layer;
struct nml_export_ctx; /* train_export.h */

typedef struct nml_fwd {
    int32_t batch;
    int training;            /* 1 while fitting (dropout active, batch statistics) */
    int n_in;
    const nml_ftensor *in;   /* n_in input batches */
    nml_ftensor *out;        /* output batch, allocated by the network */
    nml_rng *rng;            /* the network's generator (dropout) */
} nml_fwd;

typedef struct nml_bwd {
    int32_t batch;
    int n_in;
    const nml_ftensor *in;   /* the forward inputs */
    const nml_ftensor *out;  /* the forward output (after the activation) */
    const float *dout;       /* d loss / d output before the activation, batch x out floats */
    float *const *din;       /* n_in pointers; NULL: that input needs no gradient */
} nml_bwd;

/* Flags in nml_layer_ops.flags, used by the exporter. */
#define NML_LAYER_FUSES_ACTIVATION 1u /* export_ir honours nml_export_ctx.fused_activation */
#define NML_LAYER_FOLDS_AFFINE 2u     /* export_ir honours nml_export_ctx.fold_scale/shift */

typedef struct nml_layer_ops {
    const char *kind;        /* "Conv2D", "Dense", or the custom layer's type name */
    int min_inputs, max_inputs;
    unsigned flags;
    nml_status (*output_shape)(nml_layer *l, int n_in, const nml_shape *in, nml_shape *out,
                               nml_error *err);
    nml_status (*parameters)(nml_layer *l, int n_in, const nml_shape *in, const nml_shape *out,
                             nml_error *err);
    nml_status (*forward)(nml_layer *l, const nml_fwd *f, nml_error *err);
    nml_status (*backward)(nml_layer *l, const nml_bwd *b, nml_error *err);
    nml_status (*export_ir)(nml_layer *l, struct nml_export_ctx *x, nml_error *err);
    void (*destroy)(nml_layer *l);
} nml_layer_ops;

#define NML_LAYER_NAME_MAX 48
#define NML_LAYER_SCRATCH_SLOTS 4

struct nml_layer {
    const nml_layer_ops *ops;
    char name[NML_LAYER_NAME_MAX];
    void *state;                  /* the layer's own data (configuration, buffers) */
    nml_afn act;
    nml_param **params;           /* owned */
    int n_params, cap_params;
    int n_in;                     /* shapes recorded when the layer joined a network */
    nml_shape in_shape[NML_MAX_OP_INPUTS];
    nml_shape out_shape;
    int in_net;                   /* 1 once a network owns the layer */
    void *scratch[NML_LAYER_SCRATCH_SLOTS]; /* see nml_layer_scratch */
    size_t scratch_bytes[NML_LAYER_SCRATCH_SLOTS];
};

/* Creates a layer over a callback table. name may be NULL (the network then names it
 * "<kind>_<n>"). state is the layer's own pointer; ops->destroy frees it. Returns NULL when out
 * of memory (nml_net_call then reports it). */
nml_layer *nml_layer_create(const nml_layer_ops *ops, const char *name, void *state);

/* Sets the activation applied to the layer's output; returns l (NULL stays NULL) so it can wrap
 * a constructor. */
nml_layer *nml_layer_set_activation(nml_layer *l, nml_afn act);

/* Frees a layer that no network owns (a network frees its own layers). */
void nml_layer_free(nml_layer *l);

/* For the parameters callback: declares a weight tensor named "<layer>/<name>". */
nml_status nml_layer_add_param(nml_layer *l, const char *name, const nml_shape *shape,
                               nml_init init, int32_t fan_in, int32_t fan_out, int trainable,
                               nml_param **out, nml_error *err);

/* Per-layer access to weights. */
int nml_layer_param_count(const nml_layer *l);
nml_param *nml_layer_param(const nml_layer *l, int i);          /* NULL when out of range */
nml_param *nml_layer_find_param(const nml_layer *l, const char *short_name); /* "kernel" */
/* Scalars in all parameters (trainable or not). */
size_t nml_layer_weight_count(const nml_layer *l);

/* A buffer of at least `bytes` kept by the layer between forward and backward (im2col columns,
 * max-pool positions, dropout masks); grows as needed, contents preserved only while the size
 * does not grow. NULL (with err set) when out of memory. */
void *nml_layer_scratch(nml_layer *l, int slot, size_t bytes, nml_error *err);

#ifdef __cplusplus
}
#endif
#endif
