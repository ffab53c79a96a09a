/* Structural check of a PNG stream before stb_image decodes it (internal to src/image). */
#ifndef NML_IMAGE_PNG_SCAN_H
#define NML_IMAGE_PNG_SCAN_H

#include <stddef.h>
#include <stdint.h>

#include "nanoml/status.h"

/* stb_image inflates a PNG's image data (the IDAT chunks) into a buffer it keeps growing for as
 * long as the compressed stream produces bytes, however few pixels the header declares: a
 * 200 KB file of one pixel took 200 MB, and a file at the 256 MiB input limit would ask for
 * hundreds of gigabytes. This walks the chunks (bounds-checked) and inflates the image data with
 * zlib into a small scratch buffer, refusing a stream that inflates to more than twice what the
 * header's size needs, a corrupt stream, and chunks running past the end. */
nml_status nml_png_check_data(const uint8_t *data, size_t size, const char *name, nml_error *err);

#endif
