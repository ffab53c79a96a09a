/* The optimized data-movement and element-wise kernels (opt_gather.c, opt_quantize.c,
 * opt_pad.c, opt_concatenation.c, opt_max_pool_2d.c, opt_average_pool_2d.c, opt_add.c) against
 * the reference kernels,
 * which are the oracle (they match TFLite Micro's reference kernels, see test_golden_tflm.c):
 * seeded random shapes, axes, paddings, scales, zero points and activations; every output byte
 * must be identical and both kernels must accept and reject the same nodes. The full optimized
 * kernels hand what they do not specialize to the reference kernel (checked: the node's kernel
 * becomes the reference one), their leaner variants reject it at prepare. Also: the SWAR
 * maximum and the 32-bit ADD rescaling on every pair of int8 values, and the element-wise
 * kernels evaluated in place (output buffer = input buffer), and the 32-bit rescalings
 * (opt_rescale.h) against the reference arithmetic (qmath.c) on edges, exact ties and random
 * values (output boundaries are hit once in 2^20 random elements, too rarely for the kernels'
 * random tests alone). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_util.h"

#include "kernel_harness.h"
#include "kernels/kernels.h"
#include "kernels/opt_copy.h"
#include "kernels/opt_rescale.h"
#include "qmath.h"
#include "test_rng.h"

static void fill_bytes(void *p, size_t n) {
    uint8_t *b = p;
    for (size_t i = 0; i < n; i++)
        b[i] = (uint8_t)rnd();
}

static int32_t activation_of(uint32_t r) {
    static const int32_t acts[] = {NML_ACT_NONE, NML_ACT_RELU, NML_ACT_RELU6, NML_ACT_RELU_N1_TO_1};
    return acts[r % 4];
}

static size_t count_of(const int32_t *dims, int rank) {
    size_t n = 1;
    for (int i = 0; i < rank; i++)
        n *= (size_t)dims[i];
    return n;
}

static size_t esize_of(int type) {
    return type == NML_INT8 || type == NML_UINT8 ? 1 : type == NML_INT16 ? 2 : 4;
}

/* ---- one node: tensors described once, run by any kernel ---- */

#define MAX_T 8

typedef struct tdesc {
    int type, rank;
    int32_t dims[NML_MAX_RANK];
    float scale;
    int32_t zp;
    int is_const;
    void *data; /* inputs: caller's; the output: allocated per run */
} tdesc;

typedef struct node_case {
    tdesc in[MAX_T];
    int n_in;
    tdesc out;
    nml_op_params p;
    int out_aliases; /* >= 0: the output uses input out_aliases's buffer (copied first) */
} node_case;

typedef struct run_result {
    nml_status st;
    char msg[NML_ERROR_MSG_MAX];
    int handed_over; /* the node's kernel was replaced at prepare */
    uint8_t *out;    /* output bytes (malloc'd) when st == NML_OK */
    size_t bytes;
} run_result;

static run_result run_node(const nml_kernel *k, const node_case *c) {
    run_result r;
    memset(&r, 0, sizeof r);
    nml_kh h;
    kh_init(&h);
    int idx[MAX_T];
    r.bytes = count_of(c->out.dims, c->out.rank) * esize_of(c->out.type);
    uint8_t *out = nml_test_alloc16(r.bytes + 1);
    memset(out, 0x5a, r.bytes + 1);
    uint8_t *alias = NULL;
    for (int i = 0; i < c->n_in; i++) {
        void *data = c->in[i].data;
        if (i == c->out_aliases) {
            size_t n = count_of(c->in[i].dims, c->in[i].rank) * esize_of(c->in[i].type);
            alias = nml_test_alloc16(n + 1);
            memcpy(alias, data, n);
            data = alias;
        }
        idx[i] = kh_tensor(&h, c->in[i].type, c->in[i].rank, c->in[i].dims, data, c->in[i].scale,
                           c->in[i].zp);
        if (c->in[i].is_const) kh_const(&h, idx[i]);
    }
    int o = kh_tensor(&h, c->out.type, c->out.rank, c->out.dims, alias ? alias : out, c->out.scale,
                      c->out.zp);
    switch (c->n_in) {
    case 1:
        kh_inputs(&h, 1, idx[0]);
        break;
    case 2:
        kh_inputs(&h, 2, idx[0], idx[1]);
        break;
    case 3:
        kh_inputs(&h, 3, idx[0], idx[1], idx[2]);
        break;
    default:
        kh_inputs(&h, 4, idx[0], idx[1], idx[2], idx[3]);
        break;
    }
    kh_outputs(&h, 1, o);
    r.st = kh_run(&h, k, &c->p);
    r.handed_over = h.node.kernel != k;
    snprintf(r.msg, sizeof r.msg, "%s", h.err.msg);
    if (alias) memcpy(out, alias, r.bytes);
    if (r.st == NML_OK && out[r.bytes] != 0x5a) fail_msg("%s wrote past its output", k->name);
    free(alias);
    kh_free(&h);
    r.out = out;
    return r;
}

