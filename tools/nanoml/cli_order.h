/* The operator-order step shared by `nanoml export` and `nanoml deploy`. */
#ifndef NANOML_CLI_ORDER_H
#define NANOML_CLI_ORDER_H

#include <stddef.h>
#include <stdint.h>

#include "nanoml/op_order.h"

/* Searches the order that needs the fewest activation bytes for the kernel set (nml_kernel_set)
 * and, when the runtime then plans fewer bytes, replaces *data (malloc'd, *size bytes) with
 * the reordered model. Prints "activation peak: original order N B -> chosen order M B (...)".
 * Returns 0, or 1 after printing "nanoml CMD: ..." on an error. */
int cli_reorder(const char *cmd, const char *model_path, int kernels, uint8_t **data, size_t *size);
/* The line describing r (no newline). */
void cli_print_order(const nml_reorder_result *r);

#endif
