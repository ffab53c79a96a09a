/* The compact-errors build's formatter (status.c with NML_COMPACT_ERRORS; linked against the
 * runtime library compiled so): %s, and every other conversion reads an unsigned int (unsigned
 * long with l or z) and prints it in decimal (negative numbers are not supported: the compact
 * runtime formats indices and counts); "%%" is a percent sign. Expected strings are written out by hand. */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "nanoml/status.h"

/* nml_vformat without the compiler's format check (which refuses a lone trailing '%') */
static size_t unchecked(char *buf, size_t cap, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    size_t n = nml_vformat(buf, cap, fmt, ap);
    va_end(ap);
    return n;
}

static void decimal_and_strings(void **state) {
    (void)state;
    char buf[160];
    size_t n = nml_format(buf, sizeof buf, "%s|%d|%i|%u|%lu|%zu|%%|end", "abc", 5, 7, UINT_MAX,
                          3000000000UL, (size_t)12);
    assert_string_equal(buf, "abc|5|7|4294967295|3000000000|12|%|end");
    assert_int_equal(n, strlen(buf));
    const char *volatile none = NULL; /* hidden from the compiler's format check */
    nml_format(buf, sizeof buf, "%u %lu %s", 0u, 0UL, none);
    assert_string_equal(buf, "0 0 (null)");
    nml_format(buf, sizeof buf, "%lu", ULONG_MAX);
    assert_string_equal(buf, sizeof(long) == 8 ? "18446744073709551615" : "4294967295");
}

static void other_conversions_print_unsigned_decimal(void **state) {
    (void)state;
    char buf[160];
    /* %x %c in decimal, the arguments after them still in line; a lone '%' at the end stops
     * the output */
    nml_format(buf, sizeof buf, "%x|%c|%ld|%zd|%s", 255u, 'a', 7L, (size_t)9, "after");
    assert_string_equal(buf, "255|97|7|9|after");
    unchecked(buf, sizeof buf, "%u|%", 5u);
    assert_string_equal(buf, "5|");
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
        cmocka_unit_test(other_conversions_print_unsigned_decimal),
        cmocka_unit_test(truncation),
        cmocka_unit_test(fail_and_prefix),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
