/* PNG output through stb_image_write (libstb). */
#include <errno.h>
#include <string.h>

#include "nanoml/image.h"
#include "stb_image_write.h"

nml_status nml_image_write_png(const char *path, const nml_image *img, nml_error *err) {
    if (!img || !img->data || img->c < 1 || img->c > 4 || img->w < 1 || img->h < 1)
        return nml_fail(err, NML_E_ARG, "%s: no image to write", path);
    errno = 0;
    if (!stbi_write_png(path, img->w, img->h, img->c, img->data, img->w * img->c))
        return nml_fail(err, NML_E_IO, "%s: cannot write PNG (%s)", path,
                        errno ? strerror(errno) : "encoder failed");
    return NML_OK;
}
