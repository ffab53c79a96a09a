/* The runtime's compile-time trims (NML_NO_*) a model allows: one list, so nanoml deploy's
 * firmware and the X-HEEP application's make fragment cannot drift apart. */
#include "nanoml/deploy.h"

void nml_fw_options_trim_for(nml_fw_options *o, const nml_model_info *info) {
    o->no_packed_weights = info->n_packed == 0;
    o->no_options_extra = !nml_model_info_has_options_extra(info);
    o->no_custom_ops = !nml_model_info_has_custom_ops(info);
    o->no_variables = info->n_variables == 0;
    o->no_int4 = info->n_int4 == 0;
}

size_t nml_fw_trim_defines(const nml_fw_options *o, const char *out[NML_FW_TRIMS]) {
    size_t n = 0;
    if (o->no_packed_weights) out[n++] = "-DNML_NO_PACKED_WEIGHTS"; /* src/runtime/packed_weak.h */
    if (o->no_options_extra) out[n++] = "-DNML_NO_OPTIONS_EXTRA";   /* options.c */
    if (o->no_custom_ops) out[n++] = "-DNML_NO_CUSTOM_OPS";         /* interpreter.c */
    if (o->no_variables) out[n++] = "-DNML_NO_VARIABLES";           /* model.c, interpreter.c */
    if (o->no_int4) out[n++] = "-DNML_NO_INT4"; /* model.c, types.c, kernels/conv_setup.c */
    return n;
}
