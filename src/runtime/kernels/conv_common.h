/* Prepare-time helpers shared by the convolution, matrix and pooling kernels: window geometry
 * with TFLite's padding formula, fused activation ranges computed the TFLite way, quantization
 * parameter checks and requantization multiplier tables. Nothing here runs at eval time except
 * nml_add_wrap. */
#ifndef NANOML_KERNELS_CONV_COMMON_H
#define NANOML_KERNELS_CONV_COMMON_H

#include <stdint.h>

#include "kernel.h"

/* A 2-D sliding window over an NHWC tensor (conv, depthwise conv, pooling). */
/* A setup body compiled into each of its callers, so that arguments constant there (an
 * int8-only variant's type) fold away the branches that variant does not take. */
#if defined(__GNUC__)
#define NML_SETUP_INLINE static inline __attribute__((always_inline))
#else
#define NML_SETUP_INLINE static inline
#endif

typedef struct nml_window {
    int32_t stride_h, stride_w;
    int32_t dilation_h, dilation_w;
    int32_t filter_h, filter_w;
    int32_t pad_h, pad_w; /* rows/columns of implicit padding before the first input element */
    int32_t out_h, out_w; /* output size implied by the padding mode */
} nml_window;

/* Validates strides/dilations/filter sizes (>= 1) and computes the output size and the leading
 * padding exactly as TFLite does: SAME -> out = ceil(in / stride), VALID -> out =
 * ceil((in - effective_filter + 1) / stride); total padding = max(0, (out - 1) * stride +
 * effective_filter - in), leading padding = total / 2 (the odd pixel goes after). Rejects
 * geometries whose index arithmetic would not fit comfortably in int32 or that give an empty
 * output. */
nml_status nml_window_init(nml_ctx *ctx, const nml_node *node, const nml_op_params *p, int32_t in_h,
                           int32_t in_w, int32_t filter_h, int32_t filter_w, nml_window *w);

/* Checks that output has the NHWC shape batches x out_h x out_w x channels. */
nml_status nml_check_nhwc(nml_ctx *ctx, const nml_node *node, const nml_tensor *output,
                          int32_t batches, int32_t out_h, int32_t out_w, int32_t channels);

/* Float clamp range of a fused activation (NONE, RELU, RELU6, RELU_N1_TO_1; others rejected). */
nml_status nml_activation_range_f32(nml_ctx *ctx, const nml_node *node, int activation, float *lo,
                                    float *hi);

/* Quantized clamp range of a fused activation for an output tensor, the TFLite way: the real
 * bounds 0, 6, -1, 1 are quantized with round-half-away(bound / scale) + zero_point in float
 * and intersected with [qmin, qmax]. */
nml_status nml_activation_range_q(nml_ctx *ctx, const nml_node *node, int activation,
                                  const nml_tensor *output, int32_t qmin, int32_t qmax, int32_t *lo,
                                  int32_t *hi);

/* Checks that an int8 tensor has a usable per-tensor quantization (finite scale > 0, zero point
 * in [-128, 127]): nml_check_quant (elem_common.h) on an int8 tensor, with its statuses and
 * messages (one body for both). */
nml_status nml_check_int8_quant(nml_ctx *ctx, const nml_node *node, const nml_tensor *t,
                                const char *what);
#ifdef NML_COMPACT_ERRORS /* as in kernel.h */
#define nml_check_int8_quant(ctx, node, t, what) nml_check_int8_quant(ctx, node, t, NULL)
#endif

/* Requantization table of a convolution-like int8 operator (TFLite's
 * PopulateConvolutionQuantizationParams): for every output channel c,
 *   M_c = double(input_scale) * double(filter_scale_c) / double(output_scale)
 * split into mult[c] (Q31) and shift[c] (power-of-two exponent). A per-tensor filter scale is
 * broadcast to all channels. Validates per-channel quantization: n_q == channels along
 * quantized dimension q_dim, all filter zero points 0, all scales > 0. Arrays are allocated
 * persistently. */
nml_status nml_conv_multipliers(nml_ctx *ctx, const nml_node *node, const nml_tensor *input,
                                const nml_tensor *filter, const nml_tensor *output,
                                int32_t channels, int32_t q_dim, int32_t **mult, int32_t **shift);

/* The parts of nml_conv_multipliers, for kernels that keep their own tables: the filter's
 * quantization layout (quantized, per-channel along q_dim with one scale per channel), one
 * channel's multiplier (scale > 0 and zero point 0 checked), and all channels checked without
 * storing anything. */
nml_status nml_conv_filter_layout(nml_ctx *ctx, const nml_node *node, const nml_tensor *filter,
                                  int32_t channels, int32_t q_dim);
nml_status nml_conv_channel_multiplier(nml_ctx *ctx, const nml_node *node, const nml_tensor *input,
                                       const nml_tensor *filter, const nml_tensor *output,
                                       int32_t c, int32_t *mult, int *exponent);
nml_status nml_conv_multipliers_check(nml_ctx *ctx, const nml_node *node, const nml_tensor *input,
                                      const nml_tensor *filter, const nml_tensor *output,
                                      int32_t channels, int32_t q_dim);

/* Checks a bias tensor: type, element count == channels. */
nml_status nml_check_bias(nml_ctx *ctx, const nml_node *node, const nml_tensor *bias, int type,
                          int32_t channels);

/* Rejects int8 accumulations that could overflow the int32 accumulator: depth products of
 * |x - input_zp| <= max(127 - zp, zp + 128) and |w| <= max_abs_weight must fit in int32. */
nml_status nml_check_accumulator(nml_ctx *ctx, const nml_node *node, int64_t depth,
                                 int32_t input_zero_point, int32_t max_abs_weight);

/* acc + bias with two's-complement wrap-around (the reference's behaviour on real hardware)
 * instead of undefined behaviour when a malformed bias is near the int32 limits. */
static inline int32_t nml_add_wrap(int32_t a, int32_t b) {
    return (int32_t)((uint32_t)a + (uint32_t)b);
}

#endif
