#include "elem_common.h"

#include "conv_common.h"

#include <string.h>

#include "outline.h"

/* ---- rounding ---- */

int32_t nml_round_f32(float x) {
    if (x != x) return 0;
    if (x >= 2147483648.0f) return INT32_MAX;
    if (x <= -2147483648.0f) return INT32_MIN;
    int32_t t = (int32_t)x; /* truncation; x - t is exact in float */
    float frac = x - (float)t;
    if (frac >= 0.5f) return t + 1;
    if (frac <= -0.5f) return t - 1;
    return t;
}

int32_t nml_round_f64(double x) {
    if (x != x) return 0;
    if (x >= 2147483647.5) return INT32_MAX;
    if (x <= -2147483648.5) return INT32_MIN;
    int64_t t = (int64_t)x;
    double frac = x - (double)t;
    if (frac >= 0.5)
        t++;
    else if (frac <= -0.5)
        t--;
    return (int32_t)t;
}

int32_t nml_floor_f32(float x) {
    if (x != x) return 0;
    if (x >= 2147483648.0f) return INT32_MAX;
    if (x <= -2147483648.0f) return INT32_MIN;
    int32_t t = (int32_t)x;
    return (float)t > x ? t - 1 : t;
}

/* ---- types ---- */

void nml_int_range(int type, int32_t *lo, int32_t *hi) {
    switch (type) {
    case NML_INT8:
        *lo = INT8_MIN, *hi = INT8_MAX;
        break;
    case NML_UINT8:
        *lo = 0, *hi = UINT8_MAX;
        break;
    case NML_INT16:
        *lo = INT16_MIN, *hi = INT16_MAX;
        break;
    default:
        *lo = INT32_MIN, *hi = INT32_MAX;
        break;
    }
}

/* (name)(...): compact-error builds define a macro of the same name (kernel.h). Not inlined:
 * LTO would copy it into every prepare. */
NML_OUTLINE nml_status(nml_elem_size)(nml_ctx *ctx, const nml_node *node, const nml_tensor *t,
                                      const char *what, size_t *size) {
    *size = nml_dtype_size(t->type); /* 0 for string, int4 and unknown types */
    if (*size == 0)
        return nml_kernel_fail(ctx, node, NML_E_UNSUPPORTED, "%s has unsupported type %s", what,
                               nml_dtype_name(t->type));
    return NML_OK;
}

/* ---- quantization ---- */

nml_status(nml_check_quant)(nml_ctx *ctx, const nml_node *node, const nml_tensor *t,
                            const char *what) {
    /* scale in (0, FLT_MAX]: the bits of positive finite floats are 1 .. 0x7f7fffff (zero, sign,
     * infinity and NaN fall outside) */
    if (nml_f32_bits(t->scale) - 1u >= 0x7f7fffffu)
        return nml_kernel_fail(ctx, node, NML_E_FORMAT,
                               "%s (%s) needs a positive finite quantization scale", what,
                               nml_dtype_name(t->type));
    if (t->n_q > 1)
        return nml_kernel_fail(ctx, node, NML_E_UNSUPPORTED,
                               "%s has per-channel quantization (%u scales), expected one", what,
                               (unsigned)t->n_q);
    int32_t lo, hi;
    nml_int_range(t->type, &lo, &hi);
    if ((uint32_t)t->zero_point - (uint32_t)lo > (uint32_t)hi - (uint32_t)lo) /* one compare */
        return nml_kernel_fail(ctx, node, NML_E_FORMAT, "%s zero point %d is outside %s range",
                               what, (int)t->zero_point, nml_dtype_name(t->type));
    return NML_OK;
}

/* not inlined: LTO would copy it into every prepare */
NML_OUTLINE nml_status(nml_check_same_quant)(nml_ctx *ctx, const nml_node *node,
                                             const nml_tensor *a, const nml_tensor *b,
                                             const char *what_a, const char *what_b) {
    if (a->type != b->type)
        return nml_kernel_fail(ctx, node, NML_E_UNSUPPORTED, "%s type %s differs from %s type %s",
                               what_a, nml_dtype_name(a->type), what_b, nml_dtype_name(b->type));
    if (!nml_is_quant_int(a->type)) return NML_OK;
    if (a->scale != b->scale || a->zero_point != b->zero_point)
        return nml_kernel_fail(ctx, node, NML_E_UNSUPPORTED,
                               "%s and %s have different quantization (zero point %d vs %d%s); "
                               "this operator only moves values",
                               what_a, what_b, (int)a->zero_point, (int)b->zero_point,
                               a->scale == b->scale ? "" : ", different scales");
    return NML_OK;
}

