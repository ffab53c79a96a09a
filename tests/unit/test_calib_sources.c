/* Calibration sources for Fashion-MNIST and image folders, their refusals, quantization
 * calibrated from Fashion-MNIST (the input range must be the pixels' range), and activation
 * ranges given to the quantizer directly (fixed_ranges). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compress_check.h"
#include "nanoml/calib.h"
#include "nanoml/idx.h"
#include "nanoml/image.h"
#include "nanoml/quantize.h"
#include "nanoml/train_layers.h"
#include "test_util.h"

static int have_fashion(void) {
    return nml_test_exists(NML_FASHION_MNIST_DIR "/train-images-idx3-ubyte.gz");
}

/* A model input of the given shape (and a trivial RESHAPE so the IR is valid). */
static void input_model(nml_ir *ir, int rank, const int32_t *dims) {
    nml_error err;
    nml_ir_init(ir);
    int x, y, s;
    int64_t n = 1;
    for (int i = 0; i < rank; i++)
        n *= dims[i];
    const int32_t flat[2] = {1, (int32_t)n}, two = 2;
    assert_int_equal(nml_ir_add_tensor(ir, "x", NML_FLOAT32, rank, dims, NULL, 0, &x, &err),
                     NML_OK);
    assert_int_equal(
        nml_ir_add_tensor(ir, "shape", NML_INT32, 1, &two, flat, sizeof flat, &s, &err), NML_OK);
    assert_int_equal(nml_ir_add_tensor(ir, "y", NML_FLOAT32, 2, flat, NULL, 0, &y, &err), NML_OK);
    const int32_t in[2] = {x, s}, out = y;
    assert_int_equal(nml_ir_add_op(ir, NML_OP_RESHAPE, NULL, 2, in, 1, &out, NULL, &err), NML_OK);
    assert_int_equal(nml_ir_set_io(ir, 1, &in[0], 1, &out, &err), NML_OK);
}

static void fashion_samples_are_padded_pixels(void **state) {
    (void)state;
    if (!have_fashion()) skip();
    nml_ir model;
    input_model(&model, 4, (const int32_t[]){1, 32, 32, 1});
    nml_calib_source src;
    nml_error err;
    assert_int_equal(nml_calib_open_spec(&src, "fashion-mnist:3", &model, NULL, &err), NML_OK);
    assert_int_equal(src.count(src.user), 3);
    nml_idx_dataset ds;
    assert_int_equal(nml_idx_load_split(NML_FASHION_MNIST_DIR, "train", &ds, &err), NML_OK);
    for (int s = 0; s < 3; s++) {
        nml_calib_tensor t[2];
        int n;
        assert_int_equal(src.next(src.user, t, 2, &n, &err), NML_OK);
        assert_int_equal(n, 1);
        assert_int_equal(t[0].type, NML_FLOAT32);
        assert_int_equal(t[0].bytes, 32 * 32 * sizeof(float));
        const float *x = t[0].data;
        for (int r = 0; r < 32; r++)
            for (int c = 0; c < 32; c++) {
                const int inside = r >= 2 && r < 30 && c >= 2 && c < 30;
                const float want =
                    inside ? ds.images[(size_t)s * 784 + (r - 2) * 28 + (c - 2)] * (1.0f / 255.0f)
                           : 0.0f;
                if (x[r * 32 + c] != want) fail_msg("sample %d pixel %d,%d", s, r, c);
            }
    }
    nml_calib_tensor t[1];
    int n = 1;
    assert_int_equal(src.next(src.user, t, 1, &n, &err), NML_OK);
    assert_int_equal(n, 0);
    nml_calib_close(&src);
    nml_idx_dataset_free(&ds);
    nml_ir_free(&model);
}

static void mismatched_models_are_refused(void **state) {
    (void)state;
    nml_ir model;
    nml_calib_source src;
    nml_error err;
    input_model(&model, 2, (const int32_t[]){1, 1});
    assert_int_equal(nml_calib_open_spec(&src, "fashion-mnist", &model, NULL, &err), NML_E_SHAPE);
    assert_non_null(strstr(err.msg, "the model input x (1x1) is not an image"));
    assert_int_equal(nml_calib_open_spec(&src, "images:/tmp", &model, NULL, &err), NML_E_SHAPE);
    nml_ir_free(&model);
    input_model(&model, 4, (const int32_t[]){1, 8, 8, 3});
    assert_int_equal(nml_calib_open_spec(&src, "fashion-mnist:5", &model, NULL, &err), NML_E_SHAPE);
    assert_non_null(strstr(err.msg, "3 channels"));
    assert_int_equal(nml_calib_open_spec(&src, "fashion-mnist:zero", &model, NULL, &err),
                     NML_E_ARG);
    assert_non_null(strstr(err.msg, "'zero'"));
    assert_int_equal(nml_calib_open_spec(&src, "mnist", &model, NULL, &err), NML_E_ARG);
    assert_non_null(strstr(err.msg, "unknown calibration source 'mnist'"));
    nml_ir_free(&model);
    if (have_fashion()) {
        input_model(&model, 4, (const int32_t[]){1, 16, 16, 1});
        assert_int_equal(nml_calib_open_spec(&src, "fashion-mnist", &model, NULL, &err),
                         NML_E_SHAPE);
        assert_non_null(strstr(err.msg, "smaller than the 28x28 images"));
        nml_ir_free(&model);
    }
}

