/* A network: a directed acyclic graph of layers over symbolic tensors, with a forward pass and a
 * reverse-mode backward pass over float32 batches.
 *
 * Functional style: layers are called on symbolic tensors (plain int handles), so branches and
 * merges are just calls:
 *     nml_net_input(net, "image", nml_shape_3d(32, 32, 1), &x, &err);
 *     nml_net_call(net, nml_conv2d(&(nml_conv2d_opts){...}), 1, &x, &y, &err);
 *     nml_net_call(net, nml_add(NULL), 2, (int[]){x, y}, &z, &err);
 *     nml_net_build(net, 1, &z, &err);
 * Sequential style: nml_net_add appends a layer to the most recent tensor.
 *
 * Shapes are inferred as each layer is added: a mismatch fails right there with a message naming
 * the layer and both shapes. Building functions take ownership of the layer they are given
 * (freeing it on failure), and errors are sticky: after one failure every later building call
 * (and nml_net_build) returns the first error again, so a model definition may check only the
 * final nml_net_build. */
#ifndef NANOML_TRAIN_NET_H
#define NANOML_TRAIN_NET_H

#include <stdint.h>
#include <stdio.h>

#include "nanoml/status.h"
#include "nanoml/train_layer.h"
#include "nanoml/train_tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct nml_net nml_net;

/* seed drives weight initialization and dropout. */
nml_status nml_net_create(nml_net **net, const char *name, uint64_t seed, nml_error *err);
void nml_net_free(nml_net *net);

/* ---- building ---- */
nml_status nml_net_input(nml_net *net, const char *name, nml_shape shape, int *tensor,
                         nml_error *err);
nml_status nml_net_call(nml_net *net, nml_layer *layer, int n_in, const int *inputs,
                        int *output, nml_error *err);
/* Convenience for single-input layers. */
nml_status nml_net_call1(nml_net *net, nml_layer *layer, int input, int *output, nml_error *err);
/* Sequential: calls the layer on the most recently created tensor (an input must exist). */
nml_status nml_net_add(nml_net *net, nml_layer *layer, nml_error *err);
/* Marks the outputs (n_out == 0: the most recent tensor) and makes the network ready to run. */
nml_status nml_net_build(nml_net *net, int n_out, const int *outputs, nml_error *err);

/* ---- introspection ---- */
const char *nml_net_name(const nml_net *net);
int nml_net_layer_count(const nml_net *net);
nml_layer *nml_net_layer(const nml_net *net, int i);          /* in execution order */
nml_layer *nml_net_find_layer(const nml_net *net, const char *name);
int nml_net_input_count(const nml_net *net);
nml_shape nml_net_input_shape(const nml_net *net, int i);
int nml_net_output_count(const nml_net *net);
nml_shape nml_net_output_shape(const nml_net *net, int i);
/* Every parameter of every layer, in layer order. */
int nml_net_param_count(const nml_net *net);
nml_param *nml_net_param(const nml_net *net, int i);
/* Scalars in all parameters (the "Total params" of a Keras summary). */
size_t nml_net_weight_count(const nml_net *net);
/* A table of layers, output shapes and parameter counts. */
void nml_net_summary(const nml_net *net, FILE *out);

/* ---- running ---- */
/* Runs the network on a batch: inputs[i] holds batch samples of input i. training selects
 * dropout and batch statistics. Buffers grow to the largest batch seen. */
nml_status nml_net_forward(nml_net *net, const float *const *inputs, int32_t batch, int training,
                           nml_error *err);
/* Output i of the last forward pass (batch x shape floats). */
const float *nml_net_output(const nml_net *net, int i);
/* Where the caller writes d loss / d output i before nml_net_backward. */
float *nml_net_output_grad(nml_net *net, int i);
/* Zeroes the parameter gradients, then back-propagates from the output gradients of the last
 * forward pass (which must have been a training pass). */
nml_status nml_net_backward(nml_net *net, nml_error *err);

/* Per-layer timing: when on, the training forward and backward times of every layer are accumulated and
 * nml_net_print_profile prints them (ms per 1000 samples and share of the total). */
void nml_net_set_profiling(nml_net *net, int on);
void nml_net_print_profile(const nml_net *net, FILE *out);

/* Also compute d loss / d input (saliency maps, adversarial examples, gradient checks); off by
 * default, since nothing else needs it. Then nml_net_input_grad gives input i's gradient after
 * a backward pass. */
void nml_net_want_input_grad(nml_net *net, int on);
const float *nml_net_input_grad(const nml_net *net, int i);

/* The network's generator (dropout); exposed for reproducible custom loops. */
nml_rng *nml_net_rng(nml_net *net);

/* Makes a network trained on preprocessed inputs (scale * x + offset, e.g. standardized pixels)
 * take x itself: every layer reading input `input` absorbs the transform (only Conv2D layers
 * without padding can: nml_conv2d_fold_input_affine). Used before export, so the exported model
 * reads the raw [0, 1] pixels. Nothing changes when an error is returned. */
nml_status nml_net_fold_input_affine(nml_net *net, int input, float scale, float offset,
                                     nml_error *err);

#ifdef __cplusplus
}
#endif
#endif
