/* AVERAGE_POOL_2D optimized for int8 (NHWC): per output pixel the window's tap count and
 * extent are computed once, and each channel's sum is kept in a register while its taps are
 * read (the reference recomputes the full index per tap). The quotient is rounded as in the
 * reference (half away from zero: (sum +- count/2) / count, C division truncating) and clamped
 * to the activation range, so the output is identical. float32 is handed to the reference
 * kernel by nml_kernel_average_pool_2d_opt and rejected at prepare by
 * nml_kernel_average_pool_2d_opt_int8. */
#include "kernels.h"
#include "lean.h"
#include "pool_common.h"

static nml_status opt_avgpool_prepare(nml_ctx *ctx, nml_node *node, const nml_op_params *p) {
    nml_pool_data *d;
    NML_TRY(nml_pool_prepare(ctx, node, p, 1, &d));
    /* float32: the reference kernel takes this node over, with the data its prepare made */
    if (nml_node_input(ctx, node, 0)->type != NML_INT8)
        return nml_hand_over(ctx, node, &nml_kernel_average_pool_2d);
    return NML_OK;
}

/* One output pixel's channels: the window's taps [rows x cols] from first, rows row_step and
 * columns depth bytes apart. Every window has a tap (the prepare's require_nonempty), so the
 * tap loops compare pointers with their ends at their ends, no counters. */
__attribute__((always_inline)) static inline void average_pixel(int8_t *o, const int8_t *first,
                                                                int32_t depth, int32_t rows,
                                                                int32_t cols, int32_t row_step,
                                                                int32_t lo, int32_t hi) {
    const int32_t count = rows * cols, half = count / 2;
    const int32_t row_span = rows * row_step, col_span = cols * depth;
    for (int32_t c = 0; c < depth; c++, first++) {
        int32_t sum = 0;
        const int8_t *r = first, *const r_end = first + row_span;
        do {
            const int8_t *q = r, *const q_end = r + col_span;
            do
                sum += *q;
            while ((q += depth) != q_end);
        } while ((r += row_step) != r_end);
        int32_t avg = (sum > 0 ? sum + half : sum - half) / count;
        avg = avg < lo ? lo : avg;
        o[c] = (int8_t)(avg > hi ? hi : avg);
    }
}

/* Every output pixel in order, each window clipped to the input. */
static nml_status opt_avgpool_eval(nml_ctx *ctx, nml_node *node) {
    const nml_pool_data *d = node->data;
    const nml_tensor *input = nml_node_input(ctx, node, 0);
    int8_t *o = nml_node_output(ctx, node, 0)->data;
    const nml_window *win = &d->w;
    const int8_t *image = input->data;
    const int32_t in_h = input->dims[1], in_w = input->dims[2], depth = input->dims[3];
    const int32_t row = in_w * depth;
    for (int32_t b = 0; b < input->dims[0]; b++, image += in_h * row) {
        for (int32_t oy = 0; oy < win->out_h; oy++) {
            const int32_t iy0 = oy * win->stride_h - win->pad_h;
            int32_t y0, y1;
            nml_pool_range(iy0, win->filter_h, in_h, &y0, &y1);
            for (int32_t ox = 0; ox < win->out_w; ox++, o += depth) {
                const int32_t ix0 = ox * win->stride_w - win->pad_w;
                int32_t x0, x1;
                nml_pool_range(ix0, win->filter_w, in_w, &x0, &x1);
                average_pixel(o, image + (iy0 + y0) * row + (ix0 + x0) * depth, depth, y1 - y0,
                              x1 - x0, row, d->act_min, d->act_max);
            }
        }
    }
    return NML_OK;
}

const nml_kernel nml_kernel_average_pool_2d_opt = {NML_OP_AVERAGE_POOL_2D, "AVERAGE_POOL_2D",
                                                   opt_avgpool_prepare, opt_avgpool_eval};
const nml_kernel nml_kernel_average_pool_2d_opt_int8 = {NML_OP_AVERAGE_POOL_2D, "AVERAGE_POOL_2D",
                                                        nml_pool_prepare_lean, opt_avgpool_eval};
