/* INT4 tensors as TFLite stores them: two signed 4-bit values per byte, element 2k in the low
 * nibble of byte k and element 2k + 1 in the high nibble (tflite::tensor_utils::
 * UnpackDenseInt4IntoInt8); an odd element count leaves the last high nibble unused. Packing is
 * over the flattened tensor, so a row of a per-channel filter may start in the middle of a
 * byte. */
#ifndef NANOML_RUNTIME_KERNELS_INT4_H
#define NANOML_RUNTIME_KERNELS_INT4_H

#include <stdint.h>

/* Element i of a packed int4 buffer, sign-extended to [-8, 7]. */
static inline int32_t nml_int4_get(const uint8_t *packed, uint32_t i) {
    const uint32_t byte = packed[i >> 1];
    const uint32_t nibble = (i & 1u) ? (byte >> 4) : (byte & 0x0fu);
    return (int32_t)nibble - (int32_t)((nibble & 8u) << 1);
}

/* Elements first .. first + n - 1 of a packed int4 buffer into n int8 values. */
static inline void nml_int4_unpack(const uint8_t *packed, uint32_t first, uint32_t n, int8_t *out) {
    for (uint32_t k = 0; k < n; k++)
        out[k] = (int8_t)nml_int4_get(packed, first + k);
}

#endif
