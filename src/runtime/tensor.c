/* Tensor helpers. Per-channel quantization vectors stay in the model buffer as raw
 * little-endian bytes; these read them without assuming alignment. */
#include <string.h>

#include "nanoml/runtime.h"
#include "outline.h"

/* these two not inlined: LTO copied them into every requantization setup (FastestDet --lto:
 * 16 B less) */
NML_OUTLINE float nml_tensor_channel_scale(const nml_tensor *t, uint32_t channel) {
    if (!t->q_scales || channel >= t->n_q) return t->scale;
    float v;
    memcpy(&v, t->q_scales + 4u * channel, sizeof v);
    return v;
}

NML_OUTLINE int32_t nml_tensor_channel_zero_point(const nml_tensor *t, uint32_t channel) {
    if (!t->q_zero_points || channel >= t->n_q) return t->zero_point;
    int64_t v;
    memcpy(&v, t->q_zero_points + 8u * channel, sizeof v);
    return (int32_t)v;
}

uint32_t nml_tensor_count(const nml_tensor *t) {
    uint32_t n = 1;
    for (uint32_t i = 0; i < t->rank; i++) n *= (uint32_t)t->dims[i];
    return n;
}

size_t nml_format_dims(char *buf, size_t cap, const int32_t *dims, int rank) {
    if (cap) buf[0] = '\0';
    if (rank == 0) return nml_format(buf, cap, "scalar");
    size_t n = 0;
    for (int i = 0; i < rank && n + 1 < cap; i++)
        n += nml_format(buf + n, cap - n, i ? "x%d" : "%d", (int)dims[i]);
    return n;
}

size_t nml_format_shape(char *buf, size_t cap, const nml_tensor *t) {
    return nml_format_dims(buf, cap, t->dims, t->rank);
}
