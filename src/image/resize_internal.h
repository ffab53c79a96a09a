/* Resize kernels behind nml_image_resize (internal to src/image). dst is allocated with the
 * target size and src's channel count; neither may be empty. */
#ifndef NML_IMAGE_RESIZE_INTERNAL_H
#define NML_IMAGE_RESIZE_INTERNAL_H

#include "nanoml/image.h"

nml_status nml_resize_linear(const nml_image *src, nml_image *dst, nml_error *err);
void nml_resize_nearest(const nml_image *src, nml_image *dst);

#endif
