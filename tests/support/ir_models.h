/* Small IR models built by hand for the .tflite writer/reader tests and the LiteRT oracle
 * tests. Each builder fails the test on error. The values are chosen so the outputs can be
 * computed by hand; the tests that run them write those computations out. */
#ifndef NML_TEST_IR_MODELS_H
#define NML_TEST_IR_MODELS_H

#include "nanoml/ir.h"

/* y[1x2] = W[2x3] x[1x3] + b, FULLY_CONNECTED float32.
 * W = [[1, 0, -1], [0.5, 2, 0.25]], b = [0.5, -1]. Tensors: 0 x, 1 W, 2 b, 3 y. */
void nml_test_model_fc_float(nml_ir *ir);

/* int8 CONV_2D (per-channel weights) -> RELU -> AVERAGE_POOL_2D:
 * x 1x3x3x1 int8 (scale 0.5, zero point -1); filter 2x2x2x1 int8, per-channel scales
 * {0.5, 0.25} along dimension 0, w0 = [[1,2],[0,-1]], w1 = [[2,0],[-2,4]]; bias int32 {4, -8}
 * (scales {0.25, 0.125}); VALID, stride 1 -> 1x2x2x2 (scale 0.25, zero point 2); RELU (same
 * quantization); 2x2 average pool, stride 2 -> 1x1x1x2 (scale 0.25, zero point 2).
 * Tensors: 0 x, 1 filter, 2 bias, 3 conv, 4 relu, 5 pool. */
void nml_test_model_conv_int8(nml_ir *ir);

/* float32: CONCATENATION(a[1x2], b[1x2], axis 1) -> RESHAPE to 2x2 (shape tensor and
 * new_shape option) -> SOFTMAX (beta 1). Tensors: 0 a, 1 b, 2 cat, 3 shape, 4 reshaped,
 * 5 softmax. */
void nml_test_model_concat_softmax(nml_ir *ir);

#endif
