/* The table of every kernel the runtime has: nml_ops_all(). The kernel branches add their
 * entries here (one line each, any order); NULL entries are skipped by the lookup. */
#include "kernels/kernels.h"

static const nml_kernel *const all_kernels[] = {
    NULL, /* keeps the table non-empty before the first kernel is listed */
};

static const nml_op_resolver all_ops = {all_kernels,
                                        (uint32_t)(sizeof all_kernels / sizeof all_kernels[0])};

const nml_op_resolver *nml_ops_all(void) {
    return &all_ops;
}
