/* FastestDet through the ONNX importer, checked against ONNX Runtime.
 *
 * The imported IR is run with the test evaluator (tests/support/ir_eval.c, TFLite reference
 * semantics) so the importer is verified before the runtime kernels are merged; the golden
 * outputs come from ONNX Runtime (npm onnxruntime-node) on the same preprocessed pixels.
 * test_onnx_equivalence.c repeats the comparison through the real runtime. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ir_eval.h"
#include "nanoml/file.h"
#include "onnx/import.h"
#include "onnx/onnx_model.h"
#include "onnx/pb.h"
#include "onnx_oracle.h"
#include "test_util.h"

#define MODEL "models/fastestdet/FastestDet.onnx"

static int count_ops(const nml_ir *ir, int32_t code) {
    int n = 0;
    for (int i = 0; i < ir->n_ops; i++)
        n += ir->ops[i].builtin == code;
    return n;
}

static void import_fastestdet(nml_ir *ir, const char *shape, nml_onnx_import_stats *st) {
    size_t size;
    uint8_t *data = nml_test_read(nml_test_shared(MODEL), &size);
    nml_onnx_import_options opt;
    nml_onnx_import_options_default(&opt);
    nml_error err;
    if (shape)
        assert_int_equal(nml_onnx_parse_shape(shape, opt.input_shape, &opt.n_input_shape, &err),
                         NML_OK);
    nml_ir_init(ir);
    nml_status s = nml_onnx_import(data, size, &opt, ir, st, &err);
    if (s != NML_OK) fail_msg("import: %s", err.msg);
    free(data);
}

/* The IR's structure follows from the ONNX graph's facts (shared/README.md): every Conv becomes
 * one CONV_2D (group 1) or DEPTHWISE_CONV_2D (group = channels), the channel shuffles leave no
 * TRANSPOSE behind, and input/output are NHWC. */
static void structure_follows_the_onnx_graph(void **state) {
    (void)state;
    size_t size;
    uint8_t *data = nml_test_read(nml_test_shared(MODEL), &size);
    nml_onnx_model m;
    nml_error err;
    assert_int_equal(nml_onnx_parse(&m, data, size, &err), NML_OK);
    int conv = 0, grouped = 0, shuffles = 0;
    for (size_t i = 0; i < m.graph.n_nodes; i++) {
        const nml_onnx_node *n = &m.graph.nodes[i];
        if (!strcmp(n->op_type, "Conv")) {
            const nml_onnx_attr *g = nml_onnx_attr_find(n, "group");
            conv++;
            grouped += g && g->i > 1;
        }
        shuffles += !strcmp(n->op_type, "Transpose") && nml_onnx_attr_find(n, "perm")->n_ints == 3;
    }
    nml_onnx_free(&m);
    free(data);
    assert_int_equal(conv, 70);

    nml_ir ir;
    nml_onnx_import_stats st;
    import_fastestdet(&ir, NULL, &st);
    assert_int_equal(count_ops(&ir, NML_OP_CONV_2D), conv - grouped);
    assert_int_equal(count_ops(&ir, NML_OP_DEPTHWISE_CONV_2D), grouped);
    assert_int_equal(count_ops(&ir, NML_OP_TRANSPOSE), 0);
    assert_int_equal(count_ops(&ir, NML_OP_RESHAPE), 0);
    /* each shuffle yields its two halves: one GATHER each */
    assert_int_equal(count_ops(&ir, NML_OP_GATHER), 2 * shuffles);
    assert_int_equal(count_ops(&ir, NML_OP_RELU), 0); /* all fused */
    /* the shuffles happen where ONNX has them: each GATHER reads a tensor made at most two
     * operators earlier, so the full-width tensor is dead before the branch convolutions run */
    for (int i = 0; i < ir.n_ops; i++) {
        if (ir.ops[i].builtin != NML_OP_GATHER) continue;
        int producer = -1;
        for (int j = 0; j < i; j++)
            if (ir.ops[j].outputs[0] == ir.ops[i].inputs[0]) producer = j;
        assert_true(producer >= 0 && i - producer <= 2);
    }
    assert_int_equal(ir.n_inputs, 1);
    assert_int_equal(ir.n_outputs, 1);
    const nml_ir_tensor *in = &ir.tensors[ir.inputs[0]], *out = &ir.tensors[ir.outputs[0]];
    int32_t want_in[4] = {1, 352, 352, 3}, want_out[4] = {1, 22, 22, 85};
    assert_memory_equal(in->dims, want_in, sizeof want_in);
    assert_memory_equal(out->dims, want_out, sizeof want_out);
    assert_string_equal(out->name, "758");
    /* README: 240,305 parameters; 4 of them are the Resize scales, which become a size input */
    assert_int_equal(st.params, 240305 - 4);
    nml_ir_free(&ir);
}

