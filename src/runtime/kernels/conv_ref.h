/* What the reference CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED kernels share with the
 * optimized kernels (opt_*.c): their validated parameters, the prepare steps that check a node
 * without allocating per-channel tables, and their evaluation. An optimized kernel runs the
 * same checks (so it accepts and rejects exactly the same models with the same messages) and
 * falls back to the reference evaluation for the cases it does not specialize (float32,
 * grouped convolution). */
#ifndef NANOML_KERNELS_CONV_REF_H
#define NANOML_KERNELS_CONV_REF_H

#include <stdint.h>

#include "conv_common.h"

/* ---- CONV_2D ---- */
typedef struct nml_conv_data {
    nml_window w;
    int32_t input_offset;  /* -input zero point */
    int32_t output_offset; /* output zero point */
    int32_t act_min, act_max;
    float f_min, f_max;
    int32_t *mult, *shift; /* per output channel (reference evaluation) */
} nml_conv_data;

/* Every check of the reference prepare and the window, activation range and offsets; when
 * with_multipliers is 0 the per-channel tables are not allocated (d->mult, d->shift NULL) but
 * the filter quantization is still validated. */
nml_status nml_conv_2d_setup(nml_ctx *ctx, nml_node *node, const nml_op_params *p, nml_conv_data *d,
                             int with_multipliers);
/* The reference evaluation with d (its tables must be there for int8). */
void nml_conv_2d_eval_ref(nml_ctx *ctx, const nml_node *node, const nml_conv_data *d);

/* ---- DEPTHWISE_CONV_2D ---- */
typedef struct nml_dwconv_data {
    nml_window w;
    int32_t depth_multiplier;
    int32_t input_offset, output_offset;
    int32_t act_min, act_max;
    float f_min, f_max;
    int32_t *mult, *shift; /* per output channel */
} nml_dwconv_data;

nml_status nml_dwconv_setup(nml_ctx *ctx, nml_node *node, const nml_op_params *p,
                            nml_dwconv_data *d, int with_multipliers);
void nml_dwconv_eval_ref(nml_ctx *ctx, const nml_node *node, const nml_dwconv_data *d);

/* ---- FULLY_CONNECTED ---- */
typedef struct nml_fc_data {
    int32_t batches, units, depth;
    int32_t input_offset, weights_offset, output_offset;
    int32_t act_min, act_max;
    float f_min, f_max;
    int32_t *mult, *shift; /* per unit (a per-tensor multiplier is broadcast) */
    /* filled by setup without tables (int8): the per-tensor multiplier, or 0 when the weights
     * are quantized per channel */
    int32_t tensor_mult, tensor_shift;
    uint8_t per_channel;
} nml_fc_data;

nml_status nml_fc_setup(nml_ctx *ctx, nml_node *node, const nml_op_params *p, nml_fc_data *d,
                        int with_multipliers);
void nml_fc_eval_ref(nml_ctx *ctx, const nml_node *node, const nml_fc_data *d);

#endif
