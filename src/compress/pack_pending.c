/* Stand-in for the weight packer (include/nanoml/pack.h), which is being written on another
 * branch: every call answers NML_E_UNSUPPORTED, so the compression commands write dense models
 * until it is merged. CMakeLists.txt leaves this file out of the build as soon as another
 * source file defines nml_pack_weights. */
#include <stdlib.h>
#include <string.h>

#include "nanoml/pack.h"

void nml_pack_options_default(nml_pack_options *o) {
    memset(o, 0, sizeof *o);
    o->sparse = 1;
    o->clustered = 1;
    o->min_elements = 256;
}

nml_status nml_pack_weights(nml_ir *ir, const nml_pack_options *o, nml_pack_report *report,
                            nml_error *err) {
    (void)ir, (void)o;
    if (report) memset(report, 0, sizeof *report);
    return nml_fail(err, NML_E_UNSUPPORTED, "weight packing is not part of this build");
}

nml_status nml_unpack_weights(nml_ir *ir, nml_error *err) {
    (void)ir;
    return nml_fail(err, NML_E_UNSUPPORTED, "weight packing is not part of this build");
}

void nml_pack_report_free(nml_pack_report *r) {
    if (!r) return;
    free(r->layers);
    memset(r, 0, sizeof *r);
}
