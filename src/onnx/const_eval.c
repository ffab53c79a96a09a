/* Host tensors and constant folding. The same evaluator runs the data-movement operators on
 * index maps (tensors holding source element numbers), which is how the layout pass proves
 * what a chain of Reshape/Transpose/Gather nodes does to the data. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "onnx/imp.h"

uint64_t imp_count(int rank, const int64_t *dims) {
    uint64_t n = 1;
    for (int i = 0; i < rank; i++)
        n *= (uint64_t)dims[i];
    return n;
}

void imp_strides(int rank, const int64_t *dims, int64_t *strides) {
    int64_t s = 1;
    for (int i = rank - 1; i >= 0; i--) {
        strides[i] = s;
        s *= dims[i];
    }
}

nml_status imp_tensor_alloc(imp_tensor *t, int dtype, int rank, const int64_t *dims,
                            nml_error *err) {
    if (rank < 0 || rank > IMP_MAX_RANK)
        return nml_fail(err, NML_E_LIMIT, "rank %d exceeds %d", rank, IMP_MAX_RANK);
    uint64_t n = 1;
    for (int i = 0; i < rank; i++) {
        if (dims[i] < 0)
            return nml_fail(err, NML_E_SHAPE, "negative dimension %lld", (long long)dims[i]);
        if (dims[i] && n > IMP_MAX_CONST_ELEMS / (uint64_t)dims[i])
            return nml_fail(err, NML_E_LIMIT, "constant of more than %llu elements",
                            (unsigned long long)IMP_MAX_CONST_ELEMS);
        n *= (uint64_t)dims[i];
    }
    void *d = calloc(n ? n : 1, 8);
    if (!d)
        return nml_fail(err, NML_E_NOMEM, "out of memory for %llu elements", (unsigned long long)n);
    free(t->data);
    t->data = d;
    t->dtype = dtype;
    t->rank = rank;
    for (int i = 0; i < rank; i++)
        t->dims[i] = dims[i];
    t->count = n;
    return NML_OK;
}

void imp_tensor_free(imp_tensor *t) {
    free(t->data);
    t->data = NULL;
}

nml_status imp_tensor_copy(imp_tensor *dst, const imp_tensor *src, nml_error *err) {
    imp_tensor t = {0};
    NML_TRY(imp_tensor_alloc(&t, src->dtype, src->rank, src->dims, err));
    if (src->data) memcpy(t.data, src->data, src->count * 8 / (src->dtype == IMP_F32 ? 2 : 1));
    free(dst->data);
    *dst = t;
    return NML_OK;
}

double imp_get(const imp_tensor *t, uint64_t i) {
    return t->dtype == IMP_F32 ? (double)((const float *)t->data)[i]
                               : (double)((const int64_t *)t->data)[i];
}

int64_t imp_geti(const imp_tensor *t, uint64_t i) {
    if (t->dtype != IMP_F32) return ((const int64_t *)t->data)[i];
    float f = ((const float *)t->data)[i];
    if (!(f > -9.2e18f && f < 9.2e18f)) return f > 0 ? INT64_MAX : INT64_MIN; /* also NaN */
    return (int64_t)f;
}

void imp_set(imp_tensor *t, uint64_t i, double v) {
    if (t->dtype == IMP_F32) {
        ((float *)t->data)[i] = (float)v;
    } else {
        int64_t w = !(v > -9.2e18 && v < 9.2e18) ? (v > 0 ? INT64_MAX : INT64_MIN) : (int64_t)v;
        ((int64_t *)t->data)[i] = w;
    }
}

static float half_to_float(uint16_t h) {
    int sign = h >> 15, exp = (h >> 10) & 31, man = h & 1023;
    float v;
    if (exp == 0)
        v = ldexpf((float)man, -24);
    else if (exp == 31)
        v = man ? NAN : INFINITY;
    else
        v = ldexpf((float)(man | 1024), exp - 25);
    return sign ? -v : v;
}

static int64_t load_int(const uint8_t *p, int dtype) {
    uint64_t u = 0;
    size_t n = nml_onnx_dtype_size(dtype);
    for (size_t i = 0; i < n; i++)
        u |= (uint64_t)p[i] << (8 * i);
    switch (dtype) {
    case NML_ONNX_INT8:
        return (int8_t)(uint8_t)u;
    case NML_ONNX_INT16:
        return (int16_t)(uint16_t)u;
    case NML_ONNX_INT32:
        return (int32_t)(uint32_t)u;
    case NML_ONNX_BOOL:
        return u != 0;
    default:
        return (int64_t)u; /* unsigned types and int64 (uint64 above 2^63 wraps) */
    }
}

