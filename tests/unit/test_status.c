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

/* A prefix keeps as much of the old message as still fits after it (255 characters in all),
 * and a prefix that fills the buffer on its own leaves nothing of the old one. */
static void prefix_truncates_the_old_message(void **state) {
    (void)state;
    char want[NML_ERROR_MSG_MAX], long_text[400];
    memset(long_text, 'm', sizeof long_text - 1);
    long_text[sizeof long_text - 1] = '\0';
    nml_error err;
    nml_fail(&err, NML_E_LIMIT, "%s", long_text + 400 - 1 - 250); /* 250 characters */
    assert_int_equal(nml_error_prefix(&err, "op %d: ", 7), NML_E_LIMIT);
    memset(want, 'm', sizeof want);
    memcpy(want, "op 7: ", 6);
    want[NML_ERROR_MSG_MAX - 1] = '\0'; /* 6 + 249 characters */
    assert_string_equal(err.msg, want);
    assert_int_equal(err.status, NML_E_LIMIT);

    nml_fail(&err, NML_E_FORMAT, "old");
    assert_int_equal(nml_error_prefix(&err, "%s", long_text), NML_E_FORMAT);
    memset(want, 'm', sizeof want);
    want[NML_ERROR_MSG_MAX - 1] = '\0';
    assert_string_equal(err.msg, want);

    nml_error_clear(&err); /* an empty old message: the prefix alone */
    assert_int_equal(nml_error_prefix(&err, "where: "), NML_OK);
    assert_string_equal(err.msg, "where: ");
    assert_int_equal(nml_error_prefix(NULL, "x"), NML_E_INTERNAL);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(formats_integers_and_strings),
        cmocka_unit_test(truncates_without_overflow),
        cmocka_unit_test(fail_and_prefix_build_messages),
        cmocka_unit_test(prefix_truncates_the_old_message),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
