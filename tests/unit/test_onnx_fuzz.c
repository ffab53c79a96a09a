/* Hostile input: every truncation of a small ONNX model, seeded byte flips of it and of
 * FastestDet's graph structure. Each must end in NML_OK or an error with a message, never a
 * crash, hang or out-of-bounds access (this test matters most in the ASan/UBSan build). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onnx/import.h"
#include "onnx/pb.h"
#include "onnx_builder.h"
#include "test_util.h"

#define L(...) ((const char *const[]){__VA_ARGS__, NULL})
#define D(...) ((const int64_t[]){__VA_ARGS__})

/* A small model touching most of the importer: conv + batch norm + relu, a padded max pool,
 * a channel shuffle, concat, a Shape-computed reshape, resize, pad + average pool, softmax,
 * split, slice, clip and a Flatten -> Gemm head. */
static void build_model(ob_buf *m) {
    ob_buf g = {0}, a = {0};
    float w[4 * 2 * 3 * 3], ones[4] = {1, 1, 1, 1}, zeros[4] = {0}, fc[3 * 16];
    for (int i = 0; i < 72; i++)
        w[i] = (float)(i % 5) - 2;
    for (int i = 0; i < 48; i++)
        fc[i] = (float)(i % 3);
    ob_io(&g, 0, "x", 4, D(1, 2, 8, 8));
    ob_init_f32(&g, "w", 4, D(4, 2, 3, 3), w);
    ob_init_f32(&g, "one", 1, D(4), ones);
    ob_init_f32(&g, "zero", 1, D(4), zeros);
    ob_init_i64(&g, "s1", 1, D(3), (const int64_t[]){2, 2, 16});
    ob_init_i64(&g, "s2", 1, D(5), (const int64_t[]){2, -1, 2, 4, 4});
    ob_init_i64(&g, "i0", 0, NULL, (const int64_t[]){0});
    ob_init_i64(&g, "i1", 0, NULL, (const int64_t[]){1});
    ob_init_f32(&g, "scales", 1, D(4), (const float[]){1, 1, 2, 2});
    ob_init_f32(&g, "roi", 1, D(0), NULL);
    ob_init_i64(&g, "pads", 1, D(8), (const int64_t[]){0, 0, 1, 1, 0, 0, 1, 1});
    ob_init_i64(&g, "minus1", 1, D(1), (const int64_t[]){-1});
    ob_init_i64(&g, "st", 1, D(1), (const int64_t[]){1});
    ob_init_i64(&g, "en", 1, D(1), (const int64_t[]){3});
    ob_init_i64(&g, "ax", 1, D(1), (const int64_t[]){1});
    ob_init_f32(&g, "lo", 0, NULL, (const float[]){0});
    ob_init_f32(&g, "hi", 0, NULL, (const float[]){6});
    ob_init_f32(&g, "fc", 2, D(3, 16), fc);
    ob_attr_ints(&a, "kernel_shape", D(3, 3), 2);
    ob_attr_ints(&a, "pads", D(1, 1, 1, 1), 4);
    ob_node(&g, "Conv", "conv", L("x", "w"), L("c"), &a);
    ob_node(&g, "BatchNormalization", "bn", L("c", "one", "zero", "zero", "one"), L("n"), NULL);
    ob_node(&g, "Relu", "relu", L("n"), L("r"), NULL);
    ob_attr_ints(&a, "kernel_shape", D(3, 3), 2);
    ob_attr_ints(&a, "pads", D(1, 1, 1, 1), 4);
    ob_attr_ints(&a, "strides", D(2, 2), 2);
    ob_node(&g, "MaxPool", "pool", L("r"), L("p"), &a); /* [1,4,4,4] */
    ob_node(&g, "Reshape", "r1", L("p", "s1"), L("q1"), NULL);
    ob_attr_ints(&a, "perm", D(1, 0, 2), 3);
    ob_node(&g, "Transpose", "t", L("q1"), L("q2"), &a);
    ob_node(&g, "Reshape", "r2", L("q2", "s2"), L("q3"), NULL);
    ob_node(&g, "Gather", "g0", L("q3", "i0"), L("even"), NULL);
    ob_node(&g, "Gather", "g1", L("q3", "i1"), L("odd"), NULL);
    ob_attr_int(&a, "axis", 1);
    ob_node(&g, "Concat", "cat", L("odd", "even"), L("sh"), &a);
    ob_node(&g, "Resize", "up", L("sh", "roi", "scales"), L("u"), NULL); /* [1,4,8,8] */
    ob_node(&g, "Pad", "pad", L("u", "pads"), L("pu"), NULL);
    ob_attr_ints(&a, "kernel_shape", D(3, 3), 2);
    ob_attr_ints(&a, "strides", D(2, 2), 2);
    ob_node(&g, "AveragePool", "avg", L("pu"), L("av"), &a);                 /* [1,4,4,4] */
    ob_node(&g, "Slice", "slice", L("av", "st", "en", "ax"), L("sl"), NULL); /* [1,2,4,4] */
    ob_attr_int(&a, "axis", 1);
    ob_node(&g, "Split", "split", L("sl"), L("sa", "sb"), &a);
    ob_node(&g, "Add", "add", L("sa", "sb"), L("ad"), NULL);
    ob_node(&g, "Clip", "clip", L("ad", "lo", "hi"), L("cl"), NULL);
    ob_node(&g, "Shape", "shape", L("cl"), L("shp"), NULL);
    ob_node(&g, "Gather", "batch", L("shp", "i0"), L("b"), NULL);
    ob_attr_ints(&a, "axes", D(0), 1);
    ob_node(&g, "Unsqueeze", "unsq", L("b"), L("b1"), &a);
    ob_attr_int(&a, "axis", 0);
    ob_node(&g, "Concat", "tgt", L("b1", "minus1"), L("target"), &a);
    ob_node(&g, "Reshape", "flat", L("cl", "target"), L("f"), NULL); /* [1,16] */
    ob_attr_int(&a, "transB", 1);
    ob_node(&g, "Gemm", "fc1", L("f", "fc"), L("z"), &a);
    ob_attr_int(&a, "axis", 1);
    ob_node(&g, "Softmax", "sm", L("z"), L("y"), &a);
    ob_node(&g, "Sigmoid", "sig", L("u"), L("y2"), NULL);
    ob_io(&g, 1, "y", 2, D(1, 3));
    ob_io(&g, 1, "y2", 4, D(1, 4, 8, 8));
    ob_model(m, 11, &g);
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint64_t rng(void) { /* xorshift64 */
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static char last_error[NML_ERROR_MSG_MAX];

/* Parses and imports; the outcome must be consistent. Returns the status. */
static nml_status attempt(const uint8_t *data, size_t size, const char *shape) {
    nml_onnx_import_options opt;
    nml_onnx_import_options_default(&opt);
    nml_error err;
    err.msg[0] = 0;
    if (shape) nml_onnx_parse_shape(shape, opt.input_shape, &opt.n_input_shape, &err);
    nml_ir ir;
    nml_ir_init(&ir);
    /* a copy exactly as long as the input, so ASan sees any read past the end */
    uint8_t *copy = malloc(size ? size : 1);
    if (size) memcpy(copy, data, size);
    nml_status s = nml_onnx_import(copy, size, &opt, &ir, NULL, &err);
    free(copy);
    if (s == NML_OK) {
        assert_true(ir.n_ops > 0 && ir.n_outputs > 0);
    } else {
        assert_true(err.msg[0] != 0);
        memcpy(last_error, err.msg, sizeof last_error);
        assert_int_equal(ir.n_ops, 0);
        assert_int_equal(ir.n_tensors, 0);
    }
    nml_ir_free(&ir);
    return s;
}

static void intact_model_imports(void **state) {
    (void)state;
    ob_buf m = {0};
    build_model(&m);
    if (attempt(m.d, m.n, NULL) != NML_OK) fail_msg("%s", last_error);
    /* the Flatten -> Gemm head is not fully convolutional: another size must fail, clearly */
    assert_int_equal(attempt(m.d, m.n, "1x2x16x8"), NML_E_SHAPE);
    assert_string_equal(last_error, "node 'fc1' (Gemm): inner dimensions 32 and 16 differ");
    ob_free(&m);
}

static void every_truncation_fails_cleanly(void **state) {
    (void)state;
    ob_buf m = {0};
    build_model(&m);
    int ok = 0;
    for (size_t n = 0; n < m.n; n++)
        ok += attempt(m.d, n, NULL) == NML_OK;
    /* cutting anywhere loses the outputs, which come last: nothing imports */
    assert_int_equal(ok, 0);
    printf("%zu truncations rejected\n", m.n);
    ob_free(&m);
}

static void seeded_byte_flips_never_crash(void **state) {
    (void)state;
    ob_buf m = {0};
    build_model(&m);
    uint8_t *buf = malloc(m.n);
    int ok = 0, runs = 10000;
    for (int i = 0; i < runs; i++) {
        memcpy(buf, m.d, m.n);
        int flips = 1 + (int)(rng() % 3);
        for (int k = 0; k < flips; k++)
            buf[rng() % m.n] ^= (uint8_t)(1 + rng() % 255);
        ok += attempt(buf, m.n, i % 4 == 0 ? "1x2x12x12" : NULL) == NML_OK;
    }
    printf("%d of %d mutated models still imported\n", ok, runs);
    free(buf);
    ob_free(&m);
}

/* Byte ranges of FastestDet's initializer payloads (raw_data), to aim flips at the structure. */
static size_t payload_ranges(const uint8_t *d, size_t n, size_t (*ranges)[2], size_t cap) {
    nml_pb_reader top, g, t;
    nml_pb_field f, gf, tf;
    int more;
    nml_error err;
    size_t k = 0;
    nml_pb_init(&top, d, n);
    while (nml_pb_next(&top, &f, &more, &err) == NML_OK && more) {
        if (f.number != 7 || nml_pb_sub(&top, &f, &g, &err) != NML_OK) continue;
        while (nml_pb_next(&g, &gf, &more, &err) == NML_OK && more) {
            if (gf.number != 5 || nml_pb_sub(&g, &gf, &t, &err) != NML_OK) continue;
            while (nml_pb_next(&t, &tf, &more, &err) == NML_OK && more)
                if (tf.number == 9 && k < cap) {
                    ranges[k][0] = tf.data_offset;
                    ranges[k][1] = tf.data_offset + tf.len;
                    k++;
                }
        }
    }
    return k;
}

static void fastestdet_structure_flips_never_crash(void **state) {
    (void)state;
    size_t n;
    uint8_t *d = nml_test_read(nml_test_shared("models/fastestdet/FastestDet.onnx"), &n);
    static size_t ranges[512][2];
    size_t nr = payload_ranges(d, n, ranges, 512);
    assert_true(nr > 100);
    uint8_t *buf = malloc(n);
    int ok = 0, runs = 200;
    for (int i = 0; i < runs; i++) {
        memcpy(buf, d, n);
        size_t at;
        int inside;
        do { /* a byte outside every weight payload */
            at = rng() % n;
            inside = 0;
            for (size_t r = 0; r < nr && !inside; r++)
                inside = at >= ranges[r][0] && at < ranges[r][1];
        } while (inside);
        buf[at] ^= (uint8_t)(1 + rng() % 255);
        ok += attempt(buf, n, NULL) == NML_OK;
    }
    printf("%d of %d structurally mutated FastestDet models still imported\n", ok, runs);
    free(buf);
    free(d);
}

/* One node with extreme attribute or constant values after x [1,2,4,4]. */
typedef void (*make_fn)(ob_buf *g);

static void mk_group(ob_buf *g) {
    ob_buf a = {0};
    ob_init_f32(g, "w", 4, D(2, 1, 1, 1), (const float[]){1, 1});
    ob_attr_int(&a, "group", (int64_t)1 << 62);
    ob_node(g, "Conv", "n", L("x", "w"), L("y"), &a);
}
static void mk_kernel(ob_buf *g) {
    ob_buf a = {0};
    ob_attr_ints(&a, "kernel_shape", D(INT64_MAX, 3), 2);
    ob_attr_ints(&a, "strides", D(INT64_MAX, -1), 2);
    ob_node(g, "MaxPool", "n", L("x"), L("y"), &a);
}
static void mk_pads(ob_buf *g) {
    ob_buf a = {0};
    ob_attr_ints(&a, "kernel_shape", D(3, 3), 2);
    ob_attr_ints(&a, "pads", D(INT64_MAX, 1, INT64_MIN, 1), 4);
    ob_node(g, "AveragePool", "n", L("x"), L("y"), &a);
}
static void mk_dilation(ob_buf *g) {
    ob_buf a = {0};
    ob_init_f32(g, "w", 4, D(1, 2, 1, 1), (const float[]){1, 1});
    ob_attr_ints(&a, "dilations", D((int64_t)1 << 40, 1), 2);
    ob_attr_str(&a, "auto_pad", "SAME_UPPER");
    ob_node(g, "Conv", "n", L("x", "w"), L("y"), &a);
}
static void mk_slice(ob_buf *g) {
    ob_init_i64(g, "st", 1, D(2), (const int64_t[]){INT64_MIN, INT64_MAX});
    ob_init_i64(g, "en", 1, D(2), (const int64_t[]){INT64_MAX, INT64_MIN});
    ob_init_i64(g, "ax", 1, D(2), (const int64_t[]){2, 3});
    ob_init_i64(g, "sp", 1, D(2), (const int64_t[]){INT64_MAX, INT64_MIN});
    ob_node(g, "Slice", "n", L("x", "st", "en", "ax", "sp"), L("y"), NULL);
}
static void mk_resize(ob_buf *g) {
    ob_init_f32(g, "roi", 1, D(0), NULL);
    ob_init_f32(g, "sc", 1, D(0), NULL);
    ob_init_i64(g, "sz", 1, D(4), (const int64_t[]){1, 2, INT64_MAX, -5});
    ob_node(g, "Resize", "n", L("x", "roi", "sc", "sz"), L("y"), NULL);
}
static void mk_scales(ob_buf *g) {
    ob_init_f32(g, "roi", 1, D(0), NULL);
    ob_init_f32(g, "sc", 1, D(4), (const float[]){1, 1, 1e30f, -1});
    ob_node(g, "Resize", "n", L("x", "roi", "sc"), L("y"), NULL);
}
static void mk_reshape(ob_buf *g) {
    ob_init_i64(g, "s", 1, D(3), (const int64_t[]){INT64_MAX, INT64_MAX, -1});
    ob_node(g, "Reshape", "n", L("x", "s"), L("y"), NULL);
}
static void mk_perm(ob_buf *g) {
    ob_buf a = {0};
    ob_attr_ints(&a, "perm", D(0, 3, 3, 1), 4);
    ob_node(g, "Transpose", "n", L("x"), L("y"), &a);
}
static void mk_gather(ob_buf *g) {
    ob_init_i64(g, "i", 1, D(2), (const int64_t[]){INT64_MIN, 7});
    ob_node(g, "Gather", "n", L("x", "i"), L("y"), NULL);
}
static void mk_gather_const(ob_buf *g) { /* folded: the index is checked while folding */
    ob_init_f32(g, "c", 1, D(3), (const float[]){1, 2, 3});
    ob_init_i64(g, "i", 0, NULL, (const int64_t[]){-4});
    ob_node(g, "Gather", "g", L("c", "i"), L("k"), NULL);
    ob_node(g, "Mul", "n", L("x", "k"), L("y"), NULL);
}
static void mk_split(ob_buf *g) {
    ob_buf a = {0};
    ob_attr_int(&a, "axis", INT64_MIN);
    ob_attr_ints(&a, "split", D(INT64_MAX, 2), 2);
    ob_node(g, "Split", "n", L("x"), L("y", "z"), &a);
}
static void mk_range(ob_buf *g) {
    ob_init_i64(g, "a", 0, NULL, (const int64_t[]){0});
    ob_init_i64(g, "b", 0, NULL, (const int64_t[]){INT64_MAX});
    ob_init_i64(g, "d", 0, NULL, (const int64_t[]){1});
    ob_node(g, "Range", "r", L("a", "b", "d"), L("k"), NULL);
    ob_node(g, "Reshape", "n", L("x", "k"), L("y"), NULL);
}
static void mk_const_of_shape(ob_buf *g) {
    ob_init_i64(g, "s", 1, D(3), (const int64_t[]){1 << 20, 1 << 20, 1 << 20});
    ob_node(g, "ConstantOfShape", "k", L("s"), L("k"), NULL);
    ob_node(g, "Add", "n", L("x", "k"), L("y"), NULL);
}
static void mk_int_math(ob_buf *g) {
    ob_init_i64(g, "a", 1, D(2), (const int64_t[]){INT64_MIN, INT64_MAX});
    ob_init_i64(g, "b", 1, D(2), (const int64_t[]){-1, 0});
    ob_node(g, "Div", "d", L("a", "b"), L("q"), NULL);
    ob_node(g, "Mul", "m", L("a", "a"), L("p"), NULL);
    ob_node(g, "Neg", "ng", L("a"), L("k"), NULL);
    ob_node(g, "Reshape", "n", L("x", "q"), L("y"), NULL);
}

static void extreme_values_fail_cleanly(void **state) {
    (void)state;
    /* all but the Slice must be refused; ONNX clamps slice bounds, so that one imports */
    static const struct {
        make_fn fn;
        int ok;
    } makers[] = {{mk_group, 0}, {mk_kernel, 0},         {mk_pads, 0},         {mk_dilation, 0},
                  {mk_slice, 1}, {mk_resize, 0},         {mk_scales, 0},       {mk_reshape, 0},
                  {mk_perm, 0},  {mk_gather, 0},         {mk_gather_const, 0}, {mk_split, 0},
                  {mk_range, 0}, {mk_const_of_shape, 0}, {mk_int_math, 0}};
    for (size_t i = 0; i < sizeof makers / sizeof makers[0]; i++) {
        ob_buf g = {0}, m = {0};
        ob_io(&g, 0, "x", 4, D(1, 2, 4, 4));
        makers[i].fn(&g);
        ob_io(&g, 1, "y", 4, D(1, 2, 4, 4));
        ob_model(&m, 11, &g);
        nml_status s = attempt(m.d, m.n, NULL);
        printf("case %zu: %s\n", i, s == NML_OK ? "imported" : last_error);
        assert_int_equal(s == NML_OK, makers[i].ok);
        ob_free(&m);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(intact_model_imports),
        cmocka_unit_test(every_truncation_fails_cleanly),
        cmocka_unit_test(seeded_byte_flips_never_crash),
        cmocka_unit_test(fastestdet_structure_flips_never_crash),
        cmocka_unit_test(extreme_values_fail_cleanly),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
