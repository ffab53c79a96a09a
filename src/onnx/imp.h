/* Internal state of the ONNX importer, shared by its passes:
 *   imp_graph.c    values, nodes, name lookup, errors
 *   const_eval.c   host tensors and constant folding (also evaluates index maps)
 *   shape_infer.c  shape inference, including re-targeting stored Reshape shapes
 *   layout.c       NCHW/NHWC layouts, transposes, data-movement chains -> single operators
 *   lower_*.c      one file per operator family: ONNX node -> lowered operators
 *   lowered.c      the lowered graph, peephole passes, hand-over to nml_ir
 *   import.c       the driver
 * Values are ONNX tensors (by name). Each live activation is lowered to one tensor of the
 * lowered graph plus a layout: stored axis i holds ONNX axis layout[i]. */
#ifndef NANOML_ONNX_IMP_H
#define NANOML_ONNX_IMP_H

#include <stddef.h>
#include <stdint.h>

#include "nanoml/ir.h"
#include "nanoml/ops.h"
#include "nanoml/status.h"
#include "onnx/import.h"
#include "onnx/onnx_model.h"

#define IMP_MAX_RANK NML_ONNX_MAX_RANK
#define IMP_MAX_CONST_ELEMS ((uint64_t)1 << 24) /* folded constants and index maps */
/* Budgets per import, so that a few hundred hostile bytes (ConstantOfShape [4096,4096] and a
 * chain of Neg nodes: 600 MB and 3 s for 8 nodes, gigabytes for 30) cannot take gigabytes and
 * minutes: elements computed at import time in all (folding, and the index maps of
 * data-movement chains, 20-50 ns each on the host: at most about 6 s; the caller may set a
 * smaller one, nml_onnx_import_options.max_eval_elems), and elements of the constants that
 * folding keeps (8 bytes each: 256 MiB). FastestDet computes 4.8 M at its own 352x352 input and
 * 67 M at 1408x1408, and keeps none. */
#define IMP_MAX_EVAL_ELEMS ((uint64_t)1 << 27)
#define IMP_MAX_RESIZE_SIDE 65536 /* output pixels per axis of a nearest-neighbour Resize */
#define IMP_MAX_FOLDED_ELEMS ((uint64_t)1 << 25)

/* Host tensors use two element types: float32 for real numbers, int64 for integers/bools. */
enum { IMP_F32 = NML_ONNX_FLOAT, IMP_I64 = NML_ONNX_INT64 };

typedef struct imp_tensor {
    int dtype; /* IMP_F32 or IMP_I64 */
    int rank;
    int64_t dims[IMP_MAX_RANK];
    uint64_t count;
    void *data; /* NULL when only the shape is known */
} imp_tensor;

typedef struct imp_value {
    const char *name; /* borrowed from the ONNX model */
    imp_tensor t;     /* dtype, shape and (for constants) data */
    int known;        /* shape inferred */
    int derived;      /* constant computed from a Shape node (already fits the new size) */
    int producer;     /* node index, -1 for graph inputs and initializers */
    int is_input, is_output;
    int uses;     /* consumers among live nodes, plus 1 per graph output */
    int consumer; /* the last live node that reads it (the only one when uses == 1) */
    int live;
    /* shape at the model's own input size, when re-targeting to another size */
    int has_orig;
    int orig_rank;
    int64_t orig_dims[IMP_MAX_RANK];
    /* per dimension: the (original, new) sizes of the dimensions merged into it by Reshapes */
    uint8_t cons_n[IMP_MAX_RANK];
    int64_t cons_o[IMP_MAX_RANK][IMP_MAX_RANK], cons_new[IMP_MAX_RANK][IMP_MAX_RANK];
    /* lowering */
    int lt; /* lowered tensor, -1 until materialized */
    int8_t layout[IMP_MAX_RANK];
    int virt; /* produced by data movement from virt_src, not materialized */
    int virt_src;
    int alt_lt; /* cached copy in another layout */
    int8_t alt_layout[IMP_MAX_RANK];
    int nat_lt; /* cached copy in ONNX order (for literal data-movement chains) */
    int nonneg; /* values known to be >= 0 (ReLU output) */
} imp_value;