static void write_grey(const char *path, int w, int h, const uint8_t *pixels) {
    nml_image img;
    nml_error err;
    assert_int_equal(nml_image_alloc(&img, w, h, 1, &err), NML_OK);
    memcpy(img.data, pixels, (size_t)w * h);
    assert_int_equal(nml_image_write_png(path, &img, &err), NML_OK);
    nml_image_free(&img);
}

static void image_folder_in_name_order(void **state) {
    (void)state;
    char dir[] = "/tmp/nml_calib_imagesXXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256];
    uint8_t a[16], b[16], flat[4] = {100, 100, 100, 100};
    for (int i = 0; i < 16; i++)
        a[i] = (uint8_t)(i * 16), b[i] = (uint8_t)(255 - i);
    snprintf(path, sizeof path, "%s/b.png", dir);
    write_grey(path, 4, 4, b);
    snprintf(path, sizeof path, "%s/a.PNG", dir);
    write_grey(path, 4, 4, a);
    snprintf(path, sizeof path, "%s/c.png", dir);
    write_grey(path, 2, 2, flat); /* resized to 4x4: a flat image stays flat */
    snprintf(path, sizeof path, "%s/notes.txt", dir);
    FILE *f = fopen(path, "w");
    fputs("not an image", f);
    fclose(f);
    nml_calib_source src;
    nml_error err;
    assert_int_equal(nml_calib_images_open(&src, dir, 4, 4, 1, &err), NML_OK);
    assert_int_equal(src.count(src.user), 3);
    const uint8_t *want[3] = {a, b, NULL};
    for (int s = 0; s < 3; s++) {
        nml_calib_tensor t[1];
        int n;
        assert_int_equal(src.next(src.user, t, 1, &n, &err), NML_OK);
        assert_int_equal(n, 1);
        const float *x = t[0].data;
        for (int i = 0; i < 16; i++) {
            const float v = want[s] ? want[s][i] / 255.0f : 100.0f / 255.0f;
            if (x[i] != v)
                fail_msg("image %d (%s) pixel %d: %g, expected %g", s, t[0].origin, i, x[i], v);
        }
    }
    nml_calib_close(&src);
    /* a broken file fails when its turn comes, naming it */
    snprintf(path, sizeof path, "%s/d.png", dir);
    f = fopen(path, "w");
    fputs("broken", f);
    fclose(f);
    assert_int_equal(nml_calib_images_open(&src, dir, 4, 4, 1, &err), NML_OK);
    nml_calib_tensor t[1];
    int n, st = NML_OK;
    for (int s = 0; s < 4 && st == NML_OK; s++)
        st = src.next(src.user, t, 1, &n, &err);
    assert_int_not_equal(st, NML_OK);
    assert_non_null(strstr(err.msg, "d.png"));
    nml_calib_close(&src);
    /* no images at all */
    char empty[] = "/tmp/nml_calib_emptyXXXXXX";
    assert_non_null(mkdtemp(empty));
    assert_int_equal(nml_calib_images_open(&src, empty, 4, 4, 1, &err), NML_E_ARG);
    assert_non_null(strstr(err.msg, "no image files"));
    rmdir(empty);
    for (const char *name = "a.PNG b.png c.png d.png notes.txt"; *name;) {
        char one[32];
        int len = 0;
        while (name[len] && name[len] != ' ')
            len++;
        snprintf(one, sizeof one, "%.*s", len, name);
        snprintf(path, sizeof path, "%s/%s", dir, one);
        unlink(path);
        name += len + (name[len] == ' ');
    }
    rmdir(dir);
}

/* conv 32x32x1 -> 4@5x5 relu -> flatten -> dense 3 */
static void conv_model(nml_ir *ir) {
    nml_net *net;
    nml_error err;
    assert_int_equal(nml_net_create(&net, "cm", 3, &err), NML_OK);
    nml_net_input(net, "image", nml_shape_3d(32, 32, 1), NULL, &err);
    nml_net_add(
        net,
        nml_conv2d(&(nml_conv2d_opts){
            .name = "c1", .filters = 4, .kernel = 5, .stride = 3, .activation = NML_AFN_RELU}),
        &err);
    nml_net_add(net, nml_flatten("flatten"), &err);
    nml_net_add(net, nml_dense(&(nml_dense_opts){.name = "out", .units = 3}), &err);
    assert_int_equal(nml_net_build(net, 0, NULL, &err), NML_OK);
    cc_export(net, ir);
    nml_net_free(net);
}

