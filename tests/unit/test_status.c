/* The freestanding formatter behind every error message. */
#include "test_util.h"

#include <string.h>

#include "nanoml/status.h"

static void formats_integers_and_strings(void **state) {
    (void)state;
    char buf[64];
    nml_format(buf, sizeof buf, "tensor %d: buffer %u of %s", -12, 40u, "31");
    assert_string_equal(buf, "tensor -12: buffer 40 of 31");
    nml_format(buf, sizeof buf, "%05d|%x|%zu|%lld|%c%%", 42, 255u, (size_t)7, -9000000000LL, 'z');
    assert_string_equal(buf, "00042|ff|7|-9000000000|z%");
    /* 64-bit values through the 32-bit-division digit loop: the extremes, written out */
    nml_format(buf, sizeof buf, "%llu|%llx|%lld", 18446744073709551615ULL,
               0xfedcba9876543210ULL, -9223372036854775807LL - 1);
    assert_string_equal(buf, "18446744073709551615|fedcba9876543210|-9223372036854775808");
    nml_format(buf, sizeof buf, "%llu|%llu", 4294967296ULL, 10000000000000000000ULL);
    assert_string_equal(buf, "4294967296|10000000000000000000");
}

static void truncates_without_overflow(void **state) {
    (void)state;
    char buf[8];
    memset(buf, 'X', sizeof buf);
    size_t n = nml_format(buf, 6, "%s", "abcdefghij");
    assert_int_equal(n, 5);
    assert_string_equal(buf, "abcde");
    assert_int_equal(buf[6], 'X'); /* nothing written past cap */
}

static void fail_and_prefix_build_messages(void **state) {
    (void)state;
    nml_error err;
    nml_error_clear(&err);
    assert_int_equal(nml_fail(&err, NML_E_FORMAT, "buffer %d out of range", 40), NML_E_FORMAT);
    assert_int_equal(nml_error_prefix(&err, "tensor %d: ", 12), NML_E_FORMAT);
    assert_string_equal(err.msg, "tensor 12: buffer 40 out of range");
    assert_int_equal(nml_fail(NULL, NML_E_ARG, "ignored"), NML_E_ARG);
    assert_string_equal(nml_status_str(NML_E_ARENA), "arena too small");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(formats_integers_and_strings),
        cmocka_unit_test(truncates_without_overflow),
        cmocka_unit_test(fail_and_prefix_build_messages),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