typedef struct imp_node {
    const nml_onnx_node *n;
    int *in, *out; /* value indices, -1 for absent optional ones */
    int n_in, n_out;
    int folded; /* all outputs are constants */
    int live;
    int done; /* lowered (or fused into another node) */
} imp_node;

typedef struct lg_tensor {
    char *name;
    int type; /* nml_dtype */
    int rank;
    int32_t dims[NML_MAX_RANK];
    uint8_t *data; /* owned constant data or NULL */
    size_t bytes;
    int uses;
    int keep; /* graph input/output */
} lg_tensor;

typedef struct lg_op {
    int32_t builtin;
    nml_op_params p;
    int n_in, n_out;
    int32_t in[NML_MAX_OP_INPUTS], out[NML_MAX_OP_OUTPUTS];
    char *name;
    int dead;
} lg_op;

typedef struct imp_ctx {
    const nml_onnx_model *model;
    const nml_onnx_graph *g;
    int64_t opset;
    const nml_onnx_import_options *opt;
    nml_onnx_import_stats *st;
    imp_value *vals;
    size_t n_vals, cap_vals;
    imp_node *nodes;
    size_t n_nodes;
    size_t *hash; /* value index + 1, 0 = empty */
    size_t hash_cap;
    int retarget; /* second shape pass: original shapes are recorded */
    /* the lowered graph */
    lg_tensor *lt;
    size_t n_lt, cap_lt;
    lg_op *lo;
    size_t n_lo, cap_lo;
    int32_t *in_lt, *out_lt;
    size_t n_in_lt, n_out_lt;
    int cur_node; /* node being lowered, for op names */
    uint64_t eval_elems, folded_elems; /* spent of the budgets above */
} imp_ctx;

/* ---- imp_graph.c ---- */
nml_status imp_build(imp_ctx *c, const nml_onnx_model *m, nml_error *err);
void imp_free(imp_ctx *c);
int imp_find(const imp_ctx *c, const char *name); /* -1 if absent */
/* "node 'name' (Op): " + message */
nml_status imp_fail(const imp_ctx *c, nml_error *err, int node, nml_status st, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 5, 6)))
#endif
    ;
const char *imp_op(const imp_ctx *c, int node);
/* Attribute access with defaults and type checks. */
nml_status imp_attr_int(const imp_ctx *c, int node, const char *name, int64_t def, int64_t *v,
                        nml_error *err);
nml_status imp_attr_float(const imp_ctx *c, int node, const char *name, float def, float *v,
                          nml_error *err);
/* INTS attribute: *n = 0 when absent. At most cap values. */
nml_status imp_attr_ints(const imp_ctx *c, int node, const char *name, int64_t *v, int *n, int cap,
                         nml_error *err);
/* STRING attribute or def. */
const char *imp_attr_str(const imp_ctx *c, int node, const char *name, const char *def);
/* The node's input i as a value (NULL when absent). */
imp_value *imp_in(imp_ctx *c, int node, int i);
imp_value *imp_out(imp_ctx *c, int node, int i);
/* Single consumer node of v (-1 if v has several consumers, none, or is a graph output). */
int imp_sole_consumer(const imp_ctx *c, int v);
/* Integer constant input (converted to int64) with up to cap elements. */
nml_status imp_const_ints(imp_ctx *c, int node, int input, int64_t *v, int *n, int cap,
                          nml_error *err);

/* ---- const_eval.c ---- */
nml_status imp_tensor_alloc(imp_tensor *t, int dtype, int rank, const int64_t *dims,
                            nml_error *err);
