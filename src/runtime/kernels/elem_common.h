/* Helpers shared by the element-wise, data-movement and reduction kernels: broadcasting,
 * fused-activation ranges, quantization-parameter checks, constant index tensors, shapes and
 * float rounding without libm (prepare-time only in int8 paths). */
#ifndef NANOML_RUNTIME_KERNELS_ELEM_COMMON_H
#define NANOML_RUNTIME_KERNELS_ELEM_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include "kernel.h"
#include "qmath.h"

/* ---- rounding (bit-exact with std::round / std::floor, saturating to int32) ---- */

/* Round half away from zero; NaN gives 0. */
int32_t nml_round_f32(float x);
int32_t nml_round_f64(double x);
/* Largest integer <= x; NaN gives 0. */
int32_t nml_floor_f32(float x);

/* ---- element types ---- */

/* Value range of an integer type (int8, uint8, int16, int32). */
void nml_int_range(int type, int32_t *lo, int32_t *hi);
/* Bytes per element for the data-movement kernels; 0 (with a message) for types they cannot
 * move (string, int4, unknown). */
nml_status nml_elem_size(nml_ctx *ctx, const nml_node *node, const nml_tensor *t, const char *what,
                         size_t *size);

/* Reads element i of an int8, uint8, int16 or int32 buffer as int32. */
static inline int32_t nml_load_int(const void *p, int type, uint32_t i) {
    switch (type) {
    case NML_INT8:
        return ((const int8_t *)p)[i];
    case NML_UINT8:
        return ((const uint8_t *)p)[i];
    case NML_INT16:
        return ((const int16_t *)p)[i];
    default:
        return ((const int32_t *)p)[i];
    }
}

/* Writes v (already in range) to element i of an int8, uint8, int16 or int32 buffer. */
static inline void nml_store_int(void *p, int type, uint32_t i, int32_t v) {
    switch (type) {
    case NML_INT8:
        ((int8_t *)p)[i] = (int8_t)v;
        break;
    case NML_UINT8:
        ((uint8_t *)p)[i] = (uint8_t)v;
        break;
    case NML_INT16:
        ((int16_t *)p)[i] = (int16_t)v;
        break;
    default:
        ((int32_t *)p)[i] = v;
        break;
    }
}

/* ---- quantization ---- */

/* int8, uint8 or int16: the types with a scale and zero point. */
static inline int nml_is_quant_int(int type) {
    return type == NML_INT8 || type == NML_UINT8 || type == NML_INT16;
}
/* The tensor carries a usable per-tensor quantization: finite scale > 0, zero point in the
 * type's range, and no per-channel parameters. */
nml_status nml_check_quant(nml_ctx *ctx, const nml_node *node, const nml_tensor *t,
                           const char *what);
/* For data-movement kernels: a and b have the same type and, for quantized integer types, the
 * same scale and zero point (the kernel copies raw values). */
nml_status nml_check_same_quant(nml_ctx *ctx, const nml_node *node, const nml_tensor *a,
                                const nml_tensor *b, const char *what_a, const char *what_b);
/* nml_quantize_multiplier of (a / b) * 2^pow2 computed in double from the float scales, as
 * TFLite computes its rescaling multipliers: the same bits as that expression. a and b positive
 * and finite (checked quantization), pow2 <= 0. */
void nml_quantize_ratio(float a, float b, int pow2, int32_t *significand, int *exponent);
/* Like nml_quantize_multiplier, but also for negative multipliers (the sign goes to the
 * significand, as TFLite's QuantizeMultiplier does with frexp). */
void nml_quantize_multiplier_signed(double m, int32_t *significand, int *exponent);

/* Fused activation clamps, as TFLite's CalculateActivationRange(Quantized). TANH and SIGN_BIT
 * are rejected. */
nml_status nml_act_range_float(nml_ctx *ctx, const nml_node *node, int activation, float *lo,
                               float *hi);
nml_status nml_act_range_quant(nml_ctx *ctx, const nml_node *node, int activation,
                               const nml_tensor *out, int32_t *lo, int32_t *hi);
nml_status nml_act_range_int32(nml_ctx *ctx, const nml_node *node, int activation, int32_t *lo,
                               int32_t *hi);
/* std::min(std::max(x, lo), hi): NaN stays NaN, +-inf clamps to the range. */
static inline float nml_clamp_f32(float x, float lo, float hi) {
    float y = x < lo ? lo : x;
    return hi < y ? hi : y;
}

/* ---- constant tensors ---- */

/* Data of a constant tensor after checking it is constant, present and large enough for its
 * shape; `what` names it in messages ("axis", "paddings", ...). */
nml_status nml_const_data(nml_ctx *ctx, const nml_node *node, const nml_tensor *t, const char *what,
                          const void **data);
/* Reads a constant int32 or int64 tensor (any rank) into dst[0..*n); more than `max` elements
 * or an int64 value outside int32 is an error. */
nml_status nml_read_const_ints(nml_ctx *ctx, const nml_node *node, const nml_tensor *t,
                               const char *what, int32_t *dst, uint32_t max, uint32_t *n);

/* ---- shapes ---- */

/* The tensor's shape equals the computed one; the message names it ("output", "output 2")
 * and gives both shapes. */
nml_status nml_check_shape(nml_ctx *ctx, const nml_node *node, const nml_tensor *t,
                           const char *what, const int32_t *dims, int rank);
