/* Strict CLI parsing (nanoml/parse.h). Expected values are written out by hand: decimal
 * arithmetic, powers of two for the size suffixes, and the limits of nanoml/types.h (rank 6,
 * 2^31 - 1 elements: 46340^2 = 2147395600 fits, 46341^2 = 2147488281 does not). */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "nanoml/parse.h"
#include "test_util.h"

/* Expects failure with status `want` and `text` inside the message. */
#define EXPECT_FAIL(call, want, text)                                                              \
    do {                                                                                           \
        nml_error err_;                                                                            \
        nml_error_clear(&err_);                                                                    \
        nml_status st_ = (call);                                                                   \
        if (st_ != (want) || !strstr(err_.msg, (text)))                                            \
            fail_msg("%s: expected %s with \"%s\", got %s \"%s\"", #call, nml_status_str(want),    \
                     (text), nml_status_str(st_), err_.msg);                                       \
    } while (0)
#define ERR (&err_)

static void integers(void **state) {
    (void)state;
    int64_t v;
    int i;
    nml_error err;
    assert_int_equal(nml_parse_i64("0", INT64_MIN, INT64_MAX, &v, &err), NML_OK);
    assert_int_equal(v, 0);
    assert_int_equal(nml_parse_i64("-12", INT64_MIN, INT64_MAX, &v, &err), NML_OK);
    assert_int_equal(v, -12);
    assert_int_equal(nml_parse_i64("+7", INT64_MIN, INT64_MAX, &v, &err), NML_OK);
    assert_int_equal(v, 7);
    assert_int_equal(nml_parse_i64("007", 0, 10, &v, &err), NML_OK);
    assert_int_equal(v, 7);
    assert_int_equal(nml_parse_i64("9223372036854775807", INT64_MIN, INT64_MAX, &v, &err), NML_OK);
    assert_true(v == INT64_MAX);
    assert_int_equal(nml_parse_i64("-9223372036854775808", INT64_MIN, INT64_MAX, &v, &err), NML_OK);
    assert_true(v == INT64_MIN);
    assert_int_equal(nml_parse_int("65535", 1, 65535, &i, &err), NML_OK);
    assert_int_equal(i, 65535);

    EXPECT_FAIL(nml_parse_i64("9223372036854775808", INT64_MIN, INT64_MAX, &v, ERR), NML_E_LIMIT,
                "out of range");
    EXPECT_FAIL(nml_parse_i64("-9223372036854775809", INT64_MIN, INT64_MAX, &v, ERR), NML_E_LIMIT,
                "out of range");
    EXPECT_FAIL(nml_parse_int("70000", 1, 65535, &i, ERR), NML_E_LIMIT,
                "'70000' is out of range (1 to 65535)");
    EXPECT_FAIL(nml_parse_int("0", 1, 65535, &i, ERR), NML_E_LIMIT, "(1 to 65535)");
    EXPECT_FAIL(nml_parse_int("99999999999999999999999", 0, 10, &i, ERR), NML_E_LIMIT,
                "out of range");
    const char *bad[] = {"", " 1", "1 ", "12a", "0x10", "1e3", "--1", "-", "+", "1.0", "½"};
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++)
        EXPECT_FAIL(nml_parse_i64(bad[k], INT64_MIN, INT64_MAX, &v, ERR), NML_E_ARG,
                    "is not an integer");
    EXPECT_FAIL(nml_parse_i64(NULL, 0, 1, &v, ERR), NML_E_ARG, "no number");
    /* long text is quoted shortened, never overflowing the message */
    char longtext[300];
    memset(longtext, '7', sizeof longtext - 2);
    longtext[sizeof longtext - 2] = 'z';
    longtext[sizeof longtext - 1] = '\0';
    EXPECT_FAIL(nml_parse_i64(longtext, 0, 1, &v, ERR), NML_E_ARG, "...' is not an integer");
    /* the value is not written on failure */
    v = 42;
    assert_int_not_equal(nml_parse_i64("x", 0, 1, &v, NULL), NML_OK);
    assert_int_equal(v, 42);
}

static void reals(void **state) {
    (void)state;
    double d;
    float f;
    nml_error err;
    const struct {
        const char *text;
        double value;
    } good[] = {{"0.5", 0.5},    {"-3", -3.0},      {"1e-3", 0.001}, {".25", 0.25}, {"2.", 2.0},
                {"1E+2", 100.0}, {"+0.125", 0.125}, {"0e999", 0.0},  {"-0", 0.0}};
    for (size_t k = 0; k < sizeof good / sizeof good[0]; k++) {
        if (nml_parse_double(good[k].text, -1e9, 1e9, &d, &err) != NML_OK)
            fail_msg("%s: %s", good[k].text, err.msg);
        assert_true(d == good[k].value);
    }
    const char *bad[] = {"",  "inf",   "nan", "-inf", "0x1p3", "1e", "1e+", ".",
                         "-", "1.2.3", " 1",  "1 ",   "1,5",   "e5", "1f"};
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++)
        EXPECT_FAIL(nml_parse_double(bad[k], -1e9, 1e9, &d, ERR), NML_E_ARG, "is not a number");
    EXPECT_FAIL(nml_parse_double("1e400", -1e300, 1e300, &d, ERR), NML_E_LIMIT, "out of range");
    EXPECT_FAIL(nml_parse_double("1e-400", -1, 1, &d, ERR), NML_E_LIMIT, "out of range");
    EXPECT_FAIL(nml_parse_double("1.5", 0, 1, &d, ERR), NML_E_LIMIT,
                "'1.5' is out of range (0 to 1)");
    EXPECT_FAIL(nml_parse_double("-0.001", 0, 1, &d, ERR), NML_E_LIMIT, "out of range");

    assert_int_equal(nml_parse_float("3.4e38", -INFINITY, INFINITY, &f, &err), NML_OK);
    assert_true(isfinite(f) && f > 3.3e38f);
    EXPECT_FAIL(nml_parse_float("3.5e38", -INFINITY, INFINITY, &f, ERR), NML_E_LIMIT,
                "does not fit in a 32-bit float");
    EXPECT_FAIL(nml_parse_float("1e-50", -1, 1, &f, ERR), NML_E_LIMIT, "32-bit float");
    assert_int_equal(nml_parse_float("0.75", 0, 1, &f, &err), NML_OK);
    assert_true(f == 0.75f);
}

