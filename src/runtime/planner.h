/* Activation memory planning (internal to the runtime). */
#ifndef NANOML_RUNTIME_PLANNER_H
#define NANOML_RUNTIME_PLANNER_H

#include "kernel.h"

/* Sets first_use/last_use of every activation from the execution order (subgraph inputs live
 * from the start, outputs to the end) and marks the tensors to plan with NML_ALLOC_ARENA.
 * Constant and variable tensors are left alone; unused activations keep NML_ALLOC_NONE.
 * Activations' arena_offset holds 1 for a subgraph input, 2 for an output (or both) until
 * nml_plan_offsets places them.
 * Fails when an operator reads an activation nothing wrote before it. */
nml_status nml_plan_lifetimes(const nml_model *m, nml_tensor *tensors, uint32_t n_tensors,
                              const nml_node *nodes, uint32_t n_nodes, nml_error *err);

/* Buffers shared between tensors, decided in execution order:
 * - views: the output of a RESHAPE, SQUEEZE or EXPAND_DIMS holds exactly its input's bytes, so
 *   it is given its input's buffer (the kernel's copy becomes a no-op);
 * - in place: the output of a kernel flagged NML_KERNEL_IN_PLACE (kernel.h) takes the buffer
 *   of its first input of the same byte size whose last use is this operator, unless that
 *   buffer holds a subgraph input or output.
 * A shared buffer lives from the first use of one tensor to the last use of the other.
 * Marks such outputs so that nml_plan_offsets skips them and nml_plan_resolve_aliases places
 * them afterwards. Only outputs the node writes first (after nml_plan_lifetimes: first_use ==
 * the node) are aliased, so no buffer is ever both a root and an alias. Needs the subgraph
 * input/output marks nml_plan_lifetimes leaves in arena_offset. Returns the number of aliased
 * tensors. */
uint32_t nml_plan_aliases(nml_tensor *tensors, uint32_t n_tensors, const nml_node *nodes,
                          uint32_t n_nodes);
void nml_plan_resolve_aliases(nml_tensor *tensors, uint32_t n_tensors);

/* Greedy offset planner. Buffers are the NML_ALLOC_ARENA tensors (live first_use..last_use)
 * and each node's scratch (live while the node runs). Largest first (ties: lower index,
 * tensors before scratch), each at the lowest 16-aligned offset that overlaps no placed buffer
 * with an overlapping lifetime. Writes tensor arena_offset / node scratch_offset and returns
 * the end of the highest buffer in *bytes and, in *min_bytes, the lower bound of any plan of
 * this order and these shared buffers: max over operators of the bytes of the distinct
 * buffers live while it runs (a shared buffer counts once) plus its scratch. work:
 * nml_plan_work_bytes() of 4-byte aligned temporary memory (a list of the placed buffers by offset,
 * which keeps planning quadratic in the number of buffers). */
nml_status nml_plan_offsets(nml_tensor *tensors, uint32_t n_tensors, nml_node *nodes,
                            uint32_t n_nodes, uint32_t *work, uint64_t *bytes, uint64_t *min_bytes,
                            nml_error *err);
/* Bytes of work memory nml_plan_offsets needs: 4 per non-empty buffer to plan. */
uint64_t nml_plan_work_bytes(nml_tensor *tensors, uint32_t n_tensors, nml_node *nodes,
                             uint32_t n_nodes);

#define NML_PLAN_ALIGN 16u

#endif
