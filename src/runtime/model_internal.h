/* Shared by the runtime's model reader (model.c) and options decoder (options.c). */
#ifndef NANOML_RUNTIME_MODEL_INTERNAL_H
#define NANOML_RUNTIME_MODEL_INTERNAL_H

#include "fb.h"
#include "nanoml/runtime.h"
#include "outline.h"

/* The flatbuffer view of a loaded model. */
static inline nml_fb nml_model_fb(const nml_model *m) {
    nml_fb fb = {m->data, (uint32_t)m->size};
    return fb;
}

/* Decodes the builtin options of the Operator table op of an operator with the given builtin
 * code into *p, which holds the defaults (nml_op_params_default) and keeps them for what is
 * absent. Errors are not prefixed. */
nml_status nml_decode_options(const nml_fb *fb, const nml_fb_table *op, int32_t builtin,
                              nml_op_params *p, nml_error *err);

#endif