static void keep_nchw_output_adds_one_transpose(void **state) {
    (void)state;
    size_t size;
    uint8_t *data = nml_test_read(nml_test_shared(MODEL), &size);
    nml_onnx_import_options opt;
    nml_onnx_import_options_default(&opt);
    opt.keep_nchw_output = 1;
    nml_ir ir;
    nml_ir_init(&ir);
    nml_error err;
    assert_int_equal(nml_onnx_import(data, size, &opt, &ir, NULL, &err), NML_OK);
    free(data);
    assert_int_equal(count_ops(&ir, NML_OP_TRANSPOSE), 1);
    const nml_ir_tensor *out = &ir.tensors[ir.outputs[0]];
    int32_t want[4] = {1, 85, 22, 22};
    assert_memory_equal(out->dims, want, sizeof want);
    assert_string_equal(out->name, "758");
    nml_ir_free(&ir);
}

/* Runs the IR on NCHW input x and returns its output converted to NCHW. */
static float *run_ir_nchw(const nml_ir *ir, const float *x, int h, int w, int oh, int ow) {
    float *nhwc = nml_test_nchw_to_nhwc(x, 3, h, w), *out = NULL;
    const float *ins[1] = {nhwc};
    nml_error err;
    if (nml_test_ir_eval(ir, ins, &out, &err) != NML_OK) fail_msg("evaluate: %s", err.msg);
    free(nhwc);
    float *nchw = malloc((size_t)85 * oh * ow * sizeof(float));
    for (int i = 0; i < oh * ow; i++)
        for (int c = 0; c < 85; c++)
            nchw[(size_t)c * oh * ow + i] = out[(size_t)i * 85 + c];
    free(out);
    return nchw;
}

static double max_abs_diff(const float *a, const float *b, size_t n) {
    double m = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - (double)b[i]);
        if (!(d <= m)) m = d; /* NaN counts as a difference */
    }
    return m;
}

static void matches_onnx_runtime_at_352(void **state) {
    (void)state;
    char why[512];
    if (!nml_test_ort_available(why, sizeof why)) {
        printf("SKIP: %s\n", why);
        skip();
    }
    nml_ir ir;
    import_fastestdet(&ir, NULL, NULL);
    const char *images[] = {"images/3.jpg", "images/0.jpg"};
    for (size_t k = 0; k < sizeof images / sizeof images[0]; k++) {
        float *x = nml_test_fastestdet_input(nml_test_shared(images[k]), 352, 352);
        assert_non_null(x);
        int64_t dims[4] = {1, 3, 352, 352};
        float *ref;
        size_t n;
        if (nml_test_ort_run(nml_test_shared(MODEL), "input.1", dims, 4, x, "758", &ref, &n, why,
                             sizeof why) != 0)
            fail_msg("%s", why);
        assert_int_equal(n, 85 * 22 * 22);
        float *got = run_ir_nchw(&ir, x, 352, 352, 22, 22);
        double d = max_abs_diff(got, ref, n);
        printf("%s: max |nanoml IR - ONNX Runtime| = %.3g\n", images[k], d);
        assert_true(d <= 1e-4);
        free(got);
        free(ref);
        free(x);
    }
    nml_ir_free(&ir);
}

