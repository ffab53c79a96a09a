/* Helpers shared by the IR files in src/tflite/ (not public API). */
#ifndef NML_TFLITE_IR_INTERNAL_H
#define NML_TFLITE_IR_INTERNAL_H

#include <stddef.h>

char *nml_ir_strdup(const char *s);
void *nml_ir_memdup(const void *p, size_t n);
/* 1 for the nml_dtype values nanoml knows. */
int nml_ir_dtype_known(int type);

#endif
