/* The prepare-time checks and parameters whose code paths the fifth session rewrote for size
 * (the lean kernels' prepares of PAD, CONCATENATION, GATHER, QUANTIZE, the pools and ADD, and
 * the helpers they share in elem_common.c): malformed nodes refused with the same status by the
 * reference kernel and the lean variant (or refused by the variant as a node it does not take),
 * boundary values on both sides of each comparison now done on integer bits, and the
 * multipliers against TFLite's double-precision formulas written out here. */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "test_util.h"

#include "kernel_expect.h"
#include "kernels/elem_common.h"
#include "kernels/kernels.h"
#include "qmath.h"
#include "test_rng.h"

static nml_op_params defaults(void) {
    nml_op_params p;
    nml_op_params_default(&p);
    return p;
}

/* ---- scale and zero-point checks (nml_check_quant: the scale's bits) ---- */

/* An int8 -> int8 QUANTIZE of 4 elements with the given input scale and output zero point. */
static nml_status quantize_status(const nml_kernel *k, float in_scale, int out_type,
                                  int32_t out_zp) {
    int8_t in[4] = {1, 2, 3, 4}, out[16];
    nml_kh h;
    kh_init(&h);
    kh_unary_node(&h, (kh_spec){NML_INT8, 1, (int32_t[]){4}, in, in_scale, 0},
                  (kh_spec){out_type, 1, (int32_t[]){4}, out, 0.5f, out_zp});
    nml_op_params p = defaults();
    nml_status st = kh_run(&h, k, &p);
    kh_free(&h);
    return st;
}

static void scale_must_be_positive_and_finite(void **state) {
    (void)state;
    const float bad[] = {0.0f, -0.0f, -0.5f, -FLT_MIN, INFINITY, -INFINITY, NAN};
    const float good[] = {FLT_MAX, 1e-45f /* the smallest subnormal */, FLT_MIN, 1.0f};
    const nml_kernel *const k[2] = {&nml_kernel_quantize, &nml_kernel_quantize_opt_int8};
    for (int j = 0; j < 2; j++) {
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
            if (quantize_status(k[j], bad[i], NML_INT8, 0) != NML_E_FORMAT)
                fail_msg("%s accepted input scale %g", k[j]->name, (double)bad[i]);
        for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
            assert_int_equal(quantize_status(k[j], good[i], NML_INT8, 0), NML_OK);
    }
}

static void zero_point_in_the_types_range(void **state) {
    (void)state;
    /* the reference QUANTIZE takes every quantized output type: both ends of each range */
    const struct {
        int type;
        int32_t lo, hi;
    } r[] = {{NML_INT8, -128, 127}, {NML_UINT8, 0, 255}, {NML_INT16, -32768, 32767}};
    for (size_t i = 0; i < sizeof r / sizeof r[0]; i++) {
        assert_int_equal(quantize_status(&nml_kernel_quantize, 0.5f, r[i].type, r[i].lo), NML_OK);
        assert_int_equal(quantize_status(&nml_kernel_quantize, 0.5f, r[i].type, r[i].hi), NML_OK);
        assert_int_equal(quantize_status(&nml_kernel_quantize, 0.5f, r[i].type, r[i].lo - 1),
                         NML_E_FORMAT);
        assert_int_equal(quantize_status(&nml_kernel_quantize, 0.5f, r[i].type, r[i].hi + 1),
                         NML_E_FORMAT);
    }
    assert_int_equal(quantize_status(&nml_kernel_quantize_opt_int8, 0.5f, NML_INT8, -129),
                     NML_E_FORMAT);
    assert_int_equal(quantize_status(&nml_kernel_quantize_opt_int8, 0.5f, NML_INT8, 128),
                     NML_E_FORMAT);
    /* the lean variant takes int8 -> int8 only */
    assert_int_equal(quantize_status(&nml_kernel_quantize_opt_int8, 0.5f, NML_UINT8, 0),
                     NML_E_UNSUPPORTED);
}

