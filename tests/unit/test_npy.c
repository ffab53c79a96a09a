/* .npy reading and writing against files written out by hand from the format specification
 * (numpy's NEP 1: "\x93NUMPY", major, minor, little-endian header length, a Python dict
 * literal padded with spaces and ended by '\n' so the data starts at a multiple of 64). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nanoml/npy.h"
#include "test_util.h"

/* Builds magic + version + length + dict + padding + data, as numpy.save lays it out. */
static size_t make_npy(uint8_t *out, int major, const char *dict, const void *data, size_t bytes) {
    size_t pre = major == 1 ? 10 : 12;
    size_t total_header = (pre + strlen(dict) + 1 + 63) / 64 * 64;
    size_t hlen = total_header - pre;
    memcpy(out, "\x93NUMPY", 6);
    out[6] = (uint8_t)major;
    out[7] = 0;
    out[8] = (uint8_t)hlen;
    out[9] = (uint8_t)(hlen >> 8);
    if (major != 1) out[10] = out[11] = 0;
    memset(out + pre, ' ', hlen);
    memcpy(out + pre, dict, strlen(dict));
    out[total_header - 1] = '\n';
    if (bytes) memcpy(out + total_header, data, bytes);
    return total_header + bytes;
}

static void writes_what_numpy_writes(void **state) {
    (void)state;
    const float values[6] = {1, 2, 3, 4, 5, 6};
    uint8_t want[256];
    size_t want_size =
        make_npy(want, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", values,
                 sizeof values);
    assert_int_equal(want_size, 128 + 24);
    uint8_t *got;
    size_t size;
    nml_error err;
    assert_int_equal(nml_npy_encode(NML_FLOAT32, 2, (int32_t[]){2, 3}, values, &got, &size, &err),
                     NML_OK);
    assert_int_equal(size, want_size);
    assert_memory_equal(got, want, size);
    free(got);

    /* 1-D shapes keep the trailing comma of a Python 1-tuple; scalars are () */
    const int8_t bytes3[3] = {-1, 0, 1};
    want_size =
        make_npy(want, 1, "{'descr': '|i1', 'fortran_order': False, 'shape': (3,), }", bytes3, 3);
    assert_int_equal(nml_npy_encode(NML_INT8, 1, (int32_t[]){3}, bytes3, &got, &size, &err),
                     NML_OK);
    assert_int_equal(size, want_size);
    assert_memory_equal(got, want, size);
    free(got);
    const int32_t one = 7;
    want_size =
        make_npy(want, 1, "{'descr': '<i4', 'fortran_order': False, 'shape': (), }", &one, 4);
    assert_int_equal(nml_npy_encode(NML_INT32, 0, NULL, &one, &got, &size, &err), NML_OK);
    assert_memory_equal(got, want, want_size);
    free(got);
    assert_int_equal(nml_npy_encode(NML_INT4, 1, (int32_t[]){2}, &one, &got, &size, &err),
                     NML_E_UNSUPPORTED);
}

static void reads_header_variants(void **state) {
    (void)state;
    uint8_t buf[512];
    nml_npy a;
    nml_error err;
    const uint8_t u8[4] = {1, 2, 250, 255};
    /* keys in another order, double quotes, no trailing comma, format 2.0 */
    size_t n =
        make_npy(buf, 2, "{\"shape\": (4,), \"fortran_order\": False, \"descr\": \"|u1\"}", u8, 4);
    assert_int_equal(nml_npy_parse(buf, n, &a, &err), NML_OK);
    assert_int_equal(a.dtype, NML_UINT8);
    assert_int_equal(a.rank, 1);
    assert_int_equal(a.dims[0], 4);
    assert_int_equal(a.bytes, 4);
    assert_memory_equal(a.data, u8, 4);
    nml_npy_free(&a);

    const int64_t big[2] = {-5, (int64_t)1 << 40};
    n = make_npy(buf, 1, "{'descr': '<i8', 'fortran_order': False, 'shape': (1, 2L), }", big, 16);
    assert_int_equal(nml_npy_parse(buf, n, &a, &err), NML_OK);
    assert_int_equal(a.dtype, NML_INT64);
    assert_int_equal(a.rank, 2);
    assert_memory_equal(a.data, big, 16);
    nml_npy_free(&a);

    n = make_npy(buf, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (0, 3), }", NULL, 0);
    assert_int_equal(nml_npy_parse(buf, n, &a, &err), NML_OK);
    assert_int_equal(a.bytes, 0);
    nml_npy_free(&a);
}

