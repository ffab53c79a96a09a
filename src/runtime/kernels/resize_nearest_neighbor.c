/* RESIZE_NEAREST_NEIGHBOR on NHWC tensors of any element type, to the constant size input
 * (int32 [2]: height, width). The source row/column of every output row/column follows
 * TFLite's GetNearestNeighbor (float scale, floor or round, align_corners, half_pixel_centers)
 * and is tabulated at prepare, so eval has no floating point. */
#include "elem_common.h"
#include "kernels.h"
#include "opt_copy.h"

typedef struct resize_data {
    size_t esize;
    int32_t *rows, *cols; /* source index per output row / column */
} resize_data;

/* The source index of each of the n outputs along an axis of `in` inputs, TFLite's
 * GetNearestNeighbor: floor (round half away from zero with align_corners) of the float
 * position, at most in - 1, with the float scale computed once per axis as there. The position
 * is never negative (i, offset and scale are not), so floor is truncation and rounding adds
 * one for a fraction of at least 0.5 (exact in float: pos - trunc(pos) is representable);
 * positions of 2^31 and more clamp before the conversion, which would overflow. Non-negative
 * floats are compared on their bits, which order them: no soft-float call. */
static void nearest_table(int32_t *table, int32_t n, int32_t in, int align, int half) {
    const int32_t corner = align && n > 1; /* align_corners: (in - 1) / (n - 1) */
    const float scale = (float)(in - corner) / (float)(n - corner);
    const float offset = half ? 0.5f : 0.0f;
    for (int32_t i = 0; i < n; i++) {
        const float pos = ((float)i + offset) * scale;
        int32_t v = in - 1;
        if (nml_f32_bits(pos) < 0x4f000000u) { /* 2^31 */
            v = (int32_t)pos;
            /* the fraction, in [0, 1), at least 0.5 */
            if (align && nml_f32_bits(pos - (float)v) >= 0x3f000000u) v++;
            v = v > in - 1 ? in - 1 : v;
        }
        table[i] = v;
    }
}

static nml_status resize_prepare(nml_ctx *ctx, nml_node *node, const nml_op_params *p) {
    nml_tensor *t[3];
    NML_TRY(nml_node_io(ctx, node, 2, 2, t));
    nml_tensor *in = t[0], *out = t[2];
    NML_TRY(nml_check_rank(ctx, node, in, "input", 4));
    size_t esize;
    NML_TRY(nml_elem_size(ctx, node, in, "input", &esize));
    NML_TRY(nml_check_same_quant(ctx, node, in, out, "input", "output"));
    nml_tensor *size_t_ = t[1];
    if (size_t_ && size_t_->type != NML_INT32)
        return nml_kernel_fail(ctx, node, NML_E_UNSUPPORTED, "size has type %s, expected int32",
                               nml_dtype_name(size_t_->type));
    int32_t size[2];
    uint32_t n;
    NML_TRY(nml_read_const_ints(ctx, node, size_t_, "size", size, 2, &n));
    if (n != 2)
        return nml_kernel_fail(ctx, node, NML_E_SHAPE, "size has %u values, expected 2",
                               (unsigned)n);
    if (size[0] <= 0 || size[1] <= 0)
        return nml_kernel_fail(ctx, node, NML_E_FORMAT, "size %dx%d is not positive", (int)size[0],
                               (int)size[1]);
    if (p->align_corners && p->half_pixel_centers)
        return nml_kernel_fail(ctx, node, NML_E_FORMAT,
                               "align_corners and half_pixel_centers cannot both be set");
    if (in->dims[1] <= 0 || in->dims[2] <= 0)
        return nml_kernel_fail(ctx, node, NML_E_SHAPE, "input has no pixels");
    int32_t dims[4] = {in->dims[0], size[0], size[1], in->dims[3]};
    NML_TRY(nml_check_shape(ctx, node, out, "output", dims, 4));
    /* the data and both index tables in one allocation (the output's shape, checked at load,
     * bounds size[0] + size[1]) */
    resize_data *d;
    NML_TRY(nml_alloc_node_data(
        ctx, node, sizeof *d + (size_t)(size[0] + size[1]) * sizeof(int32_t), (void **)&d));
    d->esize = esize;
    d->rows = (int32_t *)(void *)(d + 1);
    d->cols = d->rows + size[0];
    for (int a = 0; a < 2; a++) /* rows from the input's height, then columns from its width */
        nearest_table(a ? d->cols : d->rows, size[a], in->dims[1 + a], p->align_corners,
                      p->half_pixel_centers);
    return NML_OK;
}

static nml_status resize_eval(nml_ctx *ctx, nml_node *node) {
    const resize_data *d = node->data;
    const nml_tensor *in = nml_node_input(ctx, node, 0);
    nml_tensor *out = nml_node_output(ctx, node, 0);
    size_t pixel = (size_t)in->dims[3] * d->esize;
    size_t row = (size_t)in->dims[2] * pixel, image = (size_t)in->dims[1] * row;
    const uint8_t *src = in->data;
    uint8_t *dst = out->data;
    for (int32_t b = 0; b < out->dims[0]; b++, src += image)
        for (int32_t y = 0; y < out->dims[1]; y++) {
            const uint8_t *src_row = src + (size_t)d->rows[y] * row;
            for (int32_t x = 0; x < out->dims[2]; x++, dst += pixel)
                nml_opt_copy(dst, src_row + (size_t)d->cols[x] * pixel, (uint32_t)pixel);
        }
    return NML_OK;
}

const nml_kernel nml_kernel_resize_nearest_neighbor = {
    NML_OP_RESIZE_NEAREST_NEIGHBOR, "RESIZE_NEAREST_NEIGHBOR", resize_prepare, resize_eval};
