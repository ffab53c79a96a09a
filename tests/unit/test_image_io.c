/* Image decoding: real files decode, bad input fails with a message naming the file and the
 * problem (truncated JPEG, not an image, empty file, huge declared dimensions); PNG round trip. */
#include "test_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zlib.h>

#include "nanoml/image.h"

static void decodes_street_scene(void **state) {
    (void)state;
    nml_image img;
    nml_error err;
    assert_int_equal(nml_image_load(nml_test_shared("images/3.jpg"), 3, &img, &err), NML_OK);
    assert_int_equal(img.w, 500); /* the 500x335 street scene (shared/README.md) */
    assert_int_equal(img.h, 335);
    assert_int_equal(img.c, 3);
    nml_image_free(&img);
}

static void truncated_jpeg_is_an_error(void **state) {
    (void)state;
    size_t size;
    uint8_t *jpg = nml_test_read(nml_test_shared("images/3.jpg"), &size);
    nml_image img;
    nml_error err;
    assert_int_equal(nml_image_decode(jpg, size / 2, "half.jpg", 3, &img, &err), NML_E_FORMAT);
    assert_non_null(strstr(err.msg, "half.jpg"));
    assert_non_null(strstr(err.msg, "truncated JPEG"));
    assert_null(img.data);
    /* cut inside the headers too */
    assert_int_equal(nml_image_decode(jpg, 40, "head.jpg", 3, &img, &err), NML_E_FORMAT);
    assert_non_null(strstr(err.msg, "truncated"));
    free(jpg);
}

/* Offset of the first DHT (define Huffman table) segment's marker, 0 if none. */
static size_t first_dht(const uint8_t *d, size_t size) {
    for (size_t i = 2; i + 4 < size;) {
        if (d[i] != 0xFF || d[i + 1] == 0x00 || d[i + 1] == 0xFF) {
            i++;
            continue;
        }
        if (d[i + 1] == 0xC4) return i;
        i += 2 + ((size_t)d[i + 2] << 8 | d[i + 3]);
    }
    return 0;
}

/* Found by the image fuzzer: a Huffman table whose 16 code counts total more than 256 made
 * stb_image write past its 257-entry size table and 256-entry symbol table (heap corruption;
 * UBSan: "index 257 out of bounds for type 'stbi_uc[257]'"). The loader refuses it first. */
static void oversized_huffman_table_is_refused(void **state) {
    (void)state;
    size_t size;
    uint8_t *jpg = nml_test_read(nml_test_shared("images/3.jpg"), &size);
    const size_t dht = first_dht(jpg, size);
    assert_true(dht > 0);
    const size_t counts = dht + 5; /* marker, 2 length bytes, class/destination byte */
    size_t codes = 0;
    for (int i = 0; i < 16; i++)
        codes += jpg[counts + (size_t)i];
    assert_true(codes <= 256); /* the photo itself is fine */
    nml_image img;
    nml_error err;
    const uint8_t saved = jpg[counts + 15];
    jpg[counts + 15] = 255; /* now more than 256 codes of length 16 */
    assert_int_equal(nml_image_decode(jpg, size, "dht.jpg", 3, &img, &err), NML_E_FORMAT);
    char want[96];
    snprintf(want, sizeof want, "dht.jpg: JPEG Huffman table at byte %zu declares %zu codes", dht + 4,
             codes - saved + 255);
    if (!strstr(err.msg, want)) fail_msg("'%s' lacks '%s'", err.msg, want);
    assert_null(img.data);
    /* at most 256 codes, but more symbols than the segment holds */
    jpg[counts + 15] = (uint8_t)(saved + 200 > 255 ? 255 : saved + 200);
    codes = 0;
    for (int i = 0; i < 16; i++)
        codes += jpg[counts + (size_t)i];
    if (codes <= 256) {
        assert_int_equal(nml_image_decode(jpg, size, "dht.jpg", 3, &img, &err), NML_E_FORMAT);
        assert_non_null(strstr(err.msg, "run past its segment"));
    }
    free(jpg);
}

/* Appends a PNG chunk (length, type, payload, CRC) to buf at *n. */
static void put_chunk(uint8_t *buf, size_t *n, const char *type, const uint8_t *p, uint32_t len) {
    const uint8_t be[4] = {(uint8_t)(len >> 24), (uint8_t)(len >> 16), (uint8_t)(len >> 8),
                           (uint8_t)len};
    memcpy(buf + *n, be, 4);
    memcpy(buf + *n + 4, type, 4);
    if (len) memcpy(buf + *n + 8, p, len);
    uLong crc = crc32(crc32(0L, Z_NULL, 0), buf + *n + 4, 4 + len);
    const uint8_t cb[4] = {(uint8_t)(crc >> 24), (uint8_t)(crc >> 16), (uint8_t)(crc >> 8),
                           (uint8_t)crc};
    memcpy(buf + *n + 8 + len, cb, 4);
    *n += 12 + len;
}

