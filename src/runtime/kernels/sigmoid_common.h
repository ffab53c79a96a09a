/* Shared prepare of the LOGISTIC and TANH kernels (TFLite Micro's logistic_common.cc /
 * tanh.cc): same type in and out, same shape; for int8 the input is rescaled into Q4.27 by a
 * Q31 multiplier and left shift, and inputs beyond the "input range radius" saturate. */
#ifndef NANOML_KERNELS_SIGMOID_COMMON_H
#define NANOML_KERNELS_SIGMOID_COMMON_H

#include "conv_common.h"

#define NML_SIGMOID_INPUT_INTEGER_BITS 4 /* the fixed-point functions take Q4.27 inputs */

typedef struct nml_sigmoid_data {
    int32_t count;
    int32_t input_zero_point;
    int32_t input_range_radius; /* |x - zp| >= radius saturates the output */
    int32_t input_multiplier;   /* Q31 */
    int32_t input_shift;        /* power-of-two exponent, left when positive */
} nml_sigmoid_data;

/* Checks types/shape; for int8 checks the output quantization (scale out_scale, a power of two,
 * within 0.1%,
 * zero point out_zero_point; the fixed-point kernel hard-codes both) and computes the input
 * rescaling. */
nml_status nml_sigmoid_prepare(nml_ctx *ctx, nml_node *node, float out_scale,
                               int32_t out_zero_point, const char *out_scale_text);

/* The reference LOGISTIC's prepare and evaluations (logistic.c), shared with the optimized
 * kernel (opt_logistic.c). */
nml_status nml_logistic_prepare(nml_ctx *ctx, nml_node *node, const nml_op_params *p);
void nml_logistic_int8(const nml_sigmoid_data *d, const int8_t *in, int8_t *out, int32_t count);
void nml_logistic_f32(const nml_sigmoid_data *d, const float *in, float *out);

/* The same for TANH (tanh.c, opt_tanh.c). */
nml_status nml_tanh_prepare(nml_ctx *ctx, nml_node *node, const nml_op_params *p);
void nml_tanh_int8(const nml_sigmoid_data *d, const int8_t *in, int8_t *out, int32_t count);
void nml_tanh_f32(const nml_sigmoid_data *d, const float *in, float *out);

#endif
