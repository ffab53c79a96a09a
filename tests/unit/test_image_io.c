/* Image decoding: real files decode, bad input fails with a message naming the file and the
 * problem (truncated JPEG, not an image, empty file, huge declared dimensions); PNG round trip. */
#include "test_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
        cmocka_unit_test(not_an_image),
        cmocka_unit_test(corrupt_png_is_an_error),
        cmocka_unit_test(huge_declared_dimensions),
        cmocka_unit_test(missing_file),
        cmocka_unit_test(png_round_trip),
        cmocka_unit_test(jpeg_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
