/* nanoml compare and its pieces on models whose numbers are known by construction:
 *   - two tiny Fashion-MNIST-shaped classifiers (an int8 FULLY_CONNECTED that answers "class 1"
 *     exactly when pixel 0 is bright) and the same model packed; a 20-image IDX test set with
 *     5 images deliberately mislabelled, so both reach 15 of 20 = 75 %; parameters, sparsity
 *     and distinct values counted by hand; file sizes from stat() and gzip sizes from zlib's
 *     gz file interface (not the deflate call the library uses); the CLI's CSV checked line by
 *     line;
 *   - the scatter plot: decoded with stb_image, its size, the axis ranges worked out by hand from
 *     the documented rule, and the point colours at the pixels those ranges give (linear and
 *     logarithmic x). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include "test_util.h"

#include <stb/stb_image.h>

#include "nanoml/compare.h"
#include "nanoml/draw.h"
#include "nanoml/file.h"
#include "nanoml/ir.h"
#include "nanoml/pack.h"
#include "nanoml/plot.h"

static char dir[256];

static const char *path_in(const char *name) {
    static char buf[8][512];
    static int k;
    k = (k + 1) % 8; /* one snprintf below takes six paths */
    snprintf(buf[k], sizeof buf[k], "%s/%s", dir, name);
    return buf[k];
}

static int setup(void **state) {
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/nml_test_compare_XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state) {
    (void)state;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return getenv("KEEP") ? 0 : (system(cmd) == 0 ? 0 : -1);
}

/* ---- data: 20 images, label i % 2, pixel 0 bright for class 1; images 0..4 mislabelled ---- */

static void write_gz(const char *path, const uint8_t *data, size_t n) {
    gzFile f = gzopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(gzwrite(f, data, (unsigned)n), (int)n);
    assert_int_equal(gzclose(f), Z_OK);
}

static void write_dataset(void) {
    enum { N = 20 };
    static uint8_t images[16 + N * 784], labels[8 + N];
    const uint8_t ih[16] = {0, 0, 8, 3, 0, 0, 0, N, 0, 0, 0, 28, 0, 0, 0, 28};
    const uint8_t lh[8] = {0, 0, 8, 1, 0, 0, 0, N};
    memcpy(images, ih, 16);
    memcpy(labels, lh, 8);
    for (int i = 0; i < N; i++) {
        const int cls = i % 2;
        images[16 + i * 784] = cls ? 255 : 0;
        images[16 + i * 784 + 400] = 77; /* other pixels do not matter */
        labels[8 + i] = (uint8_t)(i < 5 ? 1 - cls : cls);
    }
    write_gz(path_in("t10k-images-idx3-ubyte.gz"), images, sizeof images);
    write_gz(path_in("t10k-labels-idx1-ubyte.gz"), labels, sizeof labels);
}

/* ---- the model ----
 * x: int8 1x28x28x1, scale 1/255, zero point -128, so pixel p becomes p - 128;
 * W: int8 2x784, per-tensor scale 1: W[1][0] = 1, all else 0; bias int32 {127, 0}, scale 1/255;
 * y: int8 1x2, scale 1/255, zero point -128 (multiplier 1):
 *   y0 = 127 - 128 = -1, y1 = p0 - 128  ->  class 1 iff p0 > 127. */
