/* An ONNX model (ModelProto) parsed into plain owning C structures: the graph's nodes,
 * initializers, inputs/outputs/value_info with shapes, node attributes and opset imports.
 * Only what an importer needs is kept; everything else (doc strings, metadata, training info,
 * sub-graph bodies) is skipped. Tensor data is decoded to little-endian element arrays whatever
 * the field it was stored in (raw_data or a typed repeated field). */
#ifndef NANOML_ONNX_MODEL_H
#define NANOML_ONNX_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "nanoml/status.h"

#define NML_ONNX_MAX_RANK 8
/* Counts per graph, checked while parsing. They bound the memory a small hostile file can make
 * the parser and importer allocate (the importer keeps about 1.3 KiB per value: a 3-byte output
 * name would otherwise cost 400 times its size) and lie far above real models (FastestDet:
 * 211 nodes, 406 values); nanoml's runtime runs at most NML_MAX_OPERATORS operators. */
#define NML_ONNX_MAX_NODES 65536
#define NML_ONNX_MAX_VALUES 65536     /* initializers + graph inputs + node outputs */
#define NML_ONNX_MAX_VALUE_INFOS 65536 /* graph outputs, and value_info entries (each) */
#define NML_ONNX_MAX_ATTRIBUTES 1024  /* per node */

/* TensorProto.DataType */
typedef enum nml_onnx_dtype {
    NML_ONNX_UNDEFINED = 0,
    NML_ONNX_FLOAT = 1,
    NML_ONNX_UINT8 = 2,
    NML_ONNX_INT8 = 3,
    NML_ONNX_UINT16 = 4,
    NML_ONNX_INT16 = 5,
    NML_ONNX_INT32 = 6,
    NML_ONNX_INT64 = 7,
    NML_ONNX_STRING = 8,
    NML_ONNX_BOOL = 9,
    NML_ONNX_FLOAT16 = 10,
    NML_ONNX_DOUBLE = 11,
    NML_ONNX_UINT32 = 12,
    NML_ONNX_UINT64 = 13
} nml_onnx_dtype;

/* AttributeProto.AttributeType */
typedef enum nml_onnx_attr_type {
    NML_ONNX_ATTR_UNDEFINED = 0,
    NML_ONNX_ATTR_FLOAT = 1,
    NML_ONNX_ATTR_INT = 2,
    NML_ONNX_ATTR_STRING = 3,
    NML_ONNX_ATTR_TENSOR = 4,
    NML_ONNX_ATTR_GRAPH = 5,
    NML_ONNX_ATTR_FLOATS = 6,
    NML_ONNX_ATTR_INTS = 7,
    NML_ONNX_ATTR_STRINGS = 8,
    NML_ONNX_ATTR_TENSORS = 9,
    NML_ONNX_ATTR_GRAPHS = 10,
    NML_ONNX_ATTR_SPARSE_TENSOR = 11,
    NML_ONNX_ATTR_SPARSE_TENSORS = 12
} nml_onnx_attr_type;

typedef struct nml_onnx_tensor {
    char *name; /* owned, "" when unnamed */
    int dtype;  /* nml_onnx_dtype */
    int rank;
    int64_t dims[NML_ONNX_MAX_RANK];
    uint64_t count; /* product of dims */
    uint8_t *data;  /* owned: count elements, little-endian, elem size */
    size_t bytes;
} nml_onnx_tensor;

typedef struct nml_onnx_attr {
    char *name; /* owned */
    int type;   /* nml_onnx_attr_type */
    float f;
    int64_t i;
    char *s; /* owned, NUL-terminated (may hold NULs: s_len counts) */
    size_t s_len;
    nml_onnx_tensor *t; /* owned or NULL */
    float *floats;
    size_t n_floats;
    int64_t *ints;
    size_t n_ints;
    size_t n_strings; /* STRINGS: only counted */
} nml_onnx_attr;

typedef struct nml_onnx_node {
    char *name;    /* owned, "" when unnamed */
    char *op_type; /* owned */
    char *domain;  /* owned, "" for the default ONNX domain */
    char **inputs; /* owned; "" = absent optional input */
    size_t n_inputs;
    char **outputs;
    size_t n_outputs;
    nml_onnx_attr *attrs;
    size_t n_attrs;
} nml_onnx_node;

typedef struct nml_onnx_value_info {
    char *name;
    int elem_type; /* nml_onnx_dtype, 0 when not a tensor type */
    int has_shape;
    int rank;
    int64_t dims[NML_ONNX_MAX_RANK]; /* -1 for symbolic or unknown dimensions */
} nml_onnx_value_info;

typedef struct nml_onnx_opset {
    char *domain; /* "" or "ai.onnx" for the default domain */
    int64_t version;
} nml_onnx_opset;

typedef struct nml_onnx_graph {
    char *name;
    nml_onnx_node *nodes;
    size_t n_nodes;
    nml_onnx_tensor *initializers;
    size_t n_initializers;
    nml_onnx_value_info *inputs, *outputs, *value_info;
    size_t n_inputs, n_outputs, n_value_info;
} nml_onnx_graph;

typedef struct nml_onnx_model {
    int64_t ir_version;
    char *producer_name, *producer_version;
    nml_onnx_opset *opsets;
    size_t n_opsets;
    nml_onnx_graph graph;
} nml_onnx_model;

/* Parses a serialized ModelProto. Errors name the element and the byte offset. */
nml_status nml_onnx_parse(nml_onnx_model *model, const uint8_t *data, size_t size, nml_error *err);
void nml_onnx_free(nml_onnx_model *model);

/* Version of the default-domain opset the model imports (0 if none). */
int64_t nml_onnx_opset_version(const nml_onnx_model *model);

/* Bytes per element of an ONNX data type (0 for strings and unknown types). */
size_t nml_onnx_dtype_size(int dtype);
const char *nml_onnx_dtype_name(int dtype);

/* Attribute lookup on a node (NULL if absent). */
const nml_onnx_attr *nml_onnx_attr_find(const nml_onnx_node *node, const char *name);

#endif
