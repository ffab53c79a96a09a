/* The report's Markdown-to-HTML converter (expected HTML written out by hand), base64 (the RFC
 * 4648 test vectors), picture inlining and its errors, and the bar chart's geometry. */
#include "test_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nanoml/bars.h"
#include "nanoml/file.h"
#include "nanoml/image.h"
#include "nanoml/report.h"

/* The HTML between <body>\n and </body>. */
static char *body_of(const char *md, const nml_report_options *o, nml_status want) {
    char *html = NULL;
    size_t n = 0;
    nml_error err;
    nml_error_clear(&err);
    nml_status st = nml_report_html(md, strlen(md), o, &html, &n, &err);
    if (st != want) fail_msg("status %d (want %d): %s", st, want, err.msg);
    if (st != NML_OK) return NULL;
    assert_int_equal(strlen(html), n);
    const char *b = strstr(html, "<body>\n");
    const char *e = strstr(html, "</body>");
    assert_non_null(b);
    assert_non_null(e);
    b += strlen("<body>\n");
    char *out = malloc((size_t)(e - b) + 1);
    memcpy(out, b, (size_t)(e - b));
    out[e - b] = '\0';
    free(html);
    return out;
}

static void expect_body(const char *md, const char *want) {
    char *got = body_of(md, NULL, NML_OK);
    if (strcmp(got, want) != 0) fail_msg("markdown:\n%s\ngot:\n%s\nwant:\n%s", md, got, want);
    free(got);
}

