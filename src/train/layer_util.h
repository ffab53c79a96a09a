/* Helpers shared by the built-in layers (internal). */
#ifndef NML_TRAIN_LAYER_UTIL_H
#define NML_TRAIN_LAYER_UTIL_H

#include <stdint.h>
#include <stdlib.h>

#include "nanoml/train_export.h"
#include "nanoml/train_layer.h"

/* First non-zero of a, b, else fallback (option defaults). */
static inline int32_t nml_pick(int32_t a, int32_t b, int32_t fallback) {
    return a ? a : (b ? b : fallback);
}

/* Allocates a copy of an options struct as layer state and creates the layer with ops. */
nml_layer *nml_layer_with_state(const nml_layer_ops *ops, const char *name, const void *state,
                                size_t bytes, nml_afn act);
/* destroy callback for layers whose state is one malloc'd block. */
void nml_layer_free_state(nml_layer *l);

/* Adds bias[c] to every row of a rows x channels matrix. */
void nml_add_bias_rows(float *out, const float *bias, size_t rows, int32_t channels);
/* db[c] += sum over rows of dout[row][c]. */
void nml_bias_grad_rows(const float *dout, float *db, size_t rows, int32_t channels);

/* Export: the weights and bias to write for an affine layer, with a pending batch-norm
 * (x->fold_scale / fold_shift) folded in: w[c] *= scale[c] along the output-channel axis
 * (channel of element i = (i / inner) % channels), b[c] = b[c] * scale[c] + shift[c]. bias may
 * be NULL (treated as zero). *w and *b are malloc'd; free them. */
nml_status nml_export_affine(const nml_export_ctx *x, const nml_param *kernel,
                             const nml_param *bias, int32_t channels, size_t inner, float **w,
                             float **b, nml_error *err);

/* Exports an affine layer (CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED): the folded weights and
 * bias as constants, the output activation, and the operator reading {x->in[0], kernel, bias}
 * with params p (its fused activation is set here). Sets x->out. */
nml_status nml_export_affine_op(nml_export_ctx *x, const nml_layer *l, const nml_param *kernel,
                                const nml_param *bias, int32_t channels, size_t inner,
                                int32_t builtin, nml_op_params *p, nml_error *err);

/* Layer kinds the exporter treats specially (internal). */
int nml_layer_is_batch_norm(const nml_layer *l);
int nml_layer_is_dropout(const nml_layer *l);
int nml_layer_is_activation(const nml_layer *l);
/* Per-channel y = x * scale + shift equivalent of an inference-mode batch norm (malloc'd). */
nml_status nml_batch_norm_affine(const nml_layer *l, float **scale, float **shift,
                                 nml_error *err);

#endif
