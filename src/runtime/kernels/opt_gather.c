/* GATHER optimized for constant indices in arithmetic progression (start, start + step, ...),
 * which is what channel shuffles export to (indices 0, 2, 4, .. and 1, 3, 5, .. along the
 * channel axis): the indices are analysed once at prepare, so evaluation is a strided copy
 * without reading, converting or range-checking an index per element. Any element type.
 * Other indices (not constant, or not a progression) and batch_dims other than 0 are handed to
 * the reference kernel by nml_kernel_gather_opt and rejected at prepare by
 * nml_kernel_gather_opt_strided, which has a prepare of its own for the nodes it takes. */
#include <string.h>

#include "elem_common.h"
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
            if (index_at(idx, b * g->coords + c) != *start + (int64_t)c * *step) return 0;
    return 1;
}

/* batch_dims as a count: the strided copy's own prepare (the lean variant) takes 0 only, and
 * the full kernel hands every other node to the reference, so that both keep the same nodes. */
static int32_t batch_dims_of(const nml_op_params *p, const nml_tensor *idx) {
    return p->batch_dims < 0 ? p->batch_dims + idx->rank : p->batch_dims;
}

/* The copy of `count` slices of `chunk` bytes, `start` and `step` slices apart, from each of
 * `rows` rows of axis_size slices. Every product is at most the params tensor's byte count
 * (checked by the model loader to fit in 32 bits). */
static void plan_copy(opt_gather *c, uint32_t rows, uint32_t axis_size, uint32_t chunk,
                      int32_t start, int32_t step, uint32_t count) {
    c->chunk = chunk;
    c->rows = rows;
    c->row_bytes = axis_size * chunk;
    c->first = (uint32_t)start * chunk;
    c->step = step * (int32_t)chunk;
    c->count = count;
    if (step == 1) { /* consecutive slices: one copy per row */
        c->chunk *= count;
        c->count = 1;
    } else if (c->step > 0 && c->row_bytes == count * (uint32_t)c->step) {
        /* the next row's slices continue the progression (a channel shuffle: every other
         * channel of 2n): all rows as one */
        c->count *= rows;
        c->rows = 1;
    }
}

/* The reference prepare, then the strided copy's parameters; *strided = 0 (and the reference's
 * data left in place) when the indices do not allow it. */
static nml_status prepare_strided(nml_ctx *ctx, nml_node *node, const nml_op_params *p,
                                  int *strided) {
    *strided = 0;
    NML_TRY(nml_gather_prepare(ctx, node, p));
    const nml_gather_data *g = node->data;
    const nml_tensor *idx = nml_node_input(ctx, node, 1);
    int32_t start, step;
    if (batch_dims_of(p, idx) != 0 || !find_progression(g, idx, &start, &step)) return NML_OK;
    const nml_gather_data g0 = *g;
    opt_gather c;
    plan_copy(&c, g0.batch * g0.outer, (uint32_t)g0.axis_size, g0.inner * (uint32_t)g0.esize,
              start, step, g0.coords);
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

/* Index i of constant int32 or int64 indices (the loader aligns constant data to its element
 * size; the target is little-endian), as its low 32 bits and the sign-extended rest: an index
 * is in [0, n) exactly when the rest is 0 and the low bits are below n (32-bit compares only:
 * this runs once per model). */
static uint32_t const_index(const nml_tensor *idx, uint32_t i, int32_t *high) {
    if (idx->type == NML_INT32) {
        const int32_t v = ((const int32_t *)idx->data)[i];
        *high = v < 0 ? -1 : 0;
        return (uint32_t)v;
    }
    const uint32_t *w = (const uint32_t *)idx->data + 2 * (size_t)i;
    *high = (int32_t)w[1];
    return w[0];
}

/* The lean variant's prepare: the reference's checks (nml_gather_check, gather_ref.h) compiled
 * here, so that the reference's general prepare is not linked; nodes other than those the
 * strided copy takes (constant indices in arithmetic progression, batch_dims 0) are refused.
 * Every index is checked to be in range (else an error, as in the reference) while the
 * progression is looked for. */
static nml_status opt_gather_prepare_strided(nml_ctx *ctx, nml_node *node, const nml_op_params *p) {
    nml_gather_data g = {0}; /* (set by the check; zeroed for compilers that cannot tell) */
    const nml_tensor *io[3] = {NULL, NULL, NULL}; /* set by the check when it succeeds */
    NML_TRY(nml_gather_check(ctx, node, p, &g, 1, io));
    const nml_tensor *idx = io[1];
    /* In 32-bit arithmetic modulo 2^32: with indices in [0, n), n < 2^31, the previous index
     * plus the step lies in (-2^31, 2^32), so it equals the next index modulo 2^32 only when it
     * equals it exactly. */
    const uint32_t coords = g.coords, axis_size = (uint32_t)g.axis_size;
    int progression = coords > 0;
    uint32_t start = 0, step = 0, prev = 0;
    for (uint32_t c = 0; c < coords; c++) {
        int32_t high;
        const uint32_t v = const_index(idx, c, &high);
        if (high != 0 || v >= axis_size)
            return nml_kernel_fail(ctx, node, NML_E_ARG,
                                   "index %lld at position %u is out of range [0, %d)",
                                   (long long)(((uint64_t)(uint32_t)high << 32) | v), (unsigned)c,
                                   (int)axis_size);
        if (c == 0)
            start = v;
        else if (c == 1)
            step = v - start;
        else if (v != prev + step)
            progression = 0;
        prev = v;
    }
    if (!progression) return nml_lean_refuse(ctx, node, NML_GATHER_LEAN_TAKES);
    opt_gather *d;
    NML_TRY(nml_alloc_node_data(ctx, node, sizeof *d, (void **)&d));
    plan_copy(d, g.outer, axis_size, g.inner * (uint32_t)g.esize, (int32_t)start, (int32_t)step,
              coords);
    return NML_OK;
}

/* One byte per slice, slices two bytes apart (a channel shuffle): eight per iteration, the
 * pointer compared with its end. */
static void gather_bytes_step2(uint8_t *dst, const uint8_t *src, uint32_t n) {
    for (const uint8_t *end = dst + (n & ~7u); dst != end; dst += 8, src += 16) {
        const uint8_t a = src[0], b = src[2], c = src[4], e = src[6];
        const uint8_t f = src[8], g = src[10], h = src[12], k = src[14];
        dst[0] = a;
        dst[1] = b;
        dst[2] = c;
        dst[3] = e;
        dst[4] = f;
        dst[5] = g;
        dst[6] = h;
        dst[7] = k;
    }
    for (n &= 7u; n > 0; n--, src += 2)
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
