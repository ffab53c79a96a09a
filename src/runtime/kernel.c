/* Services the interpreter gives kernels: tensor lookup, memory, uniform prepare-time checks. */
#include "kernel.h"

#include <string.h>

#include "outline.h"

/* a negative index (an absent optional tensor) is past n_tensors as unsigned: one compare */
static nml_tensor *tensor_at(nml_ctx *ctx, int32_t index) {
    if ((uint32_t)index >= ctx->n_tensors) return NULL;
    return &ctx->tensors[index];
}

nml_tensor *nml_node_input(nml_ctx *ctx, const nml_node *node, uint32_t i) {
    if (i >= node->n_inputs) return NULL;
    return tensor_at(ctx, node->inputs[i]);
}

nml_tensor *nml_node_output(nml_ctx *ctx, const nml_node *node, uint32_t i) {
    if (i >= node->n_outputs) return NULL;
    return tensor_at(ctx, node->outputs[i]);
}

void *nml_ctx_alloc_persistent(nml_ctx *ctx, size_t bytes) {
    size_t start = (ctx->persist_needed + 7u) & ~(size_t)7u;
    if (bytes > (size_t)-1 - start) return NULL;
    ctx->persist_needed = start + bytes;
    if (!ctx->persist_base || ctx->persist_needed > ctx->persist_cap) return NULL;
    ctx->persist_used = ctx->persist_needed;
    void *p = ctx->persist_base + start;
    memset(p, 0, bytes);
    return p;
}

nml_status nml_ctx_request_scratch(nml_ctx *ctx, nml_node *node, size_t bytes) {
    if (bytes > NML_MAX_TENSOR_BYTES)
        return nml_kernel_fail(ctx, node, NML_E_LIMIT, "scratch of %zu bytes exceeds the limit",
                               bytes);
    node->scratch_bytes = (uint32_t)bytes;
    return NML_OK;
}

void *nml_ctx_scratch(nml_ctx *ctx, const nml_node *node) {
    if (!node->scratch_bytes || !ctx->scratch_base) return NULL;
    return ctx->scratch_base + node->scratch_offset;
}

#ifndef NML_COMPACT_ERRORS /* compact: a macro (kernel.h) */
static const char *node_name(const nml_node *node) {
    return node->kernel && node->kernel->name ? node->kernel->name : nml_op_name(node->builtin);
}

nml_status nml_kernel_fail(nml_ctx *ctx, const nml_node *node, nml_status st, const char *fmt,
                           ...) {
    nml_error *err = ctx->err;
    if (!err) return st;
    /* "NAME: " and then the message, formatted in place */
    size_t n = nml_format(err->msg, sizeof err->msg, "%s: ", node_name(node));
    err->status = st;
    va_list ap;
    va_start(ap, fmt);
    nml_vformat(err->msg + n, sizeof err->msg - n, fmt, ap);
    va_end(ap);
    return st;
}
#endif

nml_status nml_check_io_count(nml_ctx *ctx, const nml_node *node, uint32_t min_in,
                              uint32_t max_in, uint32_t n_out) {
    if (node->n_inputs < min_in || node->n_inputs > max_in) {
        if (min_in == max_in)
            return nml_kernel_fail(ctx, node, NML_E_FORMAT, "has %u inputs, expected %u",
                                   (unsigned)node->n_inputs, (unsigned)min_in);
        return nml_kernel_fail(ctx, node, NML_E_FORMAT, "has %u inputs, expected %u to %u",
                               (unsigned)node->n_inputs, (unsigned)min_in, (unsigned)max_in);
    }
    if (node->n_outputs != n_out)
        return nml_kernel_fail(ctx, node, NML_E_FORMAT, "has %u outputs, expected %u",
                               (unsigned)node->n_outputs, (unsigned)n_out);
    for (uint32_t i = 0; i < node->n_outputs; i++) {
        nml_tensor *t = nml_node_output(ctx, node, i);
        if (!t || t->alloc == NML_ALLOC_CONST)
            return nml_kernel_fail(ctx, node, NML_E_FORMAT, "output %u is %s", (unsigned)i,
                                   t ? "a constant tensor" : "missing");
    }
    return NML_OK;
}

nml_status nml_node_io(nml_ctx *ctx, const nml_node *node, uint32_t min_in, uint32_t max_in,
                       nml_tensor **t) {
    NML_TRY(nml_check_io_count(ctx, node, min_in, max_in, 1));
    for (uint32_t i = 0; i < max_in; i++)
        t[i] = nml_node_input(ctx, node, i);
    t[max_in] = nml_node_output(ctx, node, 0);
    return NML_OK;
}

/* (name)(...): compact-error builds define a macro of the same name (kernel.h) */
nml_status(nml_check_type)(nml_ctx *ctx, const nml_node *node, const nml_tensor *t,
                          const char *what, int expected_type) {
    if (!t) return nml_kernel_fail(ctx, node, NML_E_FORMAT, "%s is missing", what);
    if (t->type != expected_type)
        return nml_kernel_fail(ctx, node, NML_E_UNSUPPORTED, "%s has type %s, expected %s", what,
                               nml_dtype_name(t->type), nml_dtype_name(expected_type));
    return NML_OK;
}

nml_status(nml_check_rank)(nml_ctx *ctx, const nml_node *node, const nml_tensor *t,
                          const char *what, int rank) {
    if (!t) return nml_kernel_fail(ctx, node, NML_E_FORMAT, "%s is missing", what);
    if (t->rank != rank)
        return nml_kernel_fail(ctx, node, NML_E_SHAPE, "%s has rank %u, expected %d", what,
                               (unsigned)t->rank, rank);
    return NML_OK;
}

/* not inlined: LTO would copy it into every prepare (FastestDet: 44 B more) */
NML_OUTLINE nml_status(nml_check_same_shape)(nml_ctx *ctx, const nml_node *node,
                                             const nml_tensor *a, const nml_tensor *b,
                                             const char *what_a, const char *what_b) {
    int same = a->rank == b->rank;
    for (uint32_t i = 0; same && i < a->rank; i++) same = a->dims[i] == b->dims[i];
    if (same) return NML_OK;
    char sa[80], sb[80];
    if (NML_ERROR_DETAIL) {
        nml_format_shape(sa, sizeof sa, a);
        nml_format_shape(sb, sizeof sb, b);
    }
    return nml_kernel_fail(ctx, node, NML_E_SHAPE, "%s shape %s does not match %s shape %s",
                           what_a, sa, what_b, sb);
}