/* A 1x1 RGB PNG whose image data inflates to `raw` bytes (a compression bomb when large). */
static uint8_t *png_with_data(size_t raw, size_t *size) {
    uint8_t *zeros = calloc(raw, 1);
    uLongf zlen = compressBound(raw);
    uint8_t *z = malloc(zlen);
    assert_true(zeros && z);
    assert_int_equal(compress2(z, &zlen, zeros, raw, 9), Z_OK);
    uint8_t *png = malloc(zlen + 64);
    assert_non_null(png);
    memcpy(png, "\x89PNG\r\n\x1a\n", 8);
    size_t n = 8;
    const uint8_t ihdr[13] = {0, 0, 0, 1, 0, 0, 0, 1, 8, 2, 0, 0, 0};
    put_chunk(png, &n, "IHDR", ihdr, 13);
    put_chunk(png, &n, "IDAT", z, (uint32_t)zlen);
    put_chunk(png, &n, "IEND", NULL, 0);
    free(zeros);
    free(z);
    *size = n;
    return png;
}

/* stb_image inflates PNG image data into a buffer it grows as long as data comes: a 200 KB
 * file of one pixel took 200 MB. The loader inflates the data first and refuses more than
 * twice what the header's pixels need (1x1 RGB: one filter byte + 3 bytes). */
static void png_compression_bomb_is_refused(void **state) {
    (void)state;
    size_t size;
    nml_image img;
    nml_error err;
    uint8_t *png = png_with_data(4, &size); /* exactly the pixel: decodes */
    if (nml_image_decode(png, size, "one.png", 3, &img, &err) != NML_OK) fail_msg("%s", err.msg);
    assert_int_equal(img.w * img.h, 1);
    nml_image_free(&img);
    free(png);
    png = png_with_data(10u << 20, &size); /* 10 MB of zeros in about 10 KB */
    assert_true(size < 20000);
    assert_int_equal(nml_image_decode(png, size, "bomb.png", 3, &img, &err), NML_E_LIMIT);
    assert_string_equal(err.msg, "bomb.png: PNG image data inflates to more than 65544 bytes, "
                                 "twice what its 1x1 pixels need");
    assert_null(img.data);
    /* cut inside the image data chunk */
    assert_int_equal(nml_image_decode(png, 40, "cut.png", 3, &img, &err), NML_E_FORMAT);
    assert_string_equal(err.msg, "cut.png: truncated PNG chunk at byte 33");
    assert_int_equal(nml_image_decode(png, 60, "cut.png", 3, &img, &err), NML_E_FORMAT);
    assert_non_null(strstr(err.msg, "cut.png: PNG chunk at byte 33: "));
    free(png);
}

static void not_an_image(void **state) {
    (void)state;
    const char *text = "class cx cy w h\n";
    nml_image img;
    nml_error err;
    assert_int_equal(
        nml_image_decode((const uint8_t *)text, strlen(text), "notes.txt", 0, &img, &err),
        NML_E_FORMAT);
    assert_non_null(strstr(err.msg, "notes.txt: not a JPEG, PNG or BMP file"));
    assert_int_equal(nml_image_decode((const uint8_t *)"", 0, "empty.png", 0, &img, &err),
                     NML_E_FORMAT);
    assert_string_equal(err.msg, "empty.png: empty file");
}

static void corrupt_png_is_an_error(void **state) {
    (void)state;
    /* a PNG signature followed by garbage instead of an IHDR chunk */
    uint8_t png[32] = {0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A};
    memset(png + 8, 0xAB, sizeof png - 8);
    nml_image img;
    nml_error err;
    assert_int_equal(nml_image_decode(png, sizeof png, "bad.png", 3, &img, &err), NML_E_FORMAT);
    assert_non_null(strstr(err.msg, "bad.png"));
    assert_non_null(strstr(err.msg, "stb_image"));
}

