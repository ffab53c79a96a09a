/* SLICE: blocks with size -1, int64 indices, bounds errors. */
#include "test_util.h"

#include "kernel_expect.h"
#include "kernels/kernels.h"

static void blocks(void **state) {
    (void)state;
    /* x is 3x4 (x[i][j] = 10i + j); begin {1, 1}, size {2, -1} -> rows 1..2, columns 1..3 */
    float x[12], y[6];
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 4; j++)
            x[i * 4 + j] = (float)(10 * i + j);
    int64_t begin[2] = {1, 1}, size[2] = {2, -1};
    nml_kh h;
    kh_init(&h);
    int ti = kh_tensor(&h, NML_FLOAT32, 2, (int32_t[]){3, 4}, x, 0, 0);
    int tb = kh_tensor(&h, NML_INT64, 1, (int32_t[]){2}, begin, 0, 0);
    int ts = kh_tensor(&h, NML_INT64, 1, (int32_t[]){2}, size, 0, 0);
    kh_const(&h, tb);
    kh_const(&h, ts);
    int to = kh_tensor(&h, NML_FLOAT32, 2, (int32_t[]){2, 3}, y, 0, 0);
    kh_inputs(&h, 3, ti, tb, ts);
    kh_outputs(&h, 1, to);
    nml_op_params p;
    nml_op_params_default(&p);
    KH_EXPECT_OK(&h, &nml_kernel_slice, &p);
    kh_expect_f32(y, (const float[]){11, 12, 13, 21, 22, 23}, 6);
    size[0] = 3; /* rows 1..3 do not exist */
    KH_EXPECT_FAIL(&h, &nml_kernel_slice, &p, NML_E_FORMAT,
                   "SLICE: dimension 0: begin 1 size 3 is outside 0..3");
    size[0] = 2, begin[1] = -1;
    KH_EXPECT_FAIL(&h, &nml_kernel_slice, &p, NML_E_FORMAT, "dimension 1: begin -1 size -1");
    kh_free(&h);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(blocks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
