/* The host-side model IR: an editable, owning, in-memory form of a TFLite model (one subgraph).
 * Every host path meets here: the trainer exports to it, the ONNX importer produces it, the
 * compression passes rewrite it, the .tflite reader fills it and the writer serializes it.
 * To run an IR, serialize it (nml_ir_to_tflite) and load the bytes in the runtime: one
 * execution engine, no second interpreter to keep consistent. Host only (uses malloc).
 *
 * Ownership: every pointer inside an nml_ir is owned by it and freed by nml_ir_free. Functions
 * that take data copy it. Code may edit the public fields directly (e.g. change a tensor's type
 * together with its data via nml_ir_set_data); nml_ir_validate checks the result, and the writer
 * validates before it serializes. On failure the functions leave the IR unchanged unless they
 * say otherwise. */
#ifndef NANOML_IR_H
#define NANOML_IR_H

#include <stddef.h>
#include <stdint.h>

#include "nanoml/ops.h"
#include "nanoml/status.h"
#include "nanoml/types.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct nml_ir_tensor {
    char *name;                  /* owned, never NULL */
    int type;                    /* nml_dtype */
    int rank;
    int32_t dims[NML_MAX_RANK];
    uint8_t *data;               /* owned constant data (NULL for activations) */
    size_t data_bytes;
    /* quantization: n_q == 0 none, 1 per-tensor, > 1 per-channel along q_dim */
    uint32_t n_q;
    float *scales;               /* owned, n_q entries */
    int64_t *zero_points;        /* owned, n_q entries */
    int32_t q_dim;
    int is_variable;
    /* packed weights (nanoml/pack.h, docs/packed-weights.md): the owned record written to
     * QuantizationParameters.details, or NULL. When set, `data` holds the encoding the record
     * describes (data_bytes long) instead of the dense tensor; type, shape and quantization
     * stay the logical ones. nml_ir_set_data drops the record. */
    uint8_t *pack;
    size_t pack_bytes;
} nml_ir_tensor;

typedef struct nml_ir_op {
    int32_t builtin;             /* nml_op; NML_OP_CUSTOM with custom_code for custom ops */
    char *custom_code;           /* owned or NULL */
    /* Operator version for OperatorCode. 1 after nml_ir_add_op; the writer writes
     * max(version, nml_ir_op_min_version()) so types and options always get a version that
     * TFLite runtimes accept; set it higher to force a newer version. */
    int32_t version;
    int n_inputs, n_outputs;
    int32_t inputs[NML_MAX_OP_INPUTS];   /* tensor indices, -1 = absent optional input */
    int32_t outputs[NML_MAX_OP_OUTPUTS];
    nml_op_params params;
    uint8_t *custom_options;     /* owned or NULL */
    size_t custom_options_bytes;
    char *name;                  /* owned or NULL: where the op came from (layer, ONNX node) */
} nml_ir_op;

typedef struct nml_ir_metadata {
    char *name;                  /* owned */
    uint8_t *data;               /* owned */
    size_t bytes;
} nml_ir_metadata;

typedef struct nml_ir {
    nml_ir_tensor *tensors;
    int n_tensors, cap_tensors;
    nml_ir_op *ops;              /* in execution order */
    int n_ops, cap_ops;
    int32_t *inputs, *outputs;   /* owned, graph input/output tensor indices */
    int n_inputs, n_outputs;
    char *description;           /* owned or NULL ("nanoml" is written then) */
    nml_ir_metadata *metadata;   /* owned, n_metadata entries */
    int n_metadata;
} nml_ir;

/* ---- container ---- */

void nml_ir_init(nml_ir *ir);
void nml_ir_free(nml_ir *ir); /* frees everything and leaves an empty, initialized IR */

/* Adds a tensor; data (if non-NULL) is copied and must hold exactly the tensor's bytes
 * (nml_ir_tensor_bytes). Returns the new index in *index (may be NULL). */
nml_status nml_ir_add_tensor(nml_ir *ir, const char *name, int type, int rank,
                             const int32_t *dims, const void *data, size_t data_bytes,
                             int *index, nml_error *err);
/* Sets (copies) quantization parameters of tensor t. n_q == 0 removes them; n_q > 1 must equal
 * dims[q_dim]. zero_points may be NULL (all zero). */
nml_status nml_ir_set_quant(nml_ir *ir, int t, uint32_t n_q, const float *scales,
                            const int64_t *zero_points, int32_t q_dim, nml_error *err);
/* Replaces tensor t's type and constant data (copied; NULL/0 makes it an activation). The byte
 * count must match the tensor's shape in the new type. */
nml_status nml_ir_set_data(nml_ir *ir, int t, int type, const void *data, size_t data_bytes,
                           nml_error *err);
/* Makes tensor t (int8 or int4) hold packed weights: the record and its encoded data (both
 * copied), checked completely (header against shape, type and data size; bitmask counts, gap
 * stream and index ranges). Replaces data and any previous record. */
nml_status nml_ir_set_packed(nml_ir *ir, int t, const void *record, size_t record_bytes,
                             const void *data, size_t data_bytes, nml_error *err);
/* Appends an operator; inputs/outputs are copied, params may be NULL (defaults). */
nml_status nml_ir_add_op(nml_ir *ir, int32_t builtin, const nml_op_params *params,
                         int n_inputs, const int32_t *inputs, int n_outputs,
                         const int32_t *outputs, int *index, nml_error *err);
