/* PAD and PADV2 optimized for one-byte elements (int8, uint8): the output is written once, in
 * order, as alternating fills and input rows. At prepare, dimensions of size 1 without padding
 * are dropped and trailing dimensions without padding are merged into the one before (an NHWC
 * pad of H and W copies whole W*C rows); at eval, the fills between two rows (the end of one
 * row's padding and the start of the next's, at any level) are merged into one fill, and
 * fills and copies move words where alignment allows. Other element types are handed to the
 * reference kernel by nml_kernel_pad(v2)_opt and rejected at prepare by the _int8 variants,
 * which have a prepare of their own. */
#include "elem_common.h"
#include "kernels.h"
#include "lean.h"
#include "opt_copy.h"
#include "pad_ref.h"

typedef struct opt_pad {
    int32_t rank;                /* after merging, >= 1 */
    uint32_t dims[NML_MAX_RANK]; /* level 0: input bytes per row; level k > 0: blocks */
    uint32_t before[NML_MAX_RANK], after[NML_MAX_RANK]; /* fill bytes around a level's block */
    uint8_t value; /* pad byte when there is no constant_values input */
} opt_pad;

/* The merged levels, innermost first, planned in one pass from the last dimension: level 0
 * copies input rows of dims[0] bytes (the innermost dimensions without padding merged into the
 * first padded one: an NHWC pad of H and W copies whole W*C rows), level k > 0 repeats dims[k]
 * blocks of level k - 1; before[k] / after[k] fill bytes surround each block. Dimensions of
 * size 1 without padding are dropped: nothing to iterate or fill. */
static void plan_levels(opt_pad *d, const nml_pad_data *ref, const nml_tensor *in,
                        const nml_tensor *out) {
    uint32_t run = 1;   /* input bytes of the merged innermost dimensions */
    uint32_t slice = 0; /* output bytes of one block of the last planned level */
    int32_t r = 0;
    for (int32_t k = ref->rank - 1; k >= 0; k--) {
        const uint32_t n = (uint32_t)in->dims[k], b = (uint32_t)ref->before[k];
        const uint32_t a = (uint32_t)out->dims[k] - n - b;
        if ((a | b) == 0 && (r == 0 || n == 1)) {
            run *= r == 0 ? n : 1; /* merged into the rows, or dropped */
            continue;
        }
        const uint32_t unit = r == 0 ? run : slice; /* output bytes per step of dimension k */
        d->dims[r] = r == 0 ? n * run : n;
        d->before[r] = b * unit;
        d->after[r] = a * unit;
        slice = (b + n + a) * unit;
        r++;
    }
    if (r == 0) { /* nothing padded: one row of everything (the arena is zeroed: no fills) */
        d->dims[0] = run;
        r = 1;
    }
    d->rank = r; /* an empty input needs no case of its own: its levels are all fill */
}

/* The reference prepare, then the levels; *bytes = 0 (and the reference's data left in place)
 * when the elements are not one byte. */
static nml_status prepare_bytes(nml_ctx *ctx, nml_node *node, const nml_op_params *p, int *bytes) {
    *bytes = 0;
    NML_TRY(nml_pad_prepare(ctx, node, p));
    const nml_pad_data *ref = node->data;
    if (ref->esize != 1) return NML_OK;
    opt_pad *d = nml_ctx_alloc_persistent(ctx, sizeof *d);
    if (!d) return nml_kernel_fail(ctx, node, NML_E_ARENA, "no arena left for kernel data");
    plan_levels(d, ref, nml_node_input(ctx, node, 0), nml_node_output(ctx, node, 0));
    d->value = ref->value[0];
    node->data = d;
    *bytes = 1;
    return NML_OK;
}

static nml_status opt_pad_prepare(nml_ctx *ctx, nml_node *node, const nml_op_params *p) {
    int bytes;
    NML_TRY(prepare_bytes(ctx, node, p, &bytes));
    /* otherwise the reference kernel takes this node over, with the data its prepare made */
    if (!bytes)
        return nml_hand_over(ctx, node,
                             node->builtin == NML_OP_PADV2 ? &nml_kernel_padv2 : &nml_kernel_pad);
    return NML_OK;
}

/* The lean variants' prepare: the reference's checks (nml_pad_check, pad_ref.h) compiled here,
 * so that the reference prepare is not linked; its parameters stay on the stack (no persistent
 * arena but the levels). Whatever the reference rejects is rejected here too; wider elements
 * are refused. One instance per operator (v2 constant): a PAD firmware has no PADV2 code. */
NML_SETUP_INLINE nml_status lean_prepare(nml_ctx *ctx, nml_node *node, int v2) {
    nml_pad_data ref;
    const nml_tensor *io[2] = {NULL, NULL}; /* set by the check when it succeeds */
    NML_TRY(nml_pad_check(ctx, node, &ref, 1, v2, io));
    opt_pad *d = nml_ctx_alloc_persistent(ctx, sizeof *d);
    if (!d) return nml_kernel_fail(ctx, node, NML_E_ARENA, "no arena left for kernel data");
    plan_levels(d, &ref, io[0], io[1]);
    d->value = ref.value[0];
    node->data = d;
    return NML_OK;
}

static nml_status opt_pad_prepare_int8(nml_ctx *ctx, nml_node *node, const nml_op_params *p) {
    (void)p;
    return lean_prepare(ctx, node, 0);
}

static nml_status opt_padv2_prepare_int8(nml_ctx *ctx, nml_node *node, const nml_op_params *p) {
    (void)p;
    return lean_prepare(ctx, node, 1);
}

typedef struct cursor {
    uint8_t *dst;
    const uint8_t *src;
    uint32_t pending; /* fill bytes not yet written */
    uint8_t value;
} cursor;

static void flush(cursor *c) {
    nml_opt_fill(c->dst, c->value, c->pending);
    c->dst += c->pending;
    c->pending = 0;
}

/* Writes level k's block (recursion depth <= NML_MAX_RANK). */
static void write_level(const opt_pad *d, int32_t k, cursor *c) {
    c->pending += d->before[k];
    const uint32_t n = d->dims[k];
    if (k == 0) {
        flush(c);
        nml_opt_copy(c->dst, c->src, n);
        c->dst += n;
        c->src += n;
    } else {
        for (uint32_t i = 0; i < n; i++)
            write_level(d, k - 1, c);
    }
    c->pending += d->after[k];
}

static nml_status opt_pad_eval(nml_ctx *ctx, nml_node *node) {
    const opt_pad *d = node->data;
    const nml_tensor *value = nml_node_input(ctx, node, 2);
    cursor c = {nml_node_output(ctx, node, 0)->data, nml_node_input(ctx, node, 0)->data, 0,
                value ? *(const uint8_t *)value->data : d->value};
    write_level(d, d->rank - 1, &c);
    flush(&c);
    return NML_OK;
}

const nml_kernel nml_kernel_pad_opt = {NML_OP_PAD, "PAD", opt_pad_prepare, opt_pad_eval};
const nml_kernel nml_kernel_padv2_opt = {NML_OP_PADV2, "PADV2", opt_pad_prepare, opt_pad_eval};
const nml_kernel nml_kernel_pad_opt_int8 = {NML_OP_PAD, "PAD", opt_pad_prepare_int8, opt_pad_eval};
const nml_kernel nml_kernel_padv2_opt_int8 = {NML_OP_PADV2, "PADV2", opt_padv2_prepare_int8,
                                              opt_pad_eval};
