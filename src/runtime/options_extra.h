/* The options fields that only a few operators have: int lists (RESHAPE's new_shape, SQUEEZE's
 * squeeze_dims) and TensorType bytes (CAST, ARG_MAX, SHAPE). In firmware builds (compile
 * definition NML_OPTIONS_BY_KERNELS: `nanoml deploy`, the X-HEEP application's nanoml.mk) the
 * options decoder (options.c) reaches their reader (options_extra.c) through a weak reference,
 * so a static link takes it only where something references it strongly: the kernels whose
 * operators have such fields (NML_LINK_OPTIONS_EXTRA in reshape.c, squeeze.c). Firmware whose
 * resolver has none of those kernels carries no code for these fields, and its loader refuses
 * an operator with them as unsupported: it is one the resolver could not run either. Every
 * other build (the host library and tools) reads every operator's options. */
#ifndef NANOML_RUNTIME_OPTIONS_EXTRA_H
#define NANOML_RUNTIME_OPTIONS_EXTRA_H

#include <stdint.h>

#include "fb.h"
#include "nanoml/runtime.h"

enum nml_option_field_kind {
    NML_F_U8,         /* bool / ubyte */
    NML_F_PADDING,    /* ubyte, SAME or VALID */
    NML_F_ACTIVATION, /* ubyte, a fused activation */
    NML_F_MIRROR,     /* ubyte, REFLECT or SYMMETRIC */
    NML_F_I32,        /* int, or float bits (the float defaults are 0.0) */
    NML_F_TYPE,       /* byte TensorType into an int32; without a table it stays -1 */
    NML_F_LIST        /* [int] of at most NML_MAX_RANK into an int32 count and the array after it */
};

typedef struct nml_option_field {
    uint8_t id;     /* field id in the options table */
    uint8_t kind;   /* enum nml_option_field_kind */
    uint8_t offset; /* inside nml_op_params (NML_F_LIST: of the count) */
    int8_t def;     /* schema default */
} nml_option_field;

/* Field f (NML_F_TYPE or NML_F_LIST) of the options table t into params. */
nml_status nml_options_read_extra(const nml_fb *fb, const nml_fb_table *t,
                                  const nml_option_field *f, uint8_t *params, nml_error *err);

typedef nml_status (*nml_options_extra_fn)(const nml_fb *, const nml_fb_table *,
                                           const nml_option_field *, uint8_t *, nml_error *);
/* A strong reference that links the reader (one per file that needs it). */
#define NML_LINK_OPTIONS_EXTRA(name) const nml_options_extra_fn name = nml_options_read_extra

#endif
