/* AVERAGE_POOL_2D over NHWC, float32 and int8. Only window taps inside the input are averaged
 * (padding is not counted), as in TFLite. int8 averages raw values (input and output share
 * quantization) and rounds the quotient half away from zero like TFLite Micro's reference:
 * (sum + count/2) / count for positive sums, (sum - count/2) / count otherwise. */
#include "kernels.h"
#include "pool_common.h"
#include "qmath.h"

static nml_status avgpool_prepare(nml_ctx *ctx, nml_node *node, const nml_op_params *p) {
    nml_pool_data *d;
    return nml_pool_prepare(ctx, node, p, 1, &d);
}

static void avgpool_f32(const nml_pool_data *d, const nml_tensor *input, const float *in,
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
                    float sum = 0.0f;
                    int32_t count = 0;
                    for (int32_t ky = y0; ky < y1; ky++) {
                        for (int32_t kx = x0; kx < x1; kx++) {
                            sum += in[((b * in_h + iy0 + ky) * in_w + ix0 + kx) * depth + c];
                            count++;
                        }
                    }
                    float avg = sum / (float)count;
                    avg = avg < d->f_min ? d->f_min : avg;
                    avg = avg > d->f_max ? d->f_max : avg;
                    out[((b * w->out_h + oy) * w->out_w + ox) * depth + c] = avg;
                }
            }
        }
    }
}

static void avgpool_int8(const nml_pool_data *d, const nml_tensor *input, const int8_t *in,
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
                    int32_t sum = 0;
                    int32_t count = 0;
                    for (int32_t ky = y0; ky < y1; ky++) {
                        for (int32_t kx = x0; kx < x1; kx++) {
                            sum += in[((b * in_h + iy0 + ky) * in_w + ix0 + kx) * depth + c];
                            count++;
                        }
                    }
                    /* C division truncates toward zero, so +-count/2 rounds half away */
                    int32_t avg = sum > 0 ? (sum + count / 2) / count : (sum - count / 2) / count;
                    avg = nml_clamp_i32(avg, d->act_min, d->act_max);
                    out[((b * w->out_h + oy) * w->out_w + ox) * depth + c] = (int8_t)avg;
                }
            }
        }
    }
}

static nml_status avgpool_eval(nml_ctx *ctx, nml_node *node) {
    const nml_pool_data *d = node->data;
    const nml_tensor *input = nml_node_input(ctx, node, 0);
    nml_tensor *output = nml_node_output(ctx, node, 0);
    if (input->type == NML_FLOAT32)
        avgpool_f32(d, input, input->data, output->data);
    else
        avgpool_int8(d, input, input->data, output->data);
    return NML_OK;
}

const nml_kernel nml_kernel_average_pool_2d = {NML_OP_AVERAGE_POOL_2D, "AVERAGE_POOL_2D",
                                               avgpool_prepare, avgpool_eval};
