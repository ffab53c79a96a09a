/* Data sources: float arrays, padded and scaled 8-bit images, standardization with pixel
 * statistics, and training-time augmentation. */
#include <math.h>
#include <string.h>

#include "nanoml/train_data.h"
#include "test_util.h"

/* Two 2x3 images with labels 4 and 7; pixels scale by 1/255, so 51 -> 0.2 ... 255 -> 1. */
static const uint8_t pixels[12] = {0, 51, 102, 153, 204, 255, 255, 0, 0, 0, 0, 0};
static const uint8_t labels[2] = {4, 7};

static nml_idx_dataset tiny(void) {
    nml_idx_dataset ds = {2, 2, 3, 8, (uint8_t *)pixels, (uint8_t *)labels};
    return ds;
}

static void images_are_scaled_and_centered(void **state) {
    (void)state;
    nml_idx_dataset ds = tiny();
    nml_data d;
    nml_error err;
    assert_int_equal(nml_data_from_images(&d, &ds, 4, 5, &err), NML_OK);
    float x[2 * 20], y[2];
    const int32_t idx[2] = {1, 0};
    assert_int_equal(d.fetch(&d, idx, 2, x, y, 0, &err), NML_OK);
    assert_true(y[0] == 7.0f && y[1] == 4.0f);
    /* image 0 in a 4x5 frame: one row and one column of zeros before it */
    const float want[20] = {0, 0,    0,    0,    0, 0, 0,    0.2f, 0.4f, 0,
                            0, 0.6f, 0.8f, 1.0f, 0, 0, 0,    0,    0,    0};
    for (int i = 0; i < 20; i++) assert_true(fabsf(x[20 + i] - want[i]) < 1e-6f);
    assert_true(x[6] == 1.0f); /* image 1's first pixel, 255 */
    const int32_t bad = 2;
    assert_int_equal(d.fetch(&d, &bad, 1, x, y, 0, &err), NML_E_ARG);
    assert_int_equal(nml_data_from_images(&d, &ds, 1, 3, &err), NML_E_SHAPE);
}

/* One 2x3 image with a bright pixel (255) at row 0, column 0 and a dim one (51) at row 1,
 * column 2, placed in a 6x7 frame (2 pixels of padding on every side). Unflipped, the dim pixel
 * is one row below and two columns right of the bright one; mirrored, two columns left. */
static void augmentation_moves_and_mirrors(void **state) {
    (void)state;
    static const uint8_t px[6] = {255, 0, 0, 0, 0, 51}, lab[1] = {3};
    nml_idx_dataset ds = {1, 2, 3, 4, (uint8_t *)px, (uint8_t *)lab};
    nml_data d;
    nml_error err;
    nml_rng rng;
    nml_rng_seed(&rng, 3);
    assert_int_equal(nml_data_from_images(&d, &ds, 6, 7, &err), NML_OK);
    assert_int_equal(nml_data_augment(&d, 2, 1, &rng, &err), NML_OK);
    int tops[5] = {0}, lefts[5] = {0}, flips = 0;
    const int32_t idx = 0;
    enum { N = 2000 };
    for (int it = 0; it < N; it++) {
        float x[42], y;
        assert_int_equal(d.fetch(&d, &idx, 1, x, &y, 1, &err), NML_OK);
        int bright = -1, dim = -1, nonzero = 0;
        for (int i = 0; i < 42; i++) {
            if (x[i] > 0.9f) bright = i;
            if (x[i] > 0.1f && x[i] < 0.3f) dim = i;
            nonzero += x[i] != 0.0f;
        }
        assert_int_equal(nonzero, 2); /* nothing cut off, nothing duplicated */
        assert_true(bright >= 0 && dim >= 0);
        const int top = bright / 7, flipped = dim % 7 < bright % 7;
        const int left = bright % 7 - (flipped ? 2 : 0);
        assert_int_equal(dim / 7, top + 1);
        assert_int_equal(dim % 7, flipped ? left : left + 2);
        assert_true(top >= 0 && top <= 4 && left >= 0 && left <= 4);
        tops[top]++, lefts[left]++, flips += flipped;
    }
    for (int i = 0; i < 5; i++) assert_true(tops[i] > 0 && lefts[i] > 0);
    assert_true(flips > N / 2 - 150 && flips < N / 2 + 150);
    /* evaluation batches are never augmented: the image sits at row 2, column 2 */
    float x[42], y;
    assert_int_equal(d.fetch(&d, &idx, 1, x, &y, 0, &err), NML_OK);
    assert_true(x[2 * 7 + 2] == 1.0f && fabsf(x[3 * 7 + 4] - 0.2f) < 1e-6f);
}

/* The tiny images' pixels in [0, 1]: 0, 0.2, 0.4, 0.6, 0.8, 1, 1, 0, 0, 0, 0, 0.
 * Both images: sum 4, mean 1/3; sum of squares 0.04+0.16+0.36+0.64+1+1 = 3.2,
 * variance 3.2/12 - 1/9 = 0.15556, std 0.39441. Image 1 alone: mean 1/6, variance 1/6 - 1/36,
 * std 0.37268. */
