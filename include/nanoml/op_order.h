/* Operator order: the topological order of subgraph 0's operators that needs the fewest
 * activation bytes, and the .tflite rewritten to run in it. Host only (uses malloc).
 *
 *   nml_reorder_result r;  uint8_t *bytes; size_t size;
 *   nml_reorder_model(data, n, nml_ops_all(), NULL, &bytes, &size, &r, &err);
 *   ... r.applied ? bytes : data ...   free(bytes); nml_reorder_result_free(&r);
 *
 * The metric is the runtime planner's lower bound for an order (nml_interpreter's
 * activation_min_bytes): the most bytes of distinct activation buffers live while one operator
 * runs, plus that operator's scratch, with the runtime's own lifetime and sharing rules (subgraph
 * inputs live from the start, outputs to the end; views share their input's buffer; a kernel
 * flagged in-place writes into an input that dies there). The greedy offset planner's result
 * (activation_bytes) is at or just above it. Reordering changes nothing else: the operators
 * vector of the flatbuffer is permuted in place, tensors, buffers and every other byte stay, and
 * every kernel computes the same bytes, so outputs are bit-identical. */
#ifndef NANOML_OP_ORDER_H
#define NANOML_OP_ORDER_H

#include <stddef.h>
#include <stdint.h>

#include "nanoml/runtime.h"
#include "nanoml/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum nml_order_method {
    NML_ORDER_EXACT = 0,  /* the minimum over every topological order (exhaustive search) */
    NML_ORDER_GREEDY = 1, /* the exact search hit its state limit: best of greedy and original */
    NML_ORDER_FIXED = 2   /* the graph may not be reordered (variables, ...): original order */
} nml_order_method;

/* Default limit of the exact search: sets of executed operators it may keep. */
#define NML_ORDER_MAX_STATES 1000000u

typedef struct nml_order_options {
    uint64_t max_states; /* 0: NML_ORDER_MAX_STATES */
} nml_order_options;

typedef struct nml_op_order {
    uint32_t n_ops;
    uint32_t *order;        /* order[k]: original index of the operator run k-th (owned) */
    uint64_t original_peak; /* lower bound of the model's own order */
    uint64_t peak;          /* lower bound of `order` (never above original_peak) */
    nml_order_method method;
    uint64_t states; /* distinct sets of executed operators the exact search kept */
    char note[160];  /* why the search was not exact, or "" */
} nml_op_order;

/* Plans the model with ops (kernel scratch sizes and in-place flags come from the kernels)
 * and searches the order with the smallest lower bound: exhaustive over the sets of executed
 * operators (dynamic programming; bounded by the greedy order's value), falling back to the
 * best of a greedy order and the original when more than max_states sets are needed.
 * Free with nml_op_order_free(). */
nml_status nml_order_search(const nml_model *model, const nml_op_resolver *ops,
                            const nml_order_options *opts, nml_op_order *result, nml_error *err);
/* The lower bound of running the operators in `order` (n = the model's operator count);
 * NML_E_ARG when it is not a permutation or an operator would run before an input's producer. */
nml_status nml_order_peak(const nml_model *model, const nml_op_resolver *ops, const uint32_t *order,
                          uint32_t n, uint64_t *peak, nml_error *err);
void nml_op_order_free(nml_op_order *o);
/* 1 when order[k] == k for every k. */
int nml_order_is_identity(const nml_op_order *o);

/* The .tflite with subgraph 0's operators permuted (operator k of the result is operator
 * order[k] of the input): a malloc'd copy of the same size in which only the offsets of the
 * operators vector differ. The result is verified by loading it. */
nml_status nml_tflite_reorder(const uint8_t *data, size_t size, const uint32_t *order, uint32_t n,
                              uint8_t **out, nml_error *err);

typedef struct nml_reorder_result {
    nml_op_order order;
    /* the runtime's plan (with ops) of the model as given and of the reordered one */
    size_t original_activations, original_bound, original_arena;
    size_t chosen_activations, chosen_bound, chosen_arena;
    int applied; /* 1: *out is the reordered model (it plans fewer activation bytes) */
} nml_reorder_result;

/* Searches the order and rewrites the model when the runtime then plans fewer activation
 * bytes; otherwise *out is a copy of data (applied = 0, chosen_* = original_*). */
nml_status nml_reorder_model(const uint8_t *data, size_t size, const nml_op_resolver *ops,
                             const nml_order_options *opts, uint8_t **out, size_t *out_size,
                             nml_reorder_result *result, nml_error *err);
void nml_reorder_result_free(nml_reorder_result *r);
const char *nml_order_method_name(nml_order_method m);

#ifdef __cplusplus
}
#endif
#endif
