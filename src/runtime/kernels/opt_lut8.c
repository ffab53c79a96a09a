#include "opt_lut8.h"

typedef struct nml_lut8 {
    const nml_sigmoid_data *ref_data;
    const nml_lut8_ref *ref;
    int8_t table[256]; /* output for input -128 + i */
} nml_lut8;

nml_status nml_lut8_prepare(nml_ctx *ctx, nml_node *node, const nml_op_params *p,
                            const nml_lut8_ref *ref) {
    NML_TRY(ref->prepare(ctx, node, p));
    const nml_tensor *input = nml_node_input(ctx, node, 0);
    if (input->type != NML_INT8 && !ref->eval_f32)
        return nml_kernel_fail(ctx, node, NML_E_UNSUPPORTED,
                               "the int8-only kernel takes int8 input, not %s (link the full "
                               "optimized or the reference kernel)",
                               nml_dtype_name(input->type));
    nml_lut8 *d = nml_ctx_alloc_persistent(ctx, sizeof *d);
    if (!d) return nml_kernel_fail(ctx, node, NML_E_ARENA, "no arena left for kernel data");
    d->ref_data = node->data;
    d->ref = ref;
    if (input->type == NML_INT8) {
        /* the inputs -128..127 written into the table and evaluated in place (the evaluations
         * are element-wise, as the kernels' NML_KERNEL_IN_PLACE says): no 256-byte stack array */
        for (int32_t i = 0; i < 256; i++)
            d->table[i] = (int8_t)(i - 128);
        ref->eval_int8(d->ref_data, d->table, d->table, 256);
    }
    node->data = d;
    return NML_OK;
}

nml_status nml_lut8_eval(nml_ctx *ctx, nml_node *node) {
    const nml_lut8 *d = node->data;
    const nml_tensor *input = nml_node_input(ctx, node, 0);
    nml_tensor *output = nml_node_output(ctx, node, 0);
    if (input->type != NML_INT8) {
        d->ref->eval_f32(d->ref_data, input->data, output->data);
        return NML_OK;
    }
    nml_lut8_apply(d->table + 128, input->data, output->data, (uint32_t)d->ref_data->count);
    return NML_OK;
}

nml_status nml_lut8_eval_int8(nml_ctx *ctx, nml_node *node) {
    const nml_lut8 *d = node->data;
    nml_lut8_apply(d->table + 128, nml_node_input(ctx, node, 0)->data,
                   nml_node_output(ctx, node, 0)->data, (uint32_t)d->ref_data->count);
    return NML_OK;
}

void nml_lut8_apply(const int8_t *table, const int8_t *in, int8_t *out, uint32_t n) {
    /* four loads before the stores: in place stays safe; pointers compared with the end: no
     * count to keep */
    for (const int8_t *end = in + (n & ~3u); in != end; in += 4, out += 4) {
        const int8_t a = table[in[0]], b = table[in[1]];
        const int8_t c = table[in[2]], e = table[in[3]];
        out[0] = a;
        out[1] = b;
        out[2] = c;
        out[3] = e;
    }
    for (n &= 3u; n > 0; n--)
        *out++ = table[*in++];
}
