#include "png_scan.h"

#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define PNG_SIGNATURE_BYTES 8
#define SCRATCH_BYTES 65536

static uint32_t be32(const uint8_t *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int is_type(const uint8_t *p, const char *t) {
    return memcmp(p, t, 4) == 0;
}

typedef struct inflater {
    z_stream zs;
    int open, done;
    uint32_t w, h;
    uint64_t produced, limit;
    uint8_t scratch[SCRATCH_BYTES];
} inflater;

/* Bytes of filtered image data the header implies (per row a filter byte and the packed
 * pixels), plus the extra filter bytes and partial bytes of the seven Adam7 passes of an
 * interlaced image; doubled (and 64 KiB more), since some encoders leave a little data after
 * the image, which decoders ignore. A compression bomb (1000 to 1) still stands out. */
static uint64_t data_limit(const uint8_t *ihdr) {
    const uint64_t w = be32(ihdr), h = be32(ihdr + 4), depth = ihdr[8];
    if (w > (1u << 24) || h > (1u << 24)) return UINT64_MAX; /* the header check refuses it */
    const int color = ihdr[9];
    const uint64_t channels = color == 2 ? 3 : color == 4 ? 2 : color == 6 ? 4 : 1;
    const uint64_t row = (w * channels * depth + 7) / 8 + 1;
    return 2 * (h * row + (ihdr[12] ? 14 * (h + 1) : 0)) + 65536;
}

/* Inflates one IDAT chunk's payload into the scratch buffer, counting the bytes. */
static nml_status feed(inflater *z, const uint8_t *p, uint32_t n, size_t at, const char *name,
                       nml_error *err) {
    z->zs.next_in = (Bytef *)(uintptr_t)p; /* zlib does not write its input */
    z->zs.avail_in = n;
    while (!z->done && z->zs.avail_in > 0) {
        z->zs.next_out = z->scratch;
        z->zs.avail_out = SCRATCH_BYTES;
        const uInt in_before = z->zs.avail_in;
        const int r = inflate(&z->zs, Z_NO_FLUSH);
        const uInt out = SCRATCH_BYTES - z->zs.avail_out;
        z->produced += out;
        if (z->produced > z->limit)
            return nml_fail(err, NML_E_LIMIT,
                            "%s: PNG image data inflates to more than %llu bytes, twice what its "
                            "%ux%u pixels need",
                            name, (unsigned long long)z->limit, (unsigned)z->w, (unsigned)z->h);
        if (r == Z_STREAM_END)
            z->done = 1;
        else if ((r != Z_OK && r != Z_BUF_ERROR) || (out == 0 && z->zs.avail_in == in_before))
            return nml_fail(err, NML_E_FORMAT,
                            "%s: corrupt PNG image data in the chunk at byte %zu (zlib: %s)", name,
                            at, z->zs.msg ? z->zs.msg : "no progress");
    }
    return NML_OK;
}

static nml_status scan(inflater *z, const uint8_t *d, size_t size, const char *name,
                       nml_error *err) {
    size_t pos = PNG_SIGNATURE_BYTES;
    int have_header = 0, apple = 0;
    while (pos < size) {
        if (size - pos < 12)
            return nml_fail(err, NML_E_FORMAT, "%s: truncated PNG chunk at byte %zu", name, pos);
        const uint32_t len = be32(d + pos);
        const uint8_t *type = d + pos + 4;
        if (len > 0x7fffffffu || len > size - pos - 12)
            return nml_fail(err, NML_E_FORMAT,
                            "%s: PNG chunk at byte %zu: %u bytes run past the end (%zu bytes)",
                            name, pos, (unsigned)len, size);
        const uint8_t *payload = d + pos + 8;
        if (!have_header) {
            if (!is_type(type, "IHDR") && !is_type(type, "CgBI"))
                return nml_fail(err, NML_E_FORMAT, "%s: PNG does not start with a header chunk",
                                name);
            if (is_type(type, "IHDR")) {
                if (len < 13)
                    return nml_fail(err, NML_E_FORMAT, "%s: PNG header of %u bytes", name,
                                    (unsigned)len);
                have_header = 1;
                z->w = be32(payload);
                z->h = be32(payload + 4);
                z->limit = data_limit(payload);
            } else {
                apple = 1; /* Apple's variant: raw deflate, no zlib wrapper (stb reads it too) */
            }
        } else if (is_type(type, "IDAT")) {
            if (!z->open) {
                if (inflateInit2(&z->zs, apple ? -MAX_WBITS : MAX_WBITS) != Z_OK)
                    return nml_fail(err, NML_E_NOMEM, "%s: cannot start zlib", name);
                z->open = 1;
            }
            NML_TRY(feed(z, payload, len, pos, name, err));
        } else if (is_type(type, "IEND")) {
            return NML_OK;
        }
        pos += 12 + (size_t)len;
    }
    return NML_OK; /* no IEND: stb_image decides (it stops at the end of the data) */
}

nml_status nml_png_check_data(const uint8_t *data, size_t size, const char *name, nml_error *err) {
    inflater *z = calloc(1, sizeof *z);
    if (!z) return nml_fail(err, NML_E_NOMEM, "%s: out of memory", name);
    nml_status st = scan(z, data, size, name, err);
    if (z->open) inflateEnd(&z->zs);
    free(z);
    return st;
}
