#include "nanoml/types.h"

#include "outline.h"

/* not inlined: LTO copied it into the loader and the kernels (FastestDet --lto: 18 B less) */
NML_OUTLINE size_t nml_dtype_size(int dtype) {
    switch (dtype) {
    case NML_FLOAT32: return 4;
    case NML_FLOAT16: return 2;
    case NML_INT32: return 4;
    case NML_UINT8: return 1;
    case NML_INT64: return 8;
    case NML_BOOL: return 1;
    case NML_INT16: return 2;
    case NML_COMPLEX64: return 8;
    case NML_INT8: return 1;
    case NML_FLOAT64: return 8;
    default: return 0;
    }
}

size_t nml_dtype_bytes_for(int dtype, uint64_t count, int *ok) {
    *ok = 1;
#ifndef NML_NO_INT4 /* else the loader refused int4 tensors, and nothing sizes them */
    if (dtype == NML_INT4) {
        uint64_t bytes = count / 2 + (count & 1);
        if (bytes > NML_MAX_TENSOR_BYTES) *ok = 0;
        return *ok ? (size_t)bytes : 0;
    }
#endif
    size_t es = nml_dtype_size(dtype);
    if (es == 0 || count > NML_MAX_TENSOR_BYTES / es) {
        *ok = 0;
        return 0;
    }
    return (size_t)(count * es);
}

const char *nml_dtype_name(int dtype) {
    switch (dtype) {
    case NML_FLOAT32: return "float32";
    case NML_FLOAT16: return "float16";
    case NML_INT32: return "int32";
    case NML_UINT8: return "uint8";
    case NML_INT64: return "int64";
    case NML_STRING: return "string";
    case NML_BOOL: return "bool";
    case NML_INT16: return "int16";
    case NML_COMPLEX64: return "complex64";
    case NML_INT8: return "int8";
    case NML_FLOAT64: return "float64";
    case NML_INT4: return "int4";
    default: return "unknown";
    }
}
