/* STRIDED_SLICE with constant begin/end/strides (int32), all five masks, negative indices and
 * strides, and the offset option, following TFLite: ellipsis and new-axis bits are first
 * expanded into an "effective" input shape (TFLite's BuildStridedSliceParams), then every
 * effective axis is clamped as StridedSliceStartForAxis / StridedSliceEndForAxis do. A shrunk
 * axis takes exactly the element at its start, which must lie inside the axis. */
#include "elem_common.h"
#include "kernels.h"

typedef struct slice_data {
    int32_t rank;                  /* effective axes */
    int32_t dims[NML_MAX_RANK];    /* elements taken per effective axis */
    int32_t strides[NML_MAX_RANK]; /* input element step per effective axis */
    int32_t base;
    size_t esize;
} slice_data;

/* One effective axis after mask expansion. */
typedef struct eff_axis {
    int32_t size;      /* input size (1 for a new axis) */
    int32_t in_stride; /* input element stride (0 for a new axis) */
    int32_t begin, end, stride;
    int begin_mask, end_mask, shrink;
} eff_axis;

static int32_t clamp(int32_t v, int32_t lo, int32_t hi) {
    return v < lo ? lo : (v > hi ? hi : v);
}

static int32_t start_for_axis(const eff_axis *a) {
    int32_t start = a->begin;
    if (start < 0) start += a->size;
    start = a->stride > 0 ? clamp(start, 0, a->size) : clamp(start, -1, a->size - 1);
    if (a->begin_mask) start = a->stride > 0 ? 0 : a->size - 1;
    return start;
}

static int32_t end_for_axis(const eff_axis *a, int32_t start, int offset) {
    int64_t end = a->end;
    if (offset) end += start;
    if (end < 0) end += a->size;
    if (end > INT32_MAX) end = INT32_MAX;
    if (end < INT32_MIN) end = INT32_MIN;
    int32_t e =
        a->stride > 0 ? clamp((int32_t)end, 0, a->size) : clamp((int32_t)end, -1, a->size - 1);
    if (a->end_mask) e = a->stride > 0 ? a->size : -1;
    return e;
}

/* Expands ellipsis and new-axis bits the way TFLite's BuildStridedSliceParams does. */
static nml_status expand_masks(nml_ctx *ctx, const nml_node *node, const nml_op_params *p,
                               const nml_tensor *in, const int32_t *b, const int32_t *e,
                               const int32_t *s, int count, eff_axis *ax, int *n_eff) {
    int ellipsis_bits = p->ellipsis_mask & ((1 << count) - 1);
    if (ellipsis_bits & (ellipsis_bits - 1))
        return nml_kernel_fail(ctx, node, NML_E_FORMAT, "ellipsis_mask 0x%x has more than one bit",
                               (unsigned)p->ellipsis_mask);
    int num_add = 0;
    for (int i = 0; i < count; i++)
        if (!(p->ellipsis_mask & (1 << i)) && (p->new_axis_mask & (1 << i))) num_add++;
    int eff = in->rank + num_add;
    if (eff > NML_MAX_RANK)
        return nml_kernel_fail(ctx, node, NML_E_LIMIT, "%d effective dimensions exceed %d", eff,
                               NML_MAX_RANK);
    if (count > eff)
        return nml_kernel_fail(ctx, node, NML_E_SHAPE,
                               "begin has %d entries for %d dimensions (input rank %u)", count, eff,
                               (unsigned)in->rank);
    int ell_mask = 0, new_mask = 0, ell_start = eff, expanded = 0;
    for (int i = 0; i < eff;) {
        if (p->ellipsis_mask & (1 << i)) {
            ell_start = i;
            int end = i + 1 + num_add + in->rank - count;
            if (end > eff) end = eff;
            if (end < i + 1) end = i + 1;
            expanded = end - ell_start - 1;
            for (; i < end; i++)
                ell_mask |= 1 << i;
            continue;
        }
        if (i - expanded < 31 && (p->new_axis_mask & (1 << (i - expanded)))) new_mask |= 1 << i;
        i++;
    }
    int added_ellipsis = 0, added_axes = 0;
    int32_t in_stride[NML_MAX_RANK];
    int32_t st = 1;
    for (int i = in->rank - 1; i >= 0; i--) {
        in_stride[i] = st;
        st *= in->dims[i];
    }
    for (int i = 0; i < eff; i++) {
        eff_axis *a = &ax[i];
        a->begin = a->end = 0;
        a->stride = 1;
        a->begin_mask = a->end_mask = a->shrink = 0;
        if (new_mask & (1 << i) && !(ell_mask & (1 << i))) {
            a->size = 1;
            a->in_stride = 0;
            a->end = 1;
            added_axes++;
            continue;
        }
        a->size = in->dims[i - added_axes];
        a->in_stride = in_stride[i - added_axes];
        if (ell_mask & (1 << i)) {
            added_ellipsis = i - ell_start > 0 ? i - ell_start : 0;
            a->begin_mask = a->end_mask = 1;
        } else if (i >= count + expanded) {
            a->begin_mask = a->end_mask = 1;
        } else {
            int k = i - added_ellipsis;
            a->begin = b[k];
            a->end = e[k];
            a->stride = s[k];
            a->begin_mask = (p->begin_mask >> k) & 1;
            a->end_mask = (p->end_mask >> k) & 1;
            a->shrink = (p->shrink_axis_mask >> k) & 1;
            if (a->stride == 0)
                return nml_kernel_fail(ctx, node, NML_E_FORMAT, "stride %d is zero", k);
        }
    }
    *n_eff = eff;
    return NML_OK;
}

