/* Image memory: allocation under explicit limits. */
#include "nanoml/image.h"

#include <stdlib.h>

nml_status nml_image_alloc(nml_image *img, int w, int h, int c, nml_error *err) {
    img->w = img->h = img->c = 0;
    img->data = NULL;
    if (c < 1 || c > 4) return nml_fail(err, NML_E_ARG, "image: %d channels (1 to 4 supported)", c);
    if (w < 1 || h < 1) return nml_fail(err, NML_E_ARG, "image: bad size %dx%d", w, h);
    if (w > NML_IMAGE_MAX_DIM || h > NML_IMAGE_MAX_DIM ||
        (uint64_t)w * (uint64_t)h > NML_IMAGE_MAX_PIXELS)
        return nml_fail(err, NML_E_LIMIT, "image: %dx%d exceeds the limit (%d per side, %u pixels)",
                        w, h, NML_IMAGE_MAX_DIM, NML_IMAGE_MAX_PIXELS);
    size_t bytes = (size_t)w * (size_t)h * (size_t)c;
    img->data = calloc(bytes, 1);
    if (!img->data) return nml_fail(err, NML_E_NOMEM, "image: cannot allocate %zu bytes", bytes);
    img->w = w;
    img->h = h;
    img->c = c;
    return NML_OK;
}

void nml_image_free(nml_image *img) {
    if (!img) return;
    free(img->data);
    img->data = NULL;
    img->w = img->h = img->c = 0;
}
