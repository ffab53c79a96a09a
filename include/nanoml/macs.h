/* Multiply-accumulate counts per operator, for reports (CLI inspect) and per-operator
 * profiling on the microcontroller. Freestanding.
 *
 * Convention (one MAC = one multiply-add or one comparable per-element step):
 *   CONV_2D            output elements x KH x KW x input channels   (filter OC x KH x KW x IC)
 *   DEPTHWISE_CONV_2D  output elements x KH x KW                    (filter 1 x KH x KW x OC)
 *   TRANSPOSE_CONV     input elements x KH x KW x output channels   (each input element is
 *                      scattered into a KH x KW x OC window)
 *   FULLY_CONNECTED    output elements x input depth                (weights units x depth)
 *   BATCH_MATMUL       output elements x inner dimension
 *   AVERAGE/MAX_POOL_2D output elements x filter height x filter width (the window's ops)
 *   MEAN, SUM, REDUCE_MAX, ARG_MAX: input elements
 *   RESIZE_BILINEAR    output elements x 4 (four taps)
 *   element-wise operators (arithmetic, activations, softmax, quantize/dequantize, cast, ...):
 *                      output elements
 *   pure data movement (reshape, squeeze, expand_dims, shape, pad, concatenation, transpose,
 *   gather, slice, strided_slice, split, pack, unpack, depth/space rearrangement, nearest
 *   resize): 0
 * Fused activations are not counted separately. */
#ifndef NANOML_MACS_H
#define NANOML_MACS_H

#include <stdint.h>

#include "nanoml/runtime.h"

#ifdef __cplusplus
extern "C" {
#endif

/* MACs of one operator from its first three inputs and first output (any may be NULL). */
uint64_t nml_op_macs(int32_t builtin, const nml_op_params *params, const nml_tensor *in0,
                     const nml_tensor *in1, const nml_tensor *in2, const nml_tensor *out0);

/* MACs of operator i of a loaded model (no interpreter needed). */
nml_status nml_model_op_macs(const nml_model *model, uint32_t i, uint64_t *macs, nml_error *err);

#ifdef __cplusplus
}
#endif
#endif
