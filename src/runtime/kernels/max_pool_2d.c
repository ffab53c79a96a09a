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

/* A window with no tap inside the input (allowed here) gives the type's lowest value. */
static void maxpool_f32(const nml_pool_data *d, const nml_tensor *input, const float *in,
                        float *out) {
    const int32_t depth = input->dims[3];
    nml_pixel_walk p;
    for (nml_pool_walk(&p, d, input); nml_walk_more(&p); nml_walk_next(&p)) {
        const nml_window_taps t = nml_walk_taps(&p, depth);
        for (int32_t c = 0; c < depth; c++) {
            float max = -FLT_MAX;
            for (int32_t ky = t.ky0; ky < t.ky1; ky++) {
                for (int32_t kx = t.kx0; kx < t.kx1; kx++) {
                    const float v = in[t.at + ky * t.row + kx * t.col + c];
                    if (v > max) max = v;
                }
            }
            out[p.out + (uint32_t)c] = nml_pool_clamp_f32(d, max);
        }
    }
}

static void maxpool_int8(const nml_pool_data *d, const nml_tensor *input, const int8_t *in,
                         int8_t *out) {
    const int32_t depth = input->dims[3];
    nml_pixel_walk p;
    for (nml_pool_walk(&p, d, input); nml_walk_more(&p); nml_walk_next(&p)) {
        const nml_window_taps t = nml_walk_taps(&p, depth);
        for (int32_t c = 0; c < depth; c++) {
            int32_t max = -128;
            for (int32_t ky = t.ky0; ky < t.ky1; ky++) {
                for (int32_t kx = t.kx0; kx < t.kx1; kx++) {
                    const int32_t v = in[t.at + ky * t.row + kx * t.col + c];
                    if (v > max) max = v;
                }
            }
            out[p.out + (uint32_t)c] = (int8_t)nml_clamp_i32(max, d->act_min, d->act_max);
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