static void base64_vectors(void **state) {
    (void)state;
    static const char *const in[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
    static const char *const want[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=",
                                       "Zm9vYmFy"};
    char out[16];
    for (int i = 0; i < 7; i++) {
        size_t n = nml_base64_encode((const uint8_t *)in[i], strlen(in[i]), out);
        assert_int_equal(n, strlen(want[i]));
        assert_string_equal(out, want[i]);
    }
    const uint8_t high[3] = {0xfb, 0xff, 0xbf}; /* 111110 111111 111110 111111: "+/+/" */
    nml_base64_encode(high, 3, out);
    assert_string_equal(out, "+/+/");
}

static void blocks(void **state) {
    (void)state;
    expect_body("# Title\n\nSome text\nnext line.\n",
                "<h1>Title</h1>\n<p>Some text\nnext line.</p>\n");
    expect_body("### Three ###\n", "<h3>Three</h3>\n");
    expect_body("####### seven\n", "<p>####### seven</p>\n");
    expect_body("| a | b | c |\n| --- | ---: | :-: |\n| 1 | `x|y` | **z** |\n",
                "<table>\n<tr><th>a</th><th style=\"text-align:right\">b</th>"
                "<th style=\"text-align:center\">c</th></tr>\n"
                "<tr><td>1</td><td style=\"text-align:right\"><code>x|y</code></td>"
                "<td style=\"text-align:center\"><strong>z</strong></td></tr>\n</table>\n");
    expect_body("- one\n  more\n- two\n\n1. first\n2. second\n",
                "<ul>\n<li>one\nmore</li>\n<li>two</li>\n</ul>\n"
                "<ol>\n<li>first</li>\n<li>second</li>\n</ol>\n");
    expect_body("```\na <b> & c\n```\n", "<pre><code>a &lt;b&gt; &amp; c\n</code></pre>\n");
    expect_body("<!-- hidden\nstill -->\ntext\n", "<p>text</p>\n");
    expect_body("text\n# Head\n", "<p>text</p>\n<h1>Head</h1>\n");
    expect_body("", "");
    /* an unclosed fence runs to the end; a table without separator is a paragraph */
    expect_body("```\ncode", "<pre><code>code\n</code></pre>\n");
    expect_body("| a |\n| b |\n", "<p>| a |\n| b |</p>\n");
}

static void inline_spans(void **state) {
    (void)state;
    expect_body("a *b* **c** `d<e>` [f](g.html) <br> <i>\n",
                "<p>a <em>b</em> <strong>c</strong> <code>d&lt;e&gt;</code> "
                "<a href=\"g.html\">f</a> <br> &lt;i&gt;</p>\n");
    expect_body("\\*not\\* 2 * 3 \"q\" & [x] [y](\n",
                "<p>*not* 2 * 3 &quot;q&quot; &amp; [x] [y](</p>\n");
    expect_body("[**bold** link](a b.md \"title\")\n",
                "<p><a href=\"a\"><strong>bold</strong> link</a></p>\n");
}

static void title(void **state) {
    (void)state;
    const char *md = "text\n## The <title>\n";
    char *html = NULL;
    nml_error err;
    assert_int_equal(nml_report_html(md, strlen(md), NULL, &html, NULL, &err), NML_OK);
    assert_non_null(strstr(html, "<title>The &lt;title&gt;</title>"));
    assert_non_null(strstr(html, "<!DOCTYPE html>"));
    assert_null(strstr(html, "http")); /* nothing external */
    free(html);
    nml_report_options o = {NULL, NULL, "Mine"};
    assert_int_equal(nml_report_html(md, strlen(md), &o, &html, NULL, &err), NML_OK);
    assert_non_null(strstr(html, "<title>Mine</title>"));
    free(html);
}

/* A temporary folder with a 3x2 PNG written by nanoml and a text file. */
static void make_dir(char *dir, size_t cap) {
    snprintf(dir, cap, "/tmp/nml_report_XXXXXX");
    assert_non_null(mkdtemp(dir));
    char path[256];
    nml_image img;
    nml_error err;
    assert_int_equal(nml_image_alloc(&img, 3, 2, 3, &err), NML_OK);
    img.data[0] = 200;
    snprintf(path, sizeof path, "%s/p.png", dir);
    assert_int_equal(nml_image_write_png(path, &img, &err), NML_OK);
    nml_image_free(&img);
    snprintf(path, sizeof path, "%s/t.txt", dir);
    assert_int_equal(nml_write_file(path, "hello", 5, &err), NML_OK);
}

static void remove_dir(const char *dir) {
    char path[256];
    snprintf(path, sizeof path, "%s/p.png", dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/t.txt", dir);
    unlink(path);
    rmdir(dir);
}

static void pictures_inlined(void **state) {
    (void)state;
    char dir[64], path[256];
    make_dir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/p.png", dir);
    size_t size = 0;
    uint8_t *png = nml_test_read(path, &size);
    assert_string_equal(nml_picture_mime(png, size), "image/png");
    char *b64 = malloc(4 * ((size + 2) / 3) + 1);
    nml_base64_encode(png, size, b64);
    char want[2048];
    snprintf(want, sizeof want,
             "<table>\n<tr><th>x</th></tr>\n<tr><td><img src=\"data:image/png;base64,%s\" "
             "alt=\"a &amp; b\"></td></tr>\n</table>\n",
             b64);
    nml_report_options o = {dir, "t.md", NULL};
    char *got = body_of("| x |\n|---|\n| ![a & b](p.png) |\n", &o, NML_OK);
    assert_string_equal(got, want);
    free(got);
    free(b64);
    free(png);

    const uint8_t jpeg[4] = {0xff, 0xd8, 0xff, 0xe0}, gif[4] = {'G', 'I', 'F', '8'};
    assert_string_equal(nml_picture_mime(jpeg, 4), "image/jpeg");
    assert_null(nml_picture_mime(gif, 4));
    assert_null(nml_picture_mime(jpeg, 2));

    /* errors name the file and line */
    nml_error err;
    char *html = NULL;
    const char *cases[][2] = {
        {"ok\n\n![x](missing.png)\n", "t.md:3: picture: "},
        {"![x](t.txt)\n", "t.md:1: picture "},
        {"![x](https://example.com/a.png)\n", "t.md:1: picture 'https://example.com/a.png' is "
                                              "not a local file"},
        {"![x](//cdn/a.png)\n", "is not a local file"},
        {"| a |\n|---|\n| ![x](nope.jpg) |\n", "t.md:3: picture: "},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        nml_error_clear(&err);
        nml_status st = nml_report_html(cases[i][0], strlen(cases[i][0]), &o, &html, NULL, &err);
        assert_int_not_equal(st, NML_OK);
        assert_null(html);
        if (!strstr(err.msg, cases[i][1])) fail_msg("case %zu: '%s'", i, err.msg);
    }
    remove_dir(dir);
}

static int pixel_is(const nml_image *img, int x, int y, int r, int g, int b) {
    const uint8_t *p = img->data + ((size_t)y * (size_t)img->w + (size_t)x) * 3u;
    return p[0] == r && p[1] == g && p[2] == b;
}

/* Values 1460, 2387, 406: the axis step is the 1-2-5 value at least 2387 / 5 = 477.4, so 500,
 * and the axis ends at 5 x 500 = 2500. A bar of value v ends at left + v / 2500 of the width. */
static void bar_geometry(void **state) {
    (void)state;
    const nml_bar bars[3] = {{"a", 1460}, {"bb", 2387}, {NULL, 406}};
    nml_bars_options o;
    nml_bars_options_default(&o);
    nml_image img = {0, 0, 0, NULL};
    nml_bars_layout l;
    nml_error err;
    assert_int_equal(nml_plot_bars(bars, 3, &o, &img, &l, &err), NML_OK);
    assert_int_equal(img.w, 900);
    assert_int_equal(img.c, 3);
    assert_true(l.x_max == 2500.0 && l.x_step == 500.0);
    const int span = l.right - l.left;
    for (int i = 0; i < 3; i++) {
        const int end = l.left + (int)(bars[i].value / 2500.0 * span + 0.5);
        const int y = l.top + 6 + i * (o.bar_height + 6) + o.bar_height / 2;
        assert_true(pixel_is(&img, end, y, 66, 114, 196));     /* bar colour up to its end */
        assert_true(pixel_is(&img, l.left + 2, y, 66, 114, 196));
        assert_true(pixel_is(&img, end + 2, y, 255, 255, 255)); /* white after it */
    }
    nml_image_free(&img);

    const nml_bar bad[1] = {{"x", -1.0}};
    assert_int_equal(nml_plot_bars(bad, 1, &o, &img, NULL, &err), NML_E_ARG);
    assert_non_null(strstr(err.msg, "bar 0"));
    assert_int_equal(nml_plot_bars(bars, 0, &o, &img, NULL, &err), NML_E_ARG);
    o.width = 100;
    assert_int_equal(nml_plot_bars(bars, 3, &o, &img, NULL, &err), NML_E_ARG);
    assert_null(img.data);

    char buf[32];
    nml_bars_format_value(buf, sizeof buf, 1234);
    assert_string_equal(buf, "1234");
    nml_bars_format_value(buf, sizeof buf, 12345);
    assert_string_equal(buf, "12.3k");
    nml_bars_format_value(buf, sizeof buf, 4.5e6);
    assert_string_equal(buf, "4.50M");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(base64_vectors), cmocka_unit_test(blocks),
        cmocka_unit_test(inline_spans),   cmocka_unit_test(title),
        cmocka_unit_test(pictures_inlined), cmocka_unit_test(bar_geometry),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
