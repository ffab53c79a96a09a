/* Decoding JPEG/PNG/BMP with stb_image (libstb), behind format sniffing, a structural check of
 * JPEG (truncation, Huffman tables) and PNG (chunks, inflated size) streams, and size limits
 * checked from the header before any pixel memory is allocated. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "jpeg_scan.h"
#include "png_scan.h"
#include "nanoml/file.h"
#include "nanoml/image.h"
#include "stb_image.h"

typedef enum { FMT_UNKNOWN, FMT_JPEG, FMT_PNG, FMT_BMP } image_format;

static image_format sniff_format(const uint8_t *d, size_t size) {
    static const uint8_t png_sig[8] = {0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A};
    if (size >= 3 && d[0] == 0xFF && d[1] == 0xD8 && d[2] == 0xFF) return FMT_JPEG;
    if (size >= 8 && memcmp(d, png_sig, 8) == 0) return FMT_PNG;
    if (size >= 2 && d[0] == 'B' && d[1] == 'M') return FMT_BMP;
    return FMT_UNKNOWN;
}

static const char *format_name(image_format f) {
    switch (f) {
    case FMT_JPEG:
        return "JPEG";
    case FMT_PNG:
        return "PNG";
    case FMT_BMP:
        return "BMP";
    default:
        return "image";
    }
}

static nml_status unknown_format(const uint8_t *d, size_t size, const char *name, nml_error *err) {
    unsigned b[4] = {0, 0, 0, 0};
    for (size_t i = 0; i < 4 && i < size; i++)
        b[i] = d[i];
    return nml_fail(err, NML_E_FORMAT,
                    "%s: not a JPEG, PNG or BMP file (first bytes %02x %02x %02x %02x)", name, b[0],
                    b[1], b[2], b[3]);
}

static nml_status stb_error(const char *name, image_format f, const char *what, nml_error *err) {
    const char *reason = stbi_failure_reason();
    return nml_fail(err, NML_E_FORMAT, "%s: %s %s (stb_image: %s)", name, what, format_name(f),
                    reason ? reason : "unknown error");
}

static nml_status check_header(const uint8_t *d, size_t size, const char *name, image_format f,
                               nml_error *err) {
    int w = 0, h = 0, comp = 0;
    if (!stbi_info_from_memory(d, (int)size, &w, &h, &comp))
        return stb_error(name, f, "unreadable", err);
    if (w < 1 || h < 1)
        return nml_fail(err, NML_E_FORMAT, "%s: %s declares %dx%d pixels", name, format_name(f), w,
                        h);
    if (w > NML_IMAGE_MAX_DIM || h > NML_IMAGE_MAX_DIM ||
        (uint64_t)w * (uint64_t)h > NML_IMAGE_MAX_PIXELS)
        return nml_fail(err, NML_E_LIMIT,
                        "%s: %s declares %dx%d pixels, limit is %d per side and %u in total", name,
                        format_name(f), w, h, NML_IMAGE_MAX_DIM, NML_IMAGE_MAX_PIXELS);
    return NML_OK;
}

nml_status nml_image_decode(const uint8_t *data, size_t size, const char *name, int channels,
                            nml_image *img, nml_error *err) {
    img->w = img->h = img->c = 0;
    img->data = NULL;
    if (!name) name = "image";
    if (channels < 0 || channels > 4)
        return nml_fail(err, NML_E_ARG, "%s: %d channels requested (0 to 4)", name, channels);
    if (size == 0) return nml_fail(err, NML_E_FORMAT, "%s: empty file", name);
    if (size > NML_IMAGE_MAX_FILE_BYTES || size > INT_MAX)
        return nml_fail(err, NML_E_LIMIT, "%s: %zu bytes, limit is %zu", name, size,
                        NML_IMAGE_MAX_FILE_BYTES);
    image_format f = sniff_format(data, size);
    if (f == FMT_UNKNOWN) return unknown_format(data, size, name, err);
    if (f == FMT_JPEG) NML_TRY(nml_jpeg_check_complete(data, size, name, err));
    NML_TRY(check_header(data, size, name, f, err));
    if (f == FMT_PNG) NML_TRY(nml_png_check_data(data, size, name, err));

    int w = 0, h = 0, comp = 0;
    uint8_t *pixels = stbi_load_from_memory(data, (int)size, &w, &h, &comp, channels);
    if (!pixels) return stb_error(name, f, "corrupt", err);
    int c = channels ? channels : comp;
    nml_status st = nml_image_alloc(img, w, h, c, err);
    if (st == NML_OK) memcpy(img->data, pixels, (size_t)w * (size_t)h * (size_t)c);
    stbi_image_free(pixels);
    if (st != NML_OK) return nml_error_prefix(err, "%s: ", name);
    return NML_OK;
}

nml_status nml_image_load(const char *path, int channels, nml_image *img, nml_error *err) {
    uint8_t *data = NULL;
    size_t size = 0;
    img->w = img->h = img->c = 0;
    img->data = NULL;
    NML_TRY(nml_read_file(path, NML_IMAGE_MAX_FILE_BYTES, &data, &size, err));
    nml_status st = nml_image_decode(data, size, path, channels, img, err);
    free(data);
    return st;
}
