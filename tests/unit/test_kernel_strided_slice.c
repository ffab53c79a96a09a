/* STRIDED_SLICE: TFLite's semantics for begin/end/strides with negative values, begin/end masks,
 * shrink_axis (incl. negative index), ellipsis and new_axis expansion, the offset option, and
 * prepare errors. Expected values follow Python/NumPy slicing, which TFLite implements. */
#include "test_util.h"

#include "kernel_expect.h"
#include "kernels/kernels.h"

typedef struct fixture {
    nml_kh h;
    int ti, tb, te, ts, to;
    int32_t b[6], e[6], s[6];
} fixture;

static void setup(fixture *f, int type, int rank, const int32_t *dims, void *x, int n_idx,
                  int out_rank, const int32_t *out_dims, void *y) {
    kh_init(&f->h);
    f->ti = kh_tensor(&f->h, type, rank, dims, x, 0, 0);
    f->tb = kh_tensor(&f->h, NML_INT32, 1, (int32_t[]){n_idx}, f->b, 0, 0);
    f->te = kh_tensor(&f->h, NML_INT32, 1, (int32_t[]){n_idx}, f->e, 0, 0);
    f->ts = kh_tensor(&f->h, NML_INT32, 1, (int32_t[]){n_idx}, f->s, 0, 0);
    kh_const(&f->h, f->tb);
    kh_const(&f->h, f->te);
    kh_const(&f->h, f->ts);
    f->to = kh_tensor(&f->h, type, out_rank, out_dims, y, 0, 0);
    kh_inputs(&f->h, 4, f->ti, f->tb, f->te, f->ts);
    kh_outputs(&f->h, 1, f->to);
}

static nml_op_params masks(int begin, int end, int ellipsis, int new_axis, int shrink) {
    nml_op_params p;
    nml_op_params_default(&p);
    p.begin_mask = begin, p.end_mask = end, p.ellipsis_mask = ellipsis;
    p.new_axis_mask = new_axis, p.shrink_axis_mask = shrink;
    return p;
}

static void one_d_strides(void **state) {
    (void)state;
    float x[6] = {0, 1, 2, 3, 4, 5}, y[6];
    fixture f;
    /* x[1:6:2] = 1, 3, 5 */
    setup(&f, NML_FLOAT32, 1, (int32_t[]){6}, x, 1, 1, (int32_t[]){3}, y);
    f.b[0] = 1, f.e[0] = 6, f.s[0] = 2;
    nml_op_params p = masks(0, 0, 0, 0, 0);
    KH_EXPECT_OK(&f.h, &nml_kernel_strided_slice, &p);
    kh_expect_f32(y, (const float[]){1, 3, 5}, 3);
    /* x[-1:-7:-2] = 5, 3, 1  (end -7 + 6 = -1 is already the clamp limit) */
    f.b[0] = -1, f.e[0] = -7, f.s[0] = -2;
    KH_EXPECT_OK(&f.h, &nml_kernel_strided_slice, &p);
    kh_expect_f32(y, (const float[]){5, 3, 1}, 3);
    /* x[100:-100:-3] clamps to start 5, end -1: 5, 2 -> does not fit [3] */
    f.b[0] = 100, f.e[0] = -100, f.s[0] = -3;
    KH_EXPECT_FAIL(&f.h, &nml_kernel_strided_slice, &p, NML_E_SHAPE,
                   "output shape 3 does not match computed 2");
    /* begin and end masks: x[::-2] = 5, 3, 1 whatever begin/end say */
    f.b[0] = 0, f.e[0] = 0, f.s[0] = -2;
    p = masks(1, 1, 0, 0, 0);
    KH_EXPECT_OK(&f.h, &nml_kernel_strided_slice, &p);
    kh_expect_f32(y, (const float[]){5, 3, 1}, 3);
    /* offset: end is relative to begin, x[2 : 2 + 3] = 2, 3, 4 */
    f.b[0] = 2, f.e[0] = 3, f.s[0] = 1;
    p = masks(0, 0, 0, 0, 0);
    p.offset = 1;
    KH_EXPECT_OK(&f.h, &nml_kernel_strided_slice, &p);
    kh_expect_f32(y, (const float[]){2, 3, 4}, 3);
    kh_free(&f.h);
}