/* Runs the reference, the full optimized kernel and its variant on c. The optimized kernel
 * must agree with the reference (status, message, output bytes) and hand the node over exactly
 * when the variant rejects it; the variant must then fail with NML_E_UNSUPPORTED, else agree
 * too. expect_specialized: 1 the node must be kept, 0 handed over, -1 either. Returns 1 when
 * the optimized path (not a hand-over) produced the compared output. */
static int compare_kernels(const char *what, int iter, const node_case *c, const nml_kernel *ref,
                           const nml_kernel *opt, const nml_kernel *variant,
                           int expect_specialized) {
    run_result a = run_node(ref, c);
    run_result b = run_node(opt, c);
    run_result v = run_node(variant, c);
    if (a.st != b.st || strcmp(a.msg, b.msg) != 0)
        fail_msg("%s case %d: reference '%s' (%d), optimized '%s' (%d)", what, iter, a.msg, a.st,
                 b.msg, b.st);
    int specialized = 0;
    if (a.st == NML_OK) {
        if (memcmp(a.out, b.out, a.bytes) != 0)
            fail_msg("%s case %d: optimized output differs from the reference", what, iter);
        if (expect_specialized >= 0 && b.handed_over == expect_specialized)
            fail_msg("%s case %d: optimized kernel %s the node", what, iter,
                     b.handed_over ? "handed over" : "kept");
        if (b.handed_over) {
            if (v.st != NML_E_UNSUPPORTED)
                fail_msg("%s case %d: variant accepted a node the full kernel hands over (%d)",
                         what, iter, v.st);
        } else {
            if (v.st != NML_OK || memcmp(a.out, v.out, a.bytes) != 0)
                fail_msg("%s case %d: variant '%s' (%d) or its output differs", what, iter, v.msg,
                         v.st);
            specialized = 1;
        }
    } else if (v.st == NML_OK) {
        fail_msg("%s case %d: variant accepted a node the reference rejects ('%s')", what, iter,
                 a.msg);
    } else if (v.st != a.st && v.st != NML_E_UNSUPPORTED) {
        /* rejected for the same reason, unless the variant refused the node first */
        fail_msg("%s case %d: variant status %d ('%s'), reference %d ('%s')", what, iter, v.st,
                 v.msg, a.st, a.msg);
    }
    free(a.out);
    free(b.out);
    free(v.out);
    return specialized;
}

static void random_dims(int32_t *dims, int rank, int32_t max) {
    for (int i = 0; i < rank; i++)
        dims[i] = rnd() % 5 == 0 ? 1 : rnd_in(1, max);
}

static tdesc tensor(int type, int rank, const int32_t *dims, float scale, int32_t zp) {
    tdesc t;
    memset(&t, 0, sizeof t);
    t.type = type;
    t.rank = rank;
    memcpy(t.dims, dims, sizeof(int32_t) * (size_t)rank);
    t.scale = scale;
    t.zp = zp;
    return t;
}

static void *random_data(const tdesc *t) {
    size_t n = count_of(t->dims, t->rank) * esize_of(t->type);
    void *p = nml_test_alloc16(n + 1);
    fill_bytes(p, n);
    if (t->type == NML_FLOAT32) { /* finite floats */
        float *f = p;
        for (size_t i = 0; i < n / 4; i++)
            f[i] = (float)rnd_in(-1000, 1000) / 37.0f;
    }
    return p;
}

static void free_inputs(node_case *c) {
    for (int i = 0; i < c->n_in; i++)
        free(c->in[i].data);
}

/* ---- rescaling arithmetic ---- */

static void check_rs(int32_t x, int32_t m, int32_t r, int32_t zp) {
    const nml_rs f = nml_rs_make(m, r, zp);
    const int32_t got = nml_rs_apply(x, f.m2, f.k, f.neg, f.r);
    const int32_t want = nml_mul_by_qm(x, m, -r) + zp;
    if (got != want)
        fail_msg("x %d m %d r %d zp %d: fast %d, reference %d", (int)x, (int)m, (int)r, (int)zp,
                 (int)got, (int)want);
}

static void check_rs_unsigned(uint32_t x, int32_t m, int32_t r) {
    const uint32_t got = nml_rs_apply_unsigned(x, 2u * (uint32_t)m, r ? 1u << (r - 1) : 0u, r);
    const int32_t want = nml_rdbpot(nml_srdhm(m, (int32_t)x), r);
    if ((int32_t)got != want)
        fail_msg("x %u m %d r %d: fast %u, reference %d", (unsigned)x, (int)m, (int)r,
                 (unsigned)got, (int)want);
}