/* QUANTIZE's other refusals, reference and lean variant alike. */
static void quantize_malformed(void **state) {
    (void)state;
    int8_t in[6] = {0}, out[6];
    const nml_kernel *const k[2] = {&nml_kernel_quantize, &nml_kernel_quantize_opt_int8};
    nml_op_params p = defaults();
    for (int j = 0; j < 2; j++) {
        nml_kh h;
        kh_init(&h); /* shapes differ */
        kh_unary_node(&h, (kh_spec){NML_INT8, 2, (int32_t[]){2, 3}, in, 0.5f, 0},
                      (kh_spec){NML_INT8, 2, (int32_t[]){3, 2}, out, 0.5f, 0});
        KH_EXPECT_FAIL(&h, k[j], &p, NML_E_SHAPE, "shape");
        kh_free(&h);
        kh_init(&h); /* the output's scale is checked too */
        kh_unary_node(&h, (kh_spec){NML_INT8, 1, (int32_t[]){6}, in, 0.5f, 0},
                      (kh_spec){NML_INT8, 1, (int32_t[]){6}, out, -0.5f, 0});
        KH_EXPECT_FAIL(&h, k[j], &p, NML_E_FORMAT, "scale");
        kh_free(&h);
        kh_init(&h); /* the input is absent */
        int to = kh_tensor(&h, NML_INT8, 1, (int32_t[]){6}, out, 0.5f, 0);
        kh_inputs(&h, 1, -1);
        kh_outputs(&h, 1, to);
        KH_EXPECT_FAIL(&h, k[j], &p, NML_E_FORMAT, "input is missing");
        kh_free(&h);
    }
}

/* ---- int64 constants (nml_read_const_ints: 32-bit words) through PAD's paddings ---- */

static nml_status pad_status(const nml_kernel *k, int64_t before) {
    int8_t in[2] = {1, 2}, out[64];
    int64_t pads[2] = {before, 0};
    int32_t out_w = before >= 0 && before < 8 ? 2 + (int32_t)before : 2;
    nml_kh h;
    kh_init(&h);
    kh_operand_node(&h, (kh_spec){NML_INT8, 1, (int32_t[]){2}, in, 0.5f, 0},
                    (kh_spec){NML_INT64, 2, (int32_t[]){1, 2}, pads, 0, 0},
                    (kh_spec){NML_INT8, 1, (int32_t[]){out_w}, out, 0.5f, 0});
    nml_op_params p = defaults();
    nml_status st = kh_run(&h, k, &p);
    kh_free(&h);
    return st;
}

static void int64_paddings_must_fit_int32(void **state) {
    (void)state;
    const nml_kernel *const k[2] = {&nml_kernel_pad, &nml_kernel_pad_opt_int8};
    for (int j = 0; j < 2; j++) {
        assert_int_equal(pad_status(k[j], 3), NML_OK);
        /* fits int32, then refused as negative */
        assert_int_equal(pad_status(k[j], -1), NML_E_FORMAT);
        assert_int_equal(pad_status(k[j], INT32_MIN), NML_E_FORMAT);
        /* fits int32, then too large a padded dimension */
        assert_int_equal(pad_status(k[j], INT32_MAX), NML_E_LIMIT);
        /* does not fit int32: the high word is not the low word's sign */
        assert_int_equal(pad_status(k[j], (int64_t)INT32_MAX + 1), NML_E_LIMIT);
        assert_int_equal(pad_status(k[j], (int64_t)INT32_MIN - 1), NML_E_LIMIT);
        assert_int_equal(pad_status(k[j], (int64_t)1 << 32), NML_E_LIMIT);
        assert_int_equal(pad_status(k[j], -((int64_t)1 << 32) + 3), NML_E_LIMIT);
    }
}

/* ---- multipliers in double (nml_quantize_ratio, nml_addsub_prepare_q) ---- */

