/* Activation functions over whole arrays (internal to the training library). Forward runs in
 * place; backward turns d loss / d y into d loss / d x using the forward output y. tanh and the
 * logistic function use a vectorized exp (AVX2 when available), accurate to a few float ulps. */
#ifndef NML_TRAIN_ACTIVATION_H
#define NML_TRAIN_ACTIVATION_H

#include <stddef.h>
#include <stdint.h>

#include "nanoml/train_layer.h"

/* count = values per sample; softmax normalizes each sample over its last dimension (last). */
void nml_act_forward(nml_afn a, float *x, size_t total, size_t last);
void nml_act_backward(nml_afn a, const float *y, const float *dy, float *dx, size_t total,
                      size_t last);

/* The scalar definitions the vector code must agree with (also used by tests). */
float nml_tanh_approx(float x);
float nml_sigmoid_approx(float x);

#endif