static void rescale_equals_reference(void **state) {
    (void)state;
    rng_state = 0x5CA1Eu;
    const int32_t lim = (1 << 29) - 1;
    const int32_t xs[] = {0,        1,       -1,         2,         -2,           lim,
                          -lim,     1 << 28, -(1 << 28), 255 << 20, -(255 << 20), 12345678,
                          -12345678};
    const int32_t ms[] = {0, 1 << 30, (1 << 30) + 1, INT32_MAX, 1518500250};
    for (int32_t r = 0; r <= 23; r++)
        for (size_t a = 0; a < sizeof xs / sizeof xs[0]; a++)
            for (size_t k = 0; k < sizeof ms / sizeof ms[0]; k++)
                for (int32_t zp = -128; zp <= 127; zp += 17)
                    check_rs(xs[a], ms[k], r, zp);
    /* exact ties of both roundings: x * 2^30 / 2^31 = x / 2, then / 2^r */
    for (int32_t r = 0; r <= 23; r++)
        for (int32_t x = -5000; x <= 5000; x++)
            check_rs(x, 1 << 30, r, x % 7);
    for (int i = 0; i < 1000000; i++) {
        const int32_t m = (int32_t)((1u << 30) + (rnd() >> 2));
        const int32_t x = (i & 1) ? rnd_in(-70000, 70000) : (int32_t)(rnd() >> 3) - (1 << 28);
        check_rs(x, m, rnd_in(0, 23), rnd_in(-128, 127));
    }
    /* the unsigned form: SOFTMAX's exp (Q0.31, >= 0) times its reciprocal, every shift */
    const uint32_t es[] = {0, 1, 2, 3, 0x7fffffffu, 0x40000000u, 0x3fffffffu, 2048, 4095};
    for (int32_t r = 0; r <= 31; r++)
        for (size_t a = 0; a < sizeof es / sizeof es[0]; a++)
            for (size_t k = 0; k < sizeof ms / sizeof ms[0]; k++)
                check_rs_unsigned(es[a], ms[k], r);
    for (int32_t r = 0; r <= 31; r++)
        for (uint32_t x = 0; x <= 10000; x++)
            check_rs_unsigned(x, 1 << 30, r);
    for (int i = 0; i < 1000000; i++)
        check_rs_unsigned(rnd() >> 1, (int32_t)((1u << 30) + (rnd() >> 2)), rnd_in(0, 31));
}

/* ---- GATHER ---- */

static void gather_matches_reference(void **state) {
    (void)state;
    rng_state = 0x6A7E4u;
    int strided = 0;
    for (int iter = 0; iter < 1500; iter++) {
        node_case c;
        memset(&c, 0, sizeof c);
        c.out_aliases = -1;
        nml_op_params_default(&c.p);
        const int rank = rnd_in(1, 4);
        int32_t dims[NML_MAX_RANK];
        random_dims(dims, rank, 7);
        const int type = rnd() % 4 == 0 ? NML_INT32 : NML_INT8;
        const float scale = type == NML_INT8 ? 0.05f : 0.0f;
        const int32_t axis = rnd_in(0, rank - 1);
        c.p.axis = rnd() & 1 ? axis : axis - rank;
        const int shuffle = rnd() % 4 == 0; /* a channel shuffle: every other of 2n channels */
        if (shuffle) dims[axis] = 2 * rnd_in(1, 40);
        const int bd = axis > 0 && rnd() % 4 == 0 ? 1 : 0;
        c.p.batch_dims = bd;
        /* indices: batch dims of params, then 1..2 coordinate dims */
        const int ci_rank = rnd() % 4 == 0 ? 2 : 1;
        int32_t idims[NML_MAX_RANK];
        int irank = 0;
        for (int i = 0; i < bd; i++)
            idims[irank++] = dims[i];
        for (int i = 0; i < ci_rank; i++)
            idims[irank++] = shuffle && i == 0 ? dims[axis] / 2 : rnd_in(1, 6);
        const size_t n_idx = count_of(idims, irank);
        const int itype = rnd() % 4 == 0 ? NML_INT64 : NML_INT32;
        const int32_t axis_size = dims[axis];
        /* a progression (start, step) that stays in range, or random indices */
        const int kind = (int)(rnd() % 4);
        int32_t start = shuffle ? (int32_t)(rnd() & 1) : rnd_in(0, axis_size - 1), step = 0;
        if (kind < 3) {
            const int32_t coords = (int32_t)(n_idx / count_of(idims, bd));
            int32_t max_step = coords > 1 ? (axis_size - 1 - start) / (coords - 1) : 2;
            int32_t min_step = coords > 1 ? -start / (coords - 1) : -2;
            step = kind == 0 ? (max_step >= 2 ? 2 : max_step) : rnd_in(min_step, max_step);
        }
        int64_t *idx_vals = malloc(n_idx * sizeof *idx_vals);
        const size_t per_batch = n_idx / count_of(idims, bd);
        for (size_t i = 0; i < n_idx; i++)
            idx_vals[i] =
                kind < 3 ? start + (int64_t)(i % per_batch) * step : rnd_in(0, axis_size - 1);
        if (rnd() % 50 == 0) idx_vals[rnd() % n_idx] = axis_size; /* out of range */
        /* negative, and (int64) out of range by the high word alone: the lean prepare compares
         * the two 32-bit halves */
        const uint32_t odd = rnd() % 60;
        if (odd == 0) idx_vals[rnd() % n_idx] = -1;
        if (odd == 1 && itype == NML_INT64) idx_vals[rnd() % n_idx] = ((int64_t)1 << 32) + start;
        if (odd == 2 && itype == NML_INT64) idx_vals[rnd() % n_idx] = INT64_MIN + start;
        /* what the strided copy must take: every batch's indices one progression (modulo 2^64,
         * which the hostile values above need; nodes with them are rejected anyway) */
        int is_ap = 1;
        const uint64_t ap_step =
            per_batch > 1 ? (uint64_t)idx_vals[1] - (uint64_t)idx_vals[0] : 0;
        for (size_t i = 0; i < n_idx; i++) {
            const uint64_t expect = (uint64_t)idx_vals[0] + (uint64_t)(i % per_batch) * ap_step;
            if ((uint64_t)idx_vals[i] != expect) is_ap = 0;
        }
        void *idx = nml_test_alloc16(n_idx * 8);
        for (size_t i = 0; i < n_idx; i++) {
            if (itype == NML_INT64) {
                memcpy((uint8_t *)idx + 8 * i, &idx_vals[i], 8);
            } else {
                int32_t v = (int32_t)idx_vals[i];
                memcpy((uint8_t *)idx + 4 * i, &v, 4);
            }
        }
        const int is_const = rnd() % 5 != 0;
        c.in[0] = tensor(type, rank, dims, scale, 3);
        c.in[0].data = random_data(&c.in[0]);
        c.in[1] = tensor(itype, irank, idims, 0.0f, 0);
        c.in[1].data = idx;
        c.in[1].is_const = is_const;
        c.n_in = 2;
        int32_t odims[2 * NML_MAX_RANK];
        int orank = 0;
        for (int i = 0; i < axis; i++)
            odims[orank++] = dims[i];
        for (int i = bd; i < irank; i++)
            odims[orank++] = idims[i];
        for (int i = axis + 1; i < rank; i++)
            odims[orank++] = dims[i];
        if (orank > NML_MAX_RANK) {
            free_inputs(&c);
            free(idx_vals);
            continue;
        }
        c.out = tensor(type, orank, odims, scale, 3);
        /* malformed nodes, which every kernel (the lean variant's own prepare too) must reject */
        const uint32_t bad = rnd() % 24;
        if (bad == 0) c.out.dims[rnd() % orank] += 1;
        if (bad == 1) c.p.axis = rank;
        if (bad == 2) c.p.batch_dims = irank + 1;
        if (bad == 3 && type == NML_INT8) c.out.zp = 4;
        if (bad == 4) c.in[1].type = NML_FLOAT32;
        /* a non-constant index out of range is an eval error in both */
        strided += compare_kernels("GATHER", iter, &c, &nml_kernel_gather, &nml_kernel_gather_opt,
                                   &nml_kernel_gather_opt_strided,
                                   bad > 4 ? is_ap && is_const && bd == 0 : -1);
        free_inputs(&c);
        free(idx_vals);
    }
    printf("GATHER: %d of 1500 random nodes by the strided copy\n", strided);
    assert_true(strided > 500);
}

