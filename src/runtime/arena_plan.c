/* Reading an interpreter's arena plan, for the export (nanoml/arena_plan.h). Firmware that
 * does not call it links none of it. */
#include "nanoml/arena_plan.h"
#include "kernel.h"

static nml_plan_buffer tensor_place(const nml_tensor *t) {
    nml_plan_buffer b = {NML_PLAN_NONE, 0};
    if (t->alloc == NML_ALLOC_ARENA) {
        b.offset = t->arena_offset;
        b.bytes = t->bytes;
    }
    return b;
}

static nml_plan_buffer scratch_place(const nml_node *n) {
    nml_plan_buffer b = {NML_PLAN_NONE, 0};
    if (n->scratch_bytes) {
        b.offset = n->scratch_offset;
        b.bytes = n->scratch_bytes;
    }
    return b;
}

nml_status nml_arena_plan_read(const nml_interpreter *it, nml_arena_plan *plan,
                               nml_plan_buffer *buffers, uint32_t cap, nml_error *err) {
    if (!it || it->ready != 1 || !plan || !buffers)
        return nml_fail(err, NML_E_ARG, "no initialized interpreter or no plan to fill");
    if (cap < it->n_tensors || cap - it->n_tensors < it->n_nodes)
        return nml_fail(err, NML_E_ARG, "plan of %lu buffers, the model has %lu",
                        (unsigned long)cap, (unsigned long)it->n_tensors + it->n_nodes);
    if (it->activation_bytes > UINT32_MAX || it->activation_min_bytes > UINT32_MAX)
        return nml_fail(err, NML_E_LIMIT, "activations of %zu bytes exceed 4 GiB",
                        it->activation_bytes);
    for (uint32_t i = 0; i < it->n_tensors; i++)
        buffers[i] = tensor_place(&it->tensors[i]);
    for (uint32_t i = 0; i < it->n_nodes; i++)
        buffers[it->n_tensors + i] = scratch_place(&it->nodes[i]);
    plan->n_tensors = it->n_tensors;
    plan->n_nodes = it->n_nodes;
    plan->activation_bytes = (uint32_t)it->activation_bytes;
    plan->activation_min_bytes = (uint32_t)it->activation_min_bytes;
    return NML_OK;
}
