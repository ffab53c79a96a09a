/* Reading an interpreter's arena plan, for the export (nanoml/arena_plan.h). Firmware that
 * does not call it links none of it. */
#include "nanoml/arena_plan.h"
#include "kernel.h"

#define MAX_UNITS 0xfffeu /* NML_PLAN_NONE excluded */

/* bytes at offset in units (the offset is aligned: the planner's), 0 when they do not fit. */
static int to_units(uint32_t offset, uint32_t bytes, nml_plan_buffer *b) {
    uint32_t size = bytes / NML_PLAN_UNIT + (bytes % NML_PLAN_UNIT != 0);
    if (offset % NML_PLAN_UNIT || offset / NML_PLAN_UNIT > MAX_UNITS || size > MAX_UNITS) return 0;
    b->offset = (uint16_t)(offset / NML_PLAN_UNIT);
    b->size = (uint16_t)size;
    return 1;
}

nml_status nml_arena_plan_read(const nml_interpreter *it, nml_arena_plan *plan,
                               nml_plan_buffer *buffers, uint32_t cap, nml_error *err) {
    if (!it || it->ready != 1 || !plan || !buffers)
        return nml_fail(err, NML_E_ARG, "no initialized interpreter or no plan to fill");
    if (it->activation_bytes > UINT32_MAX || it->activation_min_bytes > UINT32_MAX)
        return nml_fail(err, NML_E_LIMIT, "activations of %zu bytes exceed 4 GiB",
                        it->activation_bytes);
    uint32_t n = 0;
    for (uint32_t i = 0; i < it->n_tensors + it->n_nodes; i++) {
        nml_plan_buffer b = {NML_PLAN_NONE, 0};
        int fits = 1;
        if (i < it->n_tensors) {
            const nml_tensor *t = &it->tensors[i];
            if (t->alloc == NML_ALLOC_CONST || t->alloc == NML_ALLOC_PERSIST) continue;
            if (t->alloc == NML_ALLOC_ARENA) fits = to_units(t->arena_offset, t->bytes, &b);
        } else {
            const nml_node *node = &it->nodes[i - it->n_tensors];
            if (!node->scratch_bytes) continue;
            fits = to_units(node->scratch_offset, node->scratch_bytes, &b);
        }
        if (!fits)
            return nml_fail(err, NML_E_LIMIT,
                            "activations of %zu bytes: an export-time plan's offsets and sizes "
                            "reach %lu bytes",
                            it->activation_bytes, (unsigned long)MAX_UNITS * NML_PLAN_UNIT);
        if (n == cap)
            return nml_fail(err, NML_E_ARG, "the plan has more than %lu buffers",
                            (unsigned long)cap);
        buffers[n++] = b;
    }
    plan->n_tensors = it->n_tensors;
    plan->n_nodes = it->n_nodes;
    plan->n_buffers = n;
    plan->activation_bytes = (uint32_t)it->activation_bytes;
    plan->activation_min_bytes = (uint32_t)it->activation_min_bytes;
    return NML_OK;
}