static void write_models(void) {
    nml_ir ir;
    nml_ir_init(&ir);
    nml_error err;
    int8_t w[1568] = {0};
    w[784] = 1;
    const int32_t b[2] = {127, 0};
    const float s = 1.0f / 255.0f, one = 1.0f;
    const int64_t zp = -128, z0 = 0;
    int x, wt, bt, y;
    assert_int_equal(nml_ir_add_tensor(&ir, "x", NML_INT8, 4, (const int32_t[]){1, 28, 28, 1}, NULL,
                                       0, &x, &err),
                     NML_OK);
    assert_int_equal(
        nml_ir_add_tensor(&ir, "w", NML_INT8, 2, (const int32_t[]){2, 784}, w, sizeof w, &wt, &err),
        NML_OK);
    assert_int_equal(
        nml_ir_add_tensor(&ir, "b", NML_INT32, 1, (const int32_t[]){2}, b, sizeof b, &bt, &err),
        NML_OK);
    assert_int_equal(
        nml_ir_add_tensor(&ir, "y", NML_INT8, 2, (const int32_t[]){1, 2}, NULL, 0, &y, &err),
        NML_OK);
    assert_int_equal(nml_ir_set_quant(&ir, x, 1, &s, &zp, 0, &err), NML_OK);
    assert_int_equal(nml_ir_set_quant(&ir, wt, 1, &one, &z0, 0, &err), NML_OK);
    assert_int_equal(nml_ir_set_quant(&ir, bt, 1, &s, &z0, 0, &err), NML_OK);
    assert_int_equal(nml_ir_set_quant(&ir, y, 1, &s, &zp, 0, &err), NML_OK);
    assert_int_equal(nml_ir_add_op(&ir, NML_OP_FULLY_CONNECTED, NULL, 3,
                                   (const int32_t[]){x, wt, bt}, 1, &y, NULL, &err),
                     NML_OK);
    assert_int_equal(nml_ir_set_io(&ir, 1, &x, 1, &y, &err), NML_OK);
    uint8_t *bytes;
    size_t size;
    assert_int_equal(nml_ir_to_tflite(&ir, &bytes, &size, &err), NML_OK);
    assert_int_equal(nml_write_file(path_in("dense.tflite"), bytes, size, &err), NML_OK);
    free(bytes);
    nml_pack_options o;
    nml_pack_options_default(&o);
    nml_pack_report r;
    if (nml_pack_weights(&ir, &o, &r, &err) != NML_OK) fail_msg("%s", err.msg);
    /* one non-zero weight at element 784: three skips of 255 and a gap of 19, one value */
    assert_string_equal(r.layers[0].encoding_name, "sparse-gaps");
    assert_int_equal(r.layers[0].packed_bytes, 5);
    nml_pack_report_free(&r);
    assert_int_equal(nml_ir_to_tflite(&ir, &bytes, &size, &err), NML_OK);
    assert_int_equal(nml_write_file(path_in("packed.tflite"), bytes, size, &err), NML_OK);
    free(bytes);
    nml_ir_free(&ir);
}

static long file_size(const char *path) {
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    return (long)st.st_size;
}

/* gzip -9 through zlib's gz file interface: header without a name, like gzip -9n. */
static long gzip_size(const char *path) {
    size_t n;
    uint8_t *data = nml_test_read(path, &n);
    const char *gz = path_in("probe.gz");
    gzFile f = gzopen(gz, "wb9");
    assert_non_null(f);
    assert_int_equal(gzwrite(f, data, (unsigned)n), (int)n);
    assert_int_equal(gzclose(f), Z_OK);
    free(data);
    return file_size(gz);
}

static void expect_row(const char *line, const char *label, const char *model) {
    char want[512];
    const char *path = path_in(model);
    snprintf(want, sizeof want, "%s,%s,%ld,%ld,", label, path, file_size(path), gzip_size(path));
    if (strncmp(line, want, strlen(want)) != 0)
        fail_msg("row '%s' does not start '%s'", line, want);
    /* constant bytes: dense 1568 + 8 bias; packed 5 + 8. Then 1570 parameters, 1567 of 1568
     * weights zero, 2 distinct values {0, 1}, 15 of 20 correct */
    const char *rest = line + strlen(want);
    const char *tail = strcmp(model, "dense.tflite") == 0 ? "1576,1570,0.999362,2,0.750000,15,20"
                                                          : "13,1570,0.999362,2,0.750000,15,20";
    assert_string_equal(rest, tail);
}

static void compare_cli_csv(void **state) {
    (void)state;
    const char *cli = getenv("NML_CLI");
    if (!cli) skip();
    write_dataset();
    write_models();
    char cmd[2048];
    snprintf(cmd, sizeof cmd,
             "NML_PROGRESS=0 '%s' compare '%s' '%s' --data '%s' --labels dense packed "
             "--csv '%s' --md '%s' --plot '%s' > '%s'",
             cli, path_in("dense.tflite"), path_in("packed.tflite"), dir, path_in("out.csv"),
             path_in("out.md"), path_in("out.png"), path_in("stdout.txt"));
    assert_int_equal(system(cmd), 0);
    size_t n;
    char *csv = (char *)nml_test_read(path_in("out.csv"), &n);
    char *save = NULL;
    char *line = strtok_r(csv, "\n", &save);
    assert_string_equal(line, "label,path,file_bytes,gzip_bytes,constant_bytes,parameters,"
                              "sparsity,max_distinct,accuracy,correct,images");
    expect_row(strtok_r(NULL, "\n", &save), "dense", "dense.tflite");
    expect_row(strtok_r(NULL, "\n", &save), "packed", "packed.tflite");
    assert_null(strtok_r(NULL, "\n", &save));
    free(csv);
    /* the markdown file and stdout hold the same table */
    size_t a, b;
    uint8_t *md = nml_test_read(path_in("out.md"), &a),
            *out = nml_test_read(path_in("stdout.txt"), &b);
    assert_int_equal(a, b);
    assert_memory_equal(md, out, a);
    assert_non_null(strstr((char *)md, "| packed | "));
    assert_non_null(strstr((char *)md, " | 99.9 % | 2 | 75.00 % |"));
    free(md);
    free(out);
    int w, h, c;
    unsigned char *png = stbi_load(path_in("out.png"), &w, &h, &c, 3);
    assert_non_null(png);
    assert_int_equal(w, 800);
    assert_int_equal(h, 560);
    stbi_image_free(png);
}