static void yolo_channel_slice_int8(void **state) {
    (void)state;
    /* YOLOv8n splits channels: [1,2,2,4] begin {0,0,0,2} end {1,2,2,4}, begin_mask 0b0111 ->
     * x[..., 2:4] of every pixel */
    int8_t x[16], y[8];
    for (int i = 0; i < 16; i++)
        x[i] = (int8_t)i;
    fixture f;
    setup(&f, NML_INT8, 4, (int32_t[]){1, 2, 2, 4}, x, 4, 4, (int32_t[]){1, 2, 2, 2}, y);
    f.h.tensors[f.ti].scale = f.h.tensors[f.to].scale = 0.1f;
    for (int i = 0; i < 4; i++)
        f.b[i] = 0, f.s[i] = 1;
    f.b[3] = 2;
    f.e[0] = 1, f.e[1] = 2, f.e[2] = 2, f.e[3] = 4;
    nml_op_params p = masks(7, 7, 0, 0, 0);
    KH_EXPECT_OK(&f.h, &nml_kernel_strided_slice, &p);
    kh_expect_i8(y, (const int8_t[]){2, 3, 6, 7, 10, 11, 14, 15}, 8);
    kh_free(&f.h);
}

static void shrink_axis(void **state) {
    (void)state;
    /* x is 3x4; x[1] (shrink axis 0) = row 1; x[-1] = row 2; x[:, -2] = column 2 */
    float x[12], y[4];
    for (int i = 0; i < 12; i++)
        x[i] = (float)i;
    fixture f;
    setup(&f, NML_FLOAT32, 2, (int32_t[]){3, 4}, x, 2, 1, (int32_t[]){4}, y);
    f.b[0] = 1, f.e[0] = 2, f.s[0] = 1;
    f.b[1] = 0, f.e[1] = 4, f.s[1] = 1;
    nml_op_params p = masks(0, 0, 0, 0, 1);
    KH_EXPECT_OK(&f.h, &nml_kernel_strided_slice, &p);
    kh_expect_f32(y, (const float[]){4, 5, 6, 7}, 4);
    f.b[0] = -1, f.e[0] = 0; /* end is ignored on a shrunk axis */
    KH_EXPECT_OK(&f.h, &nml_kernel_strided_slice, &p);
    kh_expect_f32(y, (const float[]){8, 9, 10, 11}, 4);
    f.b[0] = 3;
    KH_EXPECT_FAIL(&f.h, &nml_kernel_strided_slice, &p, NML_E_FORMAT,
                   "shrunk axis 0: index 3 is outside size 3");
    kh_free(&f.h);
    float col[3];
    setup(&f, NML_FLOAT32, 2, (int32_t[]){3, 4}, x, 2, 1, (int32_t[]){3}, col);
    f.b[0] = 0, f.e[0] = 3, f.s[0] = 1;
    f.b[1] = -2, f.e[1] = -1, f.s[1] = 1;
    p = masks(0, 0, 0, 0, 2);
    KH_EXPECT_OK(&f.h, &nml_kernel_strided_slice, &p);
    kh_expect_f32(col, (const float[]){2, 6, 10}, 3);
    kh_free(&f.h);
}

