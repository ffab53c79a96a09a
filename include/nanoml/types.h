/* Element types and explicit limits shared by the runtime and the host libraries.
 * The numeric values of nml_dtype are TFLite's TensorType values, so they can be stored
 * in and read from .tflite files unchanged. */
#ifndef NANOML_TYPES_H
#define NANOML_TYPES_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum nml_dtype {
    NML_FLOAT32 = 0,
    NML_FLOAT16 = 1,
    NML_INT32 = 2,
    NML_UINT8 = 3,
    NML_INT64 = 4,
    NML_STRING = 5,
    NML_BOOL = 6,
    NML_INT16 = 7,
    NML_COMPLEX64 = 8,
    NML_INT8 = 9,
    NML_FLOAT64 = 10,
    NML_INT4 = 17
} nml_dtype;

/* Explicit limits: exceeding any of them is an NML_E_LIMIT error, never undefined behaviour. */
#define NML_MAX_RANK 6                      /* dimensions per tensor */
#define NML_MAX_DIM 0x7fffffff              /* largest single dimension */
#define NML_MAX_TENSOR_BYTES 0x7fffffffu    /* largest tensor in bytes (2 GiB - 1) */
#define NML_MAX_MODEL_BYTES 0x7fffffffu     /* flatbuffers address 31 bits */
#define NML_MAX_OP_INPUTS 16                /* inputs per operator (CONCATENATION may have many) */
#define NML_MAX_OP_OUTPUTS 16               /* outputs per operator (SPLIT) */
#define NML_MAX_TENSORS 8192                /* tensors per subgraph (yolov8n has 412) */
#define NML_MAX_OPERATORS 8192              /* operators per subgraph (yolov8n has 255) */
/* The tensor and operator bounds keep memory planning (quadratic in the number of buffers) to
 * about a second on the host for the most hostile model, whatever the file size. The .tflite
 * reader does not recurse (its nesting depth is fixed by the schema walk), so it needs no depth
 * limit; readers of recursive formats (ONNX protobuf) define their own. */

/* Bytes per element, 0 for types without a fixed element size (string) or unknown types.
 * INT4 reports 0 too: use nml_dtype_bytes_for() for packed sizes. */
size_t nml_dtype_size(int dtype);

/* Storage bytes for `count` elements of dtype (INT4 packs two per byte, rounded up).
 * Returns 0 and sets *ok = 0 for unknown types or when the product overflows. */
size_t nml_dtype_bytes_for(int dtype, uint64_t count, int *ok);

/* "float32", "int8", ...; "unknown" for other values. */
const char *nml_dtype_name(int dtype);

#ifdef __cplusplus
}
#endif
#endif
