/* Seed inputs for the fuzz targets that are hard to write from a shell script:
 *   make_seeds onnx DIR    small ONNX models covering the importer's operator families, its
 *                          constant folding, shape arithmetic and opset differences
 *   make_seeds image DIR   tiny PNG (1-4 channels), BMP and JPEG files (stb_image_write)
 * scripts/fuzz.sh adds the shared files (FastestDet.onnx, photos) to these. The models are
 * written with the tests' ONNX encoder (tests/support/onnx_builder.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onnx_builder.h"
#include "stb_image_write.h"

#define L(...) ((const char *const[]){__VA_ARGS__, NULL})
#define D(...) ((const int64_t[]){__VA_ARGS__})

static int failed;

static void write_file(const char *dir, const char *name, const void *data, size_t size) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, size, f) != size) {
        fprintf(stderr, "make_seeds: cannot write %s\n", path);
        failed = 1;
    }
    if (f) fclose(f);
}

static void save_model(const char *dir, const char *name, int64_t opset, ob_buf *graph) {
    ob_buf m = {0};
    ob_model(&m, opset, graph);
    write_file(dir, name, m.d, m.n);
    ob_free(&m);
}

static void fill(float *v, int n, int mod) {
    for (int i = 0; i < n; i++)
        v[i] = (float)(i % mod) * 0.25f - 0.5f;
}

/* Convolutions, batch norm and fused activations, pooling with padding, a channel shuffle
 * (Reshape/Transpose/Gather), resize, pad, slice, split and a Flatten -> Gemm head. */
static void model_cnn(const char *dir) {
    ob_buf g = {0}, a = {0};
    static float w[4 * 2 * 9], dw[4 * 9], fc[3 * 32], ones[4] = {1, 1, 1, 1}, zeros[4] = {0};
    fill(w, 72, 5);
    fill(dw, 36, 7);
    fill(fc, 96, 3);
    ob_io(&g, 0, "x", 4, D(1, 2, 8, 8));
    ob_init_f32(&g, "w", 4, D(4, 2, 3, 3), w);
    ob_init_f32(&g, "dw", 4, D(4, 1, 3, 3), dw);
    ob_init_f32(&g, "one", 1, D(4), ones);
    ob_init_f32(&g, "zero", 1, D(4), zeros);
    ob_init_i64(&g, "s1", 1, D(3), D(2, 2, 16));
    ob_init_i64(&g, "s2", 1, D(4), D(1, 4, 4, 4));
    ob_init_f32(&g, "scales", 1, D(4), (const float[]){1, 1, 2, 2});
    ob_init_f32(&g, "roi", 1, D(0), NULL);
    ob_init_i64(&g, "pads", 1, D(8), D(0, 0, 1, 1, 0, 0, 1, 1));
    ob_init_i64(&g, "st", 1, D(1), D(1));
    ob_init_i64(&g, "en", 1, D(1), D(3));
    ob_init_i64(&g, "ax", 1, D(1), D(1));
    ob_init_f32(&g, "lo", 0, NULL, (const float[]){0});
    ob_init_f32(&g, "hi", 0, NULL, (const float[]){6});
    ob_init_f32(&g, "fc", 2, D(3, 32), fc);
    ob_attr_ints(&a, "kernel_shape", D(3, 3), 2);
    ob_attr_ints(&a, "pads", D(1, 1, 1, 1), 4);
    ob_node(&g, "Conv", "conv", L("x", "w"), L("c"), &a);
    ob_node(&g, "BatchNormalization", "bn", L("c", "one", "zero", "zero", "one"), L("n"), NULL);
    ob_node(&g, "Relu", "relu", L("n"), L("r"), NULL);
    ob_attr_int(&a, "group", 4);
    ob_attr_str(&a, "auto_pad", "SAME_UPPER");
    ob_node(&g, "Conv", "dwconv", L("r", "dw"), L("d"), &a);
    ob_node(&g, "Clip", "clip6", L("d", "lo", "hi"), L("d6"), NULL);
    ob_attr_ints(&a, "kernel_shape", D(3, 3), 2);
    ob_attr_ints(&a, "pads", D(1, 1, 1, 1), 4);
    ob_attr_ints(&a, "strides", D(2, 2), 2);
    ob_node(&g, "MaxPool", "pool", L("d6"), L("p"), &a); /* [1,4,4,4] */
    ob_node(&g, "Reshape", "r1", L("p", "s1"), L("q1"), NULL);
    ob_attr_ints(&a, "perm", D(1, 0, 2), 3);
    ob_node(&g, "Transpose", "t", L("q1"), L("q2"), &a);
    ob_node(&g, "Reshape", "r2", L("q2", "s2"), L("sh"), NULL);
    ob_node(&g, "Resize", "up", L("sh", "roi", "scales"), L("u"), NULL); /* [1,4,8,8] */
    ob_node(&g, "Pad", "pad", L("u", "pads"), L("pu"), NULL);
    ob_attr_ints(&a, "kernel_shape", D(3, 3), 2);
    ob_attr_ints(&a, "strides", D(2, 2), 2);
    ob_node(&g, "AveragePool", "avg", L("pu"), L("av"), &a);                 /* [1,4,4,4] */
    ob_node(&g, "Slice", "slice", L("av", "st", "en", "ax"), L("sl"), NULL); /* [1,2,4,4] */
    ob_attr_int(&a, "axis", 1);
    ob_node(&g, "Split", "split", L("sl"), L("sa", "sb"), &a);
    ob_node(&g, "Add", "add", L("sa", "sb"), L("ad"), NULL);
    ob_attr_int(&a, "axis", 1);
    ob_node(&g, "Concat", "cat", L("ad", "sa"), L("cc"), &a); /* [1,2,4,4] */
    ob_attr_int(&a, "axis", 1);
    ob_node(&g, "Flatten", "flat", L("cc"), L("f"), &a); /* [1,32] */
    ob_node(&g, "Slice", "half", L("f", "st", "en", "ax"), L("f2"), NULL);
    ob_attr_int(&a, "transB", 1);
    ob_node(&g, "Gemm", "fc1", L("f", "fc"), L("z"), &a);
    ob_node(&g, "Softmax", "sm", L("z"), L("y"), NULL);
    ob_node(&g, "Sigmoid", "sig", L("u"), L("y2"), NULL);
    ob_io(&g, 1, "y", 2, D(1, 3));
    ob_io(&g, 1, "y2", 4, D(1, 4, 8, 8));
    ob_io(&g, 1, "f2", 2, D(1, 2));
    save_model(dir, "cnn_opset11.onnx", 11, &g);
}

