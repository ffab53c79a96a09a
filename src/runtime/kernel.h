/* The kernel interface (internal to the runtime). Each operator is one kernel file in
 * src/runtime/kernels/ exporting one `const nml_kernel nml_kernel_<name>` with a prepare/eval
 * split in the manner of TFLite Micro:
 *   prepare: runs once at init. Checks input/output counts, types and shapes (any inconsistency
 *            is an error here, never at eval), precomputes everything eval needs (requantization
 *            multipliers, per-channel tables, padding) into persistent data allocated with
 *            nml_ctx_alloc_persistent(), and requests scratch memory with nml_ctx_request_scratch().
 *            Activation tensors have no data yet during prepare (data == NULL, they are
 *            planned afterwards); constant tensors do.
 *   eval:    runs every invoke. No allocation, no validation that prepare could have done,
 *            no floating point in int8 paths, never reads or writes outside its tensors.
 * Kernels only see tensors through nml_ctx / nml_node, so unit tests can drive a kernel with
 * hand-built tensors (tests/unit/kernel_harness.h) without a flatbuffer. */
#ifndef NANOML_RUNTIME_KERNEL_H
#define NANOML_RUNTIME_KERNEL_H

#include <stddef.h>
#include <stdint.h>

#include "nanoml/ops.h"
#include "nanoml/runtime.h"
#include "nanoml/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The context a kernel sees: the tensor table plus an allocator for prepare. */
typedef struct nml_ctx {
    nml_tensor *tensors;
    uint32_t n_tensors;
    nml_error *err;           /* where prepare/eval put their message (may be NULL) */
    /* persistent bump allocator (used only during prepare) */
    uint8_t *persist_base;
    size_t persist_used, persist_cap;
    size_t persist_needed;    /* grows even when the cap is exceeded, to report the need */
    uint8_t *scratch_base;    /* set before eval: node scratch = scratch_base + node->scratch_offset */
} nml_ctx;

struct nml_node {
    const struct nml_kernel *kernel;
    const int32_t *inputs;    /* tensor indices, -1 = optional input absent */
    const int32_t *outputs;
    uint16_t n_inputs, n_outputs;
    int32_t builtin;          /* nml_op */
    uint32_t index;           /* position in execution order */
    void *data;               /* kernel's persistent data (from prepare) */
    uint32_t scratch_bytes;   /* requested in prepare, 0 = none */
    uint32_t scratch_offset;  /* planned arena offset of the scratch region */
    uint32_t op_table;        /* flatbuffer offset of the Operator table (0 in unit tests) */
};

typedef struct nml_kernel {
    int32_t builtin; /* nml_op */
    const char *name;
    nml_status (*prepare)(nml_ctx *ctx, nml_node *node, const nml_op_params *params);
    nml_status (*eval)(nml_ctx *ctx, nml_node *node);
    /* NML_KERNEL_IN_PLACE or 0 (the default when the initializer leaves it out). */
    uint8_t flags;
} nml_kernel;

/* In-place contract. A kernel with this flag promises that eval gives bit-identical results
 * when its (single) output's data is the data of one of its inputs of the same byte size: it
 * never reads a byte of that input after writing the output byte at the same address (e.g. it
 * walks both in the same element order and reads element i before writing element i, or
 * reads a whole block before writing it), on every type and broadcast path its prepare
 * accepts. The planner then may give the output the buffer of such an input whose lifetime
 * ends at this operator (never a subgraph input or output, never a buffer a view still uses),
 * which saves that buffer's bytes. Default off: leave it off unless the eval code has been
 * read for this (scratch-free element-wise kernels: RELU, LOGISTIC, ADD, ...). Views
 * (RESHAPE, SQUEEZE, EXPAND_DIMS) do not need it: they always share their input's buffer. */
#define NML_KERNEL_IN_PLACE 1u

/* Input/output i of a node; NULL when the index is out of range or the optional input is
 * absent (-1). */
nml_tensor *nml_node_input(nml_ctx *ctx, const nml_node *node, uint32_t i);
nml_tensor *nml_node_output(nml_ctx *ctx, const nml_node *node, uint32_t i);

/* 8-byte aligned, zeroed; NULL when the arena is exhausted (prepare then returns NML_E_ARENA,
 * which the interpreter turns into a message with the needed size). */
void *nml_ctx_alloc_persistent(nml_ctx *ctx, size_t bytes);
/* Scratch memory live only while this node runs; get it in eval with nml_ctx_scratch(). */
nml_status nml_ctx_request_scratch(nml_ctx *ctx, nml_node *node, size_t bytes);
void *nml_ctx_scratch(nml_ctx *ctx, const nml_node *node);

/* Uniform prepare-time checks with messages naming the operator, e.g.
 * "CONV_2D: input 0 has type float32, expected int8". */
nml_status nml_check_io_count(nml_ctx *ctx, const nml_node *node, uint32_t min_in, uint32_t max_in,
                              uint32_t n_out);
/* nml_check_io_count(min_in..max_in inputs, one output), then the node's tensors in one call:
 * t[0 .. max_in - 1] its inputs (NULL when absent or past its inputs), t[max_in] its output
 * (present and not constant: checked). Prepares are most of the runtime's once-per-model
 * code, and one call costs less than a lookup per tensor. */
nml_status nml_node_io(nml_ctx *ctx, const nml_node *node, uint32_t min_in, uint32_t max_in,
                       nml_tensor **t);

/* A prepare body compiled into each of its callers (a reference kernel's prepare and an
 * optimized kernel's lean variant), so that arguments constant there fold away the branches
 * that caller does not take, and both accept and reject the same nodes. */
#ifndef NML_SETUP_INLINE
#if defined(__GNUC__)
#define NML_SETUP_INLINE static inline __attribute__((always_inline))
#else
#define NML_SETUP_INLINE static inline
#endif
#endif
nml_status nml_check_type(nml_ctx *ctx, const nml_node *node, const nml_tensor *t,
                          const char *what, int expected_type);
nml_status nml_check_rank(nml_ctx *ctx, const nml_node *node, const nml_tensor *t,
                          const char *what, int rank);
nml_status nml_check_same_shape(nml_ctx *ctx, const nml_node *node, const nml_tensor *a,
                                const nml_tensor *b, const char *what_a, const char *what_b);
/* Any other prepare failure: "OPNAME: <message>". */
nml_status nml_kernel_fail(nml_ctx *ctx, const nml_node *node, nml_status st, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;
#ifdef NML_COMPACT_ERRORS
/* The names of tensors that only error messages use are not passed (a null pointer costs less
 * code than a string's address); the definitions are written (nml_check_type)(...) so that
 * these macros leave them alone. */
#define nml_check_type(ctx, node, t, what, type) nml_check_type(ctx, node, t, NULL, type)
#define nml_check_rank(ctx, node, t, what, rank) nml_check_rank(ctx, node, t, NULL, rank)
#define nml_check_same_shape(ctx, node, a, b, what_a, what_b)                                      \
    nml_check_same_shape(ctx, node, a, b, NULL, NULL)
/* Only the status: the interpreter, which cleared the error before prepare or eval, records it
 * with "operator N: " and the status's name when the kernel returns (failed_in_node). */
#define nml_kernel_fail(ctx, node, st, ...)                                                        \
    ((void)(ctx), (void)(node), NML_COMPACT_MESSAGE_(__VA_ARGS__), (st))
#endif

#ifdef __cplusplus
}
#endif
#endif