static void put_le32(uint8_t *p, uint32_t v) {
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* A 54-byte BMP header declaring 60000 x 60000 pixels at 24 bits, with no pixel data: the limit
 * check must fire from the header, before any allocation or decoding. */
static void huge_declared_dimensions(void **state) {
    (void)state;
    uint8_t bmp[54] = {'B', 'M'};
    put_le32(bmp + 2, sizeof bmp);
    put_le32(bmp + 10, 54);    /* pixel data offset */
    put_le32(bmp + 14, 40);    /* BITMAPINFOHEADER */
    put_le32(bmp + 18, 60000); /* width */
    put_le32(bmp + 22, 60000); /* height */
    bmp[26] = 1;               /* planes */
    bmp[28] = 24;              /* bits per pixel */
    nml_image img;
    nml_error err;
    assert_int_equal(nml_image_decode(bmp, sizeof bmp, "huge.bmp", 3, &img, &err), NML_E_LIMIT);
    assert_non_null(strstr(err.msg, "huge.bmp: BMP declares 60000x60000 pixels"));
    /* a PNG IHDR declaring 70000 x 10 */
    uint8_t png[33] = {0x89, 'P', 'N', 'G',  0x0D, 0x0A, 0x1A, 0x0A, 0,  0, 0, 13, 'I', 'H', 'D',
                       'R',  0,   1,   0x11, 0x70, 0,    0,    0,    10, 8, 2, 0,  0,   0};
    assert_int_equal(nml_image_decode(png, sizeof png, "wide.png", 3, &img, &err), NML_E_LIMIT);
    assert_non_null(strstr(err.msg, "70000x10"));
}

static void missing_file(void **state) {
    (void)state;
    nml_image img;
    nml_error err;
    assert_int_equal(nml_image_load("/nonexistent/x.jpg", 3, &img, &err), NML_E_IO);
    assert_non_null(strstr(err.msg, "/nonexistent/x.jpg"));
}

static void png_round_trip(void **state) {
    (void)state;
    nml_image img, back;
    nml_error err;
    assert_int_equal(nml_image_alloc(&img, 5, 3, 3, &err), NML_OK);
    for (size_t i = 0; i < 45; i++)
        img.data[i] = (uint8_t)(i * 17);
    char path[] = "/tmp/nml_png_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(nml_image_write_png(path, &img, &err), NML_OK);
    assert_int_equal(nml_image_load(path, 0, &back, &err), NML_OK);
    assert_int_equal(back.w, 5);
    assert_int_equal(back.h, 3);
    assert_int_equal(back.c, 3);
    assert_memory_equal(back.data, img.data, 45);
    nml_image_free(&back);
    /* gray conversion on load: 1 channel requested */
    assert_int_equal(nml_image_load(path, 1, &back, &err), NML_OK);
    assert_int_equal(back.c, 1);
    nml_image_free(&back);
    unlink(path);
    nml_image_free(&img);
}

/* JPEG is lossy: a smooth 48x32 gradient must come back with the same size and every value
 * within 8 grey levels (baseline JPEG at quality 90 on a smooth image errs by a few levels);
 * bad arguments are errors naming the file. */
static void jpeg_round_trip(void **state) {
    (void)state;
    nml_image img, back;
    nml_error err;
    assert_int_equal(nml_image_alloc(&img, 48, 32, 3, &err), NML_OK);
    for (int y = 0; y < 32; y++)
        for (int x = 0; x < 48; x++) {
            uint8_t *p = img.data + (y * 48 + x) * 3;
            p[0] = (uint8_t)(x * 5);
            p[1] = (uint8_t)(y * 7);
            p[2] = 128;
        }
    char path[] = "/tmp/nml_jpg_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(nml_image_write_jpeg(path, &img, 90, &err), NML_OK);
    assert_int_equal(nml_image_load(path, 3, &back, &err), NML_OK);
    assert_int_equal(back.w, 48);
    assert_int_equal(back.h, 32);
    int worst = 0;
    for (size_t i = 0; i < (size_t)48 * 32 * 3; i++) {
        int d = abs((int)back.data[i] - (int)img.data[i]);
        if (d > worst) worst = d;
    }
    assert_true(worst <= 8);
    nml_image_free(&back);
    assert_int_equal(nml_image_write_jpeg(path, &img, 0, &err), NML_E_ARG);
    assert_non_null(strstr(err.msg, "quality 0"));
    assert_int_equal(nml_image_write_jpeg("/nonexistent/x.jpg", &img, 90, &err), NML_E_IO);
    assert_non_null(strstr(err.msg, "/nonexistent/x.jpg"));
    unlink(path);
    nml_image_free(&img);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(decodes_street_scene),
        cmocka_unit_test(truncated_jpeg_is_an_error),
        cmocka_unit_test(oversized_huffman_table_is_refused),
        cmocka_unit_test(png_compression_bomb_is_refused),
        cmocka_unit_test(not_an_image),
        cmocka_unit_test(corrupt_png_is_an_error),
        cmocka_unit_test(huge_declared_dimensions),
        cmocka_unit_test(missing_file),
        cmocka_unit_test(png_round_trip),
        cmocka_unit_test(jpeg_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