static void ellipsis_and_new_axis(void **state) {
    (void)state;
    /* x is 2x3x4 (x[i][j][k] = 100i + 10j + k); x[..., 1] = ellipsis (bit 0) then index 1 with
     * shrink (bit 1) -> 2x3 */
    float x[24], y[6];
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 3; j++)
            for (int k = 0; k < 4; k++)
                x[(i * 3 + j) * 4 + k] = (float)(100 * i + 10 * j + k);
    fixture f;
    setup(&f, NML_FLOAT32, 3, (int32_t[]){2, 3, 4}, x, 2, 2, (int32_t[]){2, 3}, y);
    f.b[0] = 0, f.e[0] = 0, f.s[0] = 1;
    f.b[1] = 1, f.e[1] = 2, f.s[1] = 1;
    nml_op_params p = masks(0, 0, 1, 0, 2);
    KH_EXPECT_OK(&f.h, &nml_kernel_strided_slice, &p);
    kh_expect_f32(y, (const float[]){1, 11, 21, 101, 111, 121}, 6);
    kh_free(&f.h);
    /* x[:, newaxis, 1:, 3] on 2x3x4 -> 2x1x2: begin {0,0,1,3}, end {0,0,3,4}, begin/end mask
     * bit 0, new_axis bit 1, shrink bit 3 */
    float z[4];
    setup(&f, NML_FLOAT32, 3, (int32_t[]){2, 3, 4}, x, 4, 3, (int32_t[]){2, 1, 2}, z);
    f.b[0] = 0, f.e[0] = 0, f.s[0] = 1;
    f.b[1] = 0, f.e[1] = 0, f.s[1] = 1;
    f.b[2] = 1, f.e[2] = 3, f.s[2] = 1;
    f.b[3] = 3, f.e[3] = 4, f.s[3] = 1;
    p = masks(1, 1, 0, 2, 8);
    KH_EXPECT_OK(&f.h, &nml_kernel_strided_slice, &p);
    kh_expect_f32(z, (const float[]){13, 23, 113, 123}, 4);
    kh_free(&f.h);
    /* fewer indices than dimensions: x[1] on 2x3x4 keeps the trailing axes -> 3x4 */
    float w[12];
    setup(&f, NML_FLOAT32, 3, (int32_t[]){2, 3, 4}, x, 1, 2, (int32_t[]){3, 4}, w);
    f.b[0] = 1, f.e[0] = 2, f.s[0] = 1;
    p = masks(0, 0, 0, 0, 1);
    KH_EXPECT_OK(&f.h, &nml_kernel_strided_slice, &p);
    for (int i = 0; i < 12; i++)
        assert_true(w[i] == x[12 + i]);
    kh_free(&f.h);
}

static void errors(void **state) {
    (void)state;
    float x[6] = {0}, y[6];
    fixture f;
    setup(&f, NML_FLOAT32, 1, (int32_t[]){6}, x, 1, 1, (int32_t[]){6}, y);
    f.b[0] = 0, f.e[0] = 6, f.s[0] = 0;
    nml_op_params p = masks(0, 0, 0, 0, 0);
    KH_EXPECT_FAIL(&f.h, &nml_kernel_strided_slice, &p, NML_E_FORMAT,
                   "STRIDED_SLICE: stride 0 is zero");
    f.s[0] = 1;
    f.h.tensors[f.te].alloc = NML_ALLOC_ARENA;
    KH_EXPECT_FAIL(&f.h, &nml_kernel_strided_slice, &p, NML_E_UNSUPPORTED,
                   "end must be a constant tensor");
    kh_const(&f.h, f.te);
    int t2 = kh_tensor(&f.h, NML_INT32, 1, (int32_t[]){2}, f.s, 0, 0);
    kh_const(&f.h, t2);
    kh_inputs(&f.h, 4, f.ti, f.tb, f.te, t2);
    KH_EXPECT_FAIL(&f.h, &nml_kernel_strided_slice, &p, NML_E_SHAPE,
                   "begin, end and strides have 1, 1 and 2 entries");
    kh_inputs(&f.h, 3, f.ti, f.tb, f.te);
    KH_EXPECT_FAIL(&f.h, &nml_kernel_strided_slice, &p, NML_E_FORMAT, "has 3 inputs, expected 4");
    kh_free(&f.h);
    /* two indices for a 1-D input; two ellipsis bits */
    setup(&f, NML_FLOAT32, 1, (int32_t[]){6}, x, 2, 1, (int32_t[]){6}, y);
    f.b[0] = f.b[1] = 0, f.e[0] = f.e[1] = 1, f.s[0] = f.s[1] = 1;
    KH_EXPECT_FAIL(&f.h, &nml_kernel_strided_slice, &p, NML_E_SHAPE,
                   "begin has 2 entries for 1 dimensions (input rank 1)");
    p = masks(0, 0, 3, 0, 0);
    KH_EXPECT_FAIL(&f.h, &nml_kernel_strided_slice, &p, NML_E_FORMAT,
                   "ellipsis_mask 0x3 has more than one bit");
    kh_free(&f.h);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(one_d_strides), cmocka_unit_test(yolo_channel_slice_int8),
        cmocka_unit_test(shrink_axis),   cmocka_unit_test(ellipsis_and_new_axis),
        cmocka_unit_test(errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