static const nml_ir_tensor *find(const nml_ir *ir, const char *name) {
    const int t = nml_ir_find_tensor(ir, name);
    if (t < 0) fail_msg("no tensor %s", name);
    return &ir->tensors[t];
}

static void quantize_from_fashion_mnist(void **state) {
    (void)state;
    if (!have_fashion()) skip();
    nml_ir model, q;
    conv_model(&model);
    nml_calib_source src;
    nml_error err;
    assert_int_equal(nml_calib_open_spec(&src, "fashion-mnist:20", &model, NULL, &err), NML_OK);
    nml_quant_options o;
    nml_quant_options_default(&o);
    nml_quant_report r;
    assert_int_equal(nml_quantize(&model, &q, &o, &src, &r, &err), NML_OK);
    assert_int_equal(r.samples, 20);
    /* the input's range is [0, brightest pixel of the 20 images / 255] */
    nml_idx_dataset ds;
    assert_int_equal(nml_idx_load_split(NML_FASHION_MNIST_DIR, "train", &ds, &err), NML_OK);
    uint8_t brightest = 0;
    for (size_t i = 0; i < 20 * 784; i++)
        brightest = ds.images[i] > brightest ? ds.images[i] : brightest;
    float scale;
    int32_t zp;
    nml_quant_params(0.0f, brightest * (1.0f / 255.0f), -128, 127, &scale, &zp);
    const nml_ir_tensor *in = find(&q, "image_int8");
    printf("brightest pixel %d: input scale %g zero point %d\n", brightest, in->scales[0],
           (int)in->zero_points[0]);
    assert_true(in->scales[0] == scale);
    assert_int_equal(in->zero_points[0], zp);
    nml_idx_dataset_free(&ds);
    nml_quant_report_free(&r);
    nml_calib_close(&src);
    nml_ir_free(&q);
    nml_ir_free(&model);
}

static void fixed_ranges_replace_calibration(void **state) {
    (void)state;
    nml_ir model, q;
    conv_model(&model);
    nml_error err;
    nml_quant_options o;
    nml_quant_options_default(&o);
    /* every range given: no calibration data needed */
    const nml_quant_fixed_range all[3] = {
        {"image", 0.0f, 1.0f}, {"c1", 0.0f, 2.55f}, {"out", -1.0f, 3.0f}};
    o.fixed_ranges = all;
    o.n_fixed_ranges = 3;
    assert_int_equal(nml_quantize(&model, &q, &o, NULL, NULL, &err), NML_OK);
    const nml_ir_tensor *c1 = find(&q, "c1");
    assert_true(c1->scales[0] == 2.55f / 255.0f);
    assert_int_equal(c1->zero_points[0], -128);
    const nml_ir_tensor *out = find(&q, "out_int8");
    assert_true(out->scales[0] == 4.0f / 255.0f);
    assert_int_equal(out->zero_points[0], -128 + 64); /* -128 - (-1) / (4/255) = -64.25 */
    nml_ir_free(&q);
    /* a range missing: named */
    o.n_fixed_ranges = 2;
    assert_int_equal(nml_quantize(&model, &q, &o, NULL, NULL, &err), NML_E_ARG);
    assert_non_null(strstr(err.msg, "(out) has no range"));
    /* an unknown tensor: named */
    const nml_quant_fixed_range bad[1] = {{"nope", 0.0f, 1.0f}};
    o.fixed_ranges = bad;
    o.n_fixed_ranges = 1;
    assert_int_equal(nml_quantize(&model, &q, &o, NULL, NULL, &err), NML_E_ARG);
    assert_non_null(strstr(err.msg, "'nope'"));
    /* with calibration data, a given range overrides the calibrated one */
    float x[4 * 1024];
    for (int i = 0; i < 4 * 1024; i++)
        x[i] = (float)(i % 7) / 7.0f;
    nml_calib_source src;
    assert_int_equal(
        nml_calib_array_open(&src, NML_FLOAT32, 3, (const int32_t[]){32, 32, 1}, x, 4, &err),
        NML_OK);
    const nml_quant_fixed_range one[1] = {{"c1", 0.0f, 5.1f}};
    o.fixed_ranges = one;
    assert_int_equal(nml_quantize(&model, &q, &o, &src, NULL, &err), NML_OK);
    assert_true(find(&q, "c1")->scales[0] == 5.1f / 255.0f);
    nml_calib_close(&src);
    nml_ir_free(&q);
    nml_ir_free(&model);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fashion_samples_are_padded_pixels),
        cmocka_unit_test(mismatched_models_are_refused),
        cmocka_unit_test(image_folder_in_name_order),
        cmocka_unit_test(quantize_from_fashion_mnist),
        cmocka_unit_test(fixed_ranges_replace_calibration),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
