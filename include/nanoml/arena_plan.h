/* An arena plan made at export time: where every activation tensor and every operator's
 * scratch lives in the activation region, written into the generated model C file by
 * `nanoml deploy --plan-at-export` (docs/deploy.md). An interpreter initialized with one does
 * not run the memory planner, so firmware that only uses nml_interpreter_init_planned() links
 * none of it.
 *
 * Trade (as TensorFlow Lite Micro's offline-planned memory): the device checks that every
 * buffer fits where the table puts it (a tensor's bytes and the scratch its kernel requests in
 * prepare are at most the planned size and end within the activation region; the region fits
 * the arena; every tensor an operator uses has a place), so a wrong table is refused, never a
 * write out of the arena. That buffers live at the same time do not overlap is the host
 * planner's guarantee: the table must come from the same model (same operator order) and the
 * same kernels. */
#ifndef NANOML_ARENA_PLAN_H
#define NANOML_ARENA_PLAN_H

#include <stddef.h>
#include <stdint.h>

#include "nanoml/runtime.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Offsets and sizes are in units of NML_PLAN_UNIT bytes, the planner's alignment: every
 * buffer starts on one, and the next buffer the planner places above it starts at or past its
 * size rounded up to one, so a planned size rounded up is still clear of it. 16 bits of units
 * reach offsets and sizes below 1 MiB (X-HEEP has at most 512 KiB of RAM); the export
 * refuses more. */
#define NML_PLAN_UNIT 16u
/* Offset of an unused activation tensor: it has no place in the activation region. */
#define NML_PLAN_NONE 0xffffu

/* One buffer: its offset inside the activation region and its planned size, in units. */
typedef struct nml_plan_buffer {
    uint16_t offset, size;
} nml_plan_buffer;

/* Variable tensors (TFLite's stateful tensors) need code to place and reset them; a plan made
 * for a model without any leaves this NULL, and that code is then not linked.
 * nml_plan_variables is that code; an interpreter refuses a model with variable tensors when
 * the plan has none. */
struct nml_plan_vars;
typedef struct nml_plan_vars nml_plan_vars;
extern const nml_plan_vars nml_plan_variables;

typedef struct nml_arena_plan {
    uint32_t n_tensors, n_nodes;   /* the model's: a table for another model is refused */
    uint32_t activation_bytes;     /* size of the activation region */
    uint32_t activation_min_bytes; /* the lower bound of any plan (see nml_interpreter) */
    /* n_buffers entries: one per activation tensor (neither constant nor variable), in tensor
     * order, offset NML_PLAN_NONE when no operator uses it; then one per operator whose kernel
     * requests scratch, in operator order. Constants and variables have none, which keeps the
     * table small (4 bytes a buffer). */
    uint32_t n_buffers;
    const nml_plan_buffer *buffers;
    const nml_plan_vars *variables; /* &nml_plan_variables, or NULL: the model has none */
} nml_arena_plan;

/* nml_interpreter_init() with the activation offsets taken from plan instead of planned. Fails
 * with NML_E_PLAN (the message names the tensor or operator and the numbers) when the plan is
 * for a different model (counts), has another number of buffers than the model's activations
 * and scratch requests, a buffer does not fit its planned place, or a tensor an operator uses
 * has none; NML_E_ARENA when the arena is too small (the exact need, as
 * nml_interpreter_init); NML_E_UNSUPPORTED when the model has variable tensors and
 * plan->variables is NULL. */
nml_status nml_interpreter_init_planned(nml_interpreter *it, const nml_model *model,
                                        const nml_op_resolver *ops, const nml_arena_plan *plan,
                                        void *arena, size_t arena_size, nml_error *err);

/* The plan of an initialized interpreter: its entries into buffers (at most cap of them, and
 * n_tensors + n_nodes always suffice; NML_E_ARG when they do not fit) and the counts and
 * figures into *plan (buffers and variables left alone). NML_E_LIMIT when the activations
 * exceed what 16-bit units reach. Host side of the export. */
nml_status nml_arena_plan_read(const nml_interpreter *it, nml_arena_plan *plan,
                               nml_plan_buffer *buffers, uint32_t cap, nml_error *err);

#ifdef __cplusplus
}
#endif
#endif
