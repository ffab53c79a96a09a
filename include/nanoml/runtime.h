/* The microcontroller runtime: load a .tflite flatbuffer, verify it, plan its memory into one
 * caller-provided arena and run it. No malloc, no stdio, no OS.
 *
 *   nml_model m;           nml_model_load(&m, bytes, size, &err);     // verifies everything once
 *   nml_interpreter it;    nml_interpreter_init(&it, &m, nml_ops_all(), arena, arena_bytes, &err);
 *   nml_tensor *in = nml_input(&it, 0);   ... fill in->data ...
 *   nml_invoke(&it, &err); nml_tensor *out = nml_output(&it, 0);
 *
 * The model bytes must stay alive and unchanged while a model or interpreter uses them; constant
 * tensors are read in place; the nml_model struct must outlive its interpreters too. Model bytes
 * and the arena must be 16-byte aligned. Only subgraph 0 is used. The target must be
 * little-endian (RV32, x86, Arm). */
#ifndef NANOML_RUNTIME_H
#define NANOML_RUNTIME_H

#include <stddef.h>
#include <stdint.h>

#include "nanoml/ops.h"
#include "nanoml/status.h"
#include "nanoml/types.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Tensors ---- */

typedef enum nml_alloc {
    NML_ALLOC_NONE = 0, /* optional input absent, or not yet planned */
    NML_ALLOC_CONST,    /* data points into the model buffer (read only) */
    NML_ALLOC_ARENA,    /* planned activation inside the arena */
    NML_ALLOC_PERSIST   /* variable tensor: own arena region, kept across invokes */
} nml_alloc;

typedef struct nml_tensor {
    void *data;                    /* NULL until planned (arena) or for absent tensors */
    uint32_t bytes;                /* storage bytes (INT4: packed; packed weights: encoded) */
    int32_t dims[NML_MAX_RANK];
    uint8_t type;                  /* nml_dtype */
    uint8_t rank;
    uint8_t alloc;                 /* nml_alloc */
    uint8_t reserved;
    /* quantization: per-tensor values, or channel 0 of a per-channel tensor */
    float scale;                   /* 0 when not quantized */
    int32_t zero_point;
    /* per-channel quantization (n_q > 1): raw little-endian vectors inside the model buffer;
     * read them with nml_tensor_channel_scale() / nml_tensor_channel_zero_point() */
    const uint8_t *q_scales;       /* n_q floats */
    const uint8_t *q_zero_points;  /* n_q int64 (may be NULL: all zero) */
    uint32_t n_q;                  /* 0 not quantized, 1 per-tensor, > 1 per-channel */
    int32_t q_dim;                 /* quantized_dimension (0 unless per-channel) */
    /* packed weights (docs/packed-weights.md): the record inside the model, or NULL for dense
     * data. A packed tensor is a constant int8/int4 weight tensor whose data holds the
     * encoding; `bytes` is then the encoding's size. Only the kernels of CONV_2D,
     * DEPTHWISE_CONV_2D and FULLY_CONNECTED read it (the loader refuses any other use). */
    const uint8_t *pack;
    uint32_t pack_bytes;
    const char *name;              /* NUL-terminated inside the model (verified), or "" */
    /* planner bookkeeping */
    int32_t first_use, last_use;   /* operator indices; -1 when unused */
    uint32_t arena_offset;         /* offset inside the activation region (planned tensors) */
} nml_tensor;

float nml_tensor_channel_scale(const nml_tensor *t, uint32_t channel);
int32_t nml_tensor_channel_zero_point(const nml_tensor *t, uint32_t channel);
/* Product of dims (1 for rank 0). Dimensions were checked at load, so this cannot overflow. */
uint32_t nml_tensor_count(const nml_tensor *t);
/* "1x28x28x1" (or "scalar") into buf; returns the characters written. */
size_t nml_format_dims(char *buf, size_t cap, const int32_t *dims, int rank);
size_t nml_format_shape(char *buf, size_t cap, const nml_tensor *t);

