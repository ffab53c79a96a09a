/* Byte moves for the optimized data-movement kernels (GATHER, PAD, CONCATENATION). picolibc's
 * size-optimized memcpy and memset move one byte per iteration (6 and 4 instructions per byte
 * on RV32); these move aligned words where both pointers allow it and unrolled bytes
 * elsewhere. The buffers must not overlap. */
#ifndef NANOML_KERNELS_OPT_COPY_H
#define NANOML_KERNELS_OPT_COPY_H

#include <stdint.h>

/* Word access to byte buffers (int8 tensors): may_alias tells gcc and clang that a uint32_t
 * store may change int8 data and the other way round. Other compilers move bytes. */
#if defined(__GNUC__)
#define NML_OPT_WORDS 1
typedef uint32_t __attribute__((may_alias)) nml_opt_word;
#else
#define NML_OPT_WORDS 0
#endif

void nml_opt_copy(void *dst, const void *src, uint32_t n);
void nml_opt_fill(void *dst, uint8_t value, uint32_t n);

#endif
