/* nml_image_resize: argument checks and dispatch to the interpolation kernels. */
#include "nanoml/image.h"
#include "resize_internal.h"

static nml_status check_source(const nml_image *src, nml_error *err) {
    if (!src || !src->data || src->w < 1 || src->h < 1 || src->c < 1 || src->c > 4)
        return nml_fail(err, NML_E_ARG, "resize: empty or invalid source image");
    return NML_OK;
}

nml_status nml_image_resize(const nml_image *src, int w, int h, nml_interp interp, nml_image *dst,
                            nml_error *err) {
    NML_TRY(check_source(src, err));
    if (dst == src) return nml_fail(err, NML_E_ARG, "resize: destination aliases the source");
    if (interp != NML_INTERP_LINEAR && interp != NML_INTERP_NEAREST)
        return nml_fail(err, NML_E_ARG, "resize: unknown interpolation %d", (int)interp);
    if (nml_image_alloc(dst, w, h, src->c, err) != NML_OK) return nml_error_prefix(err, "resize: ");
    if (interp == NML_INTERP_NEAREST) {
        nml_resize_nearest(src, dst);
        return NML_OK;
    }
    nml_status st = nml_resize_linear(src, dst, err);
    if (st != NML_OK) nml_image_free(dst);
    return st;
}
