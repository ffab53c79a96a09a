/* ADD optimized for int8 inputs of the output's shape (no broadcasting): TFLite's pipeline
 * (both inputs offset, shifted left by 20 bits and rescaled, summed, rescaled to the output)
 * with each of the three fixed-point rescalings done by one 32x32->64-bit multiply and a few
 * 32-bit operations (nml_rs_apply, opt_rescale.h, exact as explained there) instead of the
 * reference's 64-bit rounding arithmetic and call chain. An input's rescaled value depends on
 * its byte alone, so both inputs' are tabulated at prepare (2 KiB of persistent arena per
 * node): per element two look-ups and one rescaling. Its bounds hold: the shifted inputs
 * are below 255 * 2^20 < 2^28 in magnitude, so are their rescaled values (multipliers < 1),
 * their sum is below 2^29, and the output zero point is an int8. Nodes with a shift beyond 23
 * (scales 2^23 apart, not seen in practice) are not specialized.
 * In place: safe (element i of both inputs is read before element i is written, and no other),
 * so the output may share either input's buffer (NML_KERNEL_IN_PLACE).
 * Broadcasting, other types and shifts beyond 23 are handed to the reference kernel by
 * nml_kernel_add_opt and rejected at prepare by nml_kernel_add_opt_int8. */
#include "elem_common.h"
#include "kernels.h"
#include "lean.h"
#include "opt_rescale.h"

#define MAX_RIGHT 23

typedef struct opt_add {
    int32_t scaled[2 * 256]; /* input k's rescaled value for byte b at [256 * k + b] */
    nml_rs out;
    int32_t act_min, act_max;
    uint32_t count;
} opt_add;

/* called in a loop: inlined once */
static int rs_set(nml_rs *f, int32_t mult, int exponent, int32_t zp) {
    if (-exponent > MAX_RIGHT) return 0; /* exponent <= 0: nml_addsub_prepare_q rejects others */
    *f = nml_rs_make(mult, -exponent, zp);
    return 1;
}

/* Two int8 inputs of the int8 output's shape: t[0], t[1] the inputs, t[2] the output. */
static int plain_int8(nml_ctx *ctx, const nml_node *node, const nml_tensor **t) {
    if (node->n_inputs != 2 || node->n_outputs != 1) return 0;
    const nml_tensor *out = nml_node_output(ctx, node, 0);
    for (int i = 2; i >= 0; i--) { /* the output first: the inputs are compared with it */
        const nml_tensor *x = i == 2 ? out : nml_node_input(ctx, node, (uint32_t)i);
        if (!x || x->type != NML_INT8 || x->rank != out->rank) return 0;
        for (int k = 0; k < out->rank; k++)
            if (x->dims[k] != out->dims[k]) return 0;
        t[i] = x;
    }
    return 1;
}

/* The node is plain int8 with shifts the fast rescaling covers: its data in node->data. */
static nml_status prepare_fast(nml_ctx *ctx, nml_node *node, const nml_op_params *p, int *fast) {
    *fast = 0;
    const nml_tensor *t[3];
    if (!plain_int8(ctx, node, t)) return NML_OK;
    nml_addsub_q q;
    NML_TRY(nml_addsub_prepare_q(ctx, node, t[0], t[1], t[2], p->activation, &q));
    if (q.left_shift != 20) return NML_OK;
    nml_rs rs[3];
    for (int k = 0; k < 3; k++)
        if (!rs_set(&rs[k], q.mult[k], q.shift[k], k == 2 ? q.out_offset : 0)) return NML_OK;
    /* allocated once the node is known to be fast: the reference takes the others over */
    opt_add *d = nml_ctx_alloc_persistent(ctx, sizeof *d);
    if (!d) return nml_kernel_fail(ctx, node, NML_E_ARENA, "no arena left for kernel data");
    /* an input's rescaling depends on its byte only: 256 values per input, computed once;
     * entry i of the 512 is input i / 256's, for the byte i % 256 */
    for (uint32_t i = 0; i < 512; i++) {
        const nml_rs *f = &rs[i >> 8];
        const int32_t v = (int8_t)(uint8_t)i + (i >> 8 ? q.in2_offset : q.in1_offset);
        d->scaled[i] = nml_rs_apply((int32_t)((uint32_t)v << 20), f->m2, f->k, f->neg, f->r);
    }
    d->out = rs[2];
    d->act_min = q.act_min;
    d->act_max = q.act_max;
    d->count = nml_tensor_count(t[2]);
    node->data = d;
    *fast = 1;
    return NML_OK;
}

static nml_status opt_add_prepare(nml_ctx *ctx, nml_node *node, const nml_op_params *p) {
    int fast;
    NML_TRY(prepare_fast(ctx, node, p, &fast));
    if (fast) return NML_OK;
    NML_TRY(nml_hand_over(ctx, node, &nml_kernel_add)); /* the reference takes it over */
    return nml_kernel_add.prepare(ctx, node, p);
}

static nml_status opt_add_prepare_int8(nml_ctx *ctx, nml_node *node, const nml_op_params *p) {
    int fast;
    NML_TRY(prepare_fast(ctx, node, p, &fast));
    return fast ? NML_OK
                : nml_lean_refuse(ctx, node,
                                  "two int8 inputs of the output's shape (no broadcasting) with "
                                  "scales less than 2^23 apart");
}

static nml_status opt_add_eval(nml_ctx *ctx, nml_node *node) {
    const opt_add *d = node->data;
    const int8_t *a = nml_node_input(ctx, node, 0)->data, *b = nml_node_input(ctx, node, 1)->data;
    int8_t *out = nml_node_output(ctx, node, 0)->data;
    /* parameters in locals: int8 stores may alias the struct, gcc would reload it */
    const int32_t *t1 = d->scaled, *t2 = d->scaled + 256;
    const uint32_t mo = d->out.m2, ko = d->out.k, no = d->out.neg;
    const int32_t ro = d->out.r;
    const int32_t lo = d->act_min, hi = d->act_max;
    /* pointers to the end, the loop testing there; the clamped value stored as its low byte */
    if (d->count == 0) return NML_OK;
    const int8_t *const end = a + d->count;
    do {
        const int32_t sum = t1[(uint8_t)*a++] + t2[(uint8_t)*b++];
        int32_t v = nml_rs_apply(sum, mo, ko, no, ro);
        v = v < lo ? lo : v;
        *out++ = (int8_t)(uint8_t)(v > hi ? hi : v);
    } while (a != end);
    return NML_OK;
}

const nml_kernel nml_kernel_add_opt = {NML_OP_ADD, "ADD", opt_add_prepare, opt_add_eval,
                                       NML_KERNEL_IN_PLACE};
const nml_kernel nml_kernel_add_opt_int8 = {NML_OP_ADD, "ADD", opt_add_prepare_int8, opt_add_eval,
                                            NML_KERNEL_IN_PLACE};