/* Not inlined: one copy of the double arithmetic for every caller. */
NML_OUTLINE void nml_quantize_ratio(float a, float b, int pow2, int32_t *significand,
                                    int *exponent) {
    double r = (double)a / (double)b;
    /* times 2^pow2: the quotient of positive finite floats is a normal double of at least
     * 2^-277, far above the subnormals, so the scaling is exact and adds pow2 to the exponent
     * field (the high word's bits 20..30 on a 32-bit target) */
    uint64_t bits;
    memcpy(&bits, &r, sizeof bits);
    bits += (uint64_t)(int64_t)pow2 << 52;
    memcpy(&r, &bits, sizeof r);
    nml_quantize_multiplier(r, significand, exponent);
}

void nml_quantize_multiplier_signed(double m, int32_t *significand, int *exponent) {
    if (m < 0.0) {
        nml_quantize_multiplier(-m, significand, exponent);
        *significand = -*significand;
        return;
    }
    nml_quantize_multiplier(m, significand, exponent);
}

nml_status nml_act_range_float(nml_ctx *ctx, const nml_node *node, int activation, float *lo,
                               float *hi) {
    return nml_activation_range_f32(ctx, node, activation, lo, hi); /* the same table */
}

nml_status nml_act_range_int32(nml_ctx *ctx, const nml_node *node, int activation, int32_t *lo,
                               int32_t *hi) {
    switch (activation) {
    case NML_ACT_NONE:
        *lo = INT32_MIN, *hi = INT32_MAX;
        return NML_OK;
    case NML_ACT_RELU:
        *lo = 0, *hi = INT32_MAX;
        return NML_OK;
    case NML_ACT_RELU_N1_TO_1:
        *lo = -1, *hi = 1;
        return NML_OK;
    case NML_ACT_RELU6:
        *lo = 0, *hi = 6;
        return NML_OK;
    default:
        return nml_kernel_fail(ctx, node, NML_E_UNSUPPORTED, "fused activation %d is not supported",
                               activation);
    }
}

/* TFLite's CalculateActivationRangeQuantized over the output type's range: the convolutions'
 * implementation (conv_common.c). Callers have checked the output's quantization (positive
 * finite scale, zero point inside the type's range), so every fused range is non-empty and
 * that function's empty-range check never fires. */
nml_status nml_act_range_quant(nml_ctx *ctx, const nml_node *node, int activation,
                               const nml_tensor *out, int32_t *lo, int32_t *hi) {
    int32_t qmin, qmax;
    nml_int_range(out->type, &qmin, &qmax);
    return nml_activation_range_q(ctx, node, activation, out, qmin, qmax, lo, hi);
}

/* ---- constant tensors ---- */

nml_status(nml_const_data)(nml_ctx *ctx, const nml_node *node, const nml_tensor *t,
                           const char *what, const void **data) {
    if (!t) return nml_kernel_fail(ctx, node, NML_E_FORMAT, "%s is missing", what);
    if (t->alloc != NML_ALLOC_CONST || !t->data)
        return nml_kernel_fail(ctx, node, NML_E_UNSUPPORTED,
                               "%s must be a constant tensor (computed %s is not supported)", what,
                               what);
    int ok;
    size_t need = nml_dtype_bytes_for(t->type, nml_tensor_count(t), &ok);
    if (!ok || t->bytes < need)
        return nml_kernel_fail(ctx, node, NML_E_FORMAT, "%s holds %u bytes, its shape needs %zu",
                               what, (unsigned)t->bytes, need);
    *data = t->data;
    return NML_OK;
}