/* ---- re-targeting, checked against ONNX Runtime on a hand-patched copy of the model ---- */

typedef struct patch_ctx {
    uint8_t *bytes;
    int ok;
    int64_t hw[3][2]; /* new H, W of the three ShuffleNet stages (44, 22, 11 at 352x352) */
} patch_ctx;

static void put_varint_in_place(uint8_t *p, size_t len, uint64_t v) {
    /* same byte length as before: protobuf accepts redundant continuation bytes */
    for (size_t i = 0; i < len; i++) {
        p[i] = (uint8_t)((v & 0x7f) | (i + 1 < len ? 0x80 : 0));
        v >>= 7;
    }
    assert_int_equal(v, 0);
}

static void patch_dims(const nml_pb_reader *vi_r, uint8_t *bytes, int64_t h, int64_t w) {
    nml_pb_reader vi = *vi_r, type, tt, shape, dim;
    nml_pb_field f;
    int more, k = 0;
    nml_error err;
    while (nml_pb_next(&vi, &f, &more, &err) == NML_OK && more) {
        if (f.number != 2) continue;
        assert_int_equal(nml_pb_sub(&vi, &f, &type, &err), NML_OK);
        while (nml_pb_next(&type, &f, &more, &err) == NML_OK && more) {
            if (f.number != 1) continue;
            assert_int_equal(nml_pb_sub(&type, &f, &tt, &err), NML_OK);
            while (nml_pb_next(&tt, &f, &more, &err) == NML_OK && more) {
                if (f.number != 2) continue;
                assert_int_equal(nml_pb_sub(&tt, &f, &shape, &err), NML_OK);
                while (nml_pb_next(&shape, &f, &more, &err) == NML_OK && more) {
                    assert_int_equal(nml_pb_sub(&shape, &f, &dim, &err), NML_OK);
                    size_t at = dim.base + 1, end = dim.base + dim.size; /* after the tag byte */
                    if (k >= 2)
                        put_varint_in_place(bytes + at, end - at, (uint64_t)(k == 2 ? h : w));
                    k++;
                }
            }
        }
    }
    assert_int_equal(k, 4);
}

/* FastestDet's stored Reshape shapes are [C/2, 2, H*W] and [2, -1, C/2, H, W] per stage. */
static void patch_reshape(patch_ctx *pc, const nml_pb_reader *t_r) {
    nml_pb_reader t = *t_r;
    nml_pb_field f, raw = {0};
    int more, is_reshape = 0;
    nml_error err;
    while (nml_pb_next(&t, &f, &more, &err) == NML_OK && more) {
        if (f.number == 8 && f.len > 14 && !memcmp(f.data, "onnx::Reshape_", 14)) is_reshape = 1;
        if (f.number == 9) raw = f;
    }
    if (!is_reshape) return;
    int64_t v[5];
    size_t n = raw.len / 8;
    assert_true(n == 3 || n == 5);
    memcpy(v, raw.data, raw.len);
    int stage = -1;
    static const int64_t side[3] = {44, 22, 11};
    for (int s = 0; s < 3; s++)
        if ((n == 3 && v[2] == side[s] * side[s]) || (n == 5 && v[3] == side[s])) stage = s;
    assert_true(stage >= 0);
    if (stage < 0) return; /* unreachable: cmocka's assert is not declared noreturn (gcc -O3) */
    if (n == 3)
        v[2] = pc->hw[stage][0] * pc->hw[stage][1];
    else
        v[3] = pc->hw[stage][0], v[4] = pc->hw[stage][1];
    memcpy(pc->bytes + raw.data_offset, v, raw.len);
    pc->ok++;
}

