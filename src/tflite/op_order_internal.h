/* The operator graph the order search works on (internal to src/tflite/op_order*.c).
 * Buffers are what the runtime planner allocates: an activation tensor, together with the
 * outputs of the views (RESHAPE, SQUEEZE, EXPAND_DIMS) that share its bytes. Which buffers an
 * in-place kernel may write into depends on the order, so it is decided per step. */
#ifndef NANOML_TFLITE_OP_ORDER_INTERNAL_H
#define NANOML_TFLITE_OP_ORDER_INTERNAL_H

#include <stdint.h>

#include "nanoml/op_order.h"

#define OG_NONE UINT32_MAX

typedef struct og_list {
    uint32_t *start; /* n + 1 entries: item i has idx[start[i] .. start[i + 1]) */
    uint32_t *idx;
} og_list;

typedef struct og {
    uint32_t n_ops, n_bufs, words; /* words: 64-bit words of a set of operators */
    uint64_t *buf_bytes;
    uint8_t *buf_io;      /* OG_IN / OG_OUT: holds a subgraph input / output */
    og_list consumers;    /* per buffer: the distinct operators that read it */
    og_list ins;          /* per operator: the distinct buffers it reads */
    og_list outs;         /* per operator: the buffers it creates */
    og_list preds;        /* per operator: the distinct operators it must follow */
    og_list cands;        /* per operator: buffers an in-place output may take */
    uint64_t *scratch;    /* per operator */
    uint64_t *in_place;   /* per operator: bytes saved when a candidate dies there, else 0 */
    uint64_t start_bytes; /* subgraph inputs nothing reads: live at the first step only */
} og;

#define OG_IN 1u
#define OG_OUT 2u

/* Builds the graph from an initialized interpreter. *fixed_why is set (and the graph left
 * empty) when the order must not change: variable tensors, a tensor written twice, ... */
nml_status og_build(og *g, const nml_interpreter *it, const char **fixed_why, nml_error *err);
void og_free(og *g);

static inline int og_has(const uint64_t *set, uint32_t v) {
    return (int)((set[v >> 6] >> (v & 63)) & 1u);
}
static inline void og_add(uint64_t *set, uint32_t v) {
    set[v >> 6] |= (uint64_t)1 << (v & 63);
}

/* 1 when every operator v must follow is in done. */
int og_ready(const og *g, const uint64_t *done, uint32_t v);
/* Runs v after the operators in done (v not among them): returns the bytes live while it runs
 * and updates *live (the bytes live between operators) to the value after it. first: done is
 * empty. */
uint64_t og_step(const og *g, const uint64_t *done, int first, uint32_t v, uint64_t *live);
/* Bytes live before the first operator (subgraph inputs that are read or are outputs). */
uint64_t og_initial_live(const og *g);
/* Lower bound of a complete order; OG_NONE-free permutation checked, NML_E_ARG otherwise. */
nml_status og_order_peak(const og *g, const uint32_t *order, uint32_t n, uint64_t *peak,
                         nml_error *err);

/* Greedy order into order (n_ops entries), its lower bound in *peak. */
nml_status og_greedy(const og *g, uint32_t *order, uint64_t *peak, nml_error *err);
/* Exact search below or at bound: on success (*found) order and *peak hold an optimal order;
 * *exhausted when max_states were not enough (order then untouched). */
nml_status og_exact(const og *g, uint64_t bound, uint64_t max_states, uint32_t *order,
                    uint64_t *peak, uint64_t *states, int *exhausted, nml_error *err);

#endif
