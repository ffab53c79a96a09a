/* Element-wise int8 operators as a 256-entry table: the reference kernel's fixed-point
 * computation of every possible input is run once at prepare, so evaluation is one lookup per
 * element and bit-identical to the reference by construction (256 bytes of persistent arena).
 * Shared by the optimized LOGISTIC and TANH kernels. */
#ifndef NML_KERNELS_OPT_LUT8_H
#define NML_KERNELS_OPT_LUT8_H

#include "kernels.h"
#include "sigmoid_common.h"

typedef struct nml_lut8_ref {
    nml_status (*prepare)(nml_ctx *ctx, nml_node *node, const nml_op_params *p);
    /* element-wise (in[i] read before out[i] is written): the table is evaluated in place */
    void (*eval_int8)(const nml_sigmoid_data *d, const int8_t *in, int8_t *out, int32_t count);
    /* NULL for the int8-only variants, so that the float path (and the C library function it
     * calls) is not linked into int8 firmware. */
    void (*eval_f32)(const nml_sigmoid_data *d, const float *in, float *out);
} nml_lut8_ref;

/* The reference prepare, then the table; int8-only variants (ref->eval_f32 == NULL) refuse
 * any other input type at prepare. */
nml_status nml_lut8_prepare(nml_ctx *ctx, nml_node *node, const nml_op_params *p,
                            const nml_lut8_ref *ref);
/* int8 input: the table; float32: the reference evaluation (when linked). */
nml_status nml_lut8_eval(nml_ctx *ctx, nml_node *node);
/* The int8-only variants' evaluation (their prepare has refused other input types): the table
 * without the float32 branch. */
nml_status nml_lut8_eval_int8(nml_ctx *ctx, nml_node *node);
/* out[i] = table[in[i]] for n elements, table indexed -128..127 (pass the 256-entry array's
 * start + 128); in place (out == in) is safe. Also QUANTIZE's int8 -> int8 table. */
void nml_lut8_apply(const int8_t *table, const int8_t *in, int8_t *out, uint32_t n);

#endif