/* ---- Model: a verified view of the flatbuffer (no copies, no allocation) ---- */

typedef struct nml_model {
    const uint8_t *data;
    size_t size;
    uint32_t version;        /* schema version field */
    /* absolute byte offsets inside data of verified tables, and of the first element of
     * verified vectors (0 = absent, count 0) */
    uint32_t model_table;
    uint32_t opcodes_vec;    /* vector of OperatorCode tables */
    uint32_t buffers_vec;    /* vector of Buffer tables */
    uint32_t subgraph_table; /* subgraph 0 */
    uint32_t tensors_vec, operators_vec, inputs_vec, outputs_vec;
    uint32_t n_opcodes, n_buffers, n_subgraphs, n_tensors, n_operators, n_inputs, n_outputs;
} nml_model;

/* Verifies the whole flatbuffer (identifier "TFL3", every offset, vector, string, table and
 * index nanoml uses, tensor sizes against their buffers, operator options) and fills *model.
 * On failure the message names the element, e.g.
 * "tensor 12: buffer 40 out of range (model has 31 buffers)". */
nml_status nml_model_load(nml_model *model, const void *data, size_t size, nml_error *err);

/* Operator i of subgraph 0, as stored in a loaded model. */
typedef struct nml_model_op {
    int32_t builtin;          /* nml_op: max(deprecated_builtin_code, builtin_code) */
    int32_t version;          /* OperatorCode.version */
    const char *custom_code;  /* CUSTOM operators: NUL-terminated inside the model; else NULL */
    const int32_t *inputs;    /* tensor indices inside the model; -1 = optional input absent */
    const int32_t *outputs;
    uint16_t n_inputs, n_outputs;
    uint32_t table;           /* flatbuffer offset of the Operator table */
} nml_model_op;

nml_status nml_model_operator(const nml_model *model, uint32_t i, nml_model_op *op,
                              nml_error *err);
/* Tensor i as the model describes it: shape, type, quantization, name; data points into the
 * model for constant tensors (alloc NML_ALLOC_CONST), variable tensors have alloc
 * NML_ALLOC_PERSIST and activations NML_ALLOC_NONE, both with data NULL. */
nml_status nml_model_tensor(const nml_model *model, uint32_t i, nml_tensor *t, nml_error *err);
/* Operator i's builtin options decoded (schema defaults for absent fields/tables; the union
 * type must match the operator). */
nml_status nml_model_op_params(const nml_model *model, uint32_t i, nml_op_params *params,
                               nml_error *err);
/* Buffer i's data inside the model (NULL, 0 when empty). */
nml_status nml_model_buffer(const nml_model *model, uint32_t i, const uint8_t **data,
                            uint32_t *bytes, nml_error *err);
/* Tensor index of subgraph input/output i, or -1 when i is out of range. */
int32_t nml_model_input(const nml_model *model, uint32_t i);
int32_t nml_model_output(const nml_model *model, uint32_t i);
/* "CONV_2D", or the custom code of a CUSTOM operator. */
const char *nml_model_op_name(const nml_model_op *op);

/* ---- Operators available to an interpreter ---- */

struct nml_kernel; /* defined in src/runtime/kernel.h (internal) */

/* A table of kernels; the interpreter looks up each operator's builtin code here (CUSTOM
 * operators by kernel name == custom code). NULL entries are skipped. Firmware can build one
 * with only the kernels its model uses, so the others are not linked. */
typedef struct nml_op_resolver {
    const struct nml_kernel *const *kernels;
    uint32_t count;
} nml_op_resolver;

/* Every kernel the runtime has; CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED resolve to the
 * optimized int8 kernels (same results as the reference kernels, bit for bit). */
const nml_op_resolver *nml_ops_all(void);
/* Every kernel, reference implementations only: the oracle the optimized kernels are tested
 * against. */
