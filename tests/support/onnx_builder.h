/* A tiny protobuf/ONNX encoder for tests: builds ModelProto bytes by hand so importer tests
 * can describe small graphs in a few lines. Field numbers are onnx.proto's. Allocation
 * failures abort the test (this is test code). */
#ifndef NML_TEST_ONNX_BUILDER_H
#define NML_TEST_ONNX_BUILDER_H

#include <stddef.h>
#include <stdint.h>

typedef struct ob_buf {
    uint8_t *d;
    size_t n, cap;
} ob_buf;

void ob_free(ob_buf *b);
void ob_raw(ob_buf *b, const void *p, size_t n);
void ob_varint(ob_buf *b, uint64_t v);
void ob_tag(ob_buf *b, uint32_t field, int wire);
void ob_int(ob_buf *b, uint32_t field, int64_t v);
void ob_fixed32(ob_buf *b, uint32_t field, float v);
void ob_bytes(ob_buf *b, uint32_t field, const void *p, size_t n);
void ob_str(ob_buf *b, uint32_t field, const char *s);
/* Appends child as a length-delimited field and frees it. */
void ob_msg(ob_buf *b, uint32_t field, ob_buf *child);

/* Attributes go into an ob_buf of concatenated AttributeProto fields (field 5 of NodeProto). */
void ob_attr_int(ob_buf *attrs, const char *name, int64_t v);
void ob_attr_float(ob_buf *attrs, const char *name, float v);
void ob_attr_str(ob_buf *attrs, const char *name, const char *v);
void ob_attr_ints(ob_buf *attrs, const char *name, const int64_t *v, int n);

/* A node; inputs/outputs are NULL-terminated lists ("" = absent optional input). attrs may be
 * NULL and is consumed. */
void ob_node(ob_buf *graph, const char *op, const char *name, const char *const *inputs,
             const char *const *outputs, ob_buf *attrs);
/* Initializers with raw_data. */
void ob_init_f32(ob_buf *graph, const char *name, int rank, const int64_t *dims, const float *v);
void ob_init_i64(ob_buf *graph, const char *name, int rank, const int64_t *dims, const int64_t *v);
/* Graph input (field 11) or output (field 12) of type float with a fixed shape (rank < 0: no
 * shape given). */
void ob_io(ob_buf *graph, int output, const char *name, int rank, const int64_t *dims);
/* Wraps a graph into a ModelProto (ir_version 7, default-domain opset). Consumes graph. */
void ob_model(ob_buf *model, int64_t opset, ob_buf *graph);

#endif