/* ---- QUANTIZE ---- */

static void quantize_matches_reference(void **state) {
    (void)state;
    rng_state = 0x9A27u;
    int table = 0;
    for (int iter = 0; iter < 1000; iter++) {
        node_case c;
        memset(&c, 0, sizeof c);
        c.out_aliases = -1;
        nml_op_params_default(&c.p);
        const int rank = rnd_in(1, 4);
        int32_t dims[NML_MAX_RANK];
        random_dims(dims, rank, 9);
        if (rnd() % 3 == 0) dims[0] = rnd_in(20, 60); /* over the table's threshold */
        const uint32_t kind = rnd() % 8;
        const int in_type = kind == 0 ? NML_FLOAT32 : kind == 1 ? NML_INT16 : NML_INT8;
        const int out_type = kind == 2 ? NML_UINT8 : NML_INT8;
        const int32_t in_zp = in_type == NML_INT16 ? 0 : rnd_in(-128, 127);
        const int32_t out_zp = out_type == NML_UINT8 ? rnd_in(0, 255) : rnd_in(-128, 127);
        const float in_scale = rnd_scale(0.001f, 0.2f);
        /* ratios from 1/64 to 64, and exactly 1 */
        float out_scale = rnd() % 8 == 0 ? in_scale : in_scale * rnd_scale(0.0156f, 64.0f);
        c.in[0] = tensor(in_type, rank, dims, in_type == NML_FLOAT32 ? 0.0f : in_scale, in_zp);
        c.in[0].data = random_data(&c.in[0]);
        c.n_in = 1;
        c.out = tensor(out_type, rank, dims, out_scale, out_zp);
        /* malformed nodes, which every kernel (the lean variant's own prepare too) must reject */
        const uint32_t bad = rnd() % 24;
        if (bad == 0) c.out.dims[rnd() % rank] += 1;
        if (bad == 1) c.out.scale = -1.0f;
        if (bad == 2) c.in[0].zp = 300;
        if (bad == 3) c.in[0].scale = 0.0f;
        const int int8 = in_type == NML_INT8 && out_type == NML_INT8 && bad > 3;
        if (int8 && count_of(dims, rank) >= 256) table++;
        compare_kernels("QUANTIZE", iter, &c, &nml_kernel_quantize, &nml_kernel_quantize_opt,
                        &nml_kernel_quantize_opt_int8, bad > 3 ? int8 : -1);
        if (int8) { /* in place: the output in the input's buffer */
            c.out_aliases = 0;
            compare_kernels("QUANTIZE in place", iter, &c, &nml_kernel_quantize,
                            &nml_kernel_quantize_opt, &nml_kernel_quantize_opt_int8, 1);
        }
        free_inputs(&c);
    }
    printf("QUANTIZE: %d int8 nodes by the table\n", table);
    assert_true(table > 100);
}

