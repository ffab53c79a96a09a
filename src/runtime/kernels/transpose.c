/* TRANSPOSE by a constant permutation (int32 or int64), rank <= 6, any element type:
 * output dimension i is input dimension perm[i]. */
#include "elem_common.h"
#include "kernels.h"

typedef struct transpose_data {
    int32_t rank;
    int32_t dims[NML_MAX_RANK];    /* output dims */
    int32_t strides[NML_MAX_RANK]; /* input element stride of each output dim */
    size_t esize;
} transpose_data;

static nml_status transpose_prepare(nml_ctx *ctx, nml_node *node, const nml_op_params *p) {
    (void)p;
    NML_TRY(nml_check_io_count(ctx, node, 2, 2, 1));
    nml_tensor *in = nml_node_input(ctx, node, 0), *perm_t = nml_node_input(ctx, node, 1);
    nml_tensor *out = nml_node_output(ctx, node, 0);
    if (!in) return nml_kernel_fail(ctx, node, NML_E_FORMAT, "input is missing");
    transpose_data *d;
    NML_TRY(nml_alloc_node_data(ctx, node, sizeof *d, (void **)&d));
    NML_TRY(nml_elem_size(ctx, node, in, "input", &d->esize));
    NML_TRY(nml_check_same_quant(ctx, node, in, out, "input", "output"));
    int32_t perm[NML_MAX_RANK];
    uint32_t n;
    NML_TRY(nml_read_const_ints(ctx, node, perm_t, "perm", perm, NML_MAX_RANK, &n));
    int rank = in->rank;
    if (n != (uint32_t)rank)
        return nml_kernel_fail(ctx, node, NML_E_SHAPE, "perm has %u entries, input has rank %d",
                               (unsigned)n, rank);
    int32_t in_stride[NML_MAX_RANK];
    int32_t s = 1;
    for (int i = rank - 1; i >= 0; i--) {
        in_stride[i] = s;
        s *= in->dims[i];
    }
    unsigned seen = 0;
    for (int i = 0; i < rank; i++) {
        if (perm[i] < 0 || perm[i] >= rank || (seen & (1u << perm[i])))
            return nml_kernel_fail(ctx, node, NML_E_FORMAT,
                                   "perm is not a permutation of 0..%d (entry %d is %d)", rank - 1,
                                   i, (int)perm[i]);
        seen |= 1u << perm[i];
        d->dims[i] = in->dims[perm[i]];
        d->strides[i] = in_stride[perm[i]];
    }
    d->rank = rank;
    return nml_check_shape(ctx, node, out, "output", d->dims, rank);
}

static nml_status transpose_eval(nml_ctx *ctx, nml_node *node) {
    const transpose_data *d = node->data;
    nml_copy_strided(nml_node_output(ctx, node, 0)->data, nml_node_input(ctx, node, 0)->data,
                     d->esize, d->rank, d->dims, d->strides, 0);
    return NML_OK;
}

const nml_kernel nml_kernel_transpose = {NML_OP_TRANSPOSE, "TRANSPOSE", transpose_prepare,
                                         transpose_eval};
