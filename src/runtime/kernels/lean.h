/* The two ways out of an optimized kernel's prepare for a node it does not specialize: the full
 * kernel (nml_kernel_*_opt) hands the node to the reference kernel, its lean variants
 * (nml_kernel_*_opt_int8 and the like) refuse it, so that `nanoml export` falls back to the
 * full one for that operator. */
#ifndef NANOML_KERNELS_LEAN_H
#define NANOML_KERNELS_LEAN_H

#include "kernel.h"

/* The reference kernel ref evaluates this node from now on (node->kernel = ref; the caller
 * runs or has run ref's prepare). The node keeps no permission the resolver's kernel did not
 * give: when ref has flags (NML_KERNEL_IN_PLACE) the node's current kernel lacks, a copy of ref
 * without them is made in the persistent arena. */
nml_status nml_hand_over(nml_ctx *ctx, nml_node *node, const nml_kernel *ref);

/* NML_E_UNSUPPORTED with "OP: the lean kernel takes <takes> (link the full optimized or the
 * reference kernel)". */
nml_status nml_lean_refuse(nml_ctx *ctx, const nml_node *node, const char *takes);

#endif
