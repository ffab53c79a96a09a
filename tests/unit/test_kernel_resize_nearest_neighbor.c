/* RESIZE_NEAREST_NEIGHBOR: TFLite's index formula in its three modes, worked out by hand:
 *   scale = align_corners ? (in - 1) / (out - 1) : in / out      (float)
 *   src   = min(align_corners ? round((i + off) * scale) : floor((i + off) * scale), in - 1)
 *   off   = half_pixel_centers ? 0.5 : 0 */
#include <math.h>

#include "test_util.h"

#include "kernel_expect.h"
#include "kernels/kernels.h"

typedef struct fixture {
    nml_kh h;
    int ti, ts, to;
    int32_t size[2];
} fixture;

/* 1-pixel-high images so each test reads one row of column indices */
static void setup(fixture *f, void *in, int in_w, void *out, int out_w, int type) {
    kh_init(&f->h);
    f->size[0] = 1, f->size[1] = out_w;
    f->ti = kh_tensor(&f->h, type, 4, (int32_t[]){1, 1, in_w, 1}, in, 0.5f, 0);
    f->ts = kh_tensor(&f->h, NML_INT32, 1, (int32_t[]){2}, f->size, 0, 0);
    kh_const(&f->h, f->ts);
    f->to = kh_tensor(&f->h, type, 4, (int32_t[]){1, 1, out_w, 1}, out, 0.5f, 0);
    kh_inputs(&f->h, 2, f->ti, f->ts);
    kh_outputs(&f->h, 1, f->to);
}

static nml_op_params modes(int align, int half) {
    nml_op_params p;
    nml_op_params_default(&p);
    p.align_corners = (uint8_t)align;
    p.half_pixel_centers = (uint8_t)half;
    return p;
}

static void upsample_2x_like_yolo(void **state) {
    (void)state;
    /* [1,2,2,2] -> [1,4,4,2], no flags: scale 0.5, src = floor(i / 2) */
    int8_t x[8] = {1, 2, 3, 4, 5, 6, 7, 8}, y[32];
    int32_t size[2] = {4, 4};
    nml_kh h;
    kh_init(&h);
    kh_operand_node(&h, (kh_spec){NML_INT8, 4, (int32_t[]){1, 2, 2, 2}, x, 0.5f, -3},
                    (kh_spec){NML_INT32, 1, (int32_t[]){2}, size, 0, 0},
                    (kh_spec){NML_INT8, 4, (int32_t[]){1, 4, 4, 2}, y, 0.5f, -3});
    nml_op_params p = modes(0, 0);
    KH_EXPECT_OK(&h, &nml_kernel_resize_nearest_neighbor, &p);
    for (int r = 0; r < 4; r++)
        for (int c = 0; c < 4; c++)
            for (int ch = 0; ch < 2; ch++)
                assert_int_equal(y[(r * 4 + c) * 2 + ch], x[((r / 2) * 2 + c / 2) * 2 + ch]);
    kh_free(&h);
}

static void align_corners(void **state) {
    (void)state;
    /* 3 -> 5: scale 2/4 = 0.5; round(i * 0.5) ties away: 0, 0.5->1, 1, 1.5->2, 2 */
    float x[3] = {10, 20, 30}, y[5];
    fixture f;
    setup(&f, x, 3, y, 5, NML_FLOAT32);
    nml_op_params p = modes(1, 0);
    KH_EXPECT_OK(&f.h, &nml_kernel_resize_nearest_neighbor, &p);
    kh_expect_f32(y, (const float[]){10, 20, 20, 30, 30}, 5);
    /* without align_corners: scale 3/5 = 0.6; floor(0, 0.6, 1.2, 1.8, 2.4) = 0, 0, 1, 1, 2 */
    p = modes(0, 0);
    KH_EXPECT_OK(&f.h, &nml_kernel_resize_nearest_neighbor, &p);
    kh_expect_f32(y, (const float[]){10, 10, 20, 20, 30}, 5);
    kh_free(&f.h);
}

