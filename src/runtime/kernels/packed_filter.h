/* Packed filters (packed.h) in the CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED kernels:
 * parsed once at prepare, then decoded one output channel at a time into the node scratch as
 * the list of its non-zero weights (positions and values), which the kernels loop over so that
 * pruned weights cost neither flash nor multiplications. The integer sums are the dense
 * kernel's sums without their zero terms, so the outputs are bit-identical. */
#ifndef NANOML_KERNELS_PACKED_FILTER_H
#define NANOML_KERNELS_PACKED_FILTER_H

#include <stddef.h>
#include <stdint.h>

#include "kernel.h"
#include "packed_weak.h" /* packed.c is linked only for models with packed weights */

/* Parses the filter's record into persistent memory after checking that its rows run along
 * `axis` (the output channels) and are short enough for 16-bit positions. Activations must be
 * int8 (there is no packed hybrid path). */
nml_status nml_packed_filter_prepare(nml_ctx *ctx, const nml_node *node, const nml_tensor *input,
                                     const nml_tensor *filter, uint32_t axis,
                                     const nml_packed **out);

/* Scratch for one decoded row of row_len elements: positions (uint16), then values (int8). */
static inline size_t nml_packed_row_scratch(uint32_t row_len) {
    return (size_t)row_len * 3u;
}

/* The two arrays inside that scratch. */
static inline uint16_t *nml_packed_row_index(void *scratch) {
    return (uint16_t *)scratch;
}
static inline int8_t *nml_packed_row_values(void *scratch, uint32_t row_len) {
    return (int8_t *)scratch + (size_t)row_len * 2u;
}

#endif
