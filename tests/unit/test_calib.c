/* Calibration sources: the in-memory array and NumPy files (a directory with one sample per
 * file in name order, or one file whose first dimension counts samples), their errors, and an
 * end-to-end quantization calibrated from .npy files. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nanoml/calib.h"
#include "nanoml/file.h"
#include "nanoml/npy.h"
#include "nanoml/quantize.h"
#include "oracle.h"
#include "test_util.h"

static void ok(nml_status st, const nml_error *err) {
    if (st != NML_OK) fail_msg("%s", err->msg);
}

static void write_npy(const char *dir, const char *name, int dtype, int rank, const int32_t *dims,
                      const void *data) {
    char path[600];
    nml_error err;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    ok(nml_npy_write(path, dtype, rank, dims, data, &err), &err);
}

static float next_value(nml_calib_source *src, const char **origin) {
    nml_calib_tensor t[2];
    int n;
    nml_error err;
    ok(src->next(src->user, t, 2, &n, &err), &err);
    assert_int_equal(n, 1);
    assert_int_equal(t[0].type, NML_FLOAT32);
    assert_int_equal(t[0].bytes, 4);
    if (origin) *origin = t[0].origin;
    float v;
    memcpy(&v, t[0].data, 4);
    return v;
}

static void expect_end(nml_calib_source *src) {
    nml_calib_tensor t[1];
    int n = 7;
    nml_error err;
    ok(src->next(src->user, t, 1, &n, &err), &err);
    assert_int_equal(n, 0);
}

static void npy_directory_in_name_order(void **state) {
    (void)state;
    const char *dir = nml_test_tmpdir();
    const int32_t dims[2] = {1, 1};
    write_npy(dir, "b.npy", NML_FLOAT32, 2, dims, (const float[]){2.0f});
    write_npy(dir, "a.npy", NML_FLOAT32, 2, dims, (const float[]){1.0f});
    write_npy(dir, "c.NPY", NML_FLOAT32, 2, dims, (const float[]){3.0f});
    char other[600];
    nml_error err;
    snprintf(other, sizeof other, "%s/notes.txt", dir);
    ok(nml_write_file(other, "x", 1, &err), &err);
    nml_calib_source src;
    ok(nml_calib_npy_open(&src, dir, &err), &err);
    assert_int_equal(src.count(src.user), 3);
    assert_non_null(strstr(src.name, "npy:"));
    const char *origin;
    assert_true(next_value(&src, &origin) == 1.0f);
    assert_string_equal(origin, "a.npy");
    assert_true(next_value(&src, NULL) == 2.0f);
    assert_true(next_value(&src, &origin) == 3.0f);
    assert_string_equal(origin, "c.NPY");
    expect_end(&src);
    nml_calib_close(&src);
    assert_null(src.next);
    nml_test_tmpdir_remove(dir);
}

static void npy_single_file(void **state) {
    (void)state;
    const char *dir = nml_test_tmpdir();
    write_npy(dir, "all.npy", NML_FLOAT32, 3, (const int32_t[]){3, 1, 1},
              (const float[]){0.5f, 1.5f, 2.5f});
    char path[600];
    snprintf(path, sizeof path, "%s/all.npy", dir);
    nml_calib_source src;
    nml_error err;
    ok(nml_calib_npy_open(&src, path, &err), &err);
    assert_int_equal(src.count(src.user), 3);
    nml_calib_tensor t[1];
    int n;
    ok(src.next(src.user, t, 1, &n, &err), &err);
    assert_int_equal(t[0].rank, 2); /* the sample shape: the file's shape without its first dim */
    assert_int_equal(t[0].dims[0], 1);
    assert_true(((const float *)t[0].data)[0] == 0.5f);
    assert_true(next_value(&src, NULL) == 1.5f);
    assert_true(next_value(&src, NULL) == 2.5f);
    expect_end(&src);
    nml_calib_close(&src);
    nml_test_tmpdir_remove(dir);
}

