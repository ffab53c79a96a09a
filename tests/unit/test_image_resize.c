/* Resize, letterbox and tensor conversion against hand-computed pixels. The bilinear cases follow
 * OpenCV's INTER_LINEAR arithmetic step by step in the comments (source coordinate, 11-bit
 * weights, integer horizontal pass, vertical rounding). */
#include "test_util.h"

#include <string.h>

#include "nanoml/image.h"
#include "nanoml/types.h"

static nml_image make_image(int w, int h, int c, const uint8_t *pixels) {
    nml_image img;
    nml_error err;
    assert_int_equal(nml_image_alloc(&img, w, h, c, &err), NML_OK);
    memcpy(img.data, pixels, (size_t)w * h * c);
    return img;
}

static uint8_t px(const nml_image *img, int x, int y, int ch) {
    return img->data[((size_t)y * img->w + x) * img->c + ch];
}

/* 2x2 -> 4x4. Per axis, scale = 1/(4/2) = 0.5 and f = (d + 0.5) * 0.5 - 0.5:
 *   d=0: f=-0.25 -> clamped to index 0, weights (2048, 0)
 *   d=1: f= 0.25 -> index 0, weights (1536, 512)
 *   d=2: f= 0.75 -> index 0, weights (512, 1536)
 *   d=3: f= 1.25 -> index 1 is the last pixel -> clamped, weights (2048, 0)
 * With src = [0 100; 200 40], the horizontal pass gives (in units of 2048)
 *   row 0: 0, 25, 75, 100      row 1: 200, 160, 80, 40
 * and the vertical pass mixes them with the same weights; 4 values per row (< 8) all take
 * OpenCV's scalar rounding floor(v + 0.5):
 *   y=1: 0.75*row0 + 0.25*row1 = 50, 58.75, 76.25, 85  -> 50, 59, 76, 85
 *   y=2: 0.25*row0 + 0.75*row1 = 150, 126.25, 78.75, 55 -> 150, 126, 79, 55 */
static void bilinear_2x2_to_4x4(void **state) {
    (void)state;
    const uint8_t src_px[] = {0, 100, 200, 40};
    const uint8_t want[16] = {0, 25, 75, 100, 50, 59, 76, 85, 150, 126, 79, 55, 200, 160, 80, 40};
    nml_image src = make_image(2, 2, 1, src_px), dst;
    nml_error err;
    assert_int_equal(nml_image_resize(&src, 4, 4, NML_INTERP_LINEAR, &dst, &err), NML_OK);
    assert_memory_equal(dst.data, want, 16);
    nml_image_free(&src);
    nml_image_free(&dst);
}

/* 3x1 -> 2x1 (shrinking by 1.5, no antialiasing): f = (d + 0.5) * 1.5 - 0.5
 *   d=0: f=0.25 -> 0.75*s0 + 0.25*s1 ; d=1: f=1.75 -> 0.25*s1 + 0.75*s2
 * src = 10, 50, 90 -> 20, 80 (exact). */
static void bilinear_shrink_without_antialiasing(void **state) {
    (void)state;
    const uint8_t src_px[] = {10, 50, 90};
    nml_image src = make_image(3, 1, 1, src_px), dst;
    nml_error err;
    assert_int_equal(nml_image_resize(&src, 2, 1, NML_INTERP_LINEAR, &dst, &err), NML_OK);
    assert_int_equal(dst.data[0], 20);
    assert_int_equal(dst.data[1], 80);
    nml_image_free(&src);
    nml_image_free(&dst);
}

/* An exact 2x reduction is INTER_AREA in OpenCV: (a + b + c + d + 2) >> 2 per 2x2 block.
 * Block sums: 1+2+5+6 = 14 -> 4 (3.5 rounds up), 3+4+7+8 = 22 -> 6, 9+10+13+14 = 46 -> 12,
 * 11+12+15+16 = 54 -> 14. */
