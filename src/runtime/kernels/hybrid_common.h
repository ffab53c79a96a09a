/* Hybrid (dynamic-range) kernels: float32 activations, int8 weights. As TFLite's hybrid kernels
 * do, the float input is quantized to int8 on the fly for each batch, the products are integer
 * dot products, and the result is scaled back to float with input_scale * weight_scale[c]:
 *   symmetric (FULLY_CONNECTED, per-tensor CONV_2D): tensor_utils::SymmetricQuantizeFloats,
 *     scale = max|x| / 127, values in [-127, 127], no offset;
 *   asymmetric (per-channel CONV_2D, DEPTHWISE_CONV_2D): tensor_utils::AsymmetricQuantizeFloats,
 *     the range [min(x, 0), max(x, 0)] onto [-128, 127] with a nudged zero point (offset).
 * A batch of all zeros gets scale 1 and offset 0. Float kernels, so <math.h> is fine here. */
#ifndef NANOML_RUNTIME_KERNELS_HYBRID_COMMON_H
#define NANOML_RUNTIME_KERNELS_HYBRID_COMMON_H

#include <stdint.h>

#include "kernel.h"

void nml_hybrid_quantize_symmetric(const float *x, uint32_t n, int8_t *q, float *scale);
void nml_hybrid_quantize_asymmetric(const float *x, uint32_t n, int8_t *q, float *scale,
                                    int32_t *offset);

/* Validates the int8 weights of a hybrid operator (quantized, zero points 0, per-tensor or
 * per-channel along q_dim with one scale per channel) and copies the per-channel scales into a
 * persistent float array (a per-tensor scale is broadcast). */
nml_status nml_hybrid_weight_scales(nml_ctx *ctx, const nml_node *node, const nml_tensor *filter,
                                    int32_t channels, int32_t q_dim, float **scales);

#endif