nml_status imp_from_onnx(imp_tensor *dst, const nml_onnx_tensor *src, nml_error *err) {
    int dt = src->dtype;
    int f = dt == NML_ONNX_FLOAT || dt == NML_ONNX_DOUBLE || dt == NML_ONNX_FLOAT16;
    if (dt == NML_ONNX_STRING || nml_onnx_dtype_size(dt) == 0)
        return nml_fail(err, NML_E_UNSUPPORTED, "data type %s is not supported",
                        nml_onnx_dtype_name(dt));
    NML_TRY(imp_tensor_alloc(dst, f ? IMP_F32 : IMP_I64, src->rank, src->dims, err));
    size_t es = nml_onnx_dtype_size(dt);
    if (src->count && (!src->data || src->bytes != src->count * es))
        return nml_fail(err, NML_E_FORMAT, "tensor data does not match its shape");
    for (uint64_t i = 0; i < src->count; i++) {
        const uint8_t *p = src->data + i * es;
        if (dt == NML_ONNX_FLOAT) {
            memcpy((float *)dst->data + i, p, 4);
        } else if (dt == NML_ONNX_DOUBLE) {
            double d;
            memcpy(&d, p, 8);
            ((float *)dst->data)[i] = (float)d;
        } else if (dt == NML_ONNX_FLOAT16) {
            ((float *)dst->data)[i] = half_to_float((uint16_t)(p[0] | p[1] << 8));
        } else {
            ((int64_t *)dst->data)[i] = load_int(p, dt);
        }
    }
    return NML_OK;
}

int imp_foldable(const char *op) {
    static const char *const ops[] = {"Identity",   "Dropout",  "Reshape",
                                      "Flatten",    "Squeeze",  "Unsqueeze",
                                      "Transpose",  "Gather",   "Concat",
                                      "Slice",      "Shape",    "Size",
                                      "Cast",       "Add",      "Sub",
                                      "Mul",        "Div",      "Neg",
                                      "Floor",      "Ceil",     "Sqrt",
                                      "Relu",       "Abs",      "Exp",
                                      "Reciprocal", "Constant", "ConstantOfShape",
                                      "Range",      "Equal",    "Less",
                                      "Greater",    "Where",    "Min",
                                      "Max",        "Sigmoid"};
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
        if (strcmp(op, ops[i]) == 0) return 1;
    return 0;
}

/* ---- element-wise ---- */

/* Offset of out element (multi-index idx) in an input broadcast to the output shape. */
static uint64_t bcast_offset(const imp_tensor *in, const imp_tensor *out, const int64_t *idx) {
    int64_t st[IMP_MAX_RANK];
    imp_strides(in->rank, in->dims, st);
    uint64_t off = 0;
    int shift = out->rank - in->rank;
    for (int d = 0; d < in->rank; d++)
        if (in->dims[d] != 1) off += (uint64_t)(idx[d + shift] * st[d]);
    return off;
}

static void next_index(int rank, const int64_t *dims, int64_t *idx) {
    for (int d = rank - 1; d >= 0; d--) {
        if (++idx[d] < dims[d]) return;
        idx[d] = 0;
    }
}

static double binary_f(const char *op, double a, double b) {
    if (!strcmp(op, "Add")) return a + b;
    if (!strcmp(op, "Sub")) return a - b;
    if (!strcmp(op, "Mul")) return a * b;
    if (!strcmp(op, "Div")) return a / b;
    if (!strcmp(op, "Min")) return a < b ? a : b;
    if (!strcmp(op, "Max")) return a > b ? a : b;
    if (!strcmp(op, "Equal")) return a == b;
    if (!strcmp(op, "Less")) return a < b;
    return a > b; /* Greater */
}

/* Integer arithmetic wraps modulo 2^64 (as ONNX Runtime's does in practice) instead of being
 * undefined; division truncates toward zero. *ok = 0 on division by zero. */
