/* Export of a trained network to the host IR (ir.h), from which nml_ir_to_tflite writes a float32
 * .tflite model. Layers become TFLite builtin operators: Conv2D -> CONV_2D (filters OHWI),
 * DepthwiseConv2D -> DEPTHWISE_CONV_2D, Dense -> FULLY_CONNECTED (weights [out, in]), pools ->
 * AVERAGE_POOL_2D / MAX_POOL_2D, Flatten -> RESHAPE, ZeroPadding2D -> PAD, Add -> ADD,
 * Concatenate -> CONCATENATION, activations -> RELU / RELU6 / TANH / LOGISTIC / SOFTMAX.
 * Batch normalization is folded into the preceding Conv2D / DepthwiseConv2D / Dense, dropout is
 * removed, and relu / relu6 are fused into the producing operator where TFLite allows it. Every
 * tensor gets a leading batch dimension of 1. */
#ifndef NANOML_TRAIN_EXPORT_H
#define NANOML_TRAIN_EXPORT_H

#include <stddef.h>
#include <stdint.h>

#include "nanoml/ir.h"
#include "nanoml/ops.h"
#include "nanoml/status.h"
#include "nanoml/train_layer.h"
#include "nanoml/train_net.h"

#ifdef __cplusplus
extern "C" {
#endif

/* What a layer's export_ir callback sees and sets. */
typedef struct nml_export_ctx {
    nml_ir *ir;
    int n_in;
    const int32_t *in;           /* IR tensor index of each input */
    const nml_shape *in_shape;   /* per-sample shapes of the inputs */
    nml_shape out_shape;
    int32_t out;                 /* set by the callback: the IR tensor holding the layer output */
    /* NML_LAYER_FUSES_ACTIVATION layers: the nml_activation to fuse (NML_ACT_NONE otherwise) */
    uint8_t fused_activation;
    /* NML_LAYER_FOLDS_AFFINE layers: when not NULL, the exported op must compute
     * y * fold_scale[c] + fold_shift[c] for every output channel c (last dimension) */
    const float *fold_scale, *fold_shift;
} nml_export_ctx;

/* Exports the network into ir (initialized with nml_ir_init and empty). */
nml_status nml_net_export(const nml_net *net, nml_ir *ir, nml_error *err);

/* ---- helpers for export_ir callbacks (names are "<layer>/<suffix>") ---- */
/* A float32 constant of the given IR shape (dims include every dimension). */
nml_status nml_export_const(nml_export_ctx *x, const nml_layer *l, const char *suffix, int rank,
                            const int32_t *dims, const float *data, int32_t *index,
                            nml_error *err);
/* An int32 constant (shapes and paddings). */
nml_status nml_export_const_i32(nml_export_ctx *x, const nml_layer *l, const char *suffix,
                                int rank, const int32_t *dims, const int32_t *data,
                                int32_t *index, nml_error *err);
/* A float32 activation tensor of a per-sample shape (a batch dimension of 1 is prepended). */
nml_status nml_export_activation(nml_export_ctx *x, const char *name, const nml_shape *shape,
                                 int32_t *index, nml_error *err);
/* Appends an operator with one output; the op records the layer name. */
nml_status nml_export_op(nml_export_ctx *x, const nml_layer *l, int32_t builtin,
                         const nml_op_params *params, int n_in, const int32_t *in, int32_t out,
                         nml_error *err);

#ifdef __cplusplus
}
#endif
#endif
