/* Quantized models with pruned and clustered weights for the packed-weights tests. */
#ifndef NML_TEST_PACK_MODELS_H
#define NML_TEST_PACK_MODELS_H

#include <stdint.h>

#include "nanoml/ir.h"

/* int8 CNN: input 1x10x10x2 (scale 0.05, zero point -3) -> CONV_2D 8x3x3x2 VALID + RELU ->
 * 1x8x8x8 -> DEPTHWISE_CONV_2D 1x3x3x16 (multiplier 2) VALID -> 1x6x6x16 -> FULLY_CONNECTED
 * 10x576 -> 1x10. Per-channel weight scales, random biases. Weights are random int8 with
 * sparsity_pct percent zeros; with k > 0 each layer's non-zero weights come from a table of k
 * values (row_tables: a different table per output channel). Tensors: 0 input, 1 conv filter,
 * 2 conv bias, 3 conv out, 4 dw filter, 5 dw bias, 6 dw out, 7 fc weights, 8 fc bias,
 * 9 output. */
void nml_test_model_cnn_int8(nml_ir *ir, uint32_t seed, int sparsity_pct, int k, int row_tables);

#endif