/* Shape arithmetic folded at import time: Shape -> Gather -> Unsqueeze -> Concat -> Reshape,
 * ConstantOfShape, Range, comparisons, Where, Cast and element-wise maths on constants. */
static void model_folding(const char *dir) {
    ob_buf g = {0}, a = {0};
    ob_io(&g, 0, "x", 4, D(1, 3, 4, 4));
    ob_init_i64(&g, "i0", 0, NULL, D(0));
    ob_init_i64(&g, "i1", 0, NULL, D(1));
    ob_init_i64(&g, "minus1", 1, D(1), D(-1));
    ob_init_i64(&g, "two", 0, NULL, D(2));
    ob_init_i64(&g, "six", 0, NULL, D(6));
    ob_init_i64(&g, "shape3", 1, D(1), D(3));
    ob_init_f32(&g, "k", 1, D(3), (const float[]){0.5f, 2.0f, -1.0f});
    ob_node(&g, "Shape", "shape", L("x"), L("shp"), NULL);
    ob_node(&g, "Gather", "batch", L("shp", "i0"), L("b"), NULL);
    ob_node(&g, "Gather", "chan", L("shp", "i1"), L("ch"), NULL);
    ob_node(&g, "Mul", "mul", L("ch", "two"), L("ch2"), NULL);
    ob_node(&g, "Div", "div", L("ch2", "two"), L("ch3"), NULL);
    ob_attr_ints(&a, "axes", D(0), 1);
    ob_node(&g, "Unsqueeze", "unsq", L("b"), L("b1"), &a);
    ob_attr_int(&a, "axis", 0);
    ob_node(&g, "Concat", "tgt", L("b1", "minus1"), L("target"), &a);
    ob_node(&g, "Reshape", "flatten", L("x", "target"), L("f"), NULL); /* [1,48] */
    ob_node(&g, "ConstantOfShape", "cos", L("shape3"), L("zeros"), NULL);
    ob_node(&g, "Range", "range", L("i0", "six", "two"), L("r"), NULL); /* 0 2 4 */
    ob_attr_int(&a, "to", 1);
    ob_node(&g, "Cast", "cast", L("r"), L("rf"), &a);
    ob_node(&g, "Less", "less", L("rf", "k"), L("m"), NULL);
    ob_node(&g, "Where", "where", L("m", "k", "zeros"), L("w"), NULL);
    ob_node(&g, "Neg", "neg", L("w"), L("w1"), NULL);
    ob_node(&g, "Abs", "abs", L("w1"), L("w2"), NULL);
    ob_node(&g, "Sqrt", "sqrt", L("w2"), L("w3"), NULL);
    ob_node(&g, "Exp", "exp", L("w3"), L("w4"), NULL);
    ob_node(&g, "Floor", "floor", L("w4"), L("w5"), NULL);
    ob_node(&g, "Max", "max", L("w5", "k"), L("w6"), NULL);
    ob_node(&g, "Size", "size", L("f"), L("n"), NULL);
    ob_node(&g, "Equal", "eq", L("n", "i0"), L("e"), NULL);
    ob_node(&g, "GlobalAveragePool", "gap", L("x"), L("g"), NULL); /* [1,3,1,1] */
    ob_node(&g, "Flatten", "gflat", L("g"), L("gf"), NULL);        /* [1,3] */
    ob_node(&g, "Mul", "scale", L("gf", "w6"), L("y"), NULL);
    ob_node(&g, "Add", "bias", L("f", "f"), L("y2"), NULL);
    ob_io(&g, 1, "y", 2, D(1, 3));
    ob_io(&g, 1, "y2", 2, D(1, 48));
    save_model(dir, "folding_opset11.onnx", 11, &g);
}