static int64_t binary_i(const char *op, int64_t a, int64_t b, int *ok) {
    uint64_t ua = (uint64_t)a, ub = (uint64_t)b;
    if (!strcmp(op, "Add")) return (int64_t)(ua + ub);
    if (!strcmp(op, "Sub")) return (int64_t)(ua - ub);
    if (!strcmp(op, "Mul")) return (int64_t)(ua * ub);
    if (!strcmp(op, "Div")) {
        if (b == 0) {
            *ok = 0;
            return 0;
        }
        if (b == -1) return (int64_t)(0 - ua);
        return a / b;
    }
    if (!strcmp(op, "Min")) return a < b ? a : b;
    if (!strcmp(op, "Max")) return a > b ? a : b;
    if (!strcmp(op, "Equal")) return a == b;
    if (!strcmp(op, "Less")) return a < b;
    return a > b; /* Greater */
}

static nml_status eval_binary(imp_ctx *c, int node, imp_tensor *const *in, imp_tensor *out,
                              nml_error *err) {
    const char *op = imp_op(c, node);
    int64_t idx[IMP_MAX_RANK] = {0};
    int is_int = in[0]->dtype == IMP_I64 && in[1]->dtype == IMP_I64;
    for (uint64_t i = 0; i < out->count; i++) {
        uint64_t ia = bcast_offset(in[0], out, idx), ib = bcast_offset(in[1], out, idx);
        if (is_int) {
            int ok = 1;
            int64_t r = binary_i(op, imp_geti(in[0], ia), imp_geti(in[1], ib), &ok);
            if (!ok) return imp_fail(c, err, node, NML_E_FORMAT, "integer division by zero");
            ((int64_t *)out->data)[i] = r;
        } else {
            imp_set(out, i, binary_f(op, imp_get(in[0], ia), imp_get(in[1], ib)));
        }
        next_index(out->rank, out->dims, idx);
    }
    return NML_OK;
}

static nml_status eval_where(imp_tensor *const *in, imp_tensor *out) {
    int64_t idx[IMP_MAX_RANK] = {0};
    for (uint64_t i = 0; i < out->count; i++) {
        int cond = imp_get(in[0], bcast_offset(in[0], out, idx)) != 0;
        const imp_tensor *src = cond ? in[1] : in[2];
        imp_set(out, i, imp_get(src, bcast_offset(src, out, idx)));
        next_index(out->rank, out->dims, idx);
    }
    return NML_OK;
}

static int is_pure_move(const char *op) {
    return !strcmp(op, "Identity") || !strcmp(op, "Dropout") || !strcmp(op, "Reshape") ||
           !strcmp(op, "Flatten") || !strcmp(op, "Squeeze") || !strcmp(op, "Unsqueeze");
}

static double unary(const char *op, double x) {
    if (!strcmp(op, "Neg")) return -x;
    if (!strcmp(op, "Floor")) return floor(x);
    if (!strcmp(op, "Ceil")) return ceil(x);
    if (!strcmp(op, "Sqrt")) return sqrt(x);
    if (!strcmp(op, "Relu")) return x > 0 ? x : 0;
    if (!strcmp(op, "Abs")) return fabs(x);
    if (!strcmp(op, "Exp")) return exp(x);
    if (!strcmp(op, "Reciprocal")) return 1.0 / x;
    if (!strcmp(op, "Sigmoid")) return 1.0 / (1.0 + exp(-x));
    return x; /* Cast */
}

/* ---- data movement ---- */

/* Element o of out = element i of in (same dtype). */
static void copy_elem(imp_tensor *out, uint64_t o, const imp_tensor *in, uint64_t i) {
    if (in->dtype == IMP_I64)
        ((int64_t *)out->data)[o] = ((const int64_t *)in->data)[i];
    else
        ((float *)out->data)[o] = ((const float *)in->data)[i];
}

static nml_status eval_transpose(imp_ctx *c, int node, const imp_tensor *in, imp_tensor *out,
                                 nml_error *err) {
    int64_t perm[IMP_MAX_RANK];
    int n;
    NML_TRY(imp_attr_ints(c, node, "perm", perm, &n, IMP_MAX_RANK, err));
    if (n == 0)
        for (int i = 0; i < in->rank; i++)
            perm[i] = in->rank - 1 - i;
    int64_t st[IMP_MAX_RANK], idx[IMP_MAX_RANK] = {0};
    imp_strides(in->rank, in->dims, st);
    for (uint64_t i = 0; i < out->count; i++) {
        uint64_t off = 0;
        for (int d = 0; d < out->rank; d++)
            off += (uint64_t)(idx[d] * st[perm[d]]);
        copy_elem(out, i, in, off);
        next_index(out->rank, out->dims, idx);
    }
    return NML_OK;
}

