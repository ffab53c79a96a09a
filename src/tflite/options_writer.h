/* Writes an operator's builtin options table (internal to the .tflite writer). */
#ifndef NML_TFLITE_OPTIONS_WRITER_H
#define NML_TFLITE_OPTIONS_WRITER_H

#include <stdint.h>

#include "nanoml/ir.h"
#include "tflite/fb_builder.h"

/* Builds the options table for op (outside any open table) and sets *type to its BuiltinOptions
 * union id. Returns 0 with *type = 0 for operators without options. */
nml_fbb_ref nml_tfl_write_options(nml_fbb *b, const nml_ir *ir, const nml_ir_op *op, uint8_t *type);

#endif