static void half_pixel_centers(void **state) {
    (void)state;
    /* 2 -> 3: scale 2/3 (float 0.6666667); (i + 0.5) * scale = 0.33, 1.0000000298 -> 1.0f, 1.67;
     * floor -> 0, 1, 1 */
    float x[2] = {1, 2}, y[3];
    fixture f;
    setup(&f, x, 2, y, 3, NML_FLOAT32);
    nml_op_params p = modes(0, 1);
    KH_EXPECT_OK(&f.h, &nml_kernel_resize_nearest_neighbor, &p);
    kh_expect_f32(y, (const float[]){1, 2, 2}, 3);
    kh_free(&f.h);
    /* 4 -> 2 (downscale): scale 2; (0.5, 1.5) * 2 = 1, 3 */
    float x4[4] = {1, 2, 3, 4}, y2[2];
    setup(&f, x4, 4, y2, 2, NML_FLOAT32);
    KH_EXPECT_OK(&f.h, &nml_kernel_resize_nearest_neighbor, &p);
    kh_expect_f32(y2, (const float[]){2, 4}, 2);
    /* same without half pixel: floor(0, 2) = 0, 2 */
    p = modes(0, 0);
    KH_EXPECT_OK(&f.h, &nml_kernel_resize_nearest_neighbor, &p);
    kh_expect_f32(y2, (const float[]){1, 3}, 2);
    kh_free(&f.h);
}

static void errors(void **state) {
    (void)state;
    float x[4] = {0}, y[8];
    fixture f;
    setup(&f, x, 4, y, 8, NML_FLOAT32);
    nml_op_params p = modes(1, 1);
    KH_EXPECT_FAIL(&f.h, &nml_kernel_resize_nearest_neighbor, &p, NML_E_FORMAT,
                   "align_corners and half_pixel_centers cannot both be set");
    p = modes(0, 0);
    f.size[1] = 7;
    KH_EXPECT_FAIL(&f.h, &nml_kernel_resize_nearest_neighbor, &p, NML_E_SHAPE,
                   "output shape 1x1x8x1 does not match computed 1x1x7x1");
    f.size[1] = 0;
    KH_EXPECT_FAIL(&f.h, &nml_kernel_resize_nearest_neighbor, &p, NML_E_FORMAT,
                   "size 1x0 is not positive");
    f.size[1] = 8;
    f.h.tensors[f.ts].alloc = NML_ALLOC_ARENA;
    KH_EXPECT_FAIL(&f.h, &nml_kernel_resize_nearest_neighbor, &p, NML_E_UNSUPPORTED,
                   "size must be a constant tensor");
    kh_const(&f.h, f.ts);
    int t3 = kh_tensor(&f.h, NML_FLOAT32, 3, (int32_t[]){1, 4, 1}, x, 0, 0);
    kh_inputs(&f.h, 2, t3, f.ts);
    KH_EXPECT_FAIL(&f.h, &nml_kernel_resize_nearest_neighbor, &p, NML_E_SHAPE,
                   "RESIZE_NEAREST_NEIGHBOR: input has rank 3, expected 4");
    kh_free(&f.h);
}

/* Every mode for widths 1..40 -> 1..64 against the formula above evaluated with the C
 * library's floorf and roundf (TFLite's std::floor and TfLiteRound), in float as TFLite does */