/* ---- PAD / PADV2 ---- */

static void pad_matches_reference(void **state) {
    (void)state;
    rng_state = 0x9AD5u;
    for (int iter = 0; iter < 1500; iter++) {
        node_case c;
        memset(&c, 0, sizeof c);
        c.out_aliases = -1;
        nml_op_params_default(&c.p);
        const int v2 = rnd() % 3 == 0;
        const int rank = rnd_in(1, 5);
        int32_t dims[NML_MAX_RANK], odims[NML_MAX_RANK];
        random_dims(dims, rank, 6);
        if (rnd() % 20 == 0) dims[rnd_in(0, rank - 1)] = 0; /* empty input */
        const uint32_t kind = rnd() % 6;
        const int type = kind == 0   ? NML_FLOAT32
                         : kind == 1 ? NML_INT16
                         : kind == 2 ? NML_UINT8
                                     : NML_INT8;
        const int quant = type == NML_INT8 || type == NML_UINT8;
        const int32_t zp = type == NML_UINT8  ? rnd_in(0, 255)
                           : type == NML_INT8 ? rnd_in(-128, 127)
                                              : 0;
        const float scale = quant ? 0.02f : 0.0f;
        int32_t pads[2 * NML_MAX_RANK];
        const int none = rnd() % 8 == 0; /* padding 0 everywhere */
        for (int i = 0; i < rank; i++) {
            const int padded = !none && rnd() % 2 == 0;
            pads[2 * i] = padded ? rnd_in(0, 3) : 0;
            pads[2 * i + 1] = padded ? rnd_in(0, 3) : 0;
            odims[i] = dims[i] + pads[2 * i] + pads[2 * i + 1];
        }
        if (rnd() % 40 == 0) pads[0] = -1; /* invalid: both reject */
        c.in[0] = tensor(type, rank, dims, scale, zp);
        c.in[0].data = random_data(&c.in[0]);
        c.in[1] = tensor(NML_INT32, 2, (const int32_t[]){rank, 2}, 0.0f, 0);
        c.in[1].data = nml_test_alloc16(sizeof pads);
        memcpy(c.in[1].data, pads, sizeof pads);
        c.in[1].is_const = 1;
        c.n_in = 2;
        if (v2) {
            c.in[2] = tensor(type, 0, dims, scale, zp);
            c.in[2].data = random_data(&c.in[2]);
            c.in[2].is_const = rnd() & 1;
            c.n_in = 3;
        }
        c.out = tensor(type, rank, odims, scale, zp);
        /* malformed nodes, which every kernel (the lean variant's own prepare too) must reject */
        const uint32_t bad = rnd() % 24;
        if (bad == 0) c.out.dims[rnd() % rank] += 1;
        if (bad == 1) c.in[1].is_const = 0;
        if (bad == 2) c.in[1].dims[0] = rank + 1 > NML_MAX_RANK ? rank - 1 : rank + 1;
        if (bad == 3 && quant) c.out.scale = -1.0f, c.in[0].scale = -1.0f;
        if (bad == 4 && v2) c.in[2].rank = 1, c.in[2].dims[0] = 2;
        if (bad == 5 && v2) c.in[2].zp = zp == 0 ? 1 : 0;
        if (bad == 6 && v2) { /* constant_values of another type than the output's */
            free(c.in[2].data);
            c.in[2] = tensor(NML_INT32, 0, dims, 0.0f, 0);
            c.in[2].data = random_data(&c.in[2]);
        }
        compare_kernels(v2 ? "PADV2" : "PAD", iter, &c, v2 ? &nml_kernel_padv2 : &nml_kernel_pad,
                        v2 ? &nml_kernel_padv2_opt : &nml_kernel_pad_opt,
                        v2 ? &nml_kernel_padv2_opt_int8 : &nml_kernel_pad_opt_int8,
                        bad > 6 ? esize_of(type) == 1 : -1);
        free_inputs(&c);
    }
}

/* ---- CONCATENATION ---- */

