/* Writes synthetic int8 .tflite models for the RV32 benchmark (bench/rv32.sh), built with the
 * IR and the .tflite writer: the layer structure of the models the benchmark is about, with
 * seeded random weights (so their outputs mean nothing, but their instruction counts and
 * memory are those of the real shapes). They stand in until the trained LeNet-5 and the
 * imported FastestDet are available as files.
 *   lenet5_synth.tflite      LeNet-5 on 28x28x1: conv 5x5x6 (SAME) relu, max pool, conv 5x5x16
 *                            relu, max pool, FC 400-120-84-10, softmax
 *   fastestdet_synth.tflite  FastestDet's layout at 128x86 (width x height): ShuffleNetV2 0.25x
 *                            backbone (stem conv 3x3/2 + max pool, stages of 4/8/4 blocks with
 *                            channel split, 1x1 - dw 3x3 - 1x1 branches, concat and channel
 *                            shuffle), head on P3 (avg pool), P4, P5 (nearest upsample)
 *                            concatenated, 1x1 conv, dw 5x5, 1x1 conv to 85 channels, logistic
 *                            and softmax outputs
 * Tensors that meet in a channel-shuffle CONCATENATION share their quantization, as in models
 * from TFLite's int8 converter.
 * usage: synth_models OUT_DIR */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nanoml/file.h"
#include "nanoml/ir.h"

static nml_ir ir;
static nml_error err;
static uint32_t rng = 0x5EEDu;

static void check(nml_status st) {
    if (st != NML_OK) {
        fprintf(stderr, "synth_models: %s\n", err.msg);
        exit(1);
    }
}

static uint32_t rnd(void) {
    rng ^= rng << 13;
    rng ^= rng >> 17;
    rng ^= rng << 5;
    return rng;
}

/* An activation: tensor index, NHWC shape (rank 4, or 2 for FC), scale, zero point. */
typedef struct act {
    int t;
    int32_t dims[4];
    int rank;
    float scale;
    int32_t zp;
} act;

static int counter;

static int new_tensor(const char *kind, int type, int rank, const int32_t *dims, const void *data,
                      size_t bytes) {
    char name[64];
    snprintf(name, sizeof name, "%s_%d", kind, counter++);
    int t;
    check(nml_ir_add_tensor(&ir, name, type, rank, dims, data, bytes, &t, &err));
    return t;
}

static void set_quant(int t, float scale, int32_t zp) {
    int64_t z = zp;
    check(nml_ir_set_quant(&ir, t, 1, &scale, &z, 0, &err));
}

static act new_act(int rank, const int32_t *dims, float scale, int32_t zp) {
    act a;
    memset(&a, 0, sizeof a);
    a.rank = rank;
    memcpy(a.dims, dims, (size_t)rank * sizeof dims[0]);
    a.scale = scale;
    a.zp = zp;
    a.t = new_tensor("act", NML_INT8, rank, dims, NULL, 0);
    set_quant(a.t, scale, zp);
    return a;
}

static void add_op(int32_t builtin, const nml_op_params *p, int n_in, const int32_t *in, int n_out,
                   const int32_t *out) {
    check(nml_ir_add_op(&ir, builtin, p, n_in, in, n_out, out, NULL, &err));
}

static int32_t out_dim(int32_t in, int32_t k, int32_t stride, int same) {
    return same ? (in + stride - 1) / stride : (in - k + stride) / stride;
}

/* Output quantization forced on the next weighted layer (NULL: its own), so that tensors that
 * meet in a CONCATENATION share one, as TFLite's int8 converter makes them. */
static const act *quant_like;

/* Random int8 weights with per-channel scales along q_dim, int32 bias; the output scale makes
 * typical outputs use a good part of the int8 range (relu: zero point -128). */