/* A positive finite float over the whole range, subnormals included. */
static float any_positive_float(void) {
    uint32_t bits;
    do
        bits = rnd() & 0x7fffffffu;
    while (bits == 0 || bits >= 0x7f800000u);
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

static void ratio_is_the_double_expression(void **state) {
    (void)state;
    rng_state = 0x4a710u;
    const int powers[] = {0, -1, -19};
    for (int i = 0; i < 200000; i++) {
        const float a = i % 2 ? any_positive_float() : rnd_scale(1e-4f, 1.0f);
        const float b = i % 3 ? any_positive_float() : rnd_scale(1e-4f, 1.0f);
        const int k = powers[i % 3];
        int32_t m, want_m;
        int e, want_e;
        nml_quantize_ratio(a, b, k, &m, &e);
        nml_quantize_multiplier(ldexp((double)a / (double)b, k), &want_m, &want_e);
        if (m != want_m || e != want_e)
            fail_msg("%a / %a * 2^%d: %d, %d; the expression gives %d, %d", (double)a, (double)b, k,
                     m, e, want_m, want_e);
    }
}

/* TFLite's PrepareGeneralSubAdd (int8), written out in double as there: left shift 20, twice
 * the larger input scale, every multiplier below one. Returns the expected status. */
static nml_status tflite_add_params(float s1, float s2, float so, int32_t m[3], int e[3]) {
    const double twice_max = 2.0 * (double)(s1 > s2 ? s1 : s2);
    const double r[3] = {(double)s1 / twice_max, (double)s2 / twice_max,
                         twice_max / ((double)(1 << 20) * (double)so)};
    for (int i = 0; i < 3; i++)
        nml_quantize_multiplier(r[i], &m[i], &e[i]);
    if (!(r[2] < 1.0) || e[0] > 0 || e[1] > 0 || e[2] > 0) return NML_E_UNSUPPORTED;
    return NML_OK;
}

static void add_multipliers_as_tflite(void **state) {
    (void)state;
    rng_state = 0xADD0u;
    int refused = 0, equal = 0;
    for (int i = 0; i < 20000; i++) {
        const float s1 = i % 7 == 0 ? any_positive_float() : rnd_scale(1e-5f, 1.0f);
        float s2 = i % 5 == 0    ? s1
                   : i % 11 == 0 ? any_positive_float()
                                 : s1 * rnd_scale(1e-4f, 1e4f);
        float so =
            i % 13 == 0 ? any_positive_float() : (s1 > s2 ? s1 : s2) * rnd_scale(0.05f, 20.0f);
        if (!(s2 > 0.0f && s2 <= FLT_MAX)) s2 = s1; /* products that left the float range */
        if (!(so > 0.0f && so <= FLT_MAX)) so = s1;
        int8_t buf[3][1];
        nml_kh h;
        kh_init(&h);
        kh_binary_node(&h, (kh_spec){NML_INT8, 1, (int32_t[]){1}, buf[0], s1, 3},
                       (kh_spec){NML_INT8, 1, (int32_t[]){1}, buf[1], s2, -7},
                       (kh_spec){NML_INT8, 1, (int32_t[]){1}, buf[2], so, 5});
        h.node.kernel = &nml_kernel_add;
        nml_addsub_q q;
        const nml_status st = nml_addsub_prepare_q(&h.ctx, &h.node, &h.tensors[0], &h.tensors[1],
                                                   &h.tensors[2], NML_ACT_NONE, &q);
        kh_free(&h);
        int32_t m[3];
        int e[3];
        const nml_status want = tflite_add_params(s1, s2, so, m, e);
        if (st != want)
            fail_msg("scales %a %a %a: status %d, TFLite's formulas %d", (double)s1, (double)s2,
                     (double)so, st, want);
        if (st != NML_OK) {
            refused++;
            continue;
        }
        equal += s1 == s2;
        assert_int_equal(q.left_shift, 20);
        assert_int_equal(q.in1_offset, -3);
        assert_int_equal(q.in2_offset, 7);
        assert_int_equal(q.out_offset, 5);
        for (int k = 0; k < 3; k++)
            if (q.mult[k] != m[k] || q.shift[k] != e[k])
                fail_msg("scales %a %a %a, multiplier %d: %d, %d; TFLite's %d, %d", (double)s1,
                         (double)s2, (double)so, k, q.mult[k], q.shift[k], m[k], e[k]);
    }
    /* both outcomes and equal scales occurred */
    assert_true(refused > 100 && refused < 18000 && equal > 1000);
}

/* ---- pooling: the scale tolerance on the difference's bits, the window-size limit ---- */

static nml_status pool_status(const nml_kernel *k, float in_scale, float out_scale, int32_t fh,
                              int32_t fw) {
    int8_t in[4] = {1, 2, 3, 4}, out[4];
    nml_kh h;
    kh_init(&h);
    kh_unary_node(&h, (kh_spec){NML_INT8, 4, (int32_t[]){1, 2, 2, 1}, in, in_scale, 0},
                  (kh_spec){NML_INT8, 4, (int32_t[]){1, 2, 2, 1}, out, out_scale, 0});
    nml_op_params p = defaults();
    p.padding = NML_PAD_SAME;
    p.filter_h = fh;
    p.filter_w = fw;
    nml_status st = kh_prepare(&h, k, &p);
    kh_free(&h);
    return st;
}

static void pool_scales_within_1e6(void **state) {
    (void)state;
    const nml_kernel *const k[4] = {&nml_kernel_max_pool_2d, &nml_kernel_max_pool_2d_opt_int8,
                                    &nml_kernel_average_pool_2d,
                                    &nml_kernel_average_pool_2d_opt_int8};
    /* 1 + 8 ulp = 1 + 2^-20 (9.54e-7 from 1): accepted; 1 + 9 ulp (1.07e-6): refused; either
     * way round */
    const float near = 1.0f + 8.0f * FLT_EPSILON, far = 1.0f + 9.0f * FLT_EPSILON;
    for (int j = 0; j < 4; j++) {
        assert_int_equal(pool_status(k[j], 1.0f, 1.0f, 2, 2), NML_OK);
        assert_int_equal(pool_status(k[j], 1.0f, near, 2, 2), NML_OK);
        assert_int_equal(pool_status(k[j], near, 1.0f, 2, 2), NML_OK);
        assert_int_equal(pool_status(k[j], 1.0f, far, 2, 2), NML_E_UNSUPPORTED);
        assert_int_equal(pool_status(k[j], far, 1.0f, 2, 2), NML_E_UNSUPPORTED);
        /* tiny scales: any two are within 1e-6 */
        assert_int_equal(pool_status(k[j], 1e-7f, 9e-7f, 2, 2), NML_OK);
    }
}

static void pool_window_at_most_2_pow_23(void **state) {
    (void)state;
    const nml_kernel *const k[4] = {&nml_kernel_max_pool_2d, &nml_kernel_max_pool_2d_opt_int8,
                                    &nml_kernel_average_pool_2d,
                                    &nml_kernel_average_pool_2d_opt_int8};
    for (int j = 0; j < 4; j++) {
        /* 2896^2 = 8,386,816 <= 2^23 < 2897^2 = 8,392,609 */
        assert_int_equal(pool_status(k[j], 0.5f, 0.5f, 2896, 2896), NML_OK);
        assert_int_equal(pool_status(k[j], 0.5f, 0.5f, 2897, 2897), NML_E_LIMIT);
        assert_int_equal(pool_status(k[j], 0.5f, 0.5f, 1, 1 << 23), NML_OK);
        assert_int_equal(pool_status(k[j], 0.5f, 0.5f, 1, (1 << 23) + 1), NML_E_LIMIT);
        assert_int_equal(pool_status(k[j], 0.5f, 0.5f, 1 << 12, 1 << 12), NML_E_LIMIT);
    }
}

/* ---- GATHER: the lean variant's shared checks ---- */

typedef struct gather_case {
    int idx_type, idx_const, batch_dims, axis, out_w;
    int64_t idx[2];
} gather_case;

static nml_status gather_status(const nml_kernel *k, const gather_case *g) {
    int8_t params[6] = {1, 2, 3, 4, 5, 6}, out[16];
    int64_t v64[2] = {g->idx[0], g->idx[1]};
    int32_t v32[2] = {(int32_t)g->idx[0], (int32_t)g->idx[1]};
    int16_t v16[2] = {(int16_t)g->idx[0], (int16_t)g->idx[1]};
    void *idx = g->idx_type == NML_INT64   ? (void *)v64
                : g->idx_type == NML_INT32 ? (void *)v32
                                           : (void *)v16;
    nml_kh h;
    kh_init(&h);
    int tp = kh_tensor(&h, NML_INT8, 2, (int32_t[]){2, 3}, params, 0.5f, 1);
    int ti = kh_tensor(&h, g->idx_type, 1, (int32_t[]){2}, idx, 0, 0);
    if (g->idx_const) kh_const(&h, ti);
    int to = kh_tensor(&h, NML_INT8, 2, (int32_t[]){2, g->out_w}, out, 0.5f, 1);
    kh_inputs(&h, 2, tp, ti);
    kh_outputs(&h, 1, to);
    nml_op_params p = defaults();
    p.axis = g->axis;
    p.batch_dims = g->batch_dims;
    nml_status st = kh_run(&h, k, &p);
    kh_free(&h);
    return st;
}

static void gather_malformed(void **state) {
    (void)state;
    const struct {
        gather_case g;
        nml_status ref, lean; /* the reference's status and the lean variant's */
    } c[] = {
        {{NML_INT32, 1, 0, 1, 2, {0, 2}}, NML_OK, NML_OK},
        {{NML_INT64, 1, 0, -1, 2, {2, 1}}, NML_OK, NML_OK},
        {{NML_INT32, 1, 0, 1, 2, {0, 3}}, NML_E_ARG, NML_E_ARG},                 /* out of range */
        {{NML_INT32, 1, 0, 1, 2, {-1, 0}}, NML_E_ARG, NML_E_ARG},                /* negative */
        {{NML_INT64, 1, 0, 1, 2, {(int64_t)1 << 32, 0}}, NML_E_ARG, NML_E_ARG},  /* high word */
        {{NML_INT16, 1, 0, 1, 2, {0, 1}}, NML_E_UNSUPPORTED, NML_E_UNSUPPORTED}, /* index type */
        {{NML_INT32, 1, 0, 2, 2, {0, 1}}, NML_E_FORMAT, NML_E_FORMAT},           /* axis */
        {{NML_INT32, 1, 0, 1, 3, {0, 1}}, NML_E_SHAPE, NML_E_SHAPE},             /* output shape */
        {{NML_INT32, 0, 0, 1, 2, {0, 1}}, NML_OK, NML_E_UNSUPPORTED},            /* computed */
        {{NML_INT32, 1, 1, 1, 2, {0, 1}}, NML_E_SHAPE, NML_E_UNSUPPORTED},       /* batch_dims 1 */
        {{NML_INT32, 1, 5, 1, 2, {0, 1}}, NML_E_FORMAT, NML_E_UNSUPPORTED},      /* batch_dims 5 */
    };
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        const nml_status r = gather_status(&nml_kernel_gather, &c[i].g);
        const nml_status o = gather_status(&nml_kernel_gather_opt, &c[i].g);
        const nml_status l = gather_status(&nml_kernel_gather_opt_strided, &c[i].g);
        if (r != c[i].ref || o != c[i].ref || l != c[i].lean)
            fail_msg("case %u: reference %d, optimized %d, lean %d; want %d, %d, %d", (unsigned)i,
                     r, o, l, c[i].ref, c[i].ref, c[i].lean);
    }
}