nml_status(nml_read_const_ints)(nml_ctx *ctx, const nml_node *node, const nml_tensor *t,
                                const char *what, int32_t *dst, uint32_t max, uint32_t *n) {
    const void *data;
    NML_TRY(nml_const_data(ctx, node, t, what, &data));
    if (t->type != NML_INT32 && t->type != NML_INT64)
        return nml_kernel_fail(ctx, node, NML_E_UNSUPPORTED,
                               "%s has type %s, expected int32 or int64", what,
                               nml_dtype_name(t->type));
    uint32_t count = nml_tensor_count(t);
    if (count > max)
        return nml_kernel_fail(ctx, node, NML_E_LIMIT, "%s has %u values, at most %u supported",
                               what, (unsigned)count, (unsigned)max);
    /* int64: little-endian words, low then high; the value fits int32 when the high word is
     * the low word's sign (32-bit compares only) */
    const int wide = t->type == NML_INT64;
    for (uint32_t i = 0; i < count; i++) {
        const uint8_t *v = (const uint8_t *)data + ((size_t)i << (2 + wide));
        int32_t low, high;
        memcpy(&low, v, 4);
        memcpy(&high, v + 4 * wide, 4);
        if (wide && high != (low < 0 ? -1 : 0))
            return nml_kernel_fail(ctx, node, NML_E_LIMIT, "%s value %u does not fit int32", what,
                                   (unsigned)i);
        dst[i] = low;
    }
    *n = count;
    return NML_OK;
}

/* ---- shapes ---- */

/* not inlined: LTO would copy it into every prepare (FastestDet: 44 B more) */
NML_OUTLINE nml_status(nml_check_shape)(nml_ctx *ctx, const nml_node *node, const nml_tensor *t,
                                        const char *what, const int32_t *dims, int rank) {
    int same = t->rank == rank;
    for (int i = 0; same && i < rank; i++)
        same = t->dims[i] == dims[i];
    if (same) return NML_OK;
    char have[80], want[80];
    if (NML_ERROR_DETAIL) {
        nml_format_dims(have, sizeof have, t->dims, t->rank);
        nml_format_dims(want, sizeof want, dims, rank);
    }
    return nml_kernel_fail(ctx, node, NML_E_SHAPE, "%s shape %s does not match computed %s", what,
                           have, want);
}

nml_status nml_resolve_axis(nml_ctx *ctx, const nml_node *node, int32_t axis, int rank,
                            int32_t *resolved) {
    if (axis < -rank || axis >= rank)
        return nml_kernel_fail(ctx, node, NML_E_FORMAT, "axis %d is out of range for rank %d",
                               (int)axis, rank);
    *resolved = axis < 0 ? axis + rank : axis;
    return NML_OK;
}

nml_status nml_alloc_node_data(nml_ctx *ctx, nml_node *node, size_t bytes, void **data) {
    *data = nml_ctx_alloc_persistent(ctx, bytes);
    if (!*data)
        return nml_kernel_fail(ctx, node, NML_E_ARENA,
                               "no room for %zu bytes of kernel data in the arena", bytes);
    node->data = *data;
    return NML_OK;
}

/* ---- strided copies ---- */

static void copy_row(uint8_t *dst, const uint8_t *src, size_t esize, uint32_t n, int32_t stride) {
    if (stride == 1) {
        memcpy(dst, src, (size_t)n * esize);
        return;
    }
    ptrdiff_t step = (ptrdiff_t)stride * (ptrdiff_t)esize;
    switch (esize) {
    case 1:
        for (uint32_t k = 0; k < n; k++, src += step)
            dst[k] = *src;
        break;
    case 2:
        for (uint32_t k = 0; k < n; k++, src += step)
            memcpy(dst + 2u * k, src, 2);
        break;
    case 4:
        for (uint32_t k = 0; k < n; k++, src += step)
            memcpy(dst + 4u * k, src, 4);
        break;
    default:
        for (uint32_t k = 0; k < n; k++, src += step)
            memcpy(dst + esize * k, src, esize);
        break;
    }
}

