/* YOLO label parsing (errors name file:line) and dataset folder reading. */
#include "test_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nanoml/det_dataset.h"
#include "nanoml/file.h"

static nml_status parse(const char *text, int nc, nml_yolo_label **l, size_t *n, nml_error *err) {
    return nml_yolo_labels_parse(text, strlen(text), "lab/x.txt", nc, l, n, err);
}

static void parses_lines_blank_and_crlf(void **state) {
    (void)state;
    nml_yolo_label *l;
    size_t n;
    nml_error err;
    const char *text = "58 0.389578 0.416103 0.0385937 0.163146\r\n\n  \t\n62 0.5 0.5 1 1";
    assert_int_equal(parse(text, 80, &l, &n, &err), NML_OK);
    assert_int_equal(n, 2);
    assert_int_equal(l[0].cls, 58);
    assert_float_equal(l[0].cx, 0.389578f, 1e-7);
    assert_float_equal(l[0].h, 0.163146f, 1e-7);
    assert_int_equal(l[1].cls, 62);
    nml_gt_box b = nml_yolo_label_to_box(&l[0], 640, 480);
    assert_float_equal(b.x1, (0.389578f - 0.0385937f / 2) * 640, 1e-3);
    assert_float_equal(b.y2, (0.416103f + 0.163146f / 2) * 480, 1e-3);
    free(l);
    assert_int_equal(parse("", 80, &l, &n, &err), NML_OK);
    assert_int_equal(n, 0);
    assert_null(l);
}

/* The label array is sized by the text's length (a label needs 10 bytes with its line end), not
 * by its newlines: text made only of the shortest labels fills it exactly, with and without a
 * final newline and with CR LF ends. */
static void densest_labels_fit(void **state) {
    (void)state;
    enum { K = 1000 };
    static const char *const ends[] = {"\n", "\r\n"};
    for (int e = 0; e < 2; e++) {
        size_t step = 9 + strlen(ends[e]);
        char *text = malloc(K * step + 1);
        assert_non_null(text);
        for (size_t i = 0; i < K; i++) {
            memcpy(text + i * step, i % 2 ? "1\t0 1 0 1" : "0 0 0 0 0", 9);
            memcpy(text + i * step + 9, ends[e], strlen(ends[e]));
        }
        nml_yolo_label *l;
        size_t n;
        nml_error err;
        for (int cut = 0; cut < 2; cut++) { /* with and without the final line end */
            size_t len = K * step - (cut ? strlen(ends[e]) : 0);
            assert_int_equal(nml_yolo_labels_parse(text, len, "d.txt", 2, &l, &n, &err), NML_OK);
            assert_int_equal(n, K);
            assert_int_equal(l[K - 1].cls, 1);
            assert_float_equal(l[K - 1].w, 0.f, 0);
            free(l);
        }
        free(text);
    }
}

static void expect_error(const char *text, int nc, const char *msg) {
    nml_yolo_label *l = (nml_yolo_label *)1;
    size_t n = 99;
    nml_error err;
    assert_int_equal(parse(text, nc, &l, &n, &err), NML_E_FORMAT);
    assert_string_equal(err.msg, msg);
    assert_null(l);
    assert_int_equal(n, 0);
}

static void malformed_lines(void **state) {
    (void)state;
    expect_error("0 0.5 0.5 0.2\n", 80,
                 "lab/x.txt:1: expected 5 fields (class cx cy w h), found 4");
    expect_error("0 0.5 0.5 0.2 0.2\n\nabc 0.5 0.5 0.1 0.1\n", 80,
                 "lab/x.txt:3: class 'abc' is not a non-negative integer");
    expect_error("-1 0.5 0.5 0.1 0.1", 80, "lab/x.txt:1: class '-1' is not a non-negative integer");
    expect_error("1.5 0.5 0.5 0.1 0.1", 80,
                 "lab/x.txt:1: class '1.5' is not a non-negative integer");
    expect_error("80 0.5 0.5 0.1 0.1", 80, "lab/x.txt:1: class 80 out of range (80 classes)");
    expect_error("1 0.5 1.5 0.1 0.1", 80,
                 "lab/x.txt:1: cy '1.5' outside [0, 1] (coordinates must be normalised)");
    expect_error("1 0.5 0.5 nan 0.1", 80, "lab/x.txt:1: w 'nan' is not a number");
    expect_error("1 0.5 0.5 0.1 0.1x", 80, "lab/x.txt:1: h '0.1x' is not a number");
    /* strict numbers (nanoml/parse.h): strtod read the hex float as 0.5 */
    expect_error("1 0x0.8p0 0.5 0.1 0.1", 80, "lab/x.txt:1: cx '0x0.8p0' is not a number");
    expect_error("1 0.5 0.5 0.1 infinity", 80, "lab/x.txt:1: h 'infinity' is not a number");
    expect_error("0x1 0.5 0.5 0.1 0.1", 80, "lab/x.txt:1: class '0x1' is not a non-negative integer");
    expect_error("1 0.5 0.5 0.1 0.1 0.7 0.2", 80,
                 "lab/x.txt:1: expected 5 fields (class cx cy w h), found 7");
    /* num_classes <= 0 accepts any class */
    nml_yolo_label *l;
    size_t n;
    nml_error err;
    assert_int_equal(parse("500 0 0 0 0", 0, &l, &n, &err), NML_OK);
    free(l);
}