static void patch_model(patch_ctx *pc, size_t size, int64_t h, int64_t w, int64_t oh, int64_t ow) {
    nml_pb_reader top, g;
    nml_pb_field f;
    int more;
    nml_error err;
    nml_pb_init(&top, pc->bytes, size);
    while (nml_pb_next(&top, &f, &more, &err) == NML_OK && more) {
        if (f.number != 7) continue;
        assert_int_equal(nml_pb_sub(&top, &f, &g, &err), NML_OK);
        nml_pb_field gf;
        while (nml_pb_next(&g, &gf, &more, &err) == NML_OK && more) {
            nml_pb_reader sub;
            if (gf.number == 5 || gf.number == 11 || gf.number == 12)
                assert_int_equal(nml_pb_sub(&g, &gf, &sub, &err), NML_OK);
            if (gf.number == 5) patch_reshape(pc, &sub);
            if (gf.number == 11) patch_dims(&sub, pc->bytes, h, w);
            if (gf.number == 12) patch_dims(&sub, pc->bytes, oh, ow);
            if (gf.number == 13) { /* value_info holds 352x352 shapes: turn it into the retired
                                      field 9, which readers skip */
                assert_int_equal(pc->bytes[gf.offset], 0x6a);
                pc->bytes[gf.offset] = 0x4a;
            }
        }
    }
}

/* --input-shape 1x3x86x128, the example of the brief. By the layer arithmetic (3x3 stride-2
 * conv with pad 1 and the max pool both map n -> ceil(n/2)): 86x128 -> 43x64 -> 22x32, then the
 * ShuffleNet stages run at 11x16, 6x8 and 3x4, the head at 6x8 (the 3x4 map upsampled x2, the
 * 11x16 map average-pooled to 6x8). */
static void retargets_to_86x128(void **state) {
    (void)state;
    nml_ir ir;
    import_fastestdet(&ir, "1x3x86x128", NULL);
    const nml_ir_tensor *in = &ir.tensors[ir.inputs[0]], *out = &ir.tensors[ir.outputs[0]];
    int32_t want_in[4] = {1, 86, 128, 3}, want_out[4] = {1, 6, 8, 85};
    assert_memory_equal(in->dims, want_in, sizeof want_in);
    assert_memory_equal(out->dims, want_out, sizeof want_out);
    assert_int_equal(count_ops(&ir, NML_OP_TRANSPOSE), 0);

    char why[512];
    if (!nml_test_ort_available(why, sizeof why)) {
        printf("SKIP (ONNX Runtime comparison): %s\n", why);
        nml_ir_free(&ir);
        skip();
    }
    size_t size;
    patch_ctx pc = {nml_test_read(nml_test_shared(MODEL), &size), 0, {{11, 16}, {6, 8}, {3, 4}}};
    patch_model(&pc, size, 86, 128, 6, 8);
    assert_int_equal(pc.ok, 26); /* 13 shuffles x 2 stored shapes */
    char path[1024];
    snprintf(path, sizeof path, "%s/fastestdet_86x128.onnx", NML_BINARY_DIR);
    nml_error err;
    assert_int_equal(nml_write_file(path, pc.bytes, size, &err), NML_OK);
    free(pc.bytes);

    float *x = nml_test_fastestdet_input(nml_test_shared("images/3.jpg"), 86, 128);
    int64_t dims[4] = {1, 3, 86, 128};
    float *ref;
    size_t n;
    if (nml_test_ort_run(path, "input.1", dims, 4, x, "758", &ref, &n, why, sizeof why) != 0)
        fail_msg("%s", why);
    assert_int_equal(n, 85 * 6 * 8);
    float *got = run_ir_nchw(&ir, x, 86, 128, 6, 8);
    double d = max_abs_diff(got, ref, n);
    printf("86x128: max |nanoml IR - ONNX Runtime| = %.3g\n", d);
    assert_true(d <= 1e-4);
    free(got);
    free(ref);
    free(x);
    nml_ir_free(&ir);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(structure_follows_the_onnx_graph),
        cmocka_unit_test(keep_nchw_output_adds_one_transpose),
        cmocka_unit_test(matches_onnx_runtime_at_352),
        cmocka_unit_test(retargets_to_86x128),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