void nml_copy_strided(void *dst, const void *src, size_t esize, int rank, const int32_t *dims,
                      const int32_t *strides, int32_t base) {
    uint8_t *out = dst;
    const uint8_t *in = src;
    if (rank == 0) {
        memcpy(out, in + (ptrdiff_t)base * (ptrdiff_t)esize, esize);
        return;
    }
    for (int i = 0; i < rank; i++)
        if (dims[i] <= 0) return;
    int last = rank - 1;
    uint32_t n = (uint32_t)dims[last];
    int32_t idx[NML_MAX_RANK] = {0};
    int32_t off = base;
    for (;;) {
        copy_row(out, in + (ptrdiff_t)off * (ptrdiff_t)esize, esize, n, strides[last]);
        out += (size_t)n * esize;
        int d = last - 1;
        for (; d >= 0; d--) {
            idx[d]++;
            off += strides[d];
            if (idx[d] < dims[d]) break;
            off -= strides[d] * dims[d];
            idx[d] = 0;
        }
        if (d < 0) return;
    }
}

/* ---- broadcasting ---- */

nml_status nml_bcast_prepare(nml_ctx *ctx, const nml_node *node, const nml_tensor *a,
                             const nml_tensor *b, const nml_tensor *out, nml_bcast *bc) {
    int rank = a->rank > b->rank ? a->rank : b->rank;
    int32_t dims[NML_MAX_RANK] = {0}, da[NML_MAX_RANK] = {0}, db[NML_MAX_RANK] = {0};
    if (rank > NML_MAX_RANK)
        return nml_kernel_fail(ctx, node, NML_E_LIMIT, "rank %d exceeds %d", rank, NML_MAX_RANK);
    for (int i = 0; i < rank; i++) {
        int ia = i - (rank - a->rank), ib = i - (rank - b->rank);
        da[i] = ia >= 0 ? a->dims[ia] : 1;
        db[i] = ib >= 0 ? b->dims[ib] : 1;
        if (da[i] != db[i] && da[i] != 1 && db[i] != 1) {
            char sa[80], sb[80];
            if (NML_ERROR_DETAIL) {
                nml_format_dims(sa, sizeof sa, a->dims, a->rank);
                nml_format_dims(sb, sizeof sb, b->dims, b->rank);
            }
            return nml_kernel_fail(
                ctx, node, NML_E_SHAPE,
                "input shapes %s and %s do not broadcast (dimension %d: %d vs %d)", sa, sb, i,
                (int)da[i], (int)db[i]);
        }
        dims[i] = da[i] == 1 ? db[i] : da[i];
    }
    NML_TRY(nml_check_shape(ctx, node, out, "output", dims, rank));

    /* element strides of each input, 0 where it is broadcast */
    int32_t sa[NML_MAX_RANK], sb[NML_MAX_RANK];
    int32_t ca = 1, cb = 1;
    for (int i = rank - 1; i >= 0; i--) {
        sa[i] = da[i] == 1 ? 0 : ca;
        sb[i] = db[i] == 1 ? 0 : cb;
        ca *= da[i];
        cb *= db[i];
    }
    /* drop size-1 dimensions, then merge neighbours that walk both inputs uniformly, so the
     * innermost run is as long as possible */
    memset(bc, 0, sizeof *bc);
    uint32_t count = 1;
    int r = 0;
    for (int i = 0; i < rank; i++) {
        count *= (uint32_t)dims[i];
        if (dims[i] == 1) continue;
        if (r > 0 && bc->stride_a[r - 1] == sa[i] * dims[i] &&
            bc->stride_b[r - 1] == sb[i] * dims[i]) {
            bc->dims[r - 1] *= dims[i];
            bc->stride_a[r - 1] = sa[i];
            bc->stride_b[r - 1] = sb[i];
            continue;
        }
        bc->dims[r] = dims[i];
        bc->stride_a[r] = sa[i];
        bc->stride_b[r] = sb[i];
        r++;
    }
    if (r == 0) { /* all ones (or scalar): one element */
        bc->dims[0] = 1;
        r = 1;
    }
    bc->rank = r;
    bc->count = count;
    return NML_OK;
}