/* ---- CONCATENATION: requantization decided on the scales' bits ---- */

static void concat_requant_by_scale_bits(void **state) {
    (void)state;
    int8_t a[2] = {1, 2}, b[2] = {3, 4}, out[4];
    const float s = 0.1f;
    float next = s;
    uint32_t bits;
    memcpy(&bits, &next, sizeof bits);
    bits++; /* one ulp above */
    memcpy(&next, &bits, sizeof next);
    const struct {
        float scale;
        int32_t zp;
        nml_status lean;
    } c[] = {{s, 4, NML_OK}, {next, 4, NML_E_UNSUPPORTED}, {s, 5, NML_E_UNSUPPORTED}};
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        const nml_kernel *const k[2] = {&nml_kernel_concatenation,
                                        &nml_kernel_concatenation_opt_int8};
        for (int j = 0; j < 2; j++) {
            nml_kh h;
            kh_init(&h);
            kh_binary_node(&h, (kh_spec){NML_INT8, 1, (int32_t[]){2}, a, s, 4},
                           (kh_spec){NML_INT8, 1, (int32_t[]){2}, b, c[i].scale, c[i].zp},
                           (kh_spec){NML_INT8, 1, (int32_t[]){4}, out, s, 4});
            nml_op_params p = defaults();
            p.axis = 0;
            const nml_status st = kh_run(&h, k[j], &p);
            kh_free(&h);
            assert_int_equal(st, j == 0 ? NML_OK : c[i].lean);
        }
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(scale_must_be_positive_and_finite),
        cmocka_unit_test(zero_point_in_the_types_range),
        cmocka_unit_test(quantize_malformed),
        cmocka_unit_test(int64_paddings_must_fit_int32),
        cmocka_unit_test(ratio_is_the_double_expression),
        cmocka_unit_test(add_multipliers_as_tflite),
        cmocka_unit_test(pool_scales_within_1e6),
        cmocka_unit_test(pool_window_at_most_2_pow_23),
        cmocka_unit_test(gather_malformed),
        cmocka_unit_test(concat_requant_by_scale_bits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
