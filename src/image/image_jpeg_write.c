/* JPEG output through stb_image_write (libstb): small pictures for documentation, where a PNG
 * of a photo is several times larger. */
#include <errno.h>
#include <string.h>

#include "nanoml/image.h"
#include "stb_image_write.h"

nml_status nml_image_write_jpeg(const char *path, const nml_image *img, int quality,
                                nml_error *err) {
    if (!img || !img->data || img->c < 1 || img->c > 4 || img->w < 1 || img->h < 1)
        return nml_fail(err, NML_E_ARG, "%s: no image to write", path);
    if (quality < 1 || quality > 100)
        return nml_fail(err, NML_E_ARG, "%s: JPEG quality %d outside 1..100", path, quality);
    errno = 0;
    if (!stbi_write_jpg(path, img->w, img->h, img->c, img->data, quality))
        return nml_fail(err, NML_E_IO, "%s: cannot write JPEG (%s)", path,
                        errno ? strerror(errno) : "encoder failed");
    return NML_OK;
}
