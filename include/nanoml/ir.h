/* The host-side model IR: an editable, owning, in-memory form of a TFLite model (one subgraph).
 * Every host path meets here: the trainer exports to it, the ONNX importer produces it, the
 * compression passes rewrite it, the .tflite reader fills it and the writer serializes it.
 * To run an IR, serialize it (nml_ir_to_tflite) and load the bytes in the runtime: one
 * execution engine, no second interpreter to keep consistent. Host only (uses malloc). */
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
} nml_ir_tensor;

typedef struct nml_ir_op {
    int32_t builtin;             /* nml_op; NML_OP_CUSTOM with custom_code for custom ops */
    char *custom_code;           /* owned or NULL */
    int32_t version;             /* operator version written to OperatorCode (>= 1) */
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
    char *description;           /* owned or NULL */
    nml_ir_metadata *metadata;   /* owned, n_metadata entries */
    int n_metadata;
} nml_ir;

void nml_ir_init(nml_ir *ir);
void nml_ir_free(nml_ir *ir);

/* Adds a tensor; data (if non-NULL) is copied and must hold exactly the tensor's bytes.
 * Returns the new index in *index. */
nml_status nml_ir_add_tensor(nml_ir *ir, const char *name, int type, int rank,
                             const int32_t *dims, const void *data, size_t data_bytes,
                             int *index, nml_error *err);
/* Sets (copies) quantization parameters of tensor t. */
nml_status nml_ir_set_quant(nml_ir *ir, int t, uint32_t n_q, const float *scales,
                            const int64_t *zero_points, int32_t q_dim, nml_error *err);
/* Appends an operator; inputs/outputs are copied. */
nml_status nml_ir_add_op(nml_ir *ir, int32_t builtin, const nml_op_params *params,
                         int n_inputs, const int32_t *inputs, int n_outputs,
                         const int32_t *outputs, int *index, nml_error *err);
nml_status nml_ir_set_io(nml_ir *ir, int n_inputs, const int32_t *inputs, int n_outputs,
                         const int32_t *outputs, nml_error *err);

/* Deep copy. */
nml_status nml_ir_clone(nml_ir *dst, const nml_ir *src, nml_error *err);

/* Element count and storage bytes of a tensor's shape. */
uint64_t nml_ir_tensor_count(const nml_ir_tensor *t);

/* Reads a .tflite flatbuffer (verified by the runtime's loader) into an IR. */
nml_status nml_ir_from_tflite(nml_ir *ir, const uint8_t *data, size_t size, nml_error *err);

/* Serializes to a standard TFLite flatbuffer (schema v3, identifier "TFL3", buffer 0 empty,
 * constant buffers 16-byte aligned). *out is malloc'd and 16-byte aligned; free() it. */
nml_status nml_ir_to_tflite(const nml_ir *ir, uint8_t **out, size_t *size, nml_error *err);

#ifdef __cplusplus
}
#endif
#endif