static void npy_errors(void **state) {
    (void)state;
    const char *dir = nml_test_tmpdir();
    nml_calib_source src;
    nml_error err;
    assert_int_equal(nml_calib_npy_open(&src, dir, &err), NML_E_ARG);
    assert_non_null(strstr(err.msg, "no .npy files"));
    char path[600];
    snprintf(path, sizeof path, "%s/missing", dir);
    assert_int_equal(nml_calib_npy_open(&src, path, &err), NML_E_IO);
    assert_non_null(strstr(err.msg, "missing"));
    write_npy(dir, "scalar.npy", NML_FLOAT32, 0, NULL, (const float[]){1.0f});
    snprintf(path, sizeof path, "%s/scalar.npy", dir);
    assert_int_equal(nml_calib_npy_open(&src, path, &err), NML_E_SHAPE);
    assert_non_null(strstr(err.msg, "first dimension"));
    /* a broken file inside a directory fails when its turn comes, naming it */
    snprintf(path, sizeof path, "%s/zz_broken.npy", dir);
    ok(nml_write_file(path, "\x93NUMPY garbage", 14, &err), &err);
    ok(nml_calib_npy_open(&src, dir, &err), &err);
    assert_true(next_value(&src, NULL) == 1.0f); /* scalar.npy comes first */
    nml_calib_tensor t[1];
    int n;
    assert_int_not_equal(src.next(src.user, t, 1, &n, &err), NML_OK);
    assert_non_null(strstr(err.msg, "zz_broken.npy"));
    nml_calib_close(&src);
    nml_test_tmpdir_remove(dir);
}

/* hello_world calibrated from 32 .npy files holding x evenly over [0, 2pi]; then a directory
 * with a uint8 file, whose name the error must give. */
static void quantize_from_npy(void **state) {
    (void)state;
    const char *dir = nml_test_tmpdir();
    for (int i = 0; i < 32; i++) {
        char name[32];
        snprintf(name, sizeof name, "x%02d.npy", i);
        const float x = (float)(6.283185307179586 * i / 31);
        write_npy(dir, name, NML_FLOAT32, 1, (const int32_t[]){1}, &x);
    }
    size_t size;
    uint8_t *bytes = nml_test_read(nml_test_shared("models/tflm/hello_world_float.tflite"), &size);
    nml_ir f, q;
    nml_error err;
    ok(nml_ir_from_tflite(&f, bytes, size, &err), &err);
    free(bytes);
    nml_calib_source src;
    ok(nml_calib_npy_open(&src, dir, &err), &err);
    nml_quant_options o;
    nml_quant_options_default(&o);
    o.max_samples = 20;
    nml_quant_report r;
    ok(nml_quantize(&f, &q, &o, &src, &r, &err), &err);
    assert_int_equal(r.samples, 20);
    /* 20 of 32 files: x up to 2pi * 19/31 */
    assert_true(r.ranges[0].max == (float)(6.283185307179586 * 19 / 31));
    nml_calib_close(&src);
    nml_quant_report_free(&r);
    nml_ir_free(&q);

    write_npy(dir, "x05b.npy", NML_UINT8, 1, (const int32_t[]){1}, (const uint8_t[]){3});
    ok(nml_calib_npy_open(&src, dir, &err), &err);
    assert_int_not_equal(nml_quantize(&f, &q, &o, &src, &r, &err), NML_OK);
    assert_non_null(strstr(err.msg, "(x05b.npy)"));
    assert_non_null(strstr(err.msg, "uint8"));
    nml_calib_close(&src);
    nml_ir_free(&f);
    nml_test_tmpdir_remove(dir);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(npy_directory_in_name_order),
        cmocka_unit_test(npy_single_file),
        cmocka_unit_test(npy_errors),
        cmocka_unit_test(quantize_from_npy),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