/* A dense head at opset 13: MatMul, element-wise ops with broadcasting, activations, Split and
 * Squeeze/Unsqueeze with their axes as inputs (the opset-13 form), Slice with a negative
 * step, nearest-neighbour Resize by sizes and global max pooling. */
static void model_dense13(const char *dir) {
    ob_buf g = {0}, a = {0};
    static float w[8 * 6], b[6];
    fill(w, 48, 11);
    fill(b, 6, 4);
    ob_io(&g, 0, "x", 4, D(1, 2, 2, 2));
    ob_init_f32(&g, "w", 2, D(8, 6), w);
    ob_init_f32(&g, "b", 1, D(6), b);
    ob_init_i64(&g, "flat", 1, D(2), D(1, 8));
    ob_init_i64(&g, "parts", 1, D(2), D(4, 4));
    ob_init_i64(&g, "ax0", 1, D(1), D(0));
    ob_init_i64(&g, "ax1", 1, D(1), D(1));
    ob_init_i64(&g, "st", 1, D(1), D(-1));
    ob_init_i64(&g, "en", 1, D(1), D(-100));
    ob_init_i64(&g, "step", 1, D(1), D(-1));
    ob_init_i64(&g, "sizes", 1, D(4), D(1, 2, 4, 4));
    ob_init_f32(&g, "roi", 1, D(0), NULL);
    ob_init_f32(&g, "scales", 1, D(0), NULL);
    ob_node(&g, "Reshape", "r", L("x", "flat"), L("xf"), NULL);
    ob_node(&g, "MatMul", "mm", L("xf", "w"), L("m"), NULL);
    ob_node(&g, "Add", "add", L("m", "b"), L("h"), NULL);
    ob_attr_float(&a, "alpha", 0.1f);
    ob_node(&g, "LeakyRelu", "lrelu", L("h"), L("h1"), &a);
    ob_node(&g, "Tanh", "tanh", L("h1"), L("h2"), NULL);
    ob_node(&g, "HardSwish", "hs", L("h2"), L("h3"), NULL);
    ob_node(&g, "Sub", "sub", L("h3", "b"), L("h4"), NULL);
    ob_attr_int(&a, "axis", -1);
    ob_node(&g, "LogSoftmax", "lsm", L("h4"), L("y"), &a);
    ob_attr_int(&a, "axis", 1);
    ob_node(&g, "Split", "split", L("xf", "parts"), L("s0", "s1"), &a);
    ob_node(&g, "Slice", "rev", L("s1", "st", "en", "ax1", "step"), L("s1r"), NULL);
    ob_node(&g, "Unsqueeze", "unsq", L("s1r", "ax0"), L("u"), NULL);
    ob_node(&g, "Squeeze", "sq", L("u", "ax0"), L("y2"), NULL);
    ob_attr_str(&a, "mode", "nearest");
    ob_node(&g, "Resize", "up", L("x", "roi", "scales", "sizes"), L("big"), &a);
    ob_node(&g, "GlobalMaxPool", "gmp", L("big"), L("y3"), NULL);
    ob_io(&g, 1, "y", 2, D(1, 6));
    ob_io(&g, 1, "y2", 2, D(1, 4));
    ob_io(&g, 1, "y3", 4, D(1, 2, 1, 1));
    save_model(dir, "dense_opset13.onnx", 13, &g);
}

