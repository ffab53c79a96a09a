/* The compact-errors build's formatter (status.c with NML_COMPACT_ERRORS; linked against the
 * runtime library compiled so): %s, and %d %i %u with l and z in decimal; every other conversion
 * (%x %c %p %ll...) consumes its argument and prints '?', so the arguments after it still line
 * up; "%%" is a percent sign. Expected strings are written out by hand. */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "nanoml/status.h"

static void decimal_and_strings(void **state) {
    (void)state;
    char buf[160];
    size_t n = nml_format(buf, sizeof buf, "%s|%d|%i|%u|%ld|%lu|%zu|%%|end", "abc", -5, 7,
                          UINT_MAX, -1234567890L, 3000000000UL, (size_t)12);
    assert_string_equal(buf, "abc|-5|7|4294967295|-1234567890|3000000000|12|%|end");
    assert_int_equal(n, strlen(buf));
    nml_format(buf, sizeof buf, "%d %d", INT_MIN, 0);
    assert_string_equal(buf, "-2147483648 0");
    nml_format(buf, sizeof buf, "%ld", LONG_MIN);
    assert_string_equal(buf, sizeof(long) == 8 ? "-9223372036854775808" : "-2147483648");
}

static void other_conversions_keep_arguments_aligned(void **state) {
    (void)state;
    char buf[160];
    int x = 0;
    nml_format(buf, sizeof buf, "%x|%c|%p|%lld|%llu|%08d|%s", 255u, 'a', (void *)&x, -1LL,
               18446744073709551615ULL, 5, "after");
    /* "%08d": the width is not a conversion the compact formatter knows: '0' prints '?' after
     * consuming the int, then "8d" follows as text */
    assert_string_equal(buf, "?|?|?|?|?|?8d|after");
}

static void truncation(void **state) {
    (void)state;
    char buf[8];
    size_t n = nml_format(buf, sizeof buf, "operator %lu: ", 12UL);
    assert_string_equal(buf, "operato");
    assert_int_equal(n, 7);
    n = nml_format(buf, 1, "abc");
    assert_string_equal(buf, "");
    assert_int_equal(n, 0);
}

static void fail_and_prefix(void **state) {
    (void)state;
    nml_error err;
    assert_int_equal(nml_fail(&err, NML_E_FORMAT, "detail %d dropped", 3), NML_E_FORMAT);
    assert_string_equal(err.msg, "malformed input");
    assert_int_equal(nml_error_prefix(&err, "tensor %lu: ", 3UL), NML_E_FORMAT);
    assert_int_equal(nml_error_prefix(&err, "operator %lu (%s): ", 12UL, "CONV_2D"),
                     NML_E_FORMAT);
    assert_string_equal(err.msg, "operator 12 (CONV_2D): tensor 3: malformed input");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(decimal_and_strings),
        cmocka_unit_test(other_conversions_keep_arguments_aligned),
        cmocka_unit_test(truncation),
        cmocka_unit_test(fail_and_prefix),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
