/* DEQUANTIZE: int8/uint8/int16 -> float32 as TFLite: (float)(scale * (q - zero_point)) with the
 * product in double; float16 -> float32 exactly. */
#include <string.h>

#include "elem_common.h"
#include "kernels.h"

typedef struct dequantize_data {
    double scale;
    int32_t zp;
} dequantize_data;

static nml_status dequantize_prepare(nml_ctx *ctx, nml_node *node, const nml_op_params *p) {
    (void)p;
    NML_TRY(nml_check_io_count(ctx, node, 1, 1, 1));
    nml_tensor *in = nml_node_input(ctx, node, 0), *out = nml_node_output(ctx, node, 0);
    if (!in) return nml_kernel_fail(ctx, node, NML_E_FORMAT, "input is missing");
    if (in->type != NML_INT8 && in->type != NML_UINT8 && in->type != NML_INT16 &&
        in->type != NML_FLOAT16)
        return nml_kernel_fail(ctx, node, NML_E_UNSUPPORTED,
                               "input type %s is not supported (int8, uint8, int16, float16)",
                               nml_dtype_name(in->type));
    NML_TRY(nml_check_type(ctx, node, out, "output", NML_FLOAT32));
    NML_TRY(nml_check_same_shape(ctx, node, in, out, "input", "output"));
    if (in->type == NML_FLOAT16) return NML_OK;
    NML_TRY(nml_check_quant(ctx, node, in, "input"));
    dequantize_data *d;
    NML_TRY(nml_alloc_node_data(ctx, node, sizeof *d, (void **)&d));
    d->scale = (double)in->scale;
    d->zp = in->zero_point;
    return NML_OK;
}

/* IEEE half to single: every half value is exactly representable. */
static float half_to_float(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t exp = (h >> 10) & 0x1fu, man = h & 0x3ffu, bits;
    if (exp == 0x1f) {
        bits = sign | 0x7f800000u | (man << 13);
    } else if (exp != 0) {
        bits = sign | ((exp + 112u) << 23) | (man << 13);
    } else if (man == 0) {
        bits = sign;
    } else { /* subnormal half: normalize */
        int e = -1;
        do {
            man <<= 1;
            e++;
        } while (!(man & 0x400u));
        bits = sign | ((uint32_t)(112 - e) << 23) | ((man & 0x3ffu) << 13);
    }
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

static nml_status dequantize_eval(nml_ctx *ctx, nml_node *node) {
    const nml_tensor *in = nml_node_input(ctx, node, 0);
    nml_tensor *out = nml_node_output(ctx, node, 0);
    uint32_t n = nml_tensor_count(in);
    float *y = out->data;
    if (in->type == NML_FLOAT16) {
        const uint16_t *x = in->data;
        for (uint32_t i = 0; i < n; i++)
            y[i] = half_to_float(x[i]);
        return NML_OK;
    }
    const dequantize_data *d = node->data;
    for (uint32_t i = 0; i < n; i++) {
        int32_t q = in->type == NML_INT8    ? ((const int8_t *)in->data)[i]
                    : in->type == NML_UINT8 ? ((const uint8_t *)in->data)[i]
                                            : ((const int16_t *)in->data)[i];
        y[i] = (float)(d->scale * (double)(q - d->zp));
    }
    return NML_OK;
}

const nml_kernel nml_kernel_dequantize = {NML_OP_DEQUANTIZE, "DEQUANTIZE", dequantize_prepare,
                                          dequantize_eval};
