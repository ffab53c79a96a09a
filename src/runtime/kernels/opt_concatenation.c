/* CONCATENATION optimized for inputs that are copied (any type; quantized inputs with the
 * output's scale and zero point, which exporters arrange with QUANTIZE nodes in front): input
 * by input, with whole words per row where alignment allows (channel concatenations of NHWC
 * tensors with channels a multiple of 4) instead of picolibc's byte-wise memcpy. Nodes that
 * requantize an input are handed to the reference kernel by nml_kernel_concatenation_opt and
 * rejected at prepare by the _int8 variant, which has a prepare of its own. */
#include "concatenation_ref.h"
#include "elem_common.h"
#include "kernels.h"
#include "lean.h"
#include "opt_copy.h"

/* The reference prepare; *copies = 0 when an input needs requantization. Evaluation uses the
 * reference's data. */
static nml_status prepare_copies(nml_ctx *ctx, nml_node *node, const nml_op_params *p,
                                 int *copies) {
    *copies = 0;
    NML_TRY(nml_concat_prepare(ctx, node, p));
    const nml_concat_data *d = node->data;
    for (uint32_t i = 0; i < node->n_inputs; i++)
        if (d->in[i].requant) return NML_OK;
    *copies = 1;
    return NML_OK;
}

static nml_status opt_concat_prepare(nml_ctx *ctx, nml_node *node, const nml_op_params *p) {
    int copies;
    NML_TRY(prepare_copies(ctx, node, p, &copies));
    /* otherwise the reference kernel takes this node over */
    if (!copies) return nml_hand_over(ctx, node, &nml_kernel_concatenation);
    return NML_OK;
}

/* The lean variant's prepare: the reference's checks (nml_concat_check, concatenation_ref.h)
 * compiled here, so that the reference prepare, with its requantization multipliers, is not
 * linked; an input that would need requantization is refused. */
static nml_status opt_concat_prepare_int8(nml_ctx *ctx, nml_node *node, const nml_op_params *p) {
    return nml_concat_check(ctx, node, p, 1);
}

/* n bytes of each of `rows` rows, src rows n apart, dst rows stride apart. */
static void copy_rows(uint8_t *dst, const uint8_t *src, uint32_t n, uint32_t stride,
                      uint32_t rows) {
#if NML_OPT_WORDS
    if ((((uintptr_t)dst | (uintptr_t)src | n | stride) & 3u) == 0) {
        /* the usual channel concatenation: whole words, two per iteration (an odd one
         * first), no call per row */
        const nml_opt_word *s = (const nml_opt_word *)(const void *)src;
        for (uint32_t r = 0; r < rows; r++, dst += stride) {
            nml_opt_word *d = (nml_opt_word *)(void *)dst;
            const nml_opt_word *end = s + n / 4;
            if (n & 4u) *d++ = *s++;
            for (; s != end; s += 2, d += 2) {
                const uint32_t a = s[0], b = s[1];
                d[0] = a;
                d[1] = b;
            }
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
        copy_rows(out, nml_node_input(ctx, node, i)->data, n, stride, d->outer);
        out += n;
    }
    return NML_OK;
}

const nml_kernel nml_kernel_concatenation_opt = {NML_OP_CONCATENATION, "CONCATENATION",
                                                 opt_concat_prepare, opt_concat_eval};
const nml_kernel nml_kernel_concatenation_opt_int8 = {NML_OP_CONCATENATION, "CONCATENATION",
                                                      opt_concat_prepare_int8, opt_concat_eval};