const nml_op_resolver *nml_ops_reference(void);
/* Leaner variants of the optimized kernel for a builtin, leanest first: variant i (0, 1, ...),
 * or NULL past the last; *symbol (if not NULL) gets its C name. A variant evaluates exactly like
 * the optimized kernel but has less code: the int8-only ones (nml_kernel_<op>_opt_int8) lack
 * the fallback to the reference evaluation for float32, hybrid, int4 or grouped nodes, the
 * planes one (nml_kernel_depthwise_conv_2d_opt_planes) also the depth multiplier path, the
 * rows one (nml_kernel_depthwise_conv_2d_opt_rows) also the planes, the blocks one
 * (nml_kernel_depthwise_conv_2d_opt_blocks) all but the depth multiplier path. Each
 * rejects at prepare the nodes it cannot evaluate, so `nanoml export` picks, per operator, the
 * leanest one that every node of the model accepts. */
const struct nml_kernel *nml_kernel_variant(int32_t builtin, uint32_t i, const char **symbol);

/* The kernel for a builtin (custom_code for CUSTOM, else ignored), or NULL. */
const struct nml_kernel *nml_resolver_find(const nml_op_resolver *ops, int32_t builtin,
                                           const char *custom_code);

/* ---- Interpreter ---- */

typedef struct nml_node nml_node; /* internal, lives in the arena */
struct nml_ctx;                   /* internal, lives in the arena */

typedef struct nml_interpreter {
    const nml_model *model;
    const nml_op_resolver *ops;
    uint8_t *arena;
    size_t arena_size;
    /* bytes of the arena this model needs (exact). After a failed init with NML_E_ARENA: the
     * exact need, or a lower bound when the arena could not hold the persistent part. */
    size_t arena_used;
    size_t persistent_bytes;  /* tensor/node tables and kernel data, at the start of the arena */
    size_t activation_bytes;  /* planned activations and scratch, after the persistent part */
    /* no plan can use fewer activation bytes: max over operators of the bytes live while it
     * runs (the greedy plan's activation_bytes is >= this) */
    size_t activation_min_bytes;
    nml_tensor *tensors;      /* model->n_tensors entries, in the arena */
    nml_node *nodes;          /* model->n_operators entries, in the arena */
    struct nml_ctx *ctx;      /* kernel context, in the arena */
    uint32_t n_tensors, n_nodes;
    int ready;                /* 1 after a successful init */
    /* optional per-operator hook, for profiling (instruction counters on the MCU); init
     * clears it, so set it after a successful init */
    void (*on_node_done)(void *user, uint32_t node_index);
    void *hook_user;
} nml_interpreter;

/* Builds tensor and node tables, prepares every kernel (an unsupported operator is reported by
 * name and index; inconsistent shapes are rejected here, never discovered at invoke) and plans
 * all activations into the arena. When the arena is too small the status is NML_E_ARENA and the
 * message gives the exact number of bytes needed (or a lower bound when the arena cannot even
 * hold the tables needed to plan); it->arena_used holds the same number. */
nml_status nml_interpreter_init(nml_interpreter *it, const nml_model *model,
                                const nml_op_resolver *ops, void *arena, size_t arena_size,
                                nml_error *err);

/* Runs every operator in order; calls it->on_node_done after each one. */
nml_status nml_invoke(nml_interpreter *it, nml_error *err);

uint32_t nml_input_count(const nml_interpreter *it);
uint32_t nml_output_count(const nml_interpreter *it);
nml_tensor *nml_input(nml_interpreter *it, uint32_t i);   /* NULL when out of range */
nml_tensor *nml_output(nml_interpreter *it, uint32_t i);  /* NULL when out of range */
/* Tensor-table index of input/output i, or -1. */
int32_t nml_input_index(const nml_interpreter *it, uint32_t i);
int32_t nml_output_index(const nml_interpreter *it, uint32_t i);

/* Builtin code, name and tensor indices of operator i (for reports and profiling). */
int32_t nml_node_builtin(const nml_interpreter *it, uint32_t i);
const char *nml_node_name(const nml_interpreter *it, uint32_t i);

#ifdef __cplusplus
}
#endif
#endif
