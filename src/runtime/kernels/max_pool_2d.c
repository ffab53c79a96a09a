/* MAX_POOL_2D over NHWC, float32 and int8 (raw values; input and output share quantization).
 * Only window taps inside the input take part; the maximum is then clamped to the fused
 * activation range, as in TFLite's reference kernel. */
#include <float.h>

#include "kernels.h"
#include "pool_common.h"
#include "qmath.h"

static nml_status maxpool_prepare(nml_ctx *ctx, nml_node *node, const nml_op_params *p) {
    nml_pool_data *d;
    return nml_pool_prepare(ctx, node, p, 0, &d);
}

static void maxpool_f32(const nml_pool_data *d, const nml_tensor *input, const float *in,
                        float *out) {
    const nml_window *w = &d->w;
    const int32_t batches = input->dims[0], in_h = input->dims[1], in_w = input->dims[2];
    const int32_t depth = input->dims[3];
    for (int32_t b = 0; b < batches; b++) {
        for (int32_t oy = 0; oy < w->out_h; oy++) {
            const int32_t iy0 = oy * w->stride_h - w->pad_h;
            int32_t y0, y1;
            nml_pool_range(iy0, w->filter_h, in_h, &y0, &y1);
            for (int32_t ox = 0; ox < w->out_w; ox++) {
                const int32_t ix0 = ox * w->stride_w - w->pad_w;
                int32_t x0, x1;
                nml_pool_range(ix0, w->filter_w, in_w, &x0, &x1);
                for (int32_t c = 0; c < depth; c++) {
                    float max = -FLT_MAX;
                    for (int32_t ky = y0; ky < y1; ky++) {
                        for (int32_t kx = x0; kx < x1; kx++) {
                            float v = in[((b * in_h + iy0 + ky) * in_w + ix0 + kx) * depth + c];
                            if (v > max) max = v;
                        }
                    }
                    max = max < d->f_min ? d->f_min : max;
                    max = max > d->f_max ? d->f_max : max;
                    out[((b * w->out_h + oy) * w->out_w + ox) * depth + c] = max;
                }
            }
        }
    }
}

static void maxpool_int8(const nml_pool_data *d, const nml_tensor *input, const int8_t *in,
                         int8_t *out) {
    const nml_window *w = &d->w;
    const int32_t batches = input->dims[0], in_h = input->dims[1], in_w = input->dims[2];
    const int32_t depth = input->dims[3];
    for (int32_t b = 0; b < batches; b++) {
        for (int32_t oy = 0; oy < w->out_h; oy++) {
            const int32_t iy0 = oy * w->stride_h - w->pad_h;
            int32_t y0, y1;
            nml_pool_range(iy0, w->filter_h, in_h, &y0, &y1);
            for (int32_t ox = 0; ox < w->out_w; ox++) {
                const int32_t ix0 = ox * w->stride_w - w->pad_w;
                int32_t x0, x1;
                nml_pool_range(ix0, w->filter_w, in_w, &x0, &x1);
                for (int32_t c = 0; c < depth; c++) {
                    int32_t max = -128;
                    for (int32_t ky = y0; ky < y1; ky++) {
                        for (int32_t kx = x0; kx < x1; kx++) {
                            int32_t v = in[((b * in_h + iy0 + ky) * in_w + ix0 + kx) * depth + c];
                            if (v > max) max = v;
                        }
                    }
                    max = nml_clamp_i32(max, d->act_min, d->act_max);
                    out[((b * w->out_h + oy) * w->out_w + ox) * depth + c] = (int8_t)max;
                }
            }
        }
    }
}

static nml_status maxpool_eval(nml_ctx *ctx, nml_node *node) {
    const nml_pool_data *d = node->data;
    const nml_tensor *input = nml_node_input(ctx, node, 0);
    nml_tensor *output = nml_node_output(ctx, node, 0);
    if (input->type == NML_FLOAT32)
        maxpool_f32(d, input, input->data, output->data);
    else
        maxpool_int8(d, input, input->data, output->data);
    return NML_OK;
}

const nml_kernel nml_kernel_max_pool_2d = {NML_OP_MAX_POOL_2D, "MAX_POOL_2D", maxpool_prepare,
                                           maxpool_eval};
