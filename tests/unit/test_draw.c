/* Drawing: rectangle outlines and clipping, the bitmap font, labelled boxes. */
#include "test_util.h"

#include <string.h>

#include "nanoml/draw.h"

static int is_set(const nml_image *img, int x, int y) {
    const uint8_t *p = img->data + ((size_t)y * img->w + x) * img->c;
    return p[0] || p[1] || p[2];
}

static nml_image black(int w, int h) {
    nml_image img;
    nml_error err;
    assert_int_equal(nml_image_alloc(&img, w, h, 3, &err), NML_OK);
    return img;
}

static void rectangle_outline_and_thickness(void **state) {
    (void)state;
    nml_image img = black(10, 10);
    nml_rgb red = {255, 0, 0};
    nml_draw_rect(&img, 2, 2, 7, 7, 2, red);
    assert_true(is_set(&img, 2, 2) && is_set(&img, 3, 3) && is_set(&img, 7, 5));
    assert_false(is_set(&img, 4, 4)); /* inside the 2-pixel outline */
    assert_false(is_set(&img, 1, 1) || is_set(&img, 8, 8));
    assert_int_equal(img.data[(2 * 10 + 2) * 3 + 0], 255);
    assert_int_equal(img.data[(2 * 10 + 2) * 3 + 1], 0);
    /* clipped: a box hanging over every edge draws only inside */
    nml_draw_rect(&img, -5, -5, 20, 20, 1, red);
    nml_draw_fill_rect(&img, 100, 100, 200, 200, red);
    nml_image_free(&img);
}

/* The glyph table: '!' is a vertical bar in the middle column with a gap on row 6,
 * 'A' row 3 is full, ' ' is empty, and non-ASCII falls back to '?'. */
static void glyph_table(void **state) {
    (void)state;
    const uint8_t *bang = nml_font_glyph('!');
    for (int r = 0; r < 5; r++)
        assert_int_equal(bang[r], 0x04);
    assert_int_equal(bang[5], 0x00);
    assert_int_equal(bang[6], 0x04);
    assert_int_equal(nml_font_glyph('A')[3], 0x1F);
    for (int r = 0; r < NML_FONT_H; r++)
        assert_int_equal(nml_font_glyph(' ')[r], 0);
    assert_ptr_equal(nml_font_glyph((char)0xE9), nml_font_glyph('?'));
    assert_ptr_equal(nml_font_glyph('\n'), nml_font_glyph('?'));
}

/* "I|" at (1, 1), scale 1: 'I' is .###. / ..#.. x5 / .###.; '|' starts 6 columns later with a
 * full middle column. Scale 2 doubles every font pixel. */
static void text_pixels(void **state) {
    (void)state;
    nml_image img = black(20, 12);
    nml_rgb white = {255, 255, 255};
    assert_int_equal(nml_draw_text(&img, 1, 1, "I|", 1, white), 11);
    assert_true(is_set(&img, 2, 1) && is_set(&img, 3, 1) && is_set(&img, 4, 1));
    assert_false(is_set(&img, 1, 1) || is_set(&img, 5, 1));
    assert_true(is_set(&img, 3, 4) && !is_set(&img, 2, 4));
    assert_true(is_set(&img, 2, 7) && is_set(&img, 4, 7));
    for (int y = 1; y <= 7; y++)
        assert_true(is_set(&img, 9, y)); /* '|' */
    assert_false(is_set(&img, 8, 4) || is_set(&img, 10, 4));
    int set = 0;
    for (size_t i = 0; i < 20 * 12; i++)
        set += img.data[i * 3] != 0;
    assert_int_equal(set, 3 + 5 + 3 + 7); /* every lit font pixel and nothing else */
    memset(img.data, 0, 20 * 12 * 3);
    nml_draw_text(&img, 0, 0, "-", 2, white); /* '-' is row 3, full width */
    assert_true(is_set(&img, 0, 6) && is_set(&img, 9, 7) && !is_set(&img, 0, 5));
    assert_int_equal(nml_text_width("ab", 2), (6 + 5) * 2);
    assert_int_equal(nml_text_height(3), 21);
    nml_image_free(&img);
}

static void labeled_box_and_colors(void **state) {
    (void)state;
    nml_image img = black(40, 40);
    nml_rgb c = nml_class_color(0);
    nml_draw_labeled_box(&img, 5, 20, 30, 35, "a", 1, 1, c);
    /* label background: 5 + 2 wide, 7 + 2 tall, above the box (y 11..19) */
    const uint8_t *p = img.data + ((size_t)11 * 40 + 5) * 3;
    assert_int_equal(p[0], c.r);
    assert_int_equal(p[1], c.g);
    assert_int_equal(p[2], c.b);
    /* distinct colours for the first classes */
    for (int i = 0; i < 10; i++)
        for (int j = i + 1; j < 10; j++) {
            nml_rgb a = nml_class_color(i), b = nml_class_color(j);
            assert_true(a.r != b.r || a.g != b.g || a.b != b.b);
        }
    nml_image_free(&img);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rectangle_outline_and_thickness),
        cmocka_unit_test(glyph_table),
        cmocka_unit_test(text_pixels),
        cmocka_unit_test(labeled_box_and_colors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