/* An old-style file: inputs listing the initializers too, Upsample (opset 9, scales as an
 * input), Dropout, and an output without a declared shape. */
static void model_old(const char *dir) {
    ob_buf g = {0}, a = {0};
    static float w[2 * 1 * 1 * 1] = {1.0f, -2.0f};
    ob_io(&g, 0, "x", 4, D(1, 1, 3, 3));
    ob_init_f32(&g, "w", 4, D(2, 1, 1, 1), w);
    ob_io(&g, 0, "w", 4, D(2, 1, 1, 1));
    ob_init_f32(&g, "sc", 1, D(4), (const float[]){1, 1, 2, 2});
    ob_node(&g, "Conv", "conv", L("x", "w"), L("c"), NULL);
    ob_attr_str(&a, "mode", "nearest");
    ob_node(&g, "Upsample", "up", L("c", "sc"), L("u"), &a);
    ob_node(&g, "Dropout", "drop", L("u"), L("y"), NULL);
    ob_io(&g, 1, "y", -1, NULL);
    save_model(dir, "old_opset9.onnx", 9, &g);
}

static void write_cb(void *ctx, void *data, int size) {
    ob_raw(ctx, data, (size_t)size);
}

static void images(const char *dir) {
    uint8_t px[12 * 10 * 4];
    for (size_t i = 0; i < sizeof px; i++)
        px[i] = (uint8_t)(i * 37u + (i >> 3));
    for (int c = 1; c <= 4; c++) {
        ob_buf b = {0};
        char name[32];
        stbi_write_png_to_func(write_cb, &b, 12, 10, c, px, 12 * c);
        snprintf(name, sizeof name, "tiny_%dch.png", c);
        write_file(dir, name, b.d, b.n);
        ob_free(&b);
        b = (ob_buf){0};
        stbi_write_jpg_to_func(write_cb, &b, 12, 10, c, px, 50 + 10 * c);
        snprintf(name, sizeof name, "tiny_%dch.jpg", c);
        write_file(dir, name, b.d, b.n);
        ob_free(&b);
    }
    ob_buf b = {0};
    stbi_write_bmp_to_func(write_cb, &b, 12, 10, 3, px);
    write_file(dir, "tiny_rgb.bmp", b.d, b.n);
    ob_free(&b);
    b = (ob_buf){0};
    stbi_write_bmp_to_func(write_cb, &b, 5, 3, 4, px);
    write_file(dir, "tiny_rgba.bmp", b.d, b.n);
    ob_free(&b);
}

int main(int argc, char **argv) {
    if (argc != 3 || (strcmp(argv[1], "onnx") != 0 && strcmp(argv[1], "image") != 0)) {
        fprintf(stderr, "usage: make_seeds onnx|image DIR\n");
        return 2;
    }
    if (strcmp(argv[1], "onnx") == 0) {
        model_cnn(argv[2]);
        model_folding(argv[2]);
        model_dense13(argv[2]);
        model_old(argv[2]);
    } else {
        images(argv[2]);
    }
    return failed;
}
