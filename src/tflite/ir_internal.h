/* Helpers shared by the IR files in src/tflite/ (not public API). */
#ifndef NML_TFLITE_IR_INTERNAL_H
#define NML_TFLITE_IR_INTERNAL_H

#include <stddef.h>

#include "nanoml/status.h"

char *nml_ir_strdup(const char *s);
void *nml_ir_memdup(const void *p, size_t n);
/* Checks a tensor's packed-weights record against its type, shape and data, and walks the
 * data once (the runtime's own checks, packed.h). */
struct nml_ir_tensor;
nml_status nml_ir_check_packed(const struct nml_ir_tensor *t, nml_error *err);
/* 1 for the nml_dtype values nanoml knows. */
int nml_ir_dtype_known(int type);

#endif
