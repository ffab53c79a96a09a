/* The .tflite writer against an independent runtime: models written by nml_ir_to_tflite are
 * loaded and run by LiteRT (Google's TFLite runtime, via npm @litertjs/core), and the outputs
 * are compared with results computed by hand below. This proves that real TFLite accepts the
 * files (schema, versions, options, quantization) and reads them as meant. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ir_models.h"
#include "nanoml/file.h"
#include "oracle.h"
#include "test_util.h"

typedef struct run_ctx {
    const char *dir;
    char model[512];
    char out[512];
} run_ctx;

static int setup(void **state) {
    const char *why;
    if (!nml_test_oracles_available(&why)) {
        print_message("SKIP LiteRT oracle: %s\n", why);
        *state = NULL;
        return 0;
    }
    run_ctx *c = calloc(1, sizeof *c);
    c->dir = nml_test_tmpdir();
    *state = c;
    return 0;
}

static int teardown(void **state) {
    run_ctx *c = *state;
    if (c) {
        nml_test_tmpdir_remove(c->dir);
        free(c);
    }
    return 0;
}

static run_ctx *ctx_or_skip(void **state) {
    if (!*state) skip();
    return *state;
}

static void write_model(run_ctx *c, const nml_ir *ir, const char *name) {
    uint8_t *bytes;
    size_t size;
    nml_error err;
    if (nml_ir_to_tflite(ir, &bytes, &size, &err) != NML_OK) fail_msg("writer: %s", err.msg);
    snprintf(c->model, sizeof c->model, "%s/%s.tflite", c->dir, name);
    if (nml_write_file(c->model, bytes, size, &err) != NML_OK) fail_msg("%s", err.msg);
    free(bytes);
}

/* Runs the model on the given .npy inputs and reads output 0. */
static void *run_output0(run_ctx *c, int n_in, const char *const *inputs, int want_type,
                         int want_rank, const int32_t *want_dims, size_t *bytes) {
    nml_test_litert_run(c->model, c->dir, n_in, inputs);
    snprintf(c->out, sizeof c->out, "%s/out0.npy", c->dir);
    int type, rank;
    int32_t dims[NML_MAX_RANK];
    void *data;
    nml_test_npy_read(c->out, &type, &rank, dims, &data, bytes);
    assert_int_equal(type, want_type);
    assert_int_equal(rank, want_rank);
    for (int i = 0; i < rank; i++)
        assert_int_equal(dims[i], want_dims[i]);
    return data;
}

/* y = W x + b with x = [1, 2, 3]:
 *   y0 = 1*1 + 0*2 + (-1)*3 + 0.5     = -1.5
 *   y1 = 0.5*1 + 2*2 + 0.25*3 + (-1)  =  4.25 */
static void test_fully_connected_float(void **state) {
    run_ctx *c = ctx_or_skip(state);
    nml_ir ir;
    nml_test_model_fc_float(&ir);
    write_model(c, &ir, "fc");
    nml_ir_free(&ir);

    char in[512];
    snprintf(in, sizeof in, "%s/x.npy", c->dir);
    const float x[3] = {1.0f, 2.0f, 3.0f};
    nml_test_npy_write(in, NML_FLOAT32, 2, (const int32_t[]){1, 3}, x);
    size_t bytes;
    const char *inputs[1] = {in};
    float *y = run_output0(c, 1, inputs, NML_FLOAT32, 2, (const int32_t[]){1, 2}, &bytes);
    assert_int_equal(bytes, 2 * sizeof(float));
    assert_float_equal(y[0], -1.5f, 1e-5f);
    assert_float_equal(y[1], 4.25f, 1e-5f);
    free(y);
}

/* int8 conv (per-channel) -> relu -> average pool, all exact in integer arithmetic.
 * Input q = [[3,3,-1],[5,1,3],[-1,1,7]], zero point -1, so q - zp = D = [[4,4,0],[6,2,4],[0,2,8]].
 * Accumulators sum(D window * w) + bias, over the four 2x2 windows (0,0) (0,1) (1,0) (1,1):
 *   channel 0, w0 = [[1,2],[0,-1]], bias 4:  10+4=14, 0+4=4, 8+4=12, 2+4=6
 *   channel 1, w1 = [[2,0],[-2,4]], bias -8: 4-8=-4, 20-8=12, 20-8=12, 32-8=24
 * Requantization multiplier = input scale * filter scale / output scale:
 *   channel 0: 0.5 * 0.5 / 0.25 = 1   -> 14, 4, 12, 6  + zero point 2 -> 16, 6, 14, 8
 *   channel 1: 0.5 * 0.25 / 0.25 = 0.5 -> -2, 6, 6, 12 + 2           -> 0, 8, 8, 14
 * RELU clamps below the quantized zero (2): channel 1 becomes 2, 8, 8, 14.
 * Average pool 2x2: channel 0 (16+6+14+8)/4 = 11, channel 1 (2+8+8+14)/4 = 8 (no rounding). */
static void test_conv_relu_pool_int8(void **state) {
    run_ctx *c = ctx_or_skip(state);
    nml_ir ir;
    nml_test_model_conv_int8(&ir);
    write_model(c, &ir, "conv");
    nml_ir_free(&ir);

    char in[512];
    snprintf(in, sizeof in, "%s/x.npy", c->dir);
    const int8_t x[9] = {3, 3, -1, 5, 1, 3, -1, 1, 7};
    nml_test_npy_write(in, NML_INT8, 4, (const int32_t[]){1, 3, 3, 1}, x);
    size_t bytes;
    const char *inputs[1] = {in};
    int8_t *y = run_output0(c, 1, inputs, NML_INT8, 4, (const int32_t[]){1, 1, 1, 2}, &bytes);
    assert_int_equal(bytes, 2);
    assert_int_equal(y[0], 11);
    assert_int_equal(y[1], 8);
    free(y);
}

/* concat([0, ln 3], [ln 2, ln 2]) -> reshape 2x2 -> softmax per row:
 *   row 0: e^0 / (e^0 + e^ln3) = 1/4, 3/4      row 1: equal logits -> 1/2, 1/2 */
static void test_concat_reshape_softmax_float(void **state) {
    run_ctx *c = ctx_or_skip(state);
    nml_ir ir;
    nml_test_model_concat_softmax(&ir);
    write_model(c, &ir, "softmax");
    nml_ir_free(&ir);

    char in_a[512], in_b[512];
    snprintf(in_a, sizeof in_a, "%s/a.npy", c->dir);
    snprintf(in_b, sizeof in_b, "%s/b.npy", c->dir);
    const float a[2] = {0.0f, logf(3.0f)}, b[2] = {logf(2.0f), logf(2.0f)};
    nml_test_npy_write(in_a, NML_FLOAT32, 2, (const int32_t[]){1, 2}, a);
    nml_test_npy_write(in_b, NML_FLOAT32, 2, (const int32_t[]){1, 2}, b);
    size_t bytes;
    const char *inputs[2] = {in_a, in_b};
    float *y = run_output0(c, 2, inputs, NML_FLOAT32, 2, (const int32_t[]){2, 2}, &bytes);
    assert_int_equal(bytes, 4 * sizeof(float));
    const float want[4] = {0.25f, 0.75f, 0.5f, 0.5f};
    for (int i = 0; i < 4; i++)
        assert_float_equal(y[i], want[i], 1e-5f);
    free(y);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_fully_connected_float, setup, teardown),
        cmocka_unit_test_setup_teardown(test_conv_relu_pool_int8, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concat_reshape_softmax_float, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
