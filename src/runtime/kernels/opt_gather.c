/* GATHER optimized for constant indices in arithmetic progression (start, start + step, ...),
 * which is what channel shuffles export to (indices 0, 2, 4, .. and 1, 3, 5, .. along the
 * channel axis): the indices are analysed once at prepare, so evaluation is a strided copy
 * without reading, converting or range-checking an index per element. Any element type.
 * Other indices (not constant, or not a progression) are handed to the reference kernel by
 * nml_kernel_gather_opt and rejected at prepare by nml_kernel_gather_opt_strided. */
#include <string.h>

#include <string.h>

#include "gather_ref.h"
#include "kernels.h"
#include "lean.h"
#include "opt_copy.h"

/* Stored over the reference's nml_gather_data, which is at least as large. */
typedef struct opt_gather {
    uint32_t rows;      /* batch * outer: independent input rows of axis_size slices */
    uint32_t row_bytes; /* input bytes per row */
    uint32_t first;     /* byte offset of the first gathered slice within a row */
    int32_t step;       /* bytes between gathered slices (may be negative or 0) */
    uint32_t count;     /* slices per row */
    uint32_t chunk;     /* bytes per slice */
} opt_gather;

_Static_assert(sizeof(opt_gather) <= sizeof(nml_gather_data), "opt_gather must fit");

/* Index i; the reference prepare has checked constant indices to lie in [0, axis size), so
 * they fit in 32 bits. */
static int32_t index_at(const nml_tensor *t, uint32_t i) {
    return (int32_t)nml_gather_index(t, i);
}

/* The progression (start, step) every batch's indices follow; 0 when there is none. */
static int find_progression(const nml_gather_data *g, const nml_tensor *idx, int32_t *start,
                            int32_t *step) {
    if (idx->alloc != NML_ALLOC_CONST || g->coords == 0) return 0;
    *start = index_at(idx, 0);
    *step = g->coords > 1 ? index_at(idx, 1) - *start : 0;
    for (uint32_t b = 0; b < g->batch; b++)
        for (uint32_t c = 0; c < g->coords; c++)
            if (index_at(idx, b * g->coords + c) != *start + (int32_t)c * *step) return 0;
    return 1;
}

/* The reference prepare, then the strided copy's parameters; *strided = 0 (and the reference's
 * data left in place) when the indices do not allow it. */
static nml_status prepare_strided(nml_ctx *ctx, nml_node *node, const nml_op_params *p,
                                  int *strided) {
    *strided = 0;
    NML_TRY(nml_gather_prepare(ctx, node, p));
    const nml_gather_data *g = node->data;
    int32_t start, step;
    if (!find_progression(g, nml_node_input(ctx, node, 1), &start, &step)) return NML_OK;
    /* every product below is at most the params tensor's byte count (checked by the model
     * loader to fit in 32 bits) */
    const nml_gather_data g0 = *g;
    opt_gather c;
    c.chunk = g0.inner * (uint32_t)g0.esize;
    c.rows = g0.batch * g0.outer;
    c.row_bytes = (uint32_t)g0.axis_size * c.chunk;
    c.first = (uint32_t)start * c.chunk;
    c.step = step * (int32_t)c.chunk;
    c.count = g0.coords;
    if (step == 1) { /* consecutive slices: one copy per row */
        c.chunk *= g0.coords;
        c.count = 1;
    } else if (c.step > 0 && c.row_bytes == c.count * (uint32_t)c.step) {
        /* the next row's slices continue the progression (a channel shuffle: every other
         * channel of 2n): all rows as one */
        c.count *= c.rows;
        c.rows = 1;
    }
    /* the reference's data are not needed any more: no persistent arena of its own */
    memcpy(node->data, &c, sizeof c);
    *strided = 1;
    return NML_OK;
}

static nml_status opt_gather_prepare(nml_ctx *ctx, nml_node *node, const nml_op_params *p) {
    int strided;
    NML_TRY(prepare_strided(ctx, node, p, &strided));
    /* otherwise the reference kernel takes this node over, with the data its prepare made */
    if (!strided) return nml_hand_over(ctx, node, &nml_kernel_gather);
    return NML_OK;
}

static nml_status opt_gather_prepare_strided(nml_ctx *ctx, nml_node *node, const nml_op_params *p) {
    int strided;
    NML_TRY(prepare_strided(ctx, node, p, &strided));
    return strided ? NML_OK
                   : nml_lean_refuse(ctx, node, "constant indices in arithmetic progression");
}

/* One byte per slice, slices two bytes apart: the channel shuffle, unrolled by four. */
static void gather_bytes_step2(uint8_t *dst, const uint8_t *src, uint32_t n) {
    for (; n >= 4; n -= 4, dst += 4, src += 8) {
        const uint8_t a = src[0], b = src[2], c = src[4], e = src[6];
        dst[0] = a;
        dst[1] = b;
        dst[2] = c;
        dst[3] = e;
    }
    for (; n > 0; n--, src += 2)
        *dst++ = *src;
}

static nml_status opt_gather_eval(nml_ctx *ctx, nml_node *node) {
    const opt_gather *d = node->data;
    const uint8_t *row = (const uint8_t *)nml_node_input(ctx, node, 0)->data + d->first;
    uint8_t *dst = nml_node_output(ctx, node, 0)->data;
    const uint32_t chunk = d->chunk, count = d->count;
    const int32_t step = d->step;
    for (uint32_t r = 0; r < d->rows; r++, row += d->row_bytes) {
        if (chunk == 1 && step == 2) {
            gather_bytes_step2(dst, row, count);
            dst += count;
        } else { /* slices of any size (other byte steps: rare, and correct this way too) */
            const uint8_t *src = row;
            for (uint32_t c = 0; c < count; c++, src += step, dst += chunk)
                nml_opt_copy(dst, src, chunk);
        }
    }
    return NML_OK;
}

const nml_kernel nml_kernel_gather_opt = {NML_OP_GATHER, "GATHER", opt_gather_prepare,
                                          opt_gather_eval};
const nml_kernel nml_kernel_gather_opt_strided = {NML_OP_GATHER, "GATHER",
                                                  opt_gather_prepare_strided, opt_gather_eval};