static void index_formula_sweep(void **state) {
    (void)state;
    int32_t x[40], y[64];
    for (int i = 0; i < 40; i++)
        x[i] = i;
    for (int mode = 0; mode < 3; mode++) {
        const int align = mode == 1, half = mode == 2;
        for (int in_w = 1; in_w <= 40; in_w++)
            for (int out_w = 1; out_w <= 64; out_w++) {
                fixture f;
                setup(&f, x, in_w, y, out_w, NML_INT32);
                nml_op_params p = modes(align, half);
                KH_EXPECT_OK(&f.h, &nml_kernel_resize_nearest_neighbor, &p);
                const float scale = align && out_w > 1 ? (float)(in_w - 1) / (float)(out_w - 1)
                                                       : (float)in_w / (float)out_w;
                for (int i = 0; i < out_w; i++) {
                    const float pos = ((float)i + (half ? 0.5f : 0.0f)) * scale;
                    int32_t src = (int32_t)(align ? roundf(pos) : floorf(pos));
                    if (src > in_w - 1) src = in_w - 1;
                    if (y[i] != src)
                        fail_msg("mode %d, %d -> %d, column %d: %d, expected %d", mode, in_w, out_w,
                                 i, (int)y[i], (int)src);
                }
                kh_free(&f.h);
            }
    }
}

/* TFLite's source index (the formula above, in float, with floorf and roundf). */
static int32_t nearest_source(int32_t i, int32_t in, int32_t out, int align, int half) {
    const float scale =
        align && out > 1 ? (float)(in - 1) / (float)(out - 1) : (float)in / (float)out;
    const float pos = ((float)i + (half ? 0.5f : 0.0f)) * scale;
    const int32_t src = (int32_t)(align ? roundf(pos) : floorf(pos));
    return src > in - 1 ? in - 1 : src;
}

/* Rows and columns together (the kernel tabulates both axes in one loop): heights 1..12 ->
 * 1..24 with widths 1..5 -> 1..7, every mode; each input pixel holds 64 * row + column. */
static void index_formula_sweep_2d(void **state) {
    (void)state;
    int32_t x[12 * 5], y[24 * 7];
    for (int mode = 0; mode < 3; mode++) {
        const int align = mode == 1, half = mode == 2;
        for (int in_h = 1; in_h <= 12; in_h++)
            for (int out_h = 1; out_h <= 24; out_h++)
                for (int in_w = 1; in_w <= 5; in_w++)
                    for (int out_w = 1; out_w <= 7; out_w += 3) {
                        for (int r = 0; r < in_h; r++)
                            for (int c = 0; c < in_w; c++)
                                x[r * in_w + c] = 64 * r + c;
                        nml_kh h;
                        kh_init(&h);
                        int32_t size[2] = {out_h, out_w};
                        int ti =
                            kh_tensor(&h, NML_INT32, 4, (int32_t[]){1, in_h, in_w, 1}, x, 0, 0);
                        int ts = kh_tensor(&h, NML_INT32, 1, (int32_t[]){2}, size, 0, 0);
                        kh_const(&h, ts);
                        int to =
                            kh_tensor(&h, NML_INT32, 4, (int32_t[]){1, out_h, out_w, 1}, y, 0, 0);
                        kh_inputs(&h, 2, ti, ts);
                        kh_outputs(&h, 1, to);
                        nml_op_params p = modes(align, half);
                        KH_EXPECT_OK(&h, &nml_kernel_resize_nearest_neighbor, &p);
                        for (int r = 0; r < out_h; r++)
                            for (int c = 0; c < out_w; c++) {
                                const int32_t want =
                                    64 * nearest_source(r, in_h, out_h, align, half) +
                                    nearest_source(c, in_w, out_w, align, half);
                                if (y[r * out_w + c] != want)
                                    fail_msg(
                                        "mode %d, %dx%d -> %dx%d, pixel %d,%d: %d, expected %d",
                                        mode, in_h, in_w, out_h, out_w, r, c, (int)y[r * out_w + c],
                                        (int)want);
                            }
                        kh_free(&h);
                    }
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(upsample_2x_like_yolo), cmocka_unit_test(align_corners),
        cmocka_unit_test(half_pixel_centers),    cmocka_unit_test(errors),
        cmocka_unit_test(index_formula_sweep),   cmocka_unit_test(index_formula_sweep_2d),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
