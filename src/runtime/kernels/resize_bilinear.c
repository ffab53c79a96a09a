/* RESIZE_BILINEAR on NHWC tensors to the constant size input (int32 [2]: height, width).
 * float32 follows TFLite's float reference (float scale, floor/ceil neighbours, weights
 * 1 - frac and frac multiplied in its order); int8 follows ResizeBilinearInteger (scales in
 * 1/1024 units, products in int64, rounding half away from zero at 2^20). Per-row and
 * per-column positions are tabulated at prepare. */
#include "elem_common.h"
#include "kernels.h"

typedef struct axis_pos {
    int32_t lo, hi;
    float f;   /* float: source position */
    int32_t q; /* int8: source position in 1/1024 units */
} axis_pos;

typedef struct bilinear_data {
    axis_pos *rows, *cols;
} bilinear_data;

static float float_scale(int32_t in, int32_t out, int align) {
    if (align && out > 1) return (float)(in - 1) / (float)(out - 1);
    return (float)in / (float)out;
}

static int32_t int_scale(int32_t in, int32_t out, int align) {
    if (align && out > 1) return ((1 << 10) * (in - 1) + (out - 1) / 2) / (out - 1);
    return ((1 << 10) * in + out / 2) / out;
}

static void position_float(axis_pos *p, int32_t i, float scale, int half, int32_t in_size) {
    p->f = half ? ((float)i + 0.5f) * scale - 0.5f : (float)i * scale;
    int32_t fl = nml_floor_f32(p->f);
    int32_t ce = (float)fl < p->f ? fl + 1 : fl;
    p->lo = fl > 0 ? fl : 0;
    p->hi = ce < in_size - 1 ? ce : in_size - 1;
}

static void position_int(axis_pos *p, int32_t i, int32_t scale, int half, int32_t in_size) {
    p->q = half ? i * scale + scale / 2 - (1 << 9) : i * scale;
    p->lo = p->q / (1 << 10) > 0 ? p->q / (1 << 10) : 0;
    int32_t up = (p->q + (1 << 10) - 1) / (1 << 10);
    p->hi = up < in_size - 1 ? up : in_size - 1;
}

static nml_status bilinear_prepare(nml_ctx *ctx, nml_node *node, const nml_op_params *p) {
    NML_TRY(nml_check_io_count(ctx, node, 2, 2, 1));
    nml_tensor *in = nml_node_input(ctx, node, 0), *out = nml_node_output(ctx, node, 0);
    NML_TRY(nml_check_rank(ctx, node, in, "input", 4));
    if (in->type != NML_FLOAT32 && in->type != NML_INT8)
        return nml_kernel_fail(ctx, node, NML_E_UNSUPPORTED,
                               "input type %s is not supported (float32, int8)",
                               nml_dtype_name(in->type));
    NML_TRY(nml_check_same_quant(ctx, node, in, out, "input", "output"));
    nml_tensor *size_t_ = nml_node_input(ctx, node, 1);
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
    if (in->dims[1] > (1 << 20) || in->dims[2] > (1 << 20) || size[0] > (1 << 20) ||
        size[1] > (1 << 20))
        return nml_kernel_fail(ctx, node, NML_E_LIMIT, "image sides above 2^20 are not supported");
    int32_t dims[4] = {in->dims[0], size[0], size[1], in->dims[3]};
    NML_TRY(nml_check_shape(ctx, node, out, "output", dims, 4));
    bilinear_data *d;
    NML_TRY(nml_alloc_node_data(ctx, node, sizeof *d, (void **)&d));
    d->rows = nml_ctx_alloc_persistent(ctx, (size_t)(size[0] + size[1]) * sizeof(axis_pos));
    if (!d->rows)
        return nml_kernel_fail(ctx, node, NML_E_ARENA,
                               "no room for the position tables in the arena");
    d->cols = d->rows + size[0];
    int half = p->half_pixel_centers, align = p->align_corners;
    if (in->type == NML_FLOAT32) {
        float sy = float_scale(in->dims[1], size[0], align),
              sx = float_scale(in->dims[2], size[1], align);
        for (int32_t y = 0; y < size[0]; y++)
            position_float(&d->rows[y], y, sy, half, in->dims[1]);
        for (int32_t x = 0; x < size[1]; x++)
            position_float(&d->cols[x], x, sx, half, in->dims[2]);
    } else {
        int32_t sy = int_scale(in->dims[1], size[0], align),
                sx = int_scale(in->dims[2], size[1], align);
        for (int32_t y = 0; y < size[0]; y++)
            position_int(&d->rows[y], y, sy, half, in->dims[1]);
        for (int32_t x = 0; x < size[1]; x++)
            position_int(&d->cols[x], x, sx, half, in->dims[2]);
    }
    return NML_OK;
}