static void concatenation_matches_reference(void **state) {
    (void)state;
    rng_state = 0xC0CA7u;
    int copied = 0;
    for (int iter = 0; iter < 1500; iter++) {
        node_case c;
        memset(&c, 0, sizeof c);
        c.out_aliases = -1;
        nml_op_params_default(&c.p);
        const int rank = rnd_in(1, 4);
        int32_t dims[NML_MAX_RANK];
        random_dims(dims, rank, 6);
        if (rnd() % 4 == 0) dims[rank - 1] = 4 * rnd_in(1, 6); /* word copies */
        const int32_t axis = rnd_in(0, rank - 1);
        c.p.axis = rnd() & 1 ? axis : axis - rank;
        const uint32_t kind = rnd() % 6;
        const int type = kind == 0 ? NML_FLOAT32 : kind == 1 ? NML_INT16 : NML_INT8;
        const int quant = type != NML_FLOAT32;
        const float out_scale = quant ? rnd_scale(0.01f, 0.1f) : 0.0f;
        const int32_t out_zp = type == NML_INT8 ? rnd_in(-128, 127) : 0;
        c.n_in = rnd_in(1, 4);
        int32_t odims[NML_MAX_RANK];
        memcpy(odims, dims, sizeof odims);
        odims[axis] = 0;
        int any_requant = 0;
        for (int i = 0; i < c.n_in; i++) {
            int32_t d[NML_MAX_RANK];
            memcpy(d, dims, sizeof d);
            d[axis] = rnd_in(1, 5);
            odims[axis] += d[axis];
            const int requant = quant && rnd() % 3 == 0;
            any_requant |= requant;
            c.in[i] = tensor(type, rank, d, requant ? out_scale * rnd_scale(0.3f, 3.0f) : out_scale,
                             requant && type == NML_INT8 ? rnd_in(-128, 127) : out_zp);
            c.in[i].data = random_data(&c.in[i]);
        }
        c.out = tensor(type, rank, odims, out_scale, out_zp);
        /* malformed nodes, which every kernel (the lean variant's own prepare too) must reject */
        const uint32_t bad = rnd() % 24;
        if (bad == 0) c.out.dims[rnd() % rank] += 1;
        if (bad == 1) c.p.activation = NML_ACT_RELU;
        if (bad == 2) c.p.axis = rank;
        if (bad == 3 && rank > 1) c.in[rnd() % c.n_in].rank--;
        if (bad == 4) {
            tdesc *t = &c.in[rnd() % c.n_in];
            const int k = rnd_in(0, rank - 1);
            if (t->dims[k] > 1) t->dims[k]--;
        }
        if (bad == 5 && quant) c.in[rnd() % c.n_in].scale = -1.0f;
        copied += !any_requant && bad > 5;
        compare_kernels("CONCATENATION", iter, &c, &nml_kernel_concatenation,
                        &nml_kernel_concatenation_opt, &nml_kernel_concatenation_opt_int8,
                        bad > 5 ? !any_requant : -1);
        free_inputs(&c);
    }
    printf("CONCATENATION: %d of 1500 nodes copied by the optimized kernel\n", copied);
    assert_true(copied > 500);
}

/* ---- nml_opt_copy ---- */

/* Every source and destination alignment and lengths 0..100 (the word path, different
 * alignments, the byte tails) against memcpy: the bytes copied, none written
 * around them. The source ends where its allocation ends, so that a read past it shows under
 * ASan. */
static void copy_matches_memcpy(void **state) {
    (void)state;
    rng_state = 0xC0B1u;
    int mixed = 0;
    for (uint32_t so = 0; so < 4; so++)
        for (uint32_t dof = 0; dof < 4; dof++)
            for (uint32_t n = 0; n <= 100; n++) {
                uint8_t *src = malloc(so + n > 0 ? so + n : 1), *dst = malloc(dof + n + 8);
                assert_non_null(src);
                assert_non_null(dst);
                fill_bytes(src, so + n);
                memset(dst, 0xA5, dof + n + 8);
                nml_opt_copy(dst + dof, src + so, n);
                assert_memory_equal(dst + dof, src + so, n);
                for (uint32_t i = 0; i < dof; i++)
                    assert_int_equal(dst[i], 0xA5);
                for (uint32_t i = dof + n; i < dof + n + 8; i++)
                    assert_int_equal(dst[i], 0xA5);
                mixed += n >= 16 && ((uintptr_t)(src + so) & 3u) != ((uintptr_t)(dst + dof) & 3u);
                free(src);
                free(dst);
            }
    assert_true(mixed > 1000);
}

/* ---- MAX_POOL_2D ---- */

static int32_t pool_out(int32_t in, int32_t k, int32_t stride, int32_t padding) {
    if (padding == NML_PAD_SAME) return (in + stride - 1) / stride;
    return in >= k ? (in - k + stride) / stride : 0;
}