static nml_status eval_gather(imp_ctx *c, int node, const imp_tensor *in, const imp_tensor *ix,
                              imp_tensor *out, nml_error *err) {
    int64_t axis;
    NML_TRY(imp_attr_int(c, node, "axis", 0, &axis, err));
    if (axis < 0) axis += in->rank;
    uint64_t outer = 1, inner = 1;
    for (int d = 0; d < axis; d++)
        outer *= (uint64_t)in->dims[d];
    for (int d = (int)axis + 1; d < in->rank; d++)
        inner *= (uint64_t)in->dims[d];
    int64_t n = in->dims[axis];
    uint64_t o = 0;
    for (uint64_t a = 0; a < outer; a++)
        for (uint64_t k = 0; k < ix->count; k++) {
            int64_t j = imp_geti(ix, k);
            if (j < 0) j += n;
            if (j < 0 || j >= n)
                return imp_fail(c, err, node, NML_E_FORMAT, "index %lld out of range [0, %lld)",
                                (long long)imp_geti(ix, k), (long long)n);
            for (uint64_t b = 0; b < inner; b++)
                copy_elem(out, o++, in, (a * (uint64_t)n + (uint64_t)j) * inner + b);
        }
    return NML_OK;
}

static nml_status eval_concat(imp_ctx *c, int node, imp_tensor *const *in, int n_in,
                              imp_tensor *out, nml_error *err) {
    int64_t axis;
    NML_TRY(imp_attr_int(c, node, "axis", 0, &axis, err));
    if (axis < 0) axis += out->rank;
    uint64_t outer = 1, inner = 1;
    for (int d = 0; d < axis; d++)
        outer *= (uint64_t)out->dims[d];
    for (int d = (int)axis + 1; d < out->rank; d++)
        inner *= (uint64_t)out->dims[d];
    uint64_t o = 0;
    for (uint64_t a = 0; a < outer; a++)
        for (int k = 0; k < n_in; k++) {
            if (!in[k]) continue;
            uint64_t block = (uint64_t)in[k]->dims[axis] * inner;
            for (uint64_t b = 0; b < block; b++)
                copy_elem(out, o++, in[k], a * block + b);
        }
    return NML_OK;
}

static nml_status eval_slice(imp_ctx *c, int node, const imp_tensor *in, imp_tensor *out,
                             nml_error *err) {
    int64_t start[IMP_MAX_RANK], step[IMP_MAX_RANK], dims[IMP_MAX_RANK];
    NML_TRY(imp_slice_params(c, node, start, step, dims, err));
    int64_t st[IMP_MAX_RANK], idx[IMP_MAX_RANK] = {0};
    imp_strides(in->rank, in->dims, st);
    for (uint64_t i = 0; i < out->count; i++) {
        uint64_t off = 0;
        for (int d = 0; d < in->rank; d++)
            off += (uint64_t)((start[d] + idx[d] * step[d]) * st[d]);
        copy_elem(out, i, in, off);
        next_index(out->rank, out->dims, idx);
    }
    return NML_OK;
}

static nml_status eval_constant(imp_ctx *c, int node, imp_tensor *out, nml_error *err) {
    const nml_onnx_node *n = c->nodes[node].n;
    for (size_t i = 0; i < n->n_attrs; i++) {
        const nml_onnx_attr *a = &n->attrs[i];
        if (!strcmp(a->name, "value") && a->t) return imp_from_onnx(out, a->t, err);
        if (!strcmp(a->name, "value_float")) {
            ((float *)out->data)[0] = a->f;
            return NML_OK;
        }
        if (!strcmp(a->name, "value_int")) {
            ((int64_t *)out->data)[0] = a->i;
            return NML_OK;
        }
        if (!strcmp(a->name, "value_floats")) {
            for (size_t k = 0; k < a->n_floats; k++)
                ((float *)out->data)[k] = a->floats[k];
            return NML_OK;
        }
        if (!strcmp(a->name, "value_ints")) {
            for (size_t k = 0; k < a->n_ints; k++)
                ((int64_t *)out->data)[k] = a->ints[k];
            return NML_OK;
        }
    }
    return imp_fail(c, err, node, NML_E_UNSUPPORTED, "no supported value attribute");
}

