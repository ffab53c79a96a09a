#include "lean.h"

nml_status nml_lean_refuse(nml_ctx *ctx, const nml_node *node, const char *takes) {
    return nml_kernel_fail(ctx, node, NML_E_UNSUPPORTED,
                           "the lean kernel takes %s (link the full optimized or the reference "
                           "kernel)",
                           takes);
}
