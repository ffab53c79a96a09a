/* The reference SOFTMAX's parameters, prepare and evaluations (softmax.c), shared with the
 * optimized kernel (opt_softmax.c). */
#ifndef NANOML_KERNELS_SOFTMAX_REF_H
#define NANOML_KERNELS_SOFTMAX_REF_H

#include <stdint.h>

#include "kernel.h"

typedef struct nml_softmax_data {
    int32_t outer, depth;
    float beta;
    int32_t input_multiplier; /* Q31 */
    int32_t input_left_shift;
    int32_t diff_min; /* diffs below it give probability 0 */
} nml_softmax_data;

nml_status nml_softmax_prepare(nml_ctx *ctx, nml_node *node, const nml_op_params *p);
void nml_softmax_f32(const nml_softmax_data *d, const float *in, float *out);
/* exp(diff * beta * input_scale) in Q0.31 for diff <= 0 (TFLite's fixed-point computation). */
int32_t nml_softmax_exp_of_diff(const nml_softmax_data *d, int32_t diff);
/* The int8 evaluation; exp_table (256 entries, exp_table[255 + diff] =
 * nml_softmax_exp_of_diff(diff)) replaces the computation when given. */
void nml_softmax_int8(const nml_softmax_data *d, const int8_t *in, int8_t *out,
                      const int32_t *exp_table);

#endif