static nml_status eval_range(imp_tensor *const *in, imp_tensor *out) {
    double start = imp_get(in[0], 0), delta = imp_get(in[2], 0);
    for (uint64_t i = 0; i < out->count; i++)
        imp_set(out, i, start + (double)i * delta);
    return NML_OK;
}

nml_status imp_charge(imp_ctx *c, int node, uint64_t elems, int kept, nml_error *err) {
    const uint64_t budget =
        c->opt && c->opt->max_eval_elems && c->opt->max_eval_elems < IMP_MAX_EVAL_ELEMS
            ? c->opt->max_eval_elems
            : IMP_MAX_EVAL_ELEMS;
    if (elems > budget - c->eval_elems)
        return imp_fail(c, err, node, NML_E_LIMIT,
                        "evaluating it at import time would exceed the budget of %llu elements "
                        "computed in all (%llu so far)",
                        (unsigned long long)budget, (unsigned long long)c->eval_elems);
    if (kept && elems > IMP_MAX_FOLDED_ELEMS - c->folded_elems)
        return imp_fail(c, err, node, NML_E_LIMIT,
                        "folding it would exceed the budget of %llu constant elements in all "
                        "(%llu so far)",
                        (unsigned long long)IMP_MAX_FOLDED_ELEMS,
                        (unsigned long long)c->folded_elems);
    c->eval_elems += elems;
    if (kept) c->folded_elems += elems;
    return NML_OK;
}

nml_status imp_eval(imp_ctx *c, int node, imp_tensor *const *in, imp_tensor *const *out,
                    nml_error *err) {
    const char *op = imp_op(c, node);
    int n_in = c->nodes[node].n_in;
    imp_tensor *o = out[0];
    NML_TRY(imp_charge(c, node, o->count, 0, err)); /* folded operators have one output */
    if (!strcmp(op, "Constant")) return eval_constant(c, node, o, err);
    if (!strcmp(op, "Shape") || !strcmp(op, "Size") || !strcmp(op, "ConstantOfShape"))
        return NML_OK; /* filled by shape inference, which already knows the answer */
    if (!strcmp(op, "Transpose")) return eval_transpose(c, node, in[0], o, err);
    if (!strcmp(op, "Gather")) return eval_gather(c, node, in[0], in[1], o, err);
    if (!strcmp(op, "Concat")) return eval_concat(c, node, in, n_in, o, err);
    if (!strcmp(op, "Slice")) return eval_slice(c, node, in[0], o, err);
    if (!strcmp(op, "Range")) return eval_range(in, o);
    if (!strcmp(op, "Where")) return eval_where(in, o);
    if (n_in >= 2 && in[1] && strcmp(op, "Reshape") && strcmp(op, "Squeeze") &&
        strcmp(op, "Unsqueeze") && strcmp(op, "Dropout"))
        return eval_binary(c, node, in, o, err);
    /* unary ops and pure reshapes: element i of the output comes from element i of the input */
    if (in[0]->count != o->count)
        return imp_fail(c, err, node, NML_E_INTERNAL, "element count changed while folding");
    int64_t to = 0;
    if (!strcmp(op, "Cast")) NML_TRY(imp_attr_int(c, node, "to", 0, &to, err));
    int move = is_pure_move(op) ||
               (!strcmp(op, "Cast") && o->dtype == in[0]->dtype && to != NML_ONNX_BOOL);
    for (uint64_t i = 0; i < o->count; i++) {
        if (move) {
            copy_elem(o, i, in[0], i);
        } else if (to == NML_ONNX_BOOL) {
            imp_set(o, i, imp_get(in[0], i) != 0);
        } else if (o->dtype == IMP_I64 && in[0]->dtype == IMP_I64) {
            int64_t x = ((const int64_t *)in[0]->data)[i];
            int64_t neg = (int64_t)(0 - (uint64_t)x); /* wraps like the hardware, no UB */
            int64_t r = !strcmp(op, "Neg")    ? neg
                        : !strcmp(op, "Abs")  ? (x < 0 ? neg : x)
                        : !strcmp(op, "Relu") ? (x > 0 ? x : 0)
                                              : (int64_t)unary(op, (double)x);
            ((int64_t *)o->data)[i] = r;
        } else {
            imp_set(o, i, unary(op, imp_get(in[0], i)));
        }
    }
    return NML_OK;
}