/* axis in [-rank, rank) to [0, rank); error naming the operator otherwise. */
nml_status nml_resolve_axis(nml_ctx *ctx, const nml_node *node, int32_t axis, int rank,
                            int32_t *resolved);
/* Persistent kernel data of `bytes`, stored in node->data. */
nml_status nml_alloc_node_data(nml_ctx *ctx, nml_node *node, size_t bytes, void **data);

/* Copies a strided view of src into dst in row-major order: output element (i0, .., ir-1)
 * is src[base + sum(ik * strides[k])] (strides in elements, may be negative or 0). */
void nml_copy_strided(void *dst, const void *src, size_t esize, int rank, const int32_t *dims,
                      const int32_t *strides, int32_t base);

/* ---- broadcasting (TFLite/numpy rules, rank <= 6) ---- */

typedef struct nml_bcast {
    int32_t rank; /* after dropping size-1 dims and merging; >= 1 */
    int32_t dims[NML_MAX_RANK];
    int32_t stride_a[NML_MAX_RANK], stride_b[NML_MAX_RANK]; /* in elements, 0 = broadcast */
    uint32_t count;                                         /* output elements */
} nml_bcast;

/* Checks that inputs a and b broadcast together and that the output has exactly the
 * broadcast shape, then plans the iteration. */
nml_status nml_bcast_prepare(nml_ctx *ctx, const nml_node *node, const nml_tensor *a,
                             const nml_tensor *b, const nml_tensor *out, nml_bcast *bc);

/* Calls row(user, ia, ib, io, n, sa, sb) for each innermost run: output elements io..io+n-1
 * come from a[ia + k*sa] and b[ib + k*sb]. */
typedef void (*nml_bcast_row)(void *user, uint32_t ia, uint32_t ib, uint32_t io, uint32_t n,
                              int32_t sa, int32_t sb);
void nml_bcast_run(const nml_bcast *bc, nml_bcast_row row, void *user);

/* ---- ADD / SUB int8 parameters (TFLite: left shift 20, per-input and output multipliers) ---- */

typedef struct nml_addsub_q {
    int32_t in1_offset, in2_offset, out_offset; /* -zp1, -zp2, +zp_out */
    int32_t mult[3];                            /* input 1, input 2, output */
    int shift[3];                               /* the same order; <= 0 */
    int left_shift;
    int32_t act_min, act_max;
} nml_addsub_q;

/* The parameters of int8 inputs and output (TFLite's PrepareGeneralSubAdd / ADD int8). */
nml_status nml_addsub_prepare_q(nml_ctx *ctx, const nml_node *node, const nml_tensor *in1,
                                const nml_tensor *in2, const nml_tensor *out, int activation,
                                nml_addsub_q *q);

/* One element of the int8 ADD (sign +1) or SUB (sign -1) pipeline. */
static inline int32_t nml_addsub_q_elem(const nml_addsub_q *q, int32_t x, int32_t y, int sign) {
    int32_t a = (int32_t)((uint32_t)(x + q->in1_offset) << q->left_shift);
    int32_t b = (int32_t)((uint32_t)(y + q->in2_offset) << q->left_shift);
    int32_t sa = nml_mul_by_qm(a, q->mult[0], q->shift[0]);
    int32_t sb = nml_mul_by_qm(b, q->mult[1], q->shift[1]);
    int32_t raw = sign > 0 ? sa + sb : sa - sb;
    int32_t r = nml_mul_by_qm(raw, q->mult[2], q->shift[2]) + q->out_offset;
    return r < q->act_min ? q->act_min : (r > q->act_max ? q->act_max : r);
}

/* ---- RELU-style requantizing clamp (TFLM's CalculateReluOpData) ---- */

typedef struct nml_relu_q {
    int32_t in_zp, out_zp;
    int32_t mult;
    int shift;
    int32_t lo, hi;
} nml_relu_q;

/* Rescales input to output quantization and clamps to [0, act_max] in real terms; act_max 0
 * means unbounded above. */
nml_status nml_relu_prepare_q(nml_ctx *ctx, const nml_node *node, const nml_tensor *in,
                              const nml_tensor *out, float act_max, nml_relu_q *q);

static inline int32_t nml_relu_q_elem(const nml_relu_q *q, int32_t x) {
    return nml_add_zp_clamp(nml_mul_by_qm(x - q->in_zp, q->mult, q->shift), q->out_zp, q->lo,
                            q->hi);
}

#ifdef NML_COMPACT_ERRORS /* tensor names only errors use are not passed (kernel.h) */
#define nml_elem_size(ctx, node, t, what, size) nml_elem_size(ctx, node, t, NULL, size)
#define nml_check_quant(ctx, node, t, what) nml_check_quant(ctx, node, t, NULL)
#define nml_check_same_quant(ctx, node, a, b, what_a, what_b)                                      \
    nml_check_same_quant(ctx, node, a, b, NULL, NULL)
#define nml_const_data(ctx, node, t, what, data) nml_const_data(ctx, node, t, NULL, data)
#define nml_read_const_ints(ctx, node, t, what, dst, max, n)                                       \
    nml_read_const_ints(ctx, node, t, NULL, dst, max, n)
#define nml_check_shape(ctx, node, t, what, dims, rank)                                            \
    nml_check_shape(ctx, node, t, NULL, dims, rank)
#endif

#endif
