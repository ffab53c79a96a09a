/* MAXIMUM and MINIMUM (one implementation, as in TFLite): element-wise with broadcasting,
 * TFLite's comparisons (a > b ? a : b and a < b ? a : b). Quantized inputs are compared raw,
 * so both inputs and the output must share one quantization. */
#include "elem_common.h"
#include "kernels.h"

typedef struct minmax_data {
    nml_bcast bc;
    int is_max;
} minmax_data;

typedef struct minmax_run {
    int is_max;
    const void *a, *b;
    void *out;
} minmax_run;

#define MINMAX_ROW(name, T)                                                                        \
    static void name(void *user, uint32_t ia, uint32_t ib, uint32_t io, uint32_t n, int32_t sa,    \
                     int32_t sb) {                                                                 \
        minmax_run *r = user;                                                                      \
        const T *a = (const T *)r->a + ia, *b = (const T *)r->b + ib;                              \
        T *o = (T *)r->out + io;                                                                   \
        if (r->is_max)                                                                             \
            for (uint32_t k = 0; k < n; k++, a += sa, b += sb)                                     \
                o[k] = *a > *b ? *a : *b;                                                          \
        else                                                                                       \
            for (uint32_t k = 0; k < n; k++, a += sa, b += sb)                                     \
                o[k] = *a < *b ? *a : *b;                                                          \
    }

MINMAX_ROW(row_f32, float)
MINMAX_ROW(row_i8, int8_t)
MINMAX_ROW(row_u8, uint8_t)
MINMAX_ROW(row_i16, int16_t)
MINMAX_ROW(row_i32, int32_t)
MINMAX_ROW(row_i64, int64_t)

static nml_status minmax_prepare(nml_ctx *ctx, nml_node *node, const nml_op_params *p) {
    (void)p;
    NML_TRY(nml_check_io_count(ctx, node, 2, 2, 1));
    nml_tensor *a = nml_node_input(ctx, node, 0), *b = nml_node_input(ctx, node, 1);
    nml_tensor *out = nml_node_output(ctx, node, 0);
    if (!a || !b) return nml_kernel_fail(ctx, node, NML_E_FORMAT, "an input is missing");
    switch (out->type) {
    case NML_FLOAT32:
    case NML_INT8:
    case NML_UINT8:
    case NML_INT16:
    case NML_INT32:
    case NML_INT64:
        break;
    default:
        return nml_kernel_fail(ctx, node, NML_E_UNSUPPORTED, "output type %s is not supported",
                               nml_dtype_name(out->type));
    }
    NML_TRY(nml_check_same_quant(ctx, node, a, out, "input 0", "output"));
    NML_TRY(nml_check_same_quant(ctx, node, b, out, "input 1", "output"));
    minmax_data *d;
    NML_TRY(nml_alloc_node_data(ctx, node, sizeof *d, (void **)&d));
    d->is_max = node->builtin == NML_OP_MAXIMUM;
    return nml_bcast_prepare(ctx, node, a, b, out, &d->bc);
}

static nml_status minmax_eval(nml_ctx *ctx, nml_node *node) {
    const minmax_data *d = node->data;
    nml_tensor *out = nml_node_output(ctx, node, 0);
    minmax_run r = {d->is_max, nml_node_input(ctx, node, 0)->data,
                    nml_node_input(ctx, node, 1)->data, out->data};
    nml_bcast_row row;
    switch (out->type) {
    case NML_FLOAT32:
        row = row_f32;
        break;
    case NML_INT8:
        row = row_i8;
        break;
    case NML_UINT8:
        row = row_u8;
        break;
    case NML_INT16:
        row = row_i16;
        break;
    case NML_INT32:
        row = row_i32;
        break;
    default:
        row = row_i64;
        break;
    }
    nml_bcast_run(&d->bc, row, &r);
    return NML_OK;
}

const nml_kernel nml_kernel_maximum = {NML_OP_MAXIMUM, "MAXIMUM", minmax_prepare, minmax_eval};
const nml_kernel nml_kernel_minimum = {NML_OP_MINIMUM, "MINIMUM", minmax_prepare, minmax_eval};
