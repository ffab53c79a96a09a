/* CONCATENATION optimized: the same order of copies as the reference, with word copies where
 * alignment allows (channel concatenations of NHWC tensors with channels a multiple of 4 copy
 * whole words), and the reference's requantization arithmetic for int8 inputs whose
 * quantization differs from the output's. Requantizing other types is handed to the reference
 * kernel by nml_kernel_concatenation_opt and rejected at prepare by the _int8 variant (which
 * copies any type). */
#include "concatenation_ref.h"
#include "kernels.h"
#include "lean.h"
#include "opt_copy.h"
#include "qmath.h"

/* The reference prepare; *handled = 0 when an input of a type other than int8 needs
 * requantization. Evaluation uses the reference's data. */
static nml_status prepare_handled(nml_ctx *ctx, nml_node *node, const nml_op_params *p,
                                  int *handled) {
    *handled = 0;
    NML_TRY(nml_concat_prepare(ctx, node, p));
    const nml_concat_data *d = node->data;
    const int int8 = nml_node_output(ctx, node, 0)->type == NML_INT8;
    for (uint32_t i = 0; i < node->n_inputs; i++)
        if (d->in[i].requant && !int8) return NML_OK;
    *handled = 1;
    return NML_OK;
}

static nml_status opt_concat_prepare(nml_ctx *ctx, nml_node *node, const nml_op_params *p) {
    int handled;
    NML_TRY(prepare_handled(ctx, node, p, &handled));
    /* otherwise the reference kernel takes this node over */
    if (!handled) node->kernel = &nml_kernel_concatenation;
    return NML_OK;
}

static nml_status opt_concat_prepare_int8(nml_ctx *ctx, nml_node *node, const nml_op_params *p) {
    int handled;
    NML_TRY(prepare_handled(ctx, node, p, &handled));
    return handled ? NML_OK : nml_lean_refuse(ctx, node, "requantization of int8 inputs only");
}

static void requantize(const nml_concat_data *d, const nml_concat_input *ci, int8_t *dst,
                       const int8_t *src, uint32_t n) {
    const int32_t in_zp = ci->in_zp, mult = ci->mult, out_zp = d->out_zp;
    const int shift = ci->shift;
    for (uint32_t k = 0; k < n; k++) {
        const int32_t v = nml_mul_by_qm(src[k] - in_zp, mult, shift) + out_zp;
        dst[k] = (int8_t)nml_clamp_i32(v, -128, 127);
    }
}

/* n bytes of each of `rows` rows, src rows n apart, dst rows stride apart. */
static void copy_rows(uint8_t *dst, const uint8_t *src, uint32_t n, uint32_t stride,
                      uint32_t rows) {
#if NML_OPT_WORDS
    if ((((uintptr_t)dst | (uintptr_t)src | n | stride) & 3u) == 0) {
        /* the usual channel concatenation: whole words, no call per row */
        const nml_opt_word *s = (const nml_opt_word *)(const void *)src;
        for (uint32_t r = 0; r < rows; r++, dst += stride) {
            nml_opt_word *d = (nml_opt_word *)(void *)dst;
            for (uint32_t k = 0; k < n / 4; k++)
                *d++ = *s++;
        }
        return;
    }
#endif
    for (uint32_t r = 0; r < rows; r++, dst += stride, src += n)
        nml_opt_copy(dst, src, n);
}

/* Input by input (the reference goes row by row through all inputs; the bytes are the same). */
static nml_status opt_concat_eval(nml_ctx *ctx, nml_node *node) {
    const nml_concat_data *d = node->data;
    uint8_t *out = nml_node_output(ctx, node, 0)->data;
    const uint32_t esize = (uint32_t)d->esize, unit = d->inner * esize;
    uint32_t stride = 0; /* output bytes per outer row */
    for (uint32_t i = 0; i < node->n_inputs; i++)
        stride += (uint32_t)d->in[i].axis_dim * unit;
    for (uint32_t i = 0; i < node->n_inputs; i++) {
        const nml_concat_input *ci = &d->in[i];
        const uint32_t n = (uint32_t)ci->axis_dim * unit; /* bytes per outer row */
        const uint8_t *src = nml_node_input(ctx, node, i)->data;
        if (ci->requant) {
            for (uint32_t b = 0; b < d->outer; b++)
                requantize(d, ci, (int8_t *)(out + b * stride), (const int8_t *)(src + b * n), n);
        } else {
            copy_rows(out, src, n, stride, d->outer);
        }
        out += n;
    }
    return NML_OK;
}

const nml_kernel nml_kernel_concatenation_opt = {NML_OP_CONCATENATION, "CONCATENATION",
                                                 opt_concat_prepare, opt_concat_eval};
const nml_kernel nml_kernel_concatenation_opt_int8 = {NML_OP_CONCATENATION, "CONCATENATION",
                                                      opt_concat_prepare_int8, opt_concat_eval};