/* Inserts an operator before position pos (0..n_ops) in execution order. */
nml_status nml_ir_insert_op(nml_ir *ir, int pos, int32_t builtin, const nml_op_params *params,
                            int n_inputs, const int32_t *inputs, int n_outputs,
                            const int32_t *outputs, int *index, nml_error *err);
/* Removes operator i (tensors stay; see nml_ir_compact). */
nml_status nml_ir_remove_op(nml_ir *ir, int i, nml_error *err);
/* Sets (copies) an operator's name / custom code and options. */
nml_status nml_ir_set_op_name(nml_ir *ir, int op, const char *name, nml_error *err);
nml_status nml_ir_set_custom(nml_ir *ir, int op, const char *custom_code, const void *options,
                             size_t options_bytes, nml_error *err);
nml_status nml_ir_set_io(nml_ir *ir, int n_inputs, const int32_t *inputs, int n_outputs,
                         const int32_t *outputs, nml_error *err);
nml_status nml_ir_set_description(nml_ir *ir, const char *description, nml_error *err);
/* Adds a metadata entry (name + bytes, copied); written as Model.metadata with its own buffer. */
nml_status nml_ir_add_metadata(nml_ir *ir, const char *name, const void *data, size_t bytes,
                               nml_error *err);

/* Deep copy into dst (which is initialized by the call; free it with nml_ir_free). */
nml_status nml_ir_clone(nml_ir *dst, const nml_ir *src, nml_error *err);

/* ---- queries ---- */

/* Element count of a tensor's shape (1 for rank 0; 0 if any dimension is <= 0). */
uint64_t nml_ir_tensor_count(const nml_ir_tensor *t);
/* Storage bytes of the tensor's shape in its type (INT4 packed); errors for unknown or
 * variable-size types, negative dimensions and overflow. */
nml_status nml_ir_tensor_bytes(const nml_ir_tensor *t, size_t *bytes, nml_error *err);
/* Index of the first tensor with this name, or -1. */
int nml_ir_find_tensor(const nml_ir *ir, const char *name);
/* Index of the operator that writes tensor t, or -1 (graph input, constant or unused). */
int nml_ir_producer(const nml_ir *ir, int32_t t);
/* Number of reads of tensor t: operator inputs plus graph outputs. */
int nml_ir_count_uses(const nml_ir *ir, int32_t t);
/* 1 when tensor t is one of the graph's inputs or outputs, else 0. */
int nml_ir_is_graph_io(const nml_ir *ir, int32_t t);
/* Checks the whole IR: indices in range, shapes and types valid, constant data sizes,
 * quantization vectors, every tensor written at most once. Messages name the tensor/op. */
nml_status nml_ir_validate(const nml_ir *ir, nml_error *err);
/* The lowest operator version TFLite defines for this operator's input/output types and
 * options (after TFLite's op_version rules), e.g. 3 for an int8 CONV_2D, 4 for an int8
 * FULLY_CONNECTED. */
int32_t nml_ir_op_min_version(const nml_ir *ir, const nml_ir_op *op);

/* ---- rewriting ---- */

/* Makes every read of tensor old_t (operator inputs and graph outputs) read new_t instead,
 * except in operator except_op (-1: none), e.g. when that operator computes new_t from old_t.
 * Returns the number of replaced references. */
int nml_ir_replace_uses(nml_ir *ir, int32_t old_t, int32_t new_t, int except_op);
/* Removes operators whose outputs nobody reads (repeatedly, so chains go too). Returns the
 * number removed. */
int nml_ir_remove_dead_ops(nml_ir *ir);
/* Removes tensors no operator and no graph input/output refers to and renumbers the rest
 * (order kept). */
nml_status nml_ir_compact(nml_ir *ir, nml_error *err);
/* Empties the name of every tensor that is not a graph input or output (the signature names
 * those), so the writer leaves the names out of the file: the runtimes address tensors by index
 * and never need them, and for ONNX imports they are most of the file's strings. Returns the
 * number of names dropped. */
int nml_ir_drop_tensor_names(nml_ir *ir);

/* ---- .tflite ---- */

/* Reads a .tflite flatbuffer into an IR (initialized by the call; freed again on failure). The
 * runtime loader verifies the bytes first, so malformed files fail with its message. Reads
 * tensors (data, per-tensor/per-channel quantization, variables), operators (decoded options,
 * versions, custom codes and options), graph inputs/outputs, description and metadata. Models
 * with more than one subgraph are refused. Unaligned bytes are copied first. */
nml_status nml_ir_from_tflite(nml_ir *ir, const uint8_t *data, size_t size, nml_error *err);

/* Serializes to a standard TFLite flatbuffer (schema v3, identifier "TFL3", buffer 0 empty,
 * one buffer per constant tensor with its data 16-byte aligned, operator versions from
 * nml_ir_op_min_version, a "serving_default" signature over the graph inputs/outputs).
 * Validates first. *out is malloc'd and 16-byte aligned; free() it. */
nml_status nml_ir_to_tflite(const nml_ir *ir, uint8_t **out, size_t *size, nml_error *err);

#ifdef __cplusplus
}
#endif
#endif