static void expect_bad(const char *dict, size_t data_bytes, nml_status want, const char *text) {
    uint8_t buf[512];
    uint8_t zeros[64] = {0};
    nml_npy a;
    nml_error err;
    size_t n = make_npy(buf, 1, dict, zeros, data_bytes);
    nml_status st = nml_npy_parse(buf, n, &a, &err);
    if (st != want || !strstr(err.msg, text))
        fail_msg("%s: got %s \"%s\"", dict, nml_status_str(st), err.msg);
    assert_null(a.data);
}

static void rejects_bad_files(void **state) {
    (void)state;
    expect_bad("{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }", 8, NML_E_UNSUPPORTED,
               "big-endian");
    expect_bad("{'descr': '<f4', 'fortran_order': True, 'shape': (2,), }", 8, NML_E_UNSUPPORTED,
               "Fortran");
    expect_bad("{'descr': '<c8', 'fortran_order': False, 'shape': (2,), }", 16, NML_E_UNSUPPORTED,
               "dtype '<c8'");
    expect_bad("{'descr': '<U3', 'fortran_order': False, 'shape': (2,), }", 24, NML_E_UNSUPPORTED,
               "dtype '<U3'");
    expect_bad("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", 4, NML_E_FORMAT,
               "needs 8 data bytes, file has 4");
    expect_bad("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", 12, NML_E_FORMAT,
               "needs 8 data bytes, file has 12");
    expect_bad("{'descr': '<f4', 'shape': (2,), }", 8, NML_E_FORMAT, "missing 'fortran_order'");
    expect_bad("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'x': 1}", 8, NML_E_FORMAT,
               "unexpected key 'x'");
    expect_bad("{'descr': '<f4', 'fortran_order': False, 'shape': (2, x), }", 8, NML_E_FORMAT,
               "bad shape entry");
    expect_bad("{'descr': '<f4', 'fortran_order': False, 'shape': (1,1,1,1,1,1,1), }", 4,
               NML_E_LIMIT, "rank exceeds");
    expect_bad("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999,), }", 4,
               NML_E_LIMIT, "dimension exceeds");
    expect_bad("['descr']", 0, NML_E_FORMAT, "not a dictionary");
    expect_bad("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), } trailing", 8,
               NML_E_FORMAT, "text after the dictionary");

    uint8_t buf[64];
    nml_npy a;
    nml_error err;
    size_t n = make_npy(buf, 1, "{}", NULL, 0);
    buf[0] = 'X';
    assert_int_equal(nml_npy_parse(buf, n, &a, &err), NML_E_FORMAT);
    assert_non_null(strstr(err.msg, "not a .npy file"));
    buf[0] = 0x93;
    buf[6] = 4;
    assert_int_equal(nml_npy_parse(buf, n, &a, &err), NML_E_UNSUPPORTED);
    assert_non_null(strstr(err.msg, "version 4.0"));
    buf[6] = 1;
    buf[8] = 200; /* header longer than the file */
    assert_int_equal(nml_npy_parse(buf, n, &a, &err), NML_E_FORMAT);
    assert_non_null(strstr(err.msg, "runs past the end"));
    assert_int_equal(nml_npy_parse(buf, 5, &a, &err), NML_E_FORMAT);
}

static void round_trips_through_files(void **state) {
    (void)state;
    char path[] = "/tmp/nml_npy_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    const int types[] = {NML_FLOAT32, NML_FLOAT16, NML_FLOAT64, NML_INT8, NML_INT16,
                         NML_INT32,   NML_INT64,   NML_UINT8,   NML_BOOL};
    uint8_t data[2 * 3 * 4 * 8];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (uint8_t)(i * 7 + 1);
    for (size_t k = 0; k < sizeof types / sizeof types[0]; k++) {
        nml_error err;
        nml_npy a;
        int32_t dims[3] = {2, 3, 4};
        assert_int_equal(nml_npy_write(path, types[k], 3, dims, data, &err), NML_OK);
        assert_int_equal(nml_npy_read(path, &a, &err), NML_OK);
        assert_int_equal(a.dtype, types[k]);
        assert_int_equal(a.rank, 3);
        assert_memory_equal(a.dims, dims, sizeof dims);
        assert_int_equal(a.bytes, 24 * nml_dtype_size(types[k]));
        assert_memory_equal(a.data, data, a.bytes);
        nml_npy_free(&a);
    }
    nml_error err;
    nml_npy a;
    assert_int_equal(nml_npy_read("/tmp", &a, &err), NML_E_IO);
    unlink(path);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(writes_what_numpy_writes),
        cmocka_unit_test(reads_header_variants),
        cmocka_unit_test(rejects_bad_files),
        cmocka_unit_test(round_trips_through_files),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