static void compare_cli_errors(void **state) {
    (void)state;
    const char *cli = getenv("NML_CLI");
    if (!cli) skip();
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "'%s' compare a.tflite b.tflite --labels one 2>/dev/null", cli);
    assert_int_equal(WEXITSTATUS(system(cmd)), 2);
    snprintf(cmd, sizeof cmd, "'%s' compare a.tflite --dataset none --plot x.png 2>/dev/null", cli);
    assert_int_equal(WEXITSTATUS(system(cmd)), 2);
    snprintf(cmd, sizeof cmd, "'%s' compare '%s/missing.tflite' --dataset none 2>/dev/null", cli,
             dir);
    assert_int_equal(WEXITSTATUS(system(cmd)), 1);
}

/* `nanoml inspect` on the packed model: the weights' gap stream is 3 skips + 1 gap + 1 value
 * = 5 bytes (1568 plain), the bias 8 bytes. */
static void inspect_packed(void **state) {
    (void)state;
    const char *cli = getenv("NML_CLI");
    if (!cli) skip();
    write_models();
    char cmd[1024], want[256];
    snprintf(cmd, sizeof cmd, "'%s' inspect '%s' > '%s' && '%s' inspect --json '%s' > '%s'", cli,
             path_in("packed.tflite"), path_in("inspect.txt"), cli, path_in("packed.tflite"),
             path_in("inspect.json"));
    assert_int_equal(system(cmd), 0);
    size_t n;
    char *text = (char *)nml_test_read(path_in("inspect.txt"), &n);
    const long file = file_size(path_in("packed.tflite")), gz = gzip_size(path_in("packed.tflite"));
    snprintf(want, sizeof want,
             "flash       %ld bytes stored (file), constant data 13 bytes; gzip -9: %ld bytes",
             file, gz);
    if (!strstr(text, want)) fail_msg("'%s' lacks '%s'", text, want);
    assert_non_null(strstr(text, "packed      1 weight tensors; constant data 13 bytes stored, "
                                 "1576 bytes plain"));
    free(text);
    char *json = (char *)nml_test_read(path_in("inspect.json"), &n);
    snprintf(want, sizeof want, "\"file_bytes\": %ld,\n  \"gzip_bytes\": %ld,", file, gz);
    const char *needles[] = {want,
                             "\"constant_bytes\": 13,",
                             "\"constant_dense_bytes\": 1576,",
                             "\"packed_tensors\": 1,",
                             "\"weight_zeros\": 1567,",
                             "\"encoding\": \"sparse-gaps\", \"stored_bytes\": 5, "
                             "\"dense_bytes\": 1568, \"elements\": 1568, \"stored_values\": 1, "
                             "\"record_bytes\": 32, \"value_bits\": 8"};
    for (size_t i = 0; i < sizeof needles / sizeof *needles; i++)
        if (!strstr(json, needles[i])) fail_msg("inspect --json lacks '%s': %s", needles[i], json);
    free(json);
}

/* nanoml pack gives the library's bytes; --unpack restores the plain file byte for byte.
 * The one weight sits at element 784 of 1568: as 8-bit gaps that is three skips of 255 (0x00),
 * the gap 20 (765 + 20 - 1 = 784) and the value 1, so 5 bytes stored. */
static void pack_cli_round_trip(void **state) {
    (void)state;
    const char *cli = getenv("NML_CLI");
    if (!cli) skip();
    write_models();
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "'%s' pack '%s' --out '%s' > '%s' && '%s' pack '%s' --unpack --out '%s' --quiet", cli,
             path_in("dense.tflite"), path_in("p.tflite"), path_in("pack.txt"), cli,
             path_in("p.tflite"), path_in("u.tflite"));
    assert_int_equal(system(cmd), 0);
    size_t a, b;
    uint8_t *x = nml_test_read(path_in("p.tflite"), &a),
            *y = nml_test_read(path_in("packed.tflite"), &b);
    assert_int_equal(a, b);
    assert_memory_equal(x, y, a);
    free(x);
    free(y);
    x = nml_test_read(path_in("u.tflite"), &a);
    y = nml_test_read(path_in("dense.tflite"), &b);
    assert_int_equal(a, b);
    assert_memory_equal(x, y, a);
    free(x);
    free(y);
    char *text = (char *)nml_test_read(path_in("pack.txt"), &a);
    assert_non_null(strstr(text, "sparse-gaps"));
    assert_non_null(strstr(text, "weights: 1568 bytes plain, 5 bytes stored"));
    free(text);
    snprintf(cmd, sizeof cmd, "'%s' pack '%s' 2>/dev/null", cli, path_in("dense.tflite"));
    assert_int_equal(WEXITSTATUS(system(cmd)), 2);
}