void imp_tensor_free(imp_tensor *t);
nml_status imp_tensor_copy(imp_tensor *dst, const imp_tensor *src, nml_error *err);
double imp_get(const imp_tensor *t, uint64_t i);
void imp_set(imp_tensor *t, uint64_t i, double v);
int64_t imp_geti(const imp_tensor *t, uint64_t i);
nml_status imp_from_onnx(imp_tensor *dst, const nml_onnx_tensor *src, nml_error *err);
uint64_t imp_count(int rank, const int64_t *dims);
/* 1 if ONNX op_type can be evaluated at import time when all its inputs are constant. */
int imp_foldable(const char *op_type);
/* Charges elems to the evaluation budget (and, when kept, to the folded-constant budget). */
nml_status imp_charge(imp_ctx *c, int node, uint64_t elems, int kept, nml_error *err);
/* Evaluates node on host tensors; outputs already carry their inferred shapes and dtypes.
 * Charges the output's elements to the evaluation budget. */
nml_status imp_eval(imp_ctx *c, int node, imp_tensor *const *in, imp_tensor *const *out,
                    nml_error *err);
/* Row-major strides. */
void imp_strides(int rank, const int64_t *dims, int64_t *strides);

/* ---- shape_infer.c ---- */
/* Infers the shapes of node's outputs (and folds them when possible). */
nml_status imp_infer_node(imp_ctx *c, int node, nml_error *err);
/* Numpy broadcasting of two shapes. */
nml_status imp_broadcast(int ra, const int64_t *a, int rb, const int64_t *b, int *r, int64_t *out,
                         nml_error *err);
/* Slice parameters per axis of the node's data input: first element, step and count. */
nml_status imp_slice_params(imp_ctx *c, int node, int64_t *start, int64_t *step, int64_t *count,
                            nml_error *err);
/* Runs shape inference over all nodes, once at the model's own input size and, when the user
 * asks for another size, again at that size (re-targeting stored Reshape shapes). */
nml_status imp_infer_all(imp_ctx *c, nml_error *err);
/* ONNX pooling/convolution output size and explicit pads of one spatial axis. */
typedef struct imp_window {
    int64_t in, k, stride, dilation, pad_begin, pad_end, out;
} imp_window;
nml_status imp_window_out(imp_window *w, int ceil_mode, nml_error *err);
/* Reads kernel/stride/dilation/pads/auto_pad of a Conv or pool node over the 2 spatial axes
 * of input shape in (NCHW); k_from_weights gives the kernel size when the attribute is absent. */
nml_status imp_windows(imp_ctx *c, int node, const int64_t *in_nchw, const int64_t *kernel,
                       imp_window w[2], nml_error *err);

/* ---- layout.c ---- */
extern const int8_t imp_nhwc[4]; /* {0, 2, 3, 1} */
void imp_layout_identity(int8_t *layout, int rank);
int imp_layout_is(const int8_t *layout, const int8_t *want, int rank);
/* Default stored layout for an ONNX rank: NHWC for rank 4, ONNX order otherwise. */
void imp_layout_default(int8_t *layout, int rank);
/* Stored (lowered) dims of value v in its layout. */
void imp_stored_dims(const imp_value *v, const int8_t *layout, int32_t *dims);
/* Makes v available as a lowered tensor (materializing a data-movement chain if needed). */
nml_status imp_materialize(imp_ctx *c, int v, nml_error *err);
/* Makes v available in a given layout; returns the lowered tensor. */
nml_status imp_need_layout(imp_ctx *c, int v, const int8_t *layout, int *lt, nml_error *err);
/* Handles a data-movement node (Reshape, Transpose, Flatten, Squeeze, Unsqueeze, Gather with
 * constant indices, Identity): records its output as a view of its source. */
nml_status imp_lower_movement(imp_ctx *c, int node, nml_error *err);
int imp_is_movement(const imp_ctx *c, int node);
/* For a virtual [M,K] value that is, row by row, the same permutation of its stored source's
 * rows: *perm (malloc'd, K entries) gives the stored column of each ONNX column and *src_lt the
 * source reshaped to [M,K]. *found = 0 otherwise. Lets Flatten -> Gemm permute the weights
 * instead of transposing the activation back to NCHW. */