void nml_bcast_run(const nml_bcast *bc, nml_bcast_row row, void *user) {
    if (bc->count == 0) return;
    int last = bc->rank - 1;
    uint32_t n = (uint32_t)bc->dims[last];
    int32_t idx[NML_MAX_RANK] = {0};
    uint32_t ia = 0, ib = 0, io = 0;
    for (;;) {
        row(user, ia, ib, io, n, bc->stride_a[last], bc->stride_b[last]);
        io += n;
        int d = last - 1;
        for (; d >= 0; d--) {
            idx[d]++;
            ia += (uint32_t)bc->stride_a[d];
            ib += (uint32_t)bc->stride_b[d];
            if (idx[d] < bc->dims[d]) break;
            ia -= (uint32_t)bc->stride_a[d] * (uint32_t)bc->dims[d];
            ib -= (uint32_t)bc->stride_b[d] * (uint32_t)bc->dims[d];
            idx[d] = 0;
        }
        if (d < 0) return;
    }
}

/* ---- ADD / SUB int8 ---- */

nml_status nml_addsub_prepare_q(nml_ctx *ctx, const nml_node *node, const nml_tensor *in1,
                                const nml_tensor *in2, const nml_tensor *out, int activation,
                                nml_addsub_q *q) {
    NML_TRY(nml_check_quant(ctx, node, in1, "input 0"));
    NML_TRY(nml_check_quant(ctx, node, in2, "input 1"));
    NML_TRY(nml_check_quant(ctx, node, out, "output"));
    q->in1_offset = -in1->zero_point;
    q->in2_offset = -in2->zero_point;
    q->out_offset = out->zero_point;
    /* TFLite computes the multipliers in double from the float scales: s1 / (2 max), s2 / (2 max)
     * and 2 max / (2^20 s_out). The input with the larger scale gets s / 2s = 0.5 exactly
     * (significand 2^30, exponent 0), so only the other one's is computed. The scales are
     * positive and finite (checked above), so their bits order them as the floats do. */
    float big = in1->scale, small = in2->scale;
    int32_t *small_mult = &q->mult[1];
    int *small_shift = &q->shift[1];
    if (nml_f32_bits(small) > nml_f32_bits(big)) {
        big = in2->scale;
        small = in1->scale;
        small_mult = &q->mult[0];
        small_shift = &q->shift[0];
    }
    q->mult[0] = q->mult[1] = 1 << 30;
    q->shift[0] = q->shift[1] = 0;
    nml_quantize_ratio(small, big, -1, small_mult, small_shift);         /* s / 2 max */
    nml_quantize_ratio(big, out->scale, -19, &q->mult[2], &q->shift[2]); /* 2 max / 2^20 s_out */
    q->left_shift = 20;
    /* TFLite requires every multiplier below one (QuantizeMultiplierSmallerThanOneExp): the
     * inputs' are at most 0.5; the output's (finite, from finite scales) is 1 or more, or rounds
     * up to 1, exactly when its exponent is positive */
    if (q->shift[2] > 0)
        return nml_kernel_fail(ctx, node, NML_E_UNSUPPORTED,
                               "output scale is too small for the input scales (rescale "
                               "multiplier >= 1)");
    /* int8 output: the only type callers pass */
    return nml_activation_range_q(ctx, node, activation, out, INT8_MIN, INT8_MAX, &q->act_min,
                                  &q->act_max);
}

/* ---- RELU-style requantizing clamp ---- */

nml_status nml_relu_prepare_q(nml_ctx *ctx, const nml_node *node, const nml_tensor *in,
                              const nml_tensor *out, float act_max, nml_relu_q *q) {
    NML_TRY(nml_check_quant(ctx, node, in, "input"));
    NML_TRY(nml_check_quant(ctx, node, out, "output"));
    int32_t qmin, qmax;
    nml_int_range(out->type, &qmin, &qmax);
    nml_quantize_ratio(in->scale, out->scale, 0, &q->mult, &q->shift);
    q->in_zp = in->zero_point;
    q->out_zp = out->zero_point;
    /* zero point + roundf(0 / scale) for the lower bound, as TFLM computes it */
    q->lo = out->zero_point > qmin ? out->zero_point : qmin;
    q->hi = qmax;
    if (act_max > 0.0f) {
        int64_t top = (int64_t)out->zero_point + nml_round_f32(act_max / out->scale);
        q->hi = top < qmax ? (int32_t)top : qmax;
    }
    return NML_OK;
}