static void sizes(void **state) {
    (void)state;
    uint64_t v;
    nml_error err;
    const struct {
        const char *text;
        uint64_t value;
    } good[] = {{"0", 0},
                {"4096", 4096},
                {"256K", 262144},
                {"256k", 262144},
                {"256KB", 262144},
                {"256KiB", 262144},
                {"1M", 1048576},
                {"3mib", 3145728},
                {"2G", 2147483648ull},
                {"1gb", 1073741824},
                {"18446744073709551615", UINT64_MAX}};
    for (size_t k = 0; k < sizeof good / sizeof good[0]; k++) {
        if (nml_parse_size(good[k].text, UINT64_MAX, &v, &err) != NML_OK)
            fail_msg("%s: %s", good[k].text, err.msg);
        assert_true(v == good[k].value);
    }
    const char *bad[] = {"", "K", "1.5M", "12Q", "-1", " 1", "1 K", "1KK", "0x10", "1kibi"};
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++)
        EXPECT_FAIL(nml_parse_size(bad[k], UINT64_MAX, &v, ERR), NML_E_ARG, "is not a size");
    EXPECT_FAIL(nml_parse_size("2M", 1u << 20, &v, ERR), NML_E_LIMIT,
                "'2M' is out of range (at most 1048576 bytes)");
    EXPECT_FAIL(nml_parse_size("18446744073709551616", UINT64_MAX, &v, ERR), NML_E_LIMIT,
                "out of range");
    EXPECT_FAIL(nml_parse_size("17179869184G", UINT64_MAX, &v, ERR), NML_E_LIMIT, "out of range");
}

static void shapes(void **state) {
    (void)state;
    int rank;
    int32_t d[NML_MAX_RANK];
    nml_error err;
    assert_int_equal(nml_parse_shape("1x3x86x128", &rank, d, &err), NML_OK);
    assert_int_equal(rank, 4);
    assert_true(d[0] == 1 && d[1] == 3 && d[2] == 86 && d[3] == 128);
    assert_int_equal(nml_parse_shape("1,96,96,1", &rank, d, &err), NML_OK);
    assert_true(rank == 4 && d[1] == 96 && d[2] == 96 && d[3] == 1);
    assert_int_equal(nml_parse_shape("5", &rank, d, &err), NML_OK);
    assert_true(rank == 1 && d[0] == 5);
    assert_int_equal(nml_parse_shape("2X3", &rank, d, &err), NML_OK);
    assert_true(rank == 2 && d[0] == 2 && d[1] == 3);
    assert_int_equal(nml_parse_shape("1x1x1x1x1x7", &rank, d, &err), NML_OK);
    assert_true(rank == 6 && d[5] == 7);
    assert_int_equal(nml_parse_shape("46340x46340", &rank, d, &err), NML_OK);

    EXPECT_FAIL(nml_parse_shape("1x0", &rank, d, ERR), NML_E_LIMIT, "dimension 1 is 0");
    EXPECT_FAIL(nml_parse_shape("1x1x1x1x1x1x1", &rank, d, ERR), NML_E_LIMIT,
                "more than 6 dimensions");
    EXPECT_FAIL(nml_parse_shape("46341x46341", &rank, d, ERR), NML_E_LIMIT,
                "more than 2147483647 elements");
    EXPECT_FAIL(nml_parse_shape("2147483648", &rank, d, ERR), NML_E_LIMIT,
                "dimension 0 is too large");
    EXPECT_FAIL(nml_parse_shape("", &rank, d, ERR), NML_E_ARG, "empty shape");
    const char *bad[] = {"x1", "1x", "1x-2", "1x2,3", "1xx2", "a", "1x 2", "1.5x2"};
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++)
        EXPECT_FAIL(nml_parse_shape(bad[k], &rank, d, ERR), NML_E_ARG, "is not a positive integer");
}

static void image_sizes(void **state) {
    (void)state;
    int32_t w, h;
    nml_error err;
    assert_int_equal(nml_parse_wxh("128x86", 65535, &w, &h, &err), NML_OK);
    assert_true(w == 128 && h == 86);
    assert_int_equal(nml_parse_wxh("640X480", 65535, &w, &h, &err), NML_OK);
    assert_true(w == 640 && h == 480);
    const char *bad[] = {"128", "1x2x3", "128,86", ""};
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++)
        EXPECT_FAIL(nml_parse_wxh(bad[k], 65535, &w, &h, ERR), NML_E_ARG, "WIDTHxHEIGHT");
    EXPECT_FAIL(nml_parse_wxh("128x", 65535, &w, &h, ERR), NML_E_ARG, "not a positive integer");
    EXPECT_FAIL(nml_parse_wxh("70000x1", 65535, &w, &h, ERR), NML_E_LIMIT,
                "dimension 0 is too large (dimensions are 1 to 65535)");
    EXPECT_FAIL(nml_parse_wxh("0x5", 65535, &w, &h, ERR), NML_E_LIMIT, "dimension 0 is 0");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(integers), cmocka_unit_test(reals),       cmocka_unit_test(sizes),
        cmocka_unit_test(shapes),   cmocka_unit_test(image_sizes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
