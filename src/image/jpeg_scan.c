#include "jpeg_scan.h"

#define JPEG_SOI 0xD8
#define JPEG_EOI 0xD9
#define JPEG_SOS 0xDA
#define JPEG_TEM 0x01
#define JPEG_DHT 0xC4
#define JPEG_MAX_HUFFMAN_CODES 256 /* one code per 8-bit symbol (ITU T.81, B.2.4.2) */

static int is_restart(uint8_t m) {
    return m >= 0xD0 && m <= 0xD7;
}

/* Skips entropy-coded data after a scan header: stops at the 0xFF of the next real marker
 * (0xFF00 is a stuffed data byte, 0xFFD0-D7 are restart markers inside the scan). */
static size_t skip_entropy_data(const uint8_t *d, size_t size, size_t pos) {
    while (pos + 1 < size) {
        if (d[pos] != 0xFF) {
            pos++;
            continue;
        }
        uint8_t next = d[pos + 1];
        if (next == 0x00 || is_restart(next))
            pos += 2;
        else if (next == 0xFF)
            pos++; /* fill byte before a marker */
        else
            return pos;
    }
    return size;
}

static nml_status truncated(const char *name, size_t size, nml_error *err) {
    return nml_fail(err, NML_E_FORMAT,
                    "%s: truncated JPEG (data ends at byte %zu before the end-of-image marker)",
                    name, size);
}

/* A DHT segment (payload d[0, len)) holds Huffman tables: a class/destination byte, 16 code
 * counts, then the symbols. The counts must total at most 256 and the symbols fit the segment:
 * stb_image copies the counts' total of bytes into 256-entry arrays without checking (a heap
 * overflow in the decoder Debian ships), so the loader refuses such tables first. */
static nml_status check_huffman_tables(const uint8_t *d, size_t len, size_t at, const char *name,
                                       nml_error *err) {
    size_t pos = 0;
    while (pos < len) {
        if (len - pos < 17)
            return nml_fail(err, NML_E_FORMAT,
                            "%s: JPEG Huffman table at byte %zu is cut off (%zu bytes left)", name,
                            at + pos, len - pos);
        size_t codes = 0;
        for (int i = 1; i <= 16; i++)
            codes += d[pos + (size_t)i];
        if (codes > JPEG_MAX_HUFFMAN_CODES)
            return nml_fail(err, NML_E_FORMAT,
                            "%s: JPEG Huffman table at byte %zu declares %zu codes (at most %d)",
                            name, at + pos, codes, JPEG_MAX_HUFFMAN_CODES);
        if (len - pos - 17 < codes)
            return nml_fail(err, NML_E_FORMAT,
                            "%s: JPEG Huffman table at byte %zu: %zu symbols run past its segment",
                            name, at + pos, codes);
        pos += 17 + codes;
    }
    return NML_OK;
}

nml_status nml_jpeg_check_complete(const uint8_t *d, size_t size, const char *name,
                                   nml_error *err) {
    if (size < 4 || d[0] != 0xFF || d[1] != JPEG_SOI)
        return nml_fail(err, NML_E_FORMAT, "%s: not a JPEG stream (no start-of-image marker)",
                        name);
    size_t pos = 2;
    for (;;) {
        while (pos < size && d[pos] != 0xFF)
            pos++; /* tolerate stray bytes, as libjpeg does */
        while (pos < size && d[pos] == 0xFF)
            pos++; /* fill bytes */
        if (pos >= size) return truncated(name, size, err);
        uint8_t marker = d[pos++];
        if (marker == JPEG_EOI) return NML_OK;
        if (marker == JPEG_TEM || marker == JPEG_SOI || is_restart(marker) || marker == 0x00)
            continue; /* markers without a length field */
        if (pos + 2 > size) return truncated(name, size, err);
        size_t len = ((size_t)d[pos] << 8) | d[pos + 1];
        if (len < 2)
            return nml_fail(err, NML_E_FORMAT,
                            "%s: JPEG segment 0xFF%02X at byte %zu has length %zu", name,
                            (unsigned)marker, pos - 2, len);
        if (pos + len > size) return truncated(name, size, err);
        if (marker == JPEG_DHT)
            NML_TRY(check_huffman_tables(d + pos + 2, len - 2, pos + 2, name, err));
        pos += len;
        if (marker == JPEG_SOS) pos = skip_entropy_data(d, size, pos);
    }
}
