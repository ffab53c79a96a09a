/* The refusal of the optimized kernels' lean variants (nml_kernel_*_opt_int8 and the like):
 * they reject at prepare the nodes their full kernel would hand to the reference kernel, so
 * that `nanoml export` falls back to the full one for that operator. One function for all of
 * them: the message is the only thing that differs. */
#ifndef NANOML_KERNELS_LEAN_H
#define NANOML_KERNELS_LEAN_H

#include "kernel.h"

/* NML_E_UNSUPPORTED with "OP: the lean kernel takes <takes> (link the full optimized or the
 * reference kernel)". */
nml_status nml_lean_refuse(nml_ctx *ctx, const nml_node *node, const char *takes);

#endif
