#include "kernel_harness.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define KH_PERSIST_BYTES (4u << 20)

void kh_init(nml_kh *h) {
    memset(h, 0, sizeof *h);
    h->persist = calloc(1, KH_PERSIST_BYTES);
    h->ctx.tensors = h->tensors;
    h->ctx.err = &h->err;
    h->ctx.persist_base = h->persist;
    h->ctx.persist_cap = KH_PERSIST_BYTES;
    h->node.inputs = h->inputs;
    h->node.outputs = h->outputs;
}

void kh_free(nml_kh *h) {
    free(h->persist);
    free(h->scratch);
    h->persist = h->scratch = NULL;
}

int kh_tensor(nml_kh *h, int type, int rank, const int32_t *dims, void *data, float scale,
              int32_t zero_point) {
    int i = (int)h->n_tensors++;
    nml_tensor *t = &h->tensors[i];
    memset(t, 0, sizeof *t);
    t->type = (uint8_t)type;
    t->rank = (uint8_t)rank;
    uint64_t count = 1;
    for (int d = 0; d < rank; d++) {
        t->dims[d] = dims[d];
        count *= (uint64_t)dims[d];
    }
    int ok;
    t->bytes = (uint32_t)nml_dtype_bytes_for(type, count, &ok);
    t->data = data;
    t->alloc = data ? NML_ALLOC_ARENA : NML_ALLOC_NONE;
    t->scale = scale;
    t->zero_point = zero_point;
    t->n_q = scale != 0.0f ? 1 : 0;
    t->name = "";
    t->first_use = t->last_use = -1;
    h->ctx.n_tensors = h->n_tensors;
    return i;
}

void kh_const(nml_kh *h, int t) {
    h->tensors[t].alloc = NML_ALLOC_CONST;
}

void kh_per_channel(nml_kh *h, int t, const float *scales, const int64_t *zero_points, uint32_t n,
                    int32_t q_dim) {
    nml_tensor *x = &h->tensors[t];
    x->q_scales = (const uint8_t *)scales;
    x->q_zero_points = (const uint8_t *)zero_points;
    x->n_q = n;
    x->q_dim = q_dim;
    x->scale = scales[0];
    x->zero_point = zero_points ? (int32_t)zero_points[0] : 0;
}

static void set_list(int32_t *dst, uint16_t *count, int n, va_list ap) {
    for (int i = 0; i < n; i++)
        dst[i] = va_arg(ap, int);
    *count = (uint16_t)n;
}

void kh_inputs(nml_kh *h, int n, ...) {
    va_list ap;
    va_start(ap, n);
    set_list(h->inputs, &h->node.n_inputs, n, ap);
    va_end(ap);
}

void kh_outputs(nml_kh *h, int n, ...) {
    va_list ap;
    va_start(ap, n);
    set_list(h->outputs, &h->node.n_outputs, n, ap);
    va_end(ap);
}

nml_status kh_prepare(nml_kh *h, const nml_kernel *k, const nml_op_params *p) {
    nml_error_clear(&h->err);
    h->node.kernel = k;
    h->node.builtin = k->builtin;
    h->node.scratch_bytes = 0;
    nml_status st = k->prepare ? k->prepare(&h->ctx, &h->node, p) : NML_OK;
    if (st != NML_OK) return st;
    free(h->scratch);
    h->scratch = NULL;
    if (h->node.scratch_bytes) {
        h->scratch = calloc(1, h->node.scratch_bytes);
        h->node.scratch_offset = 0;
    }
    h->ctx.scratch_base = h->scratch;
    return NML_OK;
}

nml_status kh_eval(nml_kh *h) {
    return h->node.kernel->eval(&h->ctx, &h->node);
}

nml_status kh_run(nml_kh *h, const nml_kernel *k, const nml_op_params *p) {
    nml_status st = kh_prepare(h, k, p);
    return st != NML_OK ? st : kh_eval(h);
}

static int spec_tensor(nml_kh *h, const kh_spec *s) {
    return kh_tensor(h, s->type, s->rank, s->dims, s->data, s->scale, s->zero_point);
}

int kh_unary_node(nml_kh *h, kh_spec in, kh_spec out) {
    const int ti = spec_tensor(h, &in), to = spec_tensor(h, &out);
    kh_inputs(h, 1, ti);
    kh_outputs(h, 1, to);
    return to;
}

int kh_operand_node(nml_kh *h, kh_spec in, kh_spec operand, kh_spec out) {
    const int ti = spec_tensor(h, &in), tc = spec_tensor(h, &operand);
    kh_const(h, tc);
    const int to = spec_tensor(h, &out);
    kh_inputs(h, 2, ti, tc);
    kh_outputs(h, 1, to);
    return to;
}

int kh_binary_node(nml_kh *h, kh_spec a, kh_spec b, kh_spec out) {
    const int ta = spec_tensor(h, &a), tb = spec_tensor(h, &b), to = spec_tensor(h, &out);
    kh_inputs(h, 2, ta, tb);
    kh_outputs(h, 1, to);
    return to;
}

int kh_weighted_node(nml_kh *h, kh_spec in, kh_spec weights, kh_spec bias, kh_spec out) {
    const int ti = spec_tensor(h, &in), tw = spec_tensor(h, &weights);
    kh_const(h, tw);
    if (bias.data) {
        const int tb = spec_tensor(h, &bias);
        kh_const(h, tb);
        kh_inputs(h, 3, ti, tw, tb);
    } else {
        kh_inputs(h, 2, ti, tw);
    }
    const int to = spec_tensor(h, &out);
    kh_outputs(h, 1, to);
    return to;
}

nml_op_params kh_pool_params(int padding, int32_t filter_h, int32_t filter_w, int32_t stride_h,
                             int32_t stride_w, int activation) {
    nml_op_params p;
    nml_op_params_default(&p);
    p.padding = (uint8_t)padding;
    p.filter_h = filter_h;
    p.filter_w = filter_w;
    p.stride_h = stride_h;
    p.stride_w = stride_w;
    p.activation = (uint8_t)activation;
    return p;
}

void kh_pool_node(nml_kh *h, int type, const int32_t *in_dims, void *in, const int32_t *out_dims,
                  void *out, float scale, int32_t zp) {
    kh_unary_node(h, (kh_spec){type, 4, in_dims, in, scale, zp},
                  (kh_spec){type, 4, out_dims, out, scale, zp});
}

nml_status kh_run_pool(const nml_kernel *k, int type, const int32_t *in_dims, void *in,
                       const int32_t *out_dims, void *out, float scale, int32_t zp,
                       const nml_op_params *p) {
    nml_kh h;
    kh_init(&h);
    kh_pool_node(&h, type, in_dims, in, out_dims, out, scale, zp);
    const nml_status st = kh_run(&h, k, p);
    kh_free(&h);
    return st;
}