/* ---- the plot ---- */

static void expect_color(const unsigned char *px, int w, int x, int y, nml_rgb c) {
    const unsigned char *p = px + 3 * ((size_t)y * (size_t)w + (size_t)x);
    if (p[0] != c.r || p[1] != c.g || p[2] != c.b)
        fail_msg("pixel (%d, %d) is %d,%d,%d, expected %d,%d,%d", x, y, p[0], p[1], p[2], c.r, c.g,
                 c.b);
}

static unsigned char *plot_png(const nml_plot_point *pts, int n, int log_x, nml_plot_layout *l) {
    nml_plot_options o;
    nml_plot_options_default(&o);
    o.log_x = log_x;
    o.title = "t";
    o.x_label = "bytes";
    o.y_label = "accuracy";
    nml_image img;
    nml_error err;
    if (nml_plot_scatter(pts, n, &o, &img, l, &err) != NML_OK) fail_msg("%s", err.msg);
    if (nml_image_write_png(path_in("plot.png"), &img, &err) != NML_OK) fail_msg("%s", err.msg);
    nml_image_free(&img);
    int w, h, c;
    unsigned char *px = stbi_load(path_in("plot.png"), &w, &h, &c, 3);
    assert_non_null(px);
    assert_int_equal(w, 800);
    assert_int_equal(h, 560);
    return px;
}

/* Points (1000, 50) and (3000, 80). x: [1000, 3000] widened by 5 % of 2000 = [900, 3100];
 * step = 1/2/5 x 10^k >= 2200 / 5 = 440 -> 500; range [500, 3500]. y: [48.5, 81.5], step >= 6.6
 * -> 10, range [40, 90]. Plot area x 90..760, y 60..490 (800 x 560 image):
 *   (1000, 50): x = 90 + round(670 * 500 / 3000) = 202, y = 490 - round(430 * 10 / 50) = 404;
 *   (3000, 80): x = 90 + round(670 * 2500 / 3000) = 648, y = 490 - round(430 * 40 / 50) = 146. */
static void plot_linear(void **state) {
    (void)state;
    const nml_plot_point pts[2] = {{1000, 50, "a"}, {3000, 80, "b"}};
    nml_plot_layout l;
    unsigned char *px = plot_png(pts, 2, 0, &l);
    assert_true(l.x_min == 500 && l.x_max == 3500 && l.x_step == 500);
    assert_true(l.y_min == 40 && l.y_max == 90 && l.y_step == 10);
    assert_int_equal(l.left, 90);
    assert_int_equal(l.bottom, 490);
    expect_color(px, 800, 202, 404, nml_class_color(0));
    expect_color(px, 800, 648, 146, nml_class_color(1));
    const nml_rgb white = {255, 255, 255}, black = {0, 0, 0};
    expect_color(px, 800, 400, 300, white); /* empty plot area */
    expect_color(px, 800, 90, 300, black);  /* y axis */
    expect_color(px, 800, 400, 490, black); /* x axis */
    stbi_image_free(px);
}

/* log x: decades [1000, 10000]; 3000 sits at log10(3) = 0.4771 of the width:
 * x = 90 + round(670 * 0.4771) = 410; 1000 at the left edge, x = 90 (on the axis line, so the
 * point's centre is drawn over it). */
static void plot_log(void **state) {
    (void)state;
    const nml_plot_point pts[2] = {{1000, 50, "a"}, {3000, 80, "b"}};
    nml_plot_layout l;
    unsigned char *px = plot_png(pts, 2, 1, &l);
    assert_true(l.x_min == 1000 && l.x_max == 10000);
    expect_color(px, 800, 410, 146, nml_class_color(1));
    expect_color(px, 800, 90, 404, nml_class_color(0));
    stbi_image_free(px);
}

static void plot_errors(void **state) {
    (void)state;
    const nml_plot_point bad[1] = {{0, 50, "zero"}};
    nml_image img;
    nml_error err;
    nml_plot_options o;
    nml_plot_options_default(&o);
    o.log_x = 1;
    assert_int_equal(nml_plot_scatter(bad, 1, &o, &img, NULL, &err), NML_E_ARG);
    assert_non_null(strstr(err.msg, "point 0 (zero) is not finite with x > 0"));
    assert_int_equal(nml_plot_scatter(bad, 0, NULL, &img, NULL, &err), NML_E_ARG);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(compare_cli_csv), cmocka_unit_test(compare_cli_errors),
        cmocka_unit_test(inspect_packed),  cmocka_unit_test(pack_cli_round_trip),
        cmocka_unit_test(plot_linear),     cmocka_unit_test(plot_log),
        cmocka_unit_test(plot_errors),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