static act weighted(int32_t builtin, const act *x, int32_t out_c, int32_t k, int32_t stride,
                    int same, int relu, int32_t depth_multiplier) {
    const int dw = builtin == NML_OP_DEPTHWISE_CONV_2D, fc = builtin == NML_OP_FULLY_CONNECTED;
    int32_t wd[4];
    int w_rank = 4, q_dim = 0;
    int32_t depth;
    if (fc) {
        w_rank = 2;
        wd[0] = out_c, wd[1] = x->dims[x->rank - 1];
        depth = wd[1];
    } else if (dw) {
        wd[0] = 1, wd[1] = k, wd[2] = k, wd[3] = out_c;
        q_dim = 3;
        depth = k * k;
    } else {
        wd[0] = out_c, wd[1] = k, wd[2] = k, wd[3] = x->dims[3];
        depth = k * k * x->dims[3];
    }
    size_t n = 1;
    for (int i = 0; i < w_rank; i++)
        n *= (size_t)wd[i];
    int8_t *w = malloc(n);
    int32_t *b = malloc((size_t)out_c * sizeof *b);
    float *ws = malloc((size_t)out_c * sizeof *ws), *bs = malloc((size_t)out_c * sizeof *bs);
    int64_t *z = calloc((size_t)out_c, sizeof *z);
    for (size_t i = 0; i < n; i++)
        w[i] = (int8_t)((int32_t)(rnd() % 255u) - 127);
    for (int32_t c = 0; c < out_c; c++) {
        ws[c] = 0.002f + 0.002f * (float)(rnd() % 1000u) / 1000.0f;
        bs[c] = x->scale * ws[c];
        b[c] = (int32_t)(rnd() % 2001u) - 1000;
    }
    int wt = new_tensor("weights", NML_INT8, w_rank, wd, w, n);
    check(nml_ir_set_quant(&ir, wt, (uint32_t)out_c, ws, z, q_dim, &err));
    int bt = new_tensor("bias", NML_INT32, 1, &out_c, b, (size_t)out_c * sizeof *b);
    check(nml_ir_set_quant(&ir, bt, (uint32_t)out_c, bs, z, 0, &err));
    /* |sum| ~ sqrt(depth) * 73 * 73 input and weight steps: map ~3 standard deviations to 127 */
    float out_scale = x->scale * 0.003f * sqrtf((float)depth) * 73.0f * 73.0f * 3.0f / 127.0f;
    int32_t out_zp = relu ? -128 : 0;
    if (quant_like) {
        out_scale = quant_like->scale;
        out_zp = quant_like->zp;
        quant_like = NULL;
    }
    act y;
    nml_op_params p;
    nml_op_params_default(&p);
    p.activation = relu ? NML_ACT_RELU : NML_ACT_NONE;
    if (fc) {
        int32_t d[2] = {x->dims[0], out_c};
        y = new_act(2, d, out_scale, out_zp);
    } else {
        int32_t d[4] = {x->dims[0], out_dim(x->dims[1], k, stride, same),
                        out_dim(x->dims[2], k, stride, same), out_c};
        y = new_act(4, d, out_scale, out_zp);
        p.padding = same ? NML_PAD_SAME : NML_PAD_VALID;
        p.stride_h = p.stride_w = stride;
        p.depth_multiplier = depth_multiplier;
    }
    add_op(builtin, &p, 3, (const int32_t[]){x->t, wt, bt}, 1, (const int32_t[]){y.t});
    free(w), free(b), free(ws), free(bs), free(z);
    return y;
}

static act conv(const act *x, int32_t out_c, int32_t k, int32_t stride, int relu) {
    return weighted(NML_OP_CONV_2D, x, out_c, k, stride, 1, relu, 1);
}

static act dwconv(const act *x, int32_t k, int32_t stride, int relu) {
    return weighted(NML_OP_DEPTHWISE_CONV_2D, x, x->dims[3], k, stride, 1, relu, 1);
}

static act pool(int32_t builtin, const act *x, int32_t k, int32_t stride) {
    int32_t d[4] = {x->dims[0], out_dim(x->dims[1], k, stride, 1),
                    out_dim(x->dims[2], k, stride, 1), x->dims[3]};
    act y = new_act(4, d, x->scale, x->zp);
    nml_op_params p;
    nml_op_params_default(&p);
    p.padding = NML_PAD_SAME;
    p.stride_h = p.stride_w = stride;
    p.filter_h = p.filter_w = k;
    add_op(builtin, &p, 1, (const int32_t[]){x->t}, 1, (const int32_t[]){y.t});
    return y;
}

static int const_i32(int32_t n, const int32_t *v) {
    return new_tensor("const", NML_INT32, 1, &n, v, (size_t)n * sizeof *v);
}

