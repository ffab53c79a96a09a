#include "lean.h"

nml_status nml_hand_over(nml_ctx *ctx, nml_node *node, const nml_kernel *ref) {
    const uint8_t flags = (uint8_t)(ref->flags & node->kernel->flags);
    if (flags != ref->flags) {
        nml_kernel *k = nml_ctx_alloc_persistent(ctx, sizeof *k);
        if (!k) return nml_kernel_fail(ctx, node, NML_E_ARENA, "no arena left for kernel data");
        *k = *ref;
        k->flags = flags;
        ref = k;
    }
    node->kernel = ref;
    return NML_OK;
}

nml_status nml_lean_refuse(nml_ctx *ctx, const nml_node *node, const char *takes) {
    return nml_kernel_fail(ctx, node, NML_E_UNSUPPORTED,
                           "the lean kernel takes %s (link the full optimized or the reference "
                           "kernel)",
                           takes);
}
