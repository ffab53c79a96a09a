/* Structural check of a JPEG stream (internal to src/image). */
#ifndef NML_IMAGE_JPEG_SCAN_H
#define NML_IMAGE_JPEG_SCAN_H

#include <stddef.h>
#include <stdint.h>

#include "nanoml/status.h"

/* stb_image decodes a truncated JPEG "successfully" (missing data reads as zeros, the picture
 * turns grey), so the loader first walks the marker segments and entropy-coded scans and requires
 * an end-of-image marker. Single pass, bounds-checked. It also refuses Huffman tables with more
 * than 256 codes, which overflow stb_image's tables (see jpeg_scan.c). */
nml_status nml_jpeg_check_complete(const uint8_t *data, size_t size, const char *name,
                                   nml_error *err);

#endif