/* MAX_POOL_2D or AVERAGE_POOL_2D (avg) on random windows. */
static void pool_matches_reference(int avg, const nml_kernel *ref, const nml_kernel *opt,
                                   const nml_kernel *variant) {
    rng_state = avg ? 0xA7E9u : 0x3A9001u;
    int words = 0;
    for (int iter = 0; iter < 1500; iter++) {
        node_case c;
        memset(&c, 0, sizeof c);
        c.out_aliases = -1;
        nml_op_params_default(&c.p);
        const int32_t depth = rnd() % 2 ? 4 * rnd_in(1, 6) : rnd_in(1, 9);
        const int32_t dims[4] = {rnd_in(1, 2), rnd_in(1, 9), rnd_in(1, 9), depth};
        c.p.filter_h = rnd_in(1, 4);
        c.p.filter_w = rnd_in(1, 4);
        c.p.stride_h = rnd_in(1, 3);
        c.p.stride_w = rnd_in(1, 3);
        c.p.padding = (uint8_t)(rnd() & 1 ? NML_PAD_SAME : NML_PAD_VALID);
        c.p.activation = (uint8_t)activation_of(rnd());
        const int32_t oh = pool_out(dims[1], c.p.filter_h, c.p.stride_h, c.p.padding);
        const int32_t ow = pool_out(dims[2], c.p.filter_w, c.p.stride_w, c.p.padding);
        if (oh == 0 || ow == 0) continue;
        const int type = rnd() % 6 == 0 ? NML_FLOAT32 : NML_INT8;
        const float scale = type == NML_INT8 ? rnd_scale(0.01f, 0.1f) : 0.0f;
        const int32_t zp = rnd_in(-128, 127);
        c.in[0] = tensor(type, 4, dims, scale, zp);
        c.in[0].data = random_data(&c.in[0]);
        c.n_in = 1;
        c.out = tensor(type, 4, (const int32_t[]){dims[0], oh, ow, depth}, scale, zp);
        if (type == NML_INT8 && depth % 4 == 0) words++;
        compare_kernels(ref->name, iter, &c, ref, opt, variant, type == NML_INT8);
        free_inputs(&c);
    }
    printf("%s: %d int8 nodes with depth a multiple of 4\n", ref->name, words);
    assert_true(words > 300);
}

static void max_pool_matches_reference(void **state) {
    (void)state;
    pool_matches_reference(0, &nml_kernel_max_pool_2d, &nml_kernel_max_pool_2d_opt,
                           &nml_kernel_max_pool_2d_opt_int8);
}

static void average_pool_matches_reference(void **state) {
    (void)state;
    pool_matches_reference(1, &nml_kernel_average_pool_2d, &nml_kernel_average_pool_2d_opt,
                           &nml_kernel_average_pool_2d_opt_int8);
}

/* Every pair of int8 values through the word (SWAR) maximum: a 2x1 window over two rows
 * holding all 65536 pairs, and the same one byte off word alignment (the byte path). */
static void max_pool_all_pairs(void **state) {
    (void)state;
    const int32_t depth = 65536;
    int8_t *in = nml_test_alloc16(2 * (size_t)depth + 4);
    for (int off = 0; off <= 1; off++) {
        int8_t *x = in + off;
        for (int32_t i = 0; i < depth; i++) {
            x[i] = (int8_t)(i & 0xff);
            x[depth + i] = (int8_t)(i >> 8);
        }
        node_case c;
        memset(&c, 0, sizeof c);
        c.out_aliases = -1;
        nml_op_params_default(&c.p);
        c.p.filter_h = 2;
        c.p.padding = NML_PAD_VALID;
        c.in[0] = tensor(NML_INT8, 4, (const int32_t[]){1, 2, 1, depth}, 0.1f, 0);
        c.in[0].data = x;
        c.n_in = 1;
        c.out = tensor(NML_INT8, 4, (const int32_t[]){1, 1, 1, depth}, 0.1f, 0);
        run_result r = run_node(&nml_kernel_max_pool_2d_opt_int8, &c);
        assert_int_equal(r.st, NML_OK);
        for (int32_t i = 0; i < depth; i++) {
            const int32_t a = (int8_t)(i & 0xff), b = (int8_t)(i >> 8);
            if ((int8_t)r.out[i] != (a > b ? a : b))
                fail_msg("max(%d, %d) = %d (offset %d)", (int)a, (int)b, (int8_t)r.out[i], off);
        }
        free(r.out);
    }
    free(in);
}

/* ---- ADD ---- */

static void add_case(node_case *c, const int32_t *da, int ra, const int32_t *db, int rb,
                     const int32_t *dout, int rout) {
    const float s1 = rnd_scale(0.001f, 0.2f);
    /* input scale ratios up to 2^12 either way, output scales far above and below */
    const uint32_t k = rnd() % 8;
    /* equal scales, ratios up to 2^12 either way, and 2^-25 (a right shift beyond 23) */
    const float s2 = k == 0   ? s1
                     : k == 1 ? s1 * 2.98e-8f * rnd_scale(0.5f, 1.0f)
                              : s1 * rnd_scale(0.0003f, 4096.0f);
    /* output scales far below and far above the inputs' (shifts beyond 23) */
    const float so = (s1 > s2 ? s1 : s2) * (k == 2   ? rnd_scale(1e-4f, 1e-2f)
                                            : k == 3 ? rnd_scale(16.0f, 128.0f)
                                                     : rnd_scale(0.1f, 4.0f));
    c->in[0] = tensor(NML_INT8, ra, da, s1, rnd_in(-128, 127));
    c->in[1] = tensor(NML_INT8, rb, db, s2, rnd_in(-128, 127));
    c->in[0].data = random_data(&c->in[0]);
    c->in[1].data = random_data(&c->in[1]);
    c->n_in = 2;
    c->out = tensor(NML_INT8, rout, dout, so, rnd_in(-128, 127));
    c->p.activation = (uint8_t)activation_of(rnd());
}

/* ADD keeps plain int8 nodes whose rescaling shifts are at most 23 (the kernel decides; scales
 * 2^23 apart are drawn here on purpose): both outcomes must occur, and agree with the variant. */