static void exact_half_is_area_average(void **state) {
    (void)state;
    const uint8_t src_px[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
    const uint8_t want[4] = {4, 6, 12, 14};
    nml_image src = make_image(4, 4, 1, src_px), dst;
    nml_error err;
    assert_int_equal(nml_image_resize(&src, 2, 2, NML_INTERP_LINEAR, &dst, &err), NML_OK);
    assert_memory_equal(dst.data, want, 4);
    nml_image_free(&src);
    nml_image_free(&dst);
}

/* OpenCV's two vertical rounding paths. 3x2 -> 10x5, 1 channel, src = [68 32 130; 60 253 230].
 * Pixel (x=7, y=1):
 *   x: f = 7.5 * 0.3 - 0.5 = 1.75 -> index 1, weights (512, 1536)
 *      row 0: 32*512 + 130*1536 = 216064     row 1: 253*512 + 230*1536 = 482816
 *   y: f = 1.5 * 0.4 - 0.5 = 0.1 -> index 0, weights round(0.9*2048) = 1843, round(0.1*2048) = 205
 *   x = 7 is among the first 8*floor(10/8) = 8 values, the 128-bit SIMD kernel's share:
 *      (1843 * (216064 >> 4)) >> 16 = (1843 * 13504) >> 16 = 24887872 >> 16 = 379
 *      ( 205 * (482816 >> 4)) >> 16 = ( 205 * 30176) >> 16 =  6186080 >> 16 =  94
 *      (379 + 94 + 2) >> 2 = 118
 *   (the scalar formula would give (216064*1843 + 482816*205 + 2^21) >> 22 = 119)
 * Pixel (x=9, y=1) is in the scalar tail: x: f = 2.35 -> clamped to index 2, weight 2048:
 *      (130*2048*1843 + 230*2048*205 + 2^21) >> 22 = 589340672 >> 22 = 140 */
static void simd_and_scalar_rounding(void **state) {
    (void)state;
    const uint8_t src_px[] = {68, 32, 130, 60, 253, 230};
    nml_image src = make_image(3, 2, 1, src_px), dst;
    nml_error err;
    assert_int_equal(nml_image_resize(&src, 10, 5, NML_INTERP_LINEAR, &dst, &err), NML_OK);
    assert_int_equal(px(&dst, 7, 1, 0), 118);
    assert_int_equal(px(&dst, 9, 1, 0), 140);
    nml_image_free(&src);
    nml_image_free(&dst);
}

/* INTER_NEAREST: source index floor(d * src/dst). 3 -> 5: floor(d * 0.6) = 0,0,1,1,2;
 * 4 -> 2: floor(d * 2) = 0, 2. */
static void nearest_index_rule(void **state) {
    (void)state;
    const uint8_t row3[] = {10, 20, 30};
    const uint8_t want5[] = {10, 10, 20, 20, 30};
    nml_image src = make_image(3, 1, 1, row3), dst;
    nml_error err;
    assert_int_equal(nml_image_resize(&src, 5, 1, NML_INTERP_NEAREST, &dst, &err), NML_OK);
    assert_memory_equal(dst.data, want5, 5);
    nml_image_free(&src);
    nml_image_free(&dst);
    const uint8_t row4[] = {1, 2, 3, 4};
    src = make_image(4, 1, 1, row4);
    assert_int_equal(nml_image_resize(&src, 2, 1, NML_INTERP_NEAREST, &dst, &err), NML_OK);
    assert_int_equal(dst.data[0], 1);
    assert_int_equal(dst.data[1], 3);
    nml_image_free(&src);
    nml_image_free(&dst);
}

static void channels_are_resized_independently(void **state) {
    (void)state;
    const uint8_t src_px[] = {0, 255, 10, 100, 255, 0, 200, 30}; /* 2x1, 4 channels */
    nml_image src = make_image(2, 1, 4, src_px), dst;
    nml_error err;
    assert_int_equal(nml_image_resize(&src, 4, 1, NML_INTERP_LINEAR, &dst, &err), NML_OK);
    /* d=1 mixes 0.75 / 0.25: ch0 0.25*255 = 63.75 -> 64, ch1 0.75*255 = 191.25 -> 191,
     * ch2 7.5 + 50 = 57.5 -> 58, ch3 75 + 7.5 = 82.5 -> 83 (floor(v + 0.5)) */
    assert_int_equal(px(&dst, 1, 0, 0), 64);
    assert_int_equal(px(&dst, 1, 0, 1), 191);
    assert_int_equal(px(&dst, 1, 0, 2), 58);
    assert_int_equal(px(&dst, 1, 0, 3), 83);
    nml_image_free(&src);
    nml_image_free(&dst);
}

/* Ultralytics letterbox of the 500x335 street scene into 352x352:
 * r = min(352/335, 352/500) = 0.704; content round(500*0.704) x round(335*0.704) = 352 x 236;
 * vertical padding 116 -> top round(58 - 0.1) = 58, bottom 58. */
static void letterbox_geometry_street_scene(void **state) {
    (void)state;
    nml_image_transform tf = nml_letterbox_geometry(500, 335, 352, 352);
    assert_int_equal(tf.new_w, 352);
    assert_int_equal(tf.new_h, 236);
    assert_int_equal(tf.pad_x, 0);
    assert_int_equal(tf.pad_y, 58);
    assert_float_equal(tf.scale_x, 0.704f, 1e-6);
    /* the original bottom-right corner lands at (500*0.704, 58 + 335*0.704) = (352, 293.84);
     * the content row count (236) is rounded, so it is not used for the way back */
    float x = 352.f, y = 293.84f;
    nml_transform_to_source(&tf, &x, &y);
    assert_float_equal(x, 500.f, 1e-3);
    assert_float_equal(y, 335.f, 1e-3);
}

/* 640x427 into 640x640: r = 1, padding 213 -> top round(106.5 - 0.1) = 106, bottom 107;
 * 100x50 into 640x640 enlarges: r = 6.4, content 640x320, top 160. */
static void letterbox_geometry_odd_padding_and_upscale(void **state) {
    (void)state;
    nml_image_transform tf = nml_letterbox_geometry(640, 427, 640, 640);
    assert_int_equal(tf.new_h, 427);
    assert_int_equal(tf.pad_y, 106);
    tf = nml_letterbox_geometry(100, 50, 640, 640);
    assert_int_equal(tf.new_w, 640);
    assert_int_equal(tf.new_h, 320);
    assert_int_equal(tf.pad_x, 0);
    assert_int_equal(tf.pad_y, 160);
    nml_image_transform st = nml_stretch_geometry(500, 335, 352, 352);
    float x = 176.f, y = 176.f;
    nml_transform_to_source(&st, &x, &y);
    assert_float_equal(x, 250.f, 1e-3);
    assert_float_equal(y, 167.5f, 1e-3);
}

/* 4x2 into 4x4: r = 1, no resize, padding 2 -> top round(0.9) = 1, bottom 1. */
static void letterbox_pixels(void **state) {
    (void)state;
    const uint8_t src_px[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    nml_image src = make_image(4, 2, 1, src_px), dst;
    nml_image_transform tf;
    nml_error err;
    assert_int_equal(nml_image_letterbox(&src, 4, 4, 114, &dst, &tf, &err), NML_OK);
    const uint8_t want[16] = {114, 114, 114, 114, 1, 2, 3, 4, 5, 6, 7, 8, 114, 114, 114, 114};
    assert_memory_equal(dst.data, want, 16);
    assert_int_equal(tf.pad_y, 1);
    nml_image_free(&src);
    nml_image_free(&dst);
}

static void to_float_bgr_nchw(void **state) {
    (void)state;
    const uint8_t src_px[] = {255, 0, 51, 102, 204, 0}; /* 2x1 RGB */
    nml_image src = make_image(2, 1, 3, src_px);
    float t[6];
    nml_pixel_norm norm = nml_pixel_norm_unit(1);
    nml_error err;
    assert_int_equal(nml_image_to_float(&src, NML_LAYOUT_NCHW, &norm, t, 6, &err), NML_OK);
    /* plane B: 51, 0; plane G: 0, 204; plane R: 255, 102 (all / 255) */
    assert_true(t[0] == 51.f / 255.f && t[1] == 0.f);
    assert_true(t[2] == 0.f && t[3] == 204.f / 255.f);
    assert_true(t[4] == 1.f && t[5] == 102.f / 255.f);
    assert_int_equal(nml_image_to_float(&src, NML_LAYOUT_NHWC, &norm, t, 5, &err), NML_E_SHAPE);
    nml_image_free(&src);
}

/* int8 with scale 1/255 and zero point -128 (YOLOv8 int8 input): q = round(p/255 * 255) - 128. */
static void to_quantized(void **state) {
    (void)state;
    const uint8_t src_px[] = {0, 128, 255};
    nml_image src = make_image(3, 1, 1, src_px);
    int8_t q[3];
    uint8_t u[3];
    nml_pixel_norm norm = nml_pixel_norm_unit(0);
    nml_error err;
    assert_int_equal(nml_image_to_quantized(&src, NML_LAYOUT_NHWC, &norm, 1.f / 255.f, -128,
                                            NML_INT8, q, 3, &err),
                     NML_OK);
    assert_int_equal(q[0], -128);
    assert_int_equal(q[1], 0);
    assert_int_equal(q[2], 127);
    /* uint8, scale 0.5/255 saturates: 255 -> round(510) = 510 -> 255; 0.5 rounds away: p=0 -> 0 */
    assert_int_equal(nml_image_to_quantized(&src, NML_LAYOUT_NHWC, &norm, 0.5f / 255.f, 0,
                                            NML_UINT8, u, 3, &err),
                     NML_OK);
    assert_int_equal(u[0], 0);
    assert_int_equal(u[2], 255);
    assert_int_equal(
        nml_image_to_quantized(&src, NML_LAYOUT_NHWC, &norm, 1.f, 0, NML_FLOAT32, u, 3, &err),
        NML_E_UNSUPPORTED);
    nml_image_free(&src);
}

static void rejects_bad_arguments(void **state) {
    (void)state;
    nml_image img, dst;
    nml_error err;
    assert_int_equal(nml_image_alloc(&img, 0, 5, 3, &err), NML_E_ARG);
    assert_int_equal(nml_image_alloc(&img, 20000, 5, 3, &err), NML_E_LIMIT);
    assert_int_equal(nml_image_alloc(&img, 2, 2, 3, &err), NML_OK);
    assert_int_equal(nml_image_resize(&img, 0, 4, NML_INTERP_LINEAR, &dst, &err), NML_E_ARG);
    assert_int_equal(nml_image_resize(&img, 4, 4, (nml_interp)7, &dst, &err), NML_E_ARG);
    nml_image_free(&img);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(bilinear_2x2_to_4x4),
        cmocka_unit_test(bilinear_shrink_without_antialiasing),
        cmocka_unit_test(exact_half_is_area_average),
        cmocka_unit_test(simd_and_scalar_rounding),
        cmocka_unit_test(nearest_index_rule),
        cmocka_unit_test(channels_are_resized_independently),
        cmocka_unit_test(letterbox_geometry_street_scene),
        cmocka_unit_test(letterbox_geometry_odd_padding_and_upscale),
        cmocka_unit_test(letterbox_pixels),
        cmocka_unit_test(to_float_bgr_nchw),
        cmocka_unit_test(to_quantized),
        cmocka_unit_test(rejects_bad_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
