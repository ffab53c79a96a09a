/* What the reference CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED kernels share with the
 * optimized kernels (opt_*.c): their validated parameters, the prepare steps that check a node
 * without allocating per-channel tables, and their evaluation. An optimized kernel runs the
 * same checks (so it accepts and rejects exactly the same models with the same messages) and
 * falls back to the reference evaluation for the cases it does not specialize (float32,
 * hybrid, int4 weights, packed weights, grouped convolution). */
#ifndef NANOML_KERNELS_CONV_REF_H
#define NANOML_KERNELS_CONV_REF_H

#include <stdint.h>

#include "conv_common.h"

/* The arithmetic a node's tensor types select, decided by setup:
 *   FLOAT: float32 activations and weights; INT8: int8 activations and weights (the only mode
 *   the optimized kernels specialize); INT4: int8 activations, packed int4 weights; HYBRID:
 *   float32 activations, quantized int8 weights (dynamic range); PACKED: int8 activations, int8
 *   or int4 weights stored sparse and/or clustered (packed.h, docs/packed-weights.md). */
enum nml_conv_mode { NML_CONV_FLOAT, NML_CONV_INT8, NML_CONV_INT4, NML_CONV_HYBRID, NML_CONV_PACKED };

struct nml_packed;
struct nml_rq;

/* Each setup below exists twice: the full one, and an int8-only one (the *_setup_int8
 * functions) that rejects every other mode with nml_conv_not_int8() and is compiled without the
 * other modes' code. The optimized kernels' int8-only variants (nml_kernel_*_opt_int8, chosen by
 * `nanoml export` when every node of the operator is plain int8) use it, so firmware with them
 * links neither the reference evaluation nor the float, hybrid and int4 helpers
 * (NML_SETUP_INLINE, conv_common.h, makes the two instances). */

/* "OPNAME: int8-only kernel: input float32 with filter int8 needs the full kernel ...". */
nml_status nml_conv_not_int8(nml_ctx *ctx, const nml_node *node, const nml_tensor *input,
                             const nml_tensor *filter);

/* ---- CONV_2D and DEPTHWISE_CONV_2D (one setup for both: conv_setup.c) ---- */
typedef struct nml_conv_data {
    nml_window w;
    float *w_scale;           /* hybrid: filter scale per output channel */
    int32_t depth_multiplier; /* DEPTHWISE_CONV_2D */
    int32_t input_offset;     /* -input zero point */
    int32_t output_offset;    /* output zero point */
    union {                   /* a node uses one range: its output type's */
        struct {
            int32_t act_min, act_max; /* int8 */
        };
        struct {
            float f_min, f_max; /* float32 (and hybrid) */
        };
    };
    int32_t *mult, *shift; /* per output channel (reference evaluation, int8 and int4) */
    uint8_t mode;          /* enum nml_conv_mode (bytes: kernel data lives in the arena) */
    uint8_t per_channel;   /* CONV_2D hybrid: the filter has one scale per output channel */
    const struct nml_packed *packed; /* packed filter, else NULL */
} nml_conv_data;
typedef nml_conv_data nml_dwconv_data;

/* Every check of the reference prepare and the window, activation range, offsets and hybrid
 * weight scales; when with_multipliers is 0 the per-channel tables are not allocated (d->mult,
 * d->shift NULL) but the filter quantization is still validated. Requests no scratch: the
 * caller requests what the path it chose needs (a node has one scratch region). */
nml_status nml_conv_2d_setup(nml_ctx *ctx, nml_node *node, const nml_op_params *p, nml_conv_data *d,
                             int with_multipliers);
/* The int8-only setup also fills rq with the reference multipliers (nml_rq_channels,
 * opt_common.h) where the full one only validates them: the optimized kernels then finish the
 * table (nml_rq_finish) without computing every channel's multiplier a second time; io[0..3]
 * get the node's input, filter, bias (NULL when absent) and output. */
nml_status nml_conv_2d_setup_int8(nml_ctx *ctx, nml_node *node, const nml_op_params *p,
                                  nml_conv_data *d, struct nml_rq *rq, nml_tensor **io);
/* After setup, what the reference evaluation still needs: the per-channel tables (int8, int4)
 * when setup did not allocate them, and its scratch (int4, hybrid). */
nml_status nml_conv_2d_ref_finish(nml_ctx *ctx, nml_node *node, nml_conv_data *d);
/* The reference evaluation with d, in every mode. */
void nml_conv_2d_eval_ref(nml_ctx *ctx, const nml_node *node, const nml_conv_data *d);

/* ---- DEPTHWISE_CONV_2D ---- */
nml_status nml_dwconv_setup(nml_ctx *ctx, nml_node *node, const nml_op_params *p,
                            nml_dwconv_data *d, int with_multipliers);
nml_status nml_dwconv_setup_int8(nml_ctx *ctx, nml_node *node, const nml_op_params *p,
                                 nml_dwconv_data *d, struct nml_rq *rq, nml_tensor **io);
nml_status nml_dwconv_ref_finish(nml_ctx *ctx, nml_node *node, nml_dwconv_data *d);
void nml_dwconv_eval_ref(nml_ctx *ctx, const nml_node *node, const nml_dwconv_data *d);

/* ---- FULLY_CONNECTED ---- */
typedef struct nml_fc_data {
    int32_t batches, units, depth;
    int32_t input_offset, weights_offset, output_offset;
    int32_t act_min, act_max;
    float f_min, f_max;
    int32_t *mult, *shift; /* per unit (a per-tensor multiplier is broadcast) */
    float *w_scale;        /* hybrid: weight scale per unit */
    /* filled by setup (int8, int4): the per-tensor multiplier, or 0 when the weights are
     * quantized per channel */
    int32_t tensor_mult, tensor_shift;
    uint8_t per_channel;
    uint8_t mode; /* enum nml_conv_mode */
    const struct nml_packed *packed; /* packed weights, else NULL */
} nml_fc_data;

nml_status nml_fc_setup(nml_ctx *ctx, nml_node *node, const nml_op_params *p, nml_fc_data *d,
                        int with_multipliers);
/* rq: as the convolutions' int8-only setups, filled with per-channel weights' multipliers */
nml_status nml_fc_setup_int8(nml_ctx *ctx, nml_node *node, const nml_op_params *p, nml_fc_data *d,
                             struct nml_rq *rq);
nml_status nml_fc_ref_finish(nml_ctx *ctx, nml_node *node, nml_fc_data *d);
void nml_fc_eval_ref(nml_ctx *ctx, const nml_node *node, const nml_fc_data *d);

#endif