static act reshape(const act *x, int rank, const int32_t *dims) {
    act y = new_act(rank, dims, x->scale, x->zp);
    nml_op_params p;
    nml_op_params_default(&p);
    p.new_shape_len = rank;
    memcpy(p.new_shape, dims, (size_t)rank * sizeof dims[0]);
    add_op(NML_OP_RESHAPE, &p, 2, (const int32_t[]){x->t, const_i32(rank, dims)}, 1,
           (const int32_t[]){y.t});
    return y;
}

/* Concatenation along channels; the output takes the first input's quantization. */
static act concat(int n, const act *xs) {
    int32_t d[4];
    memcpy(d, xs[0].dims, sizeof d);
    d[3] = 0;
    int32_t in[8];
    for (int i = 0; i < n; i++)
        d[3] += xs[i].dims[3], in[i] = xs[i].t;
    act y = new_act(4, d, xs[0].scale, xs[0].zp);
    nml_op_params p;
    nml_op_params_default(&p);
    p.axis = 3;
    add_op(NML_OP_CONCATENATION, &p, n, in, 1, (const int32_t[]){y.t});
    return y;
}

/* Channel shuffle with 2 groups: reshape to [N,H,W,2,C/2], swap the last two, reshape back. */
static act shuffle(const act *x) {
    const int32_t n = x->dims[0], h = x->dims[1], w = x->dims[2], c = x->dims[3];
    int32_t d5[5] = {n, h, w, 2, c / 2}, t5[5] = {n, h, w, c / 2, 2};
    act a = new_act(5, d5, x->scale, x->zp);
    nml_op_params p;
    nml_op_params_default(&p);
    p.new_shape_len = 5;
    memcpy(p.new_shape, d5, sizeof d5);
    add_op(NML_OP_RESHAPE, &p, 2, (const int32_t[]){x->t, const_i32(5, d5)}, 1,
           (const int32_t[]){a.t});
    act b = new_act(5, t5, x->scale, x->zp);
    nml_op_params_default(&p);
    add_op(NML_OP_TRANSPOSE, &p, 2,
           (const int32_t[]){a.t, const_i32(5, (int32_t[]){0, 1, 2, 4, 3})}, 1,
           (const int32_t[]){b.t});
    return reshape(&b, 4, x->dims);
}

/* ShuffleNetV2 unit: stride 1 splits the channels (half passes through); stride 2 has a
 * second branch (dw 3x3/2 - 1x1) on the whole input. */
static act shuffle_unit(const act *x, int32_t out_c, int32_t stride) {
    const int32_t half = out_c / 2;
    act pass, in;
    if (stride == 1) {
        int32_t d[4] = {x->dims[0], x->dims[1], x->dims[2], x->dims[3] / 2};
        pass = new_act(4, d, x->scale, x->zp);
        in = new_act(4, d, x->scale, x->zp);
        nml_op_params p;
        nml_op_params_default(&p);
        p.num_splits = 2;
        int32_t axis = 3;
        int32_t one = 1;
        int at = new_tensor("axis", NML_INT32, 0, &one, &axis, sizeof axis);
        add_op(NML_OP_SPLIT, &p, 2, (const int32_t[]){at, x->t}, 2,
               (const int32_t[]){pass.t, in.t});
    } else {
        act a = dwconv(x, 3, 2, 0);
        pass = conv(&a, half, 1, 1, 1);
        in = *x;
    }
    act b = conv(&in, half, 1, 1, 1);
    b = dwconv(&b, 3, stride, 0);
    quant_like = &pass; /* the two halves meet in the CONCATENATION below */
    b = conv(&b, half, 1, 1, 1);
    act parts[2] = {pass, b};
    act y = concat(2, parts);
    return shuffle(&y);
}

static act resize2x(const act *x) {
    int32_t d[4] = {x->dims[0], x->dims[1] * 2, x->dims[2] * 2, x->dims[3]};
    act y = new_act(4, d, x->scale, x->zp);
    nml_op_params p;
    nml_op_params_default(&p);
    add_op(NML_OP_RESIZE_NEAREST_NEIGHBOR, &p, 2,
           (const int32_t[]){x->t, const_i32(2, (int32_t[]){d[1], d[2]})}, 1,
           (const int32_t[]){y.t});
    return y;
}

