/* End to end: FastestDet.onnx -> nanoml import -> .tflite bytes -> nanoml runtime, compared
 * with ONNX Runtime on the shared images at 352x352 (stretched with bilinear interpolation,
 * BGR / 255). Pass: max |nanoml - ONNX Runtime| <= 1e-4 on every output element.
 * Without ONNX Runtime (tests/oracles not installed) the test exits with code 77, which CTest
 * reports as "Skipped"; scripts/test.sh sets NML_REQUIRE_ORACLES so CI fails instead. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nanoml/ir.h"
#include "onnx/import.h"
#include "onnx_oracle.h"
#include "test_util.h"


static char skip_reason[512];

#define SKIP_TEST(...)                                                                             \
    do {                                                                                           \
        snprintf(skip_reason, sizeof skip_reason, __VA_ARGS__);                                    \
        printf("SKIP: %s\n", skip_reason);                                                         \
        skip();                                                                                    \
    } while (0)

#include "nanoml/runtime.h"

#define MODEL "models/fastestdet/FastestDet.onnx"
#define OUT_C 85
#define OUT_HW 22

static void fastestdet_runs_like_onnx_runtime(void **state) {
    (void)state;
    char why[512];
    if (!nml_test_ort_available(why, sizeof why)) {
        const char *req = getenv("NML_REQUIRE_ORACLES");
        if (req && *req && strcmp(req, "0") != 0) fail_msg("ONNX Runtime required: %s", why);
        SKIP_TEST("%s", why);
    }

    size_t size;
    uint8_t *onnx = nml_test_read(nml_test_shared(MODEL), &size);
    nml_ir ir;
    nml_ir_init(&ir);
    nml_error err;
    if (nml_onnx_import(onnx, size, NULL, &ir, NULL, &err) != NML_OK)
        fail_msg("import: %s", err.msg);
    free(onnx);
    uint8_t *flat = NULL;
    size_t flat_size = 0;
    if (nml_ir_to_tflite(&ir, &flat, &flat_size, &err) != NML_OK)
        fail_msg("nml_ir_to_tflite: %s", err.msg);
    nml_ir_free(&ir);

    nml_model model;
    if (nml_model_load(&model, flat, flat_size, &err) != NML_OK)
        fail_msg("the runtime rejects the written model: %s", err.msg);
    size_t arena_size = (size_t)64 << 20;
    void *arena = aligned_alloc(16, arena_size);
    assert_non_null(arena);
    nml_interpreter it;
    nml_status s = nml_interpreter_init(&it, &model, nml_ops_all(), arena, arena_size, &err);
    if (s != NML_OK) fail_msg("interpreter: %s", err.msg);
    nml_tensor *in = nml_input(&it, 0);
    assert_non_null(in);
    assert_int_equal(in->bytes, 352 * 352 * 3 * sizeof(float));

    double worst = 0;
    for (int k = 0; k < 5; k++) {
        char img[64];
        snprintf(img, sizeof img, "images/%d.jpg", k);
        float *x = nml_test_fastestdet_input(nml_test_shared(img), 352, 352);
        assert_non_null(x);
        int64_t dims[4] = {1, 3, 352, 352};
        float *ref;
        size_t n;
        if (nml_test_ort_run(nml_test_shared(MODEL), "input.1", dims, 4, x, "758", &ref, &n, why,
                             sizeof why) != 0)
            fail_msg("%s", why);
        assert_int_equal(n, OUT_C * OUT_HW * OUT_HW);
        float *nhwc = nml_test_nchw_to_nhwc(x, 3, 352, 352);
        memcpy(in->data, nhwc, in->bytes);
        free(nhwc);
        if (nml_invoke(&it, &err) != NML_OK) fail_msg("invoke: %s", err.msg);
        const nml_tensor *out = nml_output(&it, 0);
        assert_non_null(out);
        assert_int_equal(out->bytes, n * sizeof(float));
        const float *y = (const float *)out->data; /* NHWC [1,22,22,85] */
        double d = 0;
        for (int c = 0; c < OUT_C; c++)
            for (int p = 0; p < OUT_HW * OUT_HW; p++) {
                double e = fabs((double)y[p * OUT_C + c] - (double)ref[c * OUT_HW * OUT_HW + p]);
                if (!(e <= d)) d = e;
            }
        printf("%s: max |nanoml runtime - ONNX Runtime| = %.3g\n", img, d);
        if (!(d <= worst)) worst = d;
        free(ref);
        free(x);
    }
    assert_true(worst <= 1e-4);
    free(arena);
    free(flat);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fastestdet_runs_like_onnx_runtime),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    if (!failed && skip_reason[0]) return 77; /* CTest: Skipped */
    return failed;
}