static void add_matches_reference(void **state) {
    (void)state;
    rng_state = 0xADD5u;
    int kept = 0, plain_nodes = 0;
    for (int iter = 0; iter < 1500; iter++) {
        node_case c;
        memset(&c, 0, sizeof c);
        c.out_aliases = -1;
        nml_op_params_default(&c.p);
        const int rank = rnd_in(1, 4);
        int32_t dims[NML_MAX_RANK], db[NML_MAX_RANK];
        random_dims(dims, rank, 8);
        memcpy(db, dims, sizeof db);
        const int bcast = rnd() % 4 == 0;
        if (bcast) db[rnd_in(0, rank - 1)] = 1;
        const int same = memcmp(db, dims, sizeof(int32_t) * (size_t)rank) == 0;
        add_case(&c, dims, rank, db, rank, dims, rank);
        if (rnd() % 10 == 0) { /* float: handed over */
            for (int i = 0; i < 2; i++) {
                free(c.in[i].data);
                c.in[i].type = NML_FLOAT32;
                c.in[i].scale = 0.0f;
                c.in[i].data = random_data(&c.in[i]);
            }
            c.out.type = NML_FLOAT32;
            c.out.scale = 0.0f;
        }
        const int plain = same && c.out.type == NML_INT8;
        const int k = compare_kernels("ADD", iter, &c, &nml_kernel_add, &nml_kernel_add_opt,
                                      &nml_kernel_add_opt_int8, plain ? -1 : 0);
        kept += k;
        plain_nodes += plain;
        if (k) { /* in place over either input */
            c.out_aliases = (int)(rnd() & 1);
            compare_kernels("ADD in place", iter, &c, &nml_kernel_add, &nml_kernel_add_opt,
                            &nml_kernel_add_opt_int8, 1);
        }
        free_inputs(&c);
    }
    printf("ADD: %d of %d plain int8 nodes kept by the optimized kernel\n", kept, plain_nodes);
    assert_true(kept > 500 && kept < plain_nodes);
}

/* Every pair of int8 inputs, for random scales and zero points (both rescaling paths). */
static void add_all_pairs(void **state) {
    (void)state;
    rng_state = 0xADDA11u;
    const int32_t n = 65536;
    int kept = 0;
    for (int iter = 0; iter < 60; iter++) {
        node_case c;
        memset(&c, 0, sizeof c);
        c.out_aliases = -1;
        nml_op_params_default(&c.p);
        add_case(&c, &n, 1, &n, 1, &n, 1);
        int8_t *a = c.in[0].data, *b = c.in[1].data;
        for (int32_t i = 0; i < n; i++) {
            a[i] = (int8_t)(i & 0xff);
            b[i] = (int8_t)(i >> 8);
        }
        kept += compare_kernels("ADD all pairs", iter, &c, &nml_kernel_add, &nml_kernel_add_opt,
                                &nml_kernel_add_opt_int8, -1);
        free_inputs(&c);
    }
    assert_true(kept > 30);
}

/* A handed-over node keeps no permission the resolver's kernel lacked: ADD with broadcasting
 * goes to the reference ADD (which may run in place), but through a copy of the optimized
 * kernel without NML_KERNEL_IN_PLACE it must arrive without the flag too. */
static void hand_over_keeps_flags(void **state) {
    (void)state;
    int8_t a[6] = {1, 2, 3, 4, 5, 6}, b[3] = {7, 8, 9}, out[6];
    for (int cleared = 0; cleared <= 1; cleared++) {
        nml_kernel k = nml_kernel_add_opt;
        if (cleared) k.flags = 0;
        nml_kh h;
        kh_init(&h);
        int ta = kh_tensor(&h, NML_INT8, 2, (const int32_t[]){2, 3}, a, 0.1f, 0);
        int tb = kh_tensor(&h, NML_INT8, 2, (const int32_t[]){1, 3}, b, 0.1f, 0);
        int to = kh_tensor(&h, NML_INT8, 2, (const int32_t[]){2, 3}, out, 0.2f, 0);
        kh_inputs(&h, 2, ta, tb);
        kh_outputs(&h, 1, to);
        nml_op_params p;
        nml_op_params_default(&p);
        assert_int_equal(kh_run(&h, &k, &p), NML_OK);
        assert_ptr_not_equal(h.node.kernel, &k);
        assert_ptr_equal(h.node.kernel->eval, nml_kernel_add.eval);
        assert_int_equal(h.node.kernel->flags, cleared ? 0 : nml_kernel_add.flags);
        if (!cleared) assert_ptr_equal(h.node.kernel, &nml_kernel_add);
        kh_free(&h);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rescale_equals_reference),
        cmocka_unit_test(gather_matches_reference),
        cmocka_unit_test(quantize_matches_reference),
        cmocka_unit_test(pad_matches_reference),
        cmocka_unit_test(concatenation_matches_reference),
        cmocka_unit_test(copy_matches_memcpy),
        cmocka_unit_test(max_pool_matches_reference),
        cmocka_unit_test(max_pool_all_pairs),
        cmocka_unit_test(average_pool_matches_reference),
        cmocka_unit_test(add_matches_reference),
        cmocka_unit_test(add_all_pairs),
        cmocka_unit_test(hand_over_keeps_flags),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