static void run_float(const bilinear_data *d, const nml_tensor *in, nml_tensor *out) {
    int32_t depth = in->dims[3], W = in->dims[2], H = in->dims[1];
    const float *src = in->data;
    float *dst = out->data;
    for (int32_t b = 0; b < out->dims[0]; b++, src += (size_t)H * W * depth)
        for (int32_t y = 0; y < out->dims[1]; y++) {
            const axis_pos *ry = &d->rows[y];
            float fy = ry->f - (float)ry->lo;
            for (int32_t x = 0; x < out->dims[2]; x++) {
                const axis_pos *cx = &d->cols[x];
                float fx = cx->f - (float)cx->lo;
                const float *p00 = src + ((size_t)ry->lo * W + cx->lo) * depth;
                const float *p10 = src + ((size_t)ry->hi * W + cx->lo) * depth;
                const float *p01 = src + ((size_t)ry->lo * W + cx->hi) * depth;
                const float *p11 = src + ((size_t)ry->hi * W + cx->hi) * depth;
                for (int32_t c = 0; c < depth; c++)
                    *dst++ = p00[c] * (1 - fy) * (1 - fx) + p10[c] * fy * (1 - fx) +
                             p01[c] * (1 - fy) * fx + p11[c] * fy * fx + 0.0f;
            }
        }
}

static void run_int8(const bilinear_data *d, const nml_tensor *in, nml_tensor *out) {
    int32_t depth = in->dims[3], W = in->dims[2], H = in->dims[1];
    const int8_t *src = in->data;
    int8_t *dst = out->data;
    for (int32_t b = 0; b < out->dims[0]; b++, src += (size_t)H * W * depth)
        for (int32_t y = 0; y < out->dims[1]; y++) {
            const axis_pos *ry = &d->rows[y];
            int64_t wy1 = ry->q - (1 << 10) * ry->lo, wy0 = (1 << 10) - wy1;
            for (int32_t x = 0; x < out->dims[2]; x++) {
                const axis_pos *cx = &d->cols[x];
                int64_t wx1 = cx->q - (1 << 10) * cx->lo, wx0 = (1 << 10) - wx1;
                const int8_t *p00 = src + ((size_t)ry->lo * W + cx->lo) * depth;
                const int8_t *p10 = src + ((size_t)ry->hi * W + cx->lo) * depth;
                const int8_t *p01 = src + ((size_t)ry->lo * W + cx->hi) * depth;
                const int8_t *p11 = src + ((size_t)ry->hi * W + cx->hi) * depth;
                for (int32_t c = 0; c < depth; c++) {
                    int64_t v = p00[c] * wy0 * wx0 + p10[c] * wy1 * wx0 + p01[c] * wy0 * wx1 +
                                p11[c] * wy1 * wx1;
                    int64_t round = v > 0 ? (1 << 19) : -(1 << 19);
                    *dst++ = (int8_t)((v + round) / (1 << 20));
                }
            }
        }
}

static nml_status bilinear_eval(nml_ctx *ctx, nml_node *node) {
    const bilinear_data *d = node->data;
    const nml_tensor *in = nml_node_input(ctx, node, 0);
    nml_tensor *out = nml_node_output(ctx, node, 0);
    if (in->type == NML_FLOAT32)
        run_float(d, in, out);
    else
        run_int8(d, in, out);
    return NML_OK;
}

const nml_kernel nml_kernel_resize_bilinear = {NML_OP_RESIZE_BILINEAR, "RESIZE_BILINEAR",
                                               bilinear_prepare, bilinear_eval};