static void pixel_statistics(void **state) {
    (void)state;
    nml_idx_dataset ds = tiny();
    nml_data d;
    nml_error err;
    float mean, std;
    assert_int_equal(nml_data_from_images(&d, &ds, 4, 5, &err), NML_OK);
    assert_int_equal(nml_data_image_stats(&d, 0, 0, &mean, &std, &err), NML_OK);
    assert_true(fabsf(mean - 1.0f / 3.0f) < 1e-6f && fabsf(std - 0.394405f) < 1e-5f);
    assert_int_equal(nml_data_image_stats(&d, 1, 1, &mean, &std, &err), NML_OK);
    assert_true(fabsf(mean - 1.0f / 6.0f) < 1e-6f && fabsf(std - 0.372678f) < 1e-5f);
    assert_int_equal(nml_data_image_stats(&d, 1, 2, &mean, &std, &err), NML_E_ARG);
    assert_int_equal(nml_data_image_stats(&d, -1, 1, &mean, &std, &err), NML_E_ARG);
}

/* Standardizing with mean 0.4, std 0.5: pixel p becomes (p - 0.4) / 0.5, so 0 -> -0.8,
 * 0.2 -> -0.4, 1 -> 1.2. The padding is the background (-0.8), or 0 with pad_with_mean. */
static void standardize_pads_with_background_or_mean(void **state) {
    (void)state;
    nml_idx_dataset ds = tiny();
    nml_data d;
    nml_error err;
    float x[20], y;
    const int32_t idx = 0;
    assert_int_equal(nml_data_from_images(&d, &ds, 4, 5, &err), NML_OK);
    assert_int_equal(nml_data_standardize(&d, 0.4f, 0.5f, 0, &err), NML_OK);
    assert_int_equal(d.fetch(&d, &idx, 1, x, &y, 0, &err), NML_OK);
    const float want[20] = {-0.8f, -0.8f, -0.8f, -0.8f, -0.8f, -0.8f, -0.8f, -0.4f, 0.0f, -0.8f,
                            -0.8f, 0.4f,  0.8f,  1.2f,  -0.8f, -0.8f, -0.8f, -0.8f, -0.8f, -0.8f};
    for (int i = 0; i < 20; i++) assert_true(fabsf(x[i] - want[i]) < 1e-6f);
    assert_int_equal(nml_data_standardize(&d, 0.4f, 0.5f, 1, &err), NML_OK);
    assert_int_equal(d.fetch(&d, &idx, 1, x, &y, 0, &err), NML_OK);
    for (int i = 0; i < 20; i++) {
        const int inside = i / 5 >= 1 && i / 5 <= 2 && i % 5 >= 1 && i % 5 <= 3;
        assert_true(fabsf(x[i] - (inside ? want[i] : 0.0f)) < 1e-6f);
    }
    /* augmentation moves the standardized image over the same padding */
    nml_rng rng;
    nml_rng_seed(&rng, 1);
    assert_int_equal(nml_data_standardize(&d, 0.4f, 0.5f, 0, &err), NML_OK);
    assert_int_equal(nml_data_augment(&d, 1, 1, &rng, &err), NML_OK);
    for (int it = 0; it < 20; it++) {
        assert_int_equal(d.fetch(&d, &idx, 1, x, &y, 1, &err), NML_OK);
        int background = 0, bright = 0;
        for (int i = 0; i < 20; i++) {
            background += fabsf(x[i] + 0.8f) < 1e-6f;
            bright += fabsf(x[i] - 1.2f) < 1e-6f;
        }
        assert_int_equal(background, 15); /* 14 padding + the image's own black pixel */
        assert_int_equal(bright, 1);
    }
    assert_int_equal(nml_data_standardize(&d, 0.4f, 0.0f, 0, &err), NML_E_ARG);
    assert_int_equal(nml_data_standardize(&d, NAN, 1.0f, 0, &err), NML_E_ARG);
}

static void arrays(void **state) {
    (void)state;
    const float xs[6] = {1, 2, 3, 4, 5, 6}, ys[3] = {0, 1, 0};
    nml_data d;
    nml_error err;
    assert_int_equal(nml_data_from_arrays(&d, xs, ys, 3, nml_shape_1d(2), 1, 2, &err), NML_OK);
    float x[4], y[2];
    const int32_t idx[2] = {2, 0};
    assert_int_equal(d.fetch(&d, idx, 2, x, y, 1, &err), NML_OK);
    assert_true(x[0] == 5 && x[1] == 6 && x[2] == 1 && y[0] == 0 && y[1] == 0);
    assert_int_equal(nml_data_augment(&d, 1, 0, NULL, &err), NML_E_UNSUPPORTED);
    float mean, std;
    assert_int_equal(nml_data_standardize(&d, 0.5f, 1.0f, 0, &err), NML_E_UNSUPPORTED);
    assert_int_equal(nml_data_image_stats(&d, 0, 0, &mean, &std, &err), NML_E_UNSUPPORTED);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(images_are_scaled_and_centered),
        cmocka_unit_test(augmentation_moves_and_mirrors),
        cmocka_unit_test(pixel_statistics),
        cmocka_unit_test(standardize_pads_with_background_or_mean),
        cmocka_unit_test(arrays),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
