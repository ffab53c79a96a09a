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

/* Only the taps inside the input are averaged: the window's count excludes the padding. */
static void avgpool_f32(const nml_pool_data *d, const nml_tensor *input, const float *in,
                        float *out) {
    const int32_t depth = input->dims[3];
    nml_pixel_walk p;
    for (nml_pool_walk(&p, d, input); nml_walk_more(&p); nml_walk_next(&p)) {
        const nml_window_taps t = nml_walk_taps(&p, depth);
        const int32_t count = (t.ky1 - t.ky0) * (t.kx1 - t.kx0);
        for (int32_t c = 0; c < depth; c++) {
            float sum = 0.0f;
            for (int32_t ky = t.ky0; ky < t.ky1; ky++)
                for (int32_t kx = t.kx0; kx < t.kx1; kx++)
                    sum += in[t.at + ky * t.row + kx * t.col + c];
            out[p.out + (uint32_t)c] = nml_pool_clamp_f32(d, sum / (float)count);
        }
    }
}

static void avgpool_int8(const nml_pool_data *d, const nml_tensor *input, const int8_t *in,
                         int8_t *out) {
    const int32_t depth = input->dims[3];
    nml_pixel_walk p;
    for (nml_pool_walk(&p, d, input); nml_walk_more(&p); nml_walk_next(&p)) {
        const nml_window_taps t = nml_walk_taps(&p, depth);
        const int32_t count = (t.ky1 - t.ky0) * (t.kx1 - t.kx0);
        for (int32_t c = 0; c < depth; c++) {
            int32_t sum = 0;
            for (int32_t ky = t.ky0; ky < t.ky1; ky++)
                for (int32_t kx = t.kx0; kx < t.kx1; kx++)
                    sum += in[t.at + ky * t.row + kx * t.col + c];
            /* C division truncates toward zero, so +-count/2 rounds half away */
            const int32_t avg = sum > 0 ? (sum + count / 2) / count : (sum - count / 2) / count;
            out[p.out + (uint32_t)c] = (int8_t)nml_clamp_i32(avg, d->act_min, d->act_max);
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
