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

/* One output pixel, all channels (not inlined: on its own it keeps everything in registers). */
#if defined(__GNUC__)
__attribute__((noinline))
#endif
static void
average_pixel(int8_t *o, const int8_t *first, uint32_t depth, const nml_pool_pixel *w) {
    const int32_t rows = w->rows, cols = w->cols, row_step = w->row_step, col_step = w->col_step;
    const int32_t count = rows * cols, half = count / 2, lo = w->lo, hi = w->hi;
    /* pointers compared with the taps' ends, no counters; every window has a tap (the
     * prepare's require_nonempty), so the loops test at their ends */
    const int32_t row_span = rows * row_step, col_span = cols * col_step;
    for (uint32_t c = 0; c < depth; c++, first++) {
        int32_t sum = 0;
        const int8_t *r = first, *const r_end = first + row_span;
        do {
            const int8_t *q = r, *const q_end = r + col_span;
            do
                sum += *q;
            while ((q += col_step) != q_end);
        } while ((r += row_step) != r_end);
        int32_t avg = (sum > 0 ? sum + half : sum - half) / count;
        avg = avg < lo ? lo : avg;
        o[c] = (int8_t)(avg > hi ? hi : avg);
    }
}

static nml_status opt_avgpool_eval(nml_ctx *ctx, nml_node *node) {
    const nml_pool_data *d = node->data;
    const nml_tensor *input = nml_node_input(ctx, node, 0);
    const int32_t depth = input->dims[3];
    nml_pool_pixel w = {0, 0, input->dims[2] * depth, depth, d->act_min, d->act_max};
    nml_pool_walk_int8(d, input, nml_node_output(ctx, node, 0)->data, &w, average_pixel);
    return NML_OK;
}

const nml_kernel nml_kernel_average_pool_2d_opt = {NML_OP_AVERAGE_POOL_2D, "AVERAGE_POOL_2D",
                                                   opt_avgpool_prepare, opt_avgpool_eval};
const nml_kernel nml_kernel_average_pool_2d_opt_int8 = {NML_OP_AVERAGE_POOL_2D, "AVERAGE_POOL_2D",
                                                        nml_pool_prepare_lean, opt_avgpool_eval};
