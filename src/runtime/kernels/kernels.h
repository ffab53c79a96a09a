/* Every kernel the runtime provides, one per operator (reference semantics). The tables in
 * ops_all.c and the firmware's generated resolvers refer to these. */
#ifndef NANOML_RUNTIME_KERNELS_H
#define NANOML_RUNTIME_KERNELS_H

#include "kernel.h"

/* convolution, matrix and pooling (kernels-math) */
extern const nml_kernel nml_kernel_fully_connected;
extern const nml_kernel nml_kernel_conv_2d;
extern const nml_kernel nml_kernel_depthwise_conv_2d;
extern const nml_kernel nml_kernel_average_pool_2d;
extern const nml_kernel nml_kernel_max_pool_2d;
extern const nml_kernel nml_kernel_softmax;
extern const nml_kernel nml_kernel_logistic;
extern const nml_kernel nml_kernel_tanh;

/* element-wise, data movement and reductions (kernels-elem) */
extern const nml_kernel nml_kernel_add;
extern const nml_kernel nml_kernel_sub;
extern const nml_kernel nml_kernel_mul;
extern const nml_kernel nml_kernel_relu;
extern const nml_kernel nml_kernel_relu6;
extern const nml_kernel nml_kernel_leaky_relu;
extern const nml_kernel nml_kernel_quantize;
extern const nml_kernel nml_kernel_dequantize;
extern const nml_kernel nml_kernel_reshape;
extern const nml_kernel nml_kernel_pad;
extern const nml_kernel nml_kernel_padv2;
extern const nml_kernel nml_kernel_concatenation;
extern const nml_kernel nml_kernel_transpose;
extern const nml_kernel nml_kernel_gather;
extern const nml_kernel nml_kernel_resize_nearest_neighbor;
extern const nml_kernel nml_kernel_mean;
extern const nml_kernel nml_kernel_strided_slice;
extern const nml_kernel nml_kernel_split;
extern const nml_kernel nml_kernel_split_v;
/* further element-wise kernels (kernels-elem) */
extern const nml_kernel nml_kernel_squeeze;
extern const nml_kernel nml_kernel_expand_dims;
extern const nml_kernel nml_kernel_slice;
extern const nml_kernel nml_kernel_maximum;
extern const nml_kernel nml_kernel_minimum;
extern const nml_kernel nml_kernel_sum;
extern const nml_kernel nml_kernel_reduce_max;
extern const nml_kernel nml_kernel_hard_swish;
extern const nml_kernel nml_kernel_resize_bilinear;

/* optimized int8 variants for RV32IMC-class cores (opt_*.c): same operator, same checks, same
 * results as the reference kernels above, which remain the oracle (nml_ops_reference()) */
extern const nml_kernel nml_kernel_conv_2d_opt;
extern const nml_kernel nml_kernel_depthwise_conv_2d_opt;
extern const nml_kernel nml_kernel_fully_connected_opt;
extern const nml_kernel nml_kernel_logistic_opt;
extern const nml_kernel nml_kernel_tanh_opt;
extern const nml_kernel nml_kernel_softmax_opt;
/* The same without the fallback to the reference evaluation for what they do not specialize
 * (float32, hybrid, int4, grouped): they reject such nodes at prepare. */
extern const nml_kernel nml_kernel_conv_2d_opt_int8;
extern const nml_kernel nml_kernel_depthwise_conv_2d_opt_int8;
extern const nml_kernel nml_kernel_fully_connected_opt_int8;
extern const nml_kernel nml_kernel_logistic_opt_int8;
extern const nml_kernel nml_kernel_tanh_opt_int8;
extern const nml_kernel nml_kernel_softmax_opt_int8;
/* Optimized data movement and element-wise kernels (opt_gather.c, opt_quantize.c, opt_pad.c,
 * opt_concatenation.c, opt_max_pool_2d.c, opt_average_pool_2d.c, opt_add.c): they hand the nodes they do not
 * specialize to the reference kernel at prepare (node->kernel), and their leaner variants below
 * reject such nodes instead. */
extern const nml_kernel nml_kernel_gather_opt;
extern const nml_kernel nml_kernel_quantize_opt;
extern const nml_kernel nml_kernel_pad_opt;
extern const nml_kernel nml_kernel_padv2_opt;
extern const nml_kernel nml_kernel_concatenation_opt;
extern const nml_kernel nml_kernel_max_pool_2d_opt;
extern const nml_kernel nml_kernel_add_opt;
extern const nml_kernel nml_kernel_average_pool_2d_opt;
/* constant indices in arithmetic progression only */
extern const nml_kernel nml_kernel_gather_opt_strided;
/* int8 -> int8 only */
extern const nml_kernel nml_kernel_quantize_opt_int8;
/* one-byte elements only */
extern const nml_kernel nml_kernel_pad_opt_int8;
extern const nml_kernel nml_kernel_padv2_opt_int8;
/* copies only (no input requantized), any type */
extern const nml_kernel nml_kernel_concatenation_opt_int8;
/* int8 only */
extern const nml_kernel nml_kernel_max_pool_2d_opt_int8;
extern const nml_kernel nml_kernel_average_pool_2d_opt_int8;
/* int8 inputs of the output's shape only (no broadcasting) */
extern const nml_kernel nml_kernel_add_opt_int8;
/* int8-only, 3x3 windows read in place only (rejects other nodes at prepare) */
extern const nml_kernel nml_kernel_depthwise_conv_2d_opt_rows;
/* int8-only, 3x3 windows read in place and 5-wide planes of 4k columns only (rejects other
 * nodes at prepare) */
extern const nml_kernel nml_kernel_depthwise_conv_2d_opt_rows5;
/* int8-only, the rows and plane paths only (rejects depth multiplier path nodes at prepare) */
extern const nml_kernel nml_kernel_depthwise_conv_2d_opt_planes;
/* int8-only, the fast requantization only, layers of fewer than 8 channels only in whole blocks
 * of 8 output pixels (rejects other nodes at prepare) */
extern const nml_kernel nml_kernel_conv_2d_opt_lean;
extern const nml_kernel nml_kernel_conv_2d_opt_lean_c1;
/* int8-only, layers of fewer than 8 units only (rejects other nodes at prepare) */
extern const nml_kernel nml_kernel_fully_connected_opt_narrow;
/* int8-only and only the depth multiplier path (rejects other nodes at prepare) */
extern const nml_kernel nml_kernel_depthwise_conv_2d_opt_blocks;

#endif
