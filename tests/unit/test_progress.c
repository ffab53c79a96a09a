/* The progress bar's line format and its sparse-line mode. */
#include "test_util.h"

#include <stdio.h>
#include <string.h>

#include "nanoml/progress.h"

static void formats_durations(void **state) {
    (void)state;
    char b[32];
    nml_progress_format_duration(b, sizeof b, 65.0);
    assert_string_equal(b, "1:05");
    nml_progress_format_duration(b, sizeof b, 3723.0);
    assert_string_equal(b, "1:02:03");
    nml_progress_format_duration(b, sizeof b, -1.0);
    assert_string_equal(b, "--:--");
}

/* 52 of 128 in 4 s: 13.0 img/s, 76 left -> ETA 76/13 = 5.8 s -> 0:06; bar 10 wide: 4 filled. */
static void formats_a_line(void **state) {
    (void)state;
    char b[128];
    nml_progress_format(b, sizeof b, "eval", 52, 128, "img", 4.0, 10);
    assert_string_equal(b, "eval [####......] 52/128  40% 13.0 img/s ETA 0:06");
    nml_progress_format(b, sizeof b, "eval", 128, 128, "img", 8.0, 0);
    assert_string_equal(b, "eval 128/128 100% 16.0 img/s in 0:08");
    nml_progress_format(b, sizeof b, "read", 7, 0, NULL, 0.0, 10); /* unknown total */
    assert_string_equal(b, "read 7");
    char small[8];
    nml_progress_format(small, sizeof small, "a-long-label", 1, 2, "x", 1.0, 4);
    assert_int_equal(strlen(small), 7);
}

static int count_lines(FILE *f) {
    rewind(f);
    int n = 0, c;
    while ((c = fgetc(f)) != EOF)
        n += c == '\n';
    return n;
}

/* Line mode: one line per 10% step and one at the end -> 10 lines for 100 items, however many
 * updates there are. */
static void line_mode_is_sparse(void **state) {
    (void)state;
    FILE *f = tmpfile();
    assert_non_null(f);
    nml_progress p;
    nml_progress_begin_ex(&p, "train", 100, "batch", f, NML_PROGRESS_LINES);
    for (int i = 0; i < 100; i++)
        nml_progress_add(&p, 1);
    nml_progress_end(&p);
    nml_progress_end(&p); /* twice is harmless */
    assert_int_equal(count_lines(f), 10);
    fclose(f);
    f = tmpfile();
    nml_progress_begin_ex(&p, "quiet", 10, NULL, f, NML_PROGRESS_OFF);
    nml_progress_set(&p, 10);
    nml_progress_end(&p);
    assert_int_equal(count_lines(f), 0);
    fclose(f);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(formats_durations),
        cmocka_unit_test(formats_a_line),
        cmocka_unit_test(line_mode_is_sparse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
