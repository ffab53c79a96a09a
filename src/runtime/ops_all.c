/* The tables of every kernel the runtime has: nml_ops_all() (optimized kernels where there
 * are some) and nml_ops_reference() (the reference kernels only, the bit-exact oracle). Firmware
 * that wants only some kernels builds its own nml_op_resolver (see nanoml export) so the rest
 * is not linked. */
#include "kernels/kernels.h"
#include "packed.h"

/* every kernel includes the packed-weights paths of CONV_2D, DEPTHWISE_CONV_2D and
 * FULLY_CONNECTED, so these tables link packed.c (packed_weak.h) */
NML_LINK_PACKED_WEIGHTS(nml_ops_all_packed_weights);

/* nml_ops_all(): the N_OPTIMIZED optimized kernels are found first */
#define N_OPTIMIZED 14
static const nml_kernel *const all_kernels[] = {
    &nml_kernel_add_opt,
    &nml_kernel_average_pool_2d_opt,
    &nml_kernel_concatenation_opt,
    &nml_kernel_gather_opt,
    &nml_kernel_max_pool_2d_opt,
    &nml_kernel_pad_opt,
    &nml_kernel_padv2_opt,
    &nml_kernel_quantize_opt,
    &nml_kernel_conv_2d_opt,
    &nml_kernel_depthwise_conv_2d_opt,
    &nml_kernel_fully_connected_opt,
    &nml_kernel_logistic_opt,
    &nml_kernel_softmax_opt,
    &nml_kernel_tanh_opt,
    &nml_kernel_add,
    &nml_kernel_average_pool_2d,
    &nml_kernel_concatenation,
    &nml_kernel_conv_2d,
    &nml_kernel_depthwise_conv_2d,
    &nml_kernel_dequantize,
    &nml_kernel_expand_dims,
    &nml_kernel_fully_connected,
    &nml_kernel_gather,
    &nml_kernel_hard_swish,
    &nml_kernel_leaky_relu,
    &nml_kernel_logistic,
    &nml_kernel_max_pool_2d,
    &nml_kernel_maximum,
    &nml_kernel_mean,
    &nml_kernel_minimum,
    &nml_kernel_mul,
    &nml_kernel_pad,
    &nml_kernel_padv2,
    &nml_kernel_quantize,
    &nml_kernel_reduce_max,
    &nml_kernel_relu,
    &nml_kernel_relu6,
    &nml_kernel_reshape,
    &nml_kernel_resize_bilinear,
    &nml_kernel_resize_nearest_neighbor,
    &nml_kernel_slice,
    &nml_kernel_softmax,
    &nml_kernel_split,
    &nml_kernel_split_v,
    &nml_kernel_squeeze,
    &nml_kernel_strided_slice,
    &nml_kernel_sub,
    &nml_kernel_sum,
    &nml_kernel_tanh,
    &nml_kernel_transpose,
};

static const nml_op_resolver all_ops = {all_kernels,
                                        (uint32_t)(sizeof all_kernels / sizeof all_kernels[0])};
/* the same table without the optimized kernels in front */
static const nml_op_resolver reference_ops = {
    all_kernels + N_OPTIMIZED,
    (uint32_t)(sizeof all_kernels / sizeof all_kernels[0]) - N_OPTIMIZED};

const nml_op_resolver *nml_ops_all(void) {
    return &all_ops;
}

const nml_op_resolver *nml_ops_reference(void) {
    return &reference_ops;
}

/* Leaner variants of the optimized kernels, leanest first per operator. */
typedef struct variant {
    const nml_kernel *kernel;
    const char *symbol;
} variant;

static const variant variants[] = {
    {&nml_kernel_add_opt_int8, "nml_kernel_add_opt_int8"},
    {&nml_kernel_average_pool_2d_opt_int8, "nml_kernel_average_pool_2d_opt_int8"},
    {&nml_kernel_concatenation_opt_int8, "nml_kernel_concatenation_opt_int8"},
    {&nml_kernel_gather_opt_strided, "nml_kernel_gather_opt_strided"},
    {&nml_kernel_max_pool_2d_opt_int8, "nml_kernel_max_pool_2d_opt_int8"},
    {&nml_kernel_pad_opt_int8, "nml_kernel_pad_opt_int8"},
    {&nml_kernel_padv2_opt_int8, "nml_kernel_padv2_opt_int8"},
    {&nml_kernel_quantize_opt_int8, "nml_kernel_quantize_opt_int8"},
    {&nml_kernel_conv_2d_opt_lean, "nml_kernel_conv_2d_opt_lean"},
    {&nml_kernel_conv_2d_opt_lean_c1, "nml_kernel_conv_2d_opt_lean_c1"},
    {&nml_kernel_conv_2d_opt_int8, "nml_kernel_conv_2d_opt_int8"},
    {&nml_kernel_depthwise_conv_2d_opt_rows, "nml_kernel_depthwise_conv_2d_opt_rows"},
    {&nml_kernel_depthwise_conv_2d_opt_rows5, "nml_kernel_depthwise_conv_2d_opt_rows5"},
    {&nml_kernel_depthwise_conv_2d_opt_planes, "nml_kernel_depthwise_conv_2d_opt_planes"},
    {&nml_kernel_depthwise_conv_2d_opt_blocks, "nml_kernel_depthwise_conv_2d_opt_blocks"},
    {&nml_kernel_depthwise_conv_2d_opt_int8, "nml_kernel_depthwise_conv_2d_opt_int8"},
    {&nml_kernel_fully_connected_opt_narrow, "nml_kernel_fully_connected_opt_narrow"},
    {&nml_kernel_fully_connected_opt_int8, "nml_kernel_fully_connected_opt_int8"},
    {&nml_kernel_logistic_opt_int8, "nml_kernel_logistic_opt_int8"},
    {&nml_kernel_softmax_opt_int8, "nml_kernel_softmax_opt_int8"},
    {&nml_kernel_tanh_opt_int8, "nml_kernel_tanh_opt_int8"},
};

const nml_kernel *nml_kernel_variant(int32_t builtin, uint32_t i, const char **symbol) {
    for (size_t k = 0; k < sizeof variants / sizeof variants[0]; k++) {
        if (variants[k].kernel->builtin != builtin) continue;
        if (i-- > 0) continue;
        if (symbol) *symbol = variants[k].symbol;
        return variants[k].kernel;
    }
    return NULL;
}