nml_status imp_row_permutation(imp_ctx *c, int v, int32_t **perm, int *src_lt, int *found,
                               nml_error *err);
/* Constant v broadcast to rank r and permuted into layout, as a new lowered float tensor. */
nml_status imp_const_in_layout(imp_ctx *c, const imp_tensor *t, int rank, const int8_t *layout,
                               const char *name, int *lt, nml_error *err);

/* ---- lowered.c ---- */
nml_status lg_add_tensor(imp_ctx *c, const char *name, int type, int rank, const int32_t *dims,
                         const void *data, size_t bytes, int *index, nml_error *err);
/* Adds a constant int32 vector [n]. */
nml_status lg_add_i32(imp_ctx *c, const char *name, int rank, const int32_t *dims, const int32_t *v,
                      int *index, nml_error *err);
nml_status lg_add_op(imp_ctx *c, int32_t builtin, const nml_op_params *p, int n_in,
                     const int32_t *in, int n_out, const int32_t *out, nml_error *err);
/* New activation tensor named after value v (or suffix) with the given stored dims. */
nml_status lg_add_act(imp_ctx *c, const char *base, const char *suffix, int rank,
                      const int32_t *dims, int *index, nml_error *err);
nml_status lg_peephole(imp_ctx *c, nml_error *err);
nml_status lg_to_ir(imp_ctx *c, nml_ir *ir, nml_error *err);
void lg_free(imp_ctx *c);
/* Checks an ONNX dims vector fits the lowered limits and converts it. */
nml_status imp_dims32(const imp_ctx *c, int node, int rank, const int64_t *dims, int32_t *out,
                      nml_error *err);

/* ---- lower_conv.c ---- */
nml_status imp_lower_conv(imp_ctx *c, int node, nml_error *err);
nml_status imp_lower_pool(imp_ctx *c, int node, nml_error *err);
nml_status imp_lower_global_pool(imp_ctx *c, int node, nml_error *err);
nml_status imp_lower_gemm(imp_ctx *c, int node, nml_error *err);
nml_status imp_lower_matmul(imp_ctx *c, int node, nml_error *err);
nml_status imp_lower_batchnorm(imp_ctx *c, int node, nml_error *err);
/* If v's only consumer is a Relu, Clip(0,6), Clip(-1,1) or Clip(0,inf), returns the TFLite
 * fused activation and (in *out_value) the value to write to, and marks the consumer done;
 * otherwise NML_ACT_NONE and v. */
int imp_fuse_activation(imp_ctx *c, int v, int *out_value);
/* Explicit PAD/PADV2 of an NHWC tensor; returns the padded tensor. */
nml_status imp_pad_nhwc(imp_ctx *c, int in_lt, const int32_t *in_dims, int64_t pads[4][2],
                        int use_lowest, const char *name, int *out_lt, int32_t *out_dims,
                        nml_error *err);

/* ---- lower_elem.c ---- */
nml_status imp_lower_unary(imp_ctx *c, int node, nml_error *err);
nml_status imp_lower_binary(imp_ctx *c, int node, nml_error *err);
nml_status imp_lower_softmax(imp_ctx *c, int node, nml_error *err);
nml_status imp_lower_concat(imp_ctx *c, int node, nml_error *err);
nml_status imp_lower_split(imp_ctx *c, int node, nml_error *err);
nml_status imp_lower_slice(imp_ctx *c, int node, nml_error *err);
nml_status imp_lower_pad(imp_ctx *c, int node, nml_error *err);
nml_status imp_lower_resize(imp_ctx *c, int node, nml_error *err);
nml_status imp_lower_gather_dynamic(imp_ctx *c, int node, nml_error *err);
/* Lowers one output activation for value v with stored layout; creates its tensor. */
nml_status imp_new_output(imp_ctx *c, int v, const int8_t *layout, int *lt, nml_error *err);

#endif
