/* Test helpers for the training library: random data and finite-difference gradient checks. */
#ifndef NML_TEST_TRAIN_CHECK_H
#define NML_TEST_TRAIN_CHECK_H

#include <stddef.h>
#include <stdint.h>

#include "nanoml/train_net.h"

/* n uniform values in [lo, hi) from a fixed generator. */
void tc_fill_uniform(float *v, size_t n, float lo, float hi, uint64_t seed);

/* Checks the analytic gradients of a built network (one input, one output) against central
 * differences of L = sum(output * r) for random r: d L / d input and d L / d every trainable
 * parameter (at most max_checks elements each, spread evenly). x holds batch inputs (NULL: random
 * in [-1, 1]). The network generator is reseeded before every forward so dropout masks repeat.
 * An element passes when |analytic - numeric| <= tol * max(1, |analytic|, |numeric|). Fails the
 * test with the element's name otherwise. */
void tc_check_gradients(nml_net *net, int32_t batch, const float *x, float h, double tol,
                        size_t max_checks);

/* Builds a network of one layer on one input of the given shape (fails the test on error). */
nml_net *tc_single_layer_net(nml_shape in, nml_layer *layer);

#endif