static act unary(int32_t builtin, const act *x, float scale, int32_t zp) {
    act y = new_act(x->rank, x->dims, scale, zp);
    nml_op_params p;
    nml_op_params_default(&p);
    add_op(builtin, &p, 1, (const int32_t[]){x->t}, 1, (const int32_t[]){y.t});
    return y;
}

static void write_model(const char *dir, const char *name, const act *in, int n_out,
                        const act *outs) {
    int32_t o[4];
    for (int i = 0; i < n_out; i++)
        o[i] = outs[i].t;
    check(nml_ir_set_io(&ir, 1, (const int32_t[]){in->t}, n_out, o, &err));
    uint8_t *bytes;
    size_t size;
    check(nml_ir_to_tflite(&ir, &bytes, &size, &err));
    char path[1024];
    snprintf(path, sizeof path, "%s/%s.tflite", dir, name);
    check(nml_write_file(path, bytes, size, &err));
    printf("wrote %s (%zu bytes, %d operators)\n", path, size, ir.n_ops);
    free(bytes);
    nml_ir_free(&ir);
}

static void lenet5(const char *dir) {
    nml_ir_init(&ir);
    act x = new_act(4, (const int32_t[]){1, 28, 28, 1}, 1.0f / 255.0f, -128);
    act in = x;
    x = conv(&x, 6, 5, 1, 1);
    x = pool(NML_OP_MAX_POOL_2D, &x, 2, 2);
    x = weighted(NML_OP_CONV_2D, &x, 16, 5, 1, 0, 1, 1); /* VALID: 10x10 */
    x = pool(NML_OP_MAX_POOL_2D, &x, 2, 2);
    x = reshape(&x, 2, (const int32_t[]){1, 400});
    x = weighted(NML_OP_FULLY_CONNECTED, &x, 120, 1, 1, 0, 1, 1);
    x = weighted(NML_OP_FULLY_CONNECTED, &x, 84, 1, 1, 0, 1, 1);
    x = weighted(NML_OP_FULLY_CONNECTED, &x, 10, 1, 1, 0, 0, 1);
    act y = unary(NML_OP_SOFTMAX, &x, 1.0f / 256.0f, -128);
    write_model(dir, "lenet5_synth", &in, 1, &y);
}

static void fastestdet(const char *dir) {
    nml_ir_init(&ir);
    act x = new_act(4, (const int32_t[]){1, 86, 128, 3}, 1.0f / 255.0f, -128);
    act in = x;
    x = conv(&x, 24, 3, 2, 1);
    x = pool(NML_OP_MAX_POOL_2D, &x, 3, 2);
    static const int32_t repeats[3] = {4, 8, 4}, channels[3] = {48, 96, 192};
    act p[3];
    for (int s = 0; s < 3; s++) {
        x = shuffle_unit(&x, channels[s], 2);
        for (int r = 1; r < repeats[s]; r++)
            x = shuffle_unit(&x, channels[s], 1);
        p[s] = x;
    }
    act p3 = pool(NML_OP_AVERAGE_POOL_2D, &p[0], 3, 2);
    act p5 = resize2x(&p[2]);
    act parts[3] = {p3, p[1], p5};
    act f = concat(3, parts);
    f = conv(&f, 96, 1, 1, 1);
    f = dwconv(&f, 5, 1, 0);
    f = conv(&f, 96, 1, 1, 1);
    act head = weighted(NML_OP_CONV_2D, &f, 85, 1, 1, 1, 0, 1);
    act obj = unary(NML_OP_LOGISTIC, &head, 1.0f / 256.0f, -128);
    act cls = reshape(&head, 2, (const int32_t[]){head.dims[1] * head.dims[2], 85});
    cls = unary(NML_OP_SOFTMAX, &cls, 1.0f / 256.0f, -128);
    act outs[2] = {obj, cls};
    write_model(dir, "fastestdet_synth", &in, 2, outs);
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: synth_models OUT_DIR\n");
        return 2;
    }
    check(nml_make_dirs(argv[1], &err));
    lenet5(argv[1]);
    fastestdet(argv[1]);
    return 0;
}