static void write_text(const char *path, const char *text) {
    nml_error err;
    assert_int_equal(nml_write_file(path, text, strlen(text), &err), NML_OK);
}

static void write_png(const char *path) {
    /* any bytes: the dataset reader lists images, it does not decode them */
    write_text(path, "\x89PNG");
}

static void dataset_folder(void **state) {
    (void)state;
    char root[] = "/tmp/nml_ds_XXXXXX";
    assert_non_null(mkdtemp(root));
    char p[512];
    snprintf(p, sizeof p, "%s/images", root);
    assert_int_equal(mkdir(p, 0755), 0);
    snprintf(p, sizeof p, "%s/labels", root);
    assert_int_equal(mkdir(p, 0755), 0);
    snprintf(p, sizeof p, "%s/images/b.JPG", root);
    write_png(p);
    snprintf(p, sizeof p, "%s/images/a.png", root);
    write_png(p);
    snprintf(p, sizeof p, "%s/images/notes.txt", root);
    write_text(p, "not an image");
    snprintf(p, sizeof p, "%s/labels/b.txt", root);
    write_text(p, "3 0.5 0.5 0.25 0.25\n7 0.1 0.1 0.1 0.1\n");

    nml_det_dataset ds;
    nml_error err;
    assert_int_equal(nml_det_dataset_open(root, 80, &ds, &err), NML_OK);
    assert_int_equal(ds.count, 2);
    assert_non_null(strstr(ds.samples[0].image_path, "/images/a.png"));
    assert_null(ds.samples[0].label_path); /* no label file: no objects */
    assert_int_equal(ds.samples[0].num_labels, 0);
    assert_non_null(strstr(ds.samples[1].image_path, "/images/b.JPG"));
    assert_int_equal(ds.samples[1].num_labels, 2);
    assert_int_equal(ds.samples[1].labels[1].cls, 7);
    nml_det_dataset_free(&ds);

    /* the images folder itself: labels found by the images -> labels rule */
    snprintf(p, sizeof p, "%s/images", root);
    assert_int_equal(nml_det_dataset_open(p, 80, &ds, &err), NML_OK);
    assert_int_equal(ds.count, 2);
    nml_det_dataset_free(&ds);

    /* a malformed label file fails the whole open, naming file and line */
    snprintf(p, sizeof p, "%s/labels/a.txt", root);
    write_text(p, "1 0.5 0.5 0.1 0.1\n2 0.5\n");
    assert_int_equal(nml_det_dataset_open(root, 80, &ds, &err), NML_E_FORMAT);
    assert_non_null(strstr(err.msg, "/labels/a.txt:2: expected 5 fields"));
    unlink(p);

    /* missing labels folder */
    snprintf(p, sizeof p, "%s/labels/b.txt", root);
    unlink(p);
    snprintf(p, sizeof p, "%s/labels", root);
    rmdir(p);
    assert_int_equal(nml_det_dataset_open(root, 80, &ds, &err), NML_E_IO);
    assert_non_null(strstr(err.msg, "labels folder not found"));
    snprintf(p, sizeof p, "%s/images/a.png", root);
    unlink(p);
    snprintf(p, sizeof p, "%s/images/b.JPG", root);
    unlink(p);
    snprintf(p, sizeof p, "%s/images/notes.txt", root);
    unlink(p);
    snprintf(p, sizeof p, "%s/images", root);
    rmdir(p);
    rmdir(root);
}

static void shared_coco128(void **state) {
    (void)state;
    nml_det_dataset ds;
    nml_error err;
    assert_int_equal(nml_det_dataset_open(nml_test_shared("datasets/coco128-val"), 80, &ds, &err),
                     NML_OK);
    assert_int_equal(ds.count, 128);
    size_t boxes = 0;
    for (size_t i = 0; i < ds.count; i++)
        boxes += ds.samples[i].num_labels;
    assert_int_equal(boxes, 898); /* wc -l labels/\*.txt */
    nml_det_dataset_free(&ds);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parses_lines_blank_and_crlf),
        cmocka_unit_test(malformed_lines),
        cmocka_unit_test(densest_labels_fit),
        cmocka_unit_test(dataset_folder),
        cmocka_unit_test(shared_coco128),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
