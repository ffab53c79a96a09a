/* Import of a float32 model (host IR, e.g. read from a .tflite file) into a trainable network:
 * the inverse of nml_net_export for the operators it emits, so a model trained with
 * `nanoml train` (or any float .tflite made of the same operators) can be fine-tuned, pruned,
 * clustered or trained with fake quantization.
 *
 * Operators and the layers they become:
 *   CONV_2D -> Conv2D, DEPTHWISE_CONV_2D -> DepthwiseConv2D, FULLY_CONNECTED -> Dense (with a
 *   Flatten in front when its input is not a vector), AVERAGE_POOL_2D / MAX_POOL_2D -> pools,
 *   RESHAPE to [1, N] -> Flatten (a RESHAPE that keeps the shape disappears), PAD of height and
 *   width -> ZeroPadding2D, ADD -> Add, CONCATENATION on the last axis -> Concatenate,
 *   TANH / LOGISTIC / SOFTMAX (beta 1) / RELU / RELU6 -> activations.
 * Fused activations (RELU, RELU6, TANH) become the layer's activation. An activation operator
 * named "<producer>/<activation>" (what the exporter writes for a layer's own activation) is
 * merged back into its producer unless split_activations is set; other activation operators
 * become Activation layers. Layers are named after their output tensors, weights are copied
 * from the model, and every tensor must be float32 with a batch dimension of 1.
 *
 * Anything else is refused with a message naming the operator (index and name) or tensor. */
#ifndef NANOML_TRAIN_IMPORT_H
#define NANOML_TRAIN_IMPORT_H

#include <stdint.h>

#include "nanoml/ir.h"
#include "nanoml/status.h"
#include "nanoml/train_net.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct nml_import_opts {
    const char *name;      /* network name (NULL: "imported") */
    uint64_t seed;         /* the network's generator (dropout; weights come from the model) */
    int split_activations; /* 1: every activation operator stays an Activation layer */
    /* Optional: called for every float activation tensor of the model once its value exists
     * in the network (graph inputs first, then each operator's output), with the network
     * tensor that holds it. The callback may add layers (e.g. fake quantization) and sets
     * *use to the tensor later operators should read instead (initially `tensor`). */
    nml_status (*after_tensor)(void *user, nml_net *net, const nml_ir *ir, int ir_tensor,
                               int tensor, int *use, nml_error *err);
    void *user;
} nml_import_opts;

/* Builds *net (owned by the caller) from a float32 IR. opts may be NULL. */
nml_status nml_net_from_ir(nml_net **net, const nml_ir *ir, const nml_import_opts *opts,
                           nml_error *err);

/* Checks that every operator and tensor can be imported (by importing into a network that is
 * freed again); the message names the first one that cannot. */
nml_status nml_import_check(const nml_ir *ir, nml_error *err);

#ifdef __cplusplus
}
#endif
#endif