static nml_status read_vec(nml_ctx *ctx, const nml_node *node, int idx, const char *what,
                           int32_t *dst, uint32_t *n) {
    const nml_tensor *t = nml_node_input(ctx, node, (uint32_t)idx);
    if (t && t->type != NML_INT32)
        return nml_kernel_fail(ctx, node, NML_E_UNSUPPORTED, "%s has type %s, expected int32", what,
                               nml_dtype_name(t->type));
    if (t && t->rank != 1)
        return nml_kernel_fail(ctx, node, NML_E_SHAPE, "%s has rank %u, expected 1", what,
                               (unsigned)t->rank);
    return nml_read_const_ints(ctx, node, t, what, dst, NML_MAX_RANK, n);
}

static nml_status slice_prepare(nml_ctx *ctx, nml_node *node, const nml_op_params *p) {
    NML_TRY(nml_check_io_count(ctx, node, 4, 4, 1));
    nml_tensor *in = nml_node_input(ctx, node, 0), *out = nml_node_output(ctx, node, 0);
    if (!in) return nml_kernel_fail(ctx, node, NML_E_FORMAT, "input is missing");
    slice_data *d;
    NML_TRY(nml_alloc_node_data(ctx, node, sizeof *d, (void **)&d));
    NML_TRY(nml_elem_size(ctx, node, in, "input", &d->esize));
    NML_TRY(nml_check_same_quant(ctx, node, in, out, "input", "output"));
    int32_t b[NML_MAX_RANK], e[NML_MAX_RANK], s[NML_MAX_RANK];
    uint32_t nb, ne, ns;
    NML_TRY(read_vec(ctx, node, 1, "begin", b, &nb));
    NML_TRY(read_vec(ctx, node, 2, "end", e, &ne));
    NML_TRY(read_vec(ctx, node, 3, "strides", s, &ns));
    if (nb != ne || nb != ns)
        return nml_kernel_fail(ctx, node, NML_E_SHAPE,
                               "begin, end and strides have %u, %u and %u entries", (unsigned)nb,
                               (unsigned)ne, (unsigned)ns);
    eff_axis ax[NML_MAX_RANK];
    int eff = 0;
    NML_TRY(expand_masks(ctx, node, p, in, b, e, s, (int)nb, ax, &eff));
    int32_t out_dims[NML_MAX_RANK];
    int out_rank = 0;
    d->base = 0;
    d->rank = eff;
    for (int i = 0; i < eff; i++) {
        const eff_axis *a = &ax[i];
        int32_t start = start_for_axis(a);
        int32_t count, step = a->stride;
        if (a->shrink) {
            if (start < 0 || start >= a->size)
                return nml_kernel_fail(ctx, node, NML_E_FORMAT,
                                       "shrunk axis %d: index %d is outside size %d", i,
                                       (int)a->begin, (int)a->size);
            count = 1;
            step = 1;
        } else {
            int64_t span = (int64_t)end_for_axis(a, start, p->offset) - start;
            int64_t st = a->stride;
            int64_t c = st > 0 ? (span > 0 ? (span + st - 1) / st : 0)
                               : (span < 0 ? (-span + (-st) - 1) / (-st) : 0);
            count = (int32_t)c;
            out_dims[out_rank++] = count;
        }
        d->dims[i] = count;
        d->strides[i] = step * a->in_stride;
        if (count > 0) d->base += start * a->in_stride;
    }
    return nml_check_shape(ctx, node, out, "output", out_dims, out_rank);
}

static nml_status slice_eval(nml_ctx *ctx, nml_node *node) {
    const slice_data *d = node->data;
    nml_copy_strided(nml_node_output(ctx, node, 0)->data, nml_node_input(ctx, node, 0)->data,
                     d->esize, d->rank, d->dims, d->strides, d->base);
    return NML_OK;
}

const nml_kernel nml_kernel_strided_slice = {NML_OP_STRIDED_SLICE, "STRIDED_SLICE", slice_prepare,
                                             slice_eval};
