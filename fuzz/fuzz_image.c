/* Image decoding (nanoml eval/detect inputs, calibration images): format sniffing, the JPEG
 * completeness scan, the header size limits, then stb_image's JPEG, PNG and BMP decoders. In
 * the fuzz build stb_image is compiled from Debian's header into this target (fuzz/stb_image_
 * fuzz.c) so its code is instrumented too: coverage guides the fuzzer inside the decoders, and
 * AddressSanitizer sees their reads and writes.
 *
 * Checked: the scanner's verdict is consistent (a stream it calls complete holds an EOI marker
 * after the SOI), a decoded image respects the limits, has the channel count asked for and
 * owns w*h*c readable bytes. Inputs are capped at 256 KiB; the pixel limit is the library's
 * (64 M pixels), so a small file declaring a large image still decodes under the 2 GB cap. */
#include <string.h>

#include "fuzz_target.h"
#include "image/jpeg_scan.h"
#include "nanoml/image.h"

static void check_scan(const uint8_t *data, size_t size) {
    nml_error err;
    if (nml_jpeg_check_complete(data, size, "fuzz", &err) != NML_OK) {
        nml_fuzz_check(err.msg[0] != '\0', "scanner error has a message");
        return;
    }
    int eoi = 0;
    for (size_t i = 2; i + 1 < size && !eoi; i++)
        eoi = data[i] == 0xFF && data[i + 1] == 0xD9;
    nml_fuzz_check(size >= 4 && data[0] == 0xFF && data[1] == 0xD8 && eoi,
                   "a complete JPEG starts with SOI and holds EOI");
}

static nml_status decode(const uint8_t *data, size_t size, int channels, nml_error *err) {
    nml_image img;
    NML_TRY(nml_image_decode(data, size, "fuzz", channels, &img, err));
    nml_fuzz_check(img.w >= 1 && img.h >= 1 && img.w <= NML_IMAGE_MAX_DIM &&
                       img.h <= NML_IMAGE_MAX_DIM &&
                       (uint64_t)img.w * (uint64_t)img.h <= NML_IMAGE_MAX_PIXELS,
                   "image size within the limits");
    nml_fuzz_check(channels ? img.c == channels : img.c >= 1 && img.c <= 4, "channel count");
    nml_fuzz_check(img.data != NULL, "pixels present");
    /* touch the last pixel byte: ASan reports an allocation shorter than w*h*c */
    volatile uint8_t last = img.data[(size_t)img.w * img.h * img.c - 1];
    (void)last;
    nml_image_free(&img);
    return NML_OK;
}

static nml_status one(const uint8_t *data, size_t size, nml_error *err) {
    check_scan(data, size);
    NML_TRY(decode(data, size, 0, err));
    /* the detection pipeline asks for RGB whatever the file holds: a second conversion path */
    return decode(data, size, 3, err);
}

NML_FUZZ_TARGET(one, 256u << 10)
