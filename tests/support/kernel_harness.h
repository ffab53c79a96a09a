/* Drives one kernel's prepare + eval on hand-built tensors, without a flatbuffer.
 *
 *   nml_kh h; kh_init(&h);
 *   int in  = kh_tensor(&h, NML_INT8, 4, (int32_t[]){1, 4, 4, 1}, in_data, 0.5f, -1);
 *   int out = kh_tensor(&h, NML_INT8, 4, (int32_t[]){1, 2, 2, 1}, out_data, 0.5f, -1);
 *   kh_inputs(&h, 1, in); kh_outputs(&h, 1, out);
 *   nml_op_params p; nml_op_params_default(&p); ...
 *   assert_int_equal(kh_run(&h, &nml_kernel_max_pool_2d, &p), NML_OK);
 *   kh_free(&h);
 */
#ifndef NML_KERNEL_HARNESS_H
#define NML_KERNEL_HARNESS_H

#include <stdint.h>

#include "kernel.h"
#include "nanoml/runtime.h"

#define KH_MAX_TENSORS 32

typedef struct nml_kh {
    nml_tensor tensors[KH_MAX_TENSORS];
    uint32_t n_tensors;
    int32_t inputs[KH_MAX_TENSORS], outputs[KH_MAX_TENSORS];
    nml_node node;
    nml_ctx ctx;
    nml_error err;
    uint8_t *persist;
    uint8_t *scratch;
} nml_kh;

void kh_init(nml_kh *h);
void kh_free(nml_kh *h);

/* Adds a tensor over caller-owned data (NULL allowed for "absent" data); scale 0 = not
 * quantized. Constant tensors (weights, bias) should be marked with kh_const(). Returns its
 * index. */
int kh_tensor(nml_kh *h, int type, int rank, const int32_t *dims, void *data, float scale,
              int32_t zero_point);
void kh_const(nml_kh *h, int t);
/* Per-channel quantization: scales and zero points are host arrays (little-endian host). */
void kh_per_channel(nml_kh *h, int t, const float *scales, const int64_t *zero_points, uint32_t n,
                    int32_t q_dim);

/* Sets the node's inputs / outputs (tensor indices, -1 = absent optional input). */
void kh_inputs(nml_kh *h, int n, ...);
void kh_outputs(nml_kh *h, int n, ...);

/* prepare, then eval. Returns the first failing status; message in h->err.msg. */
nml_status kh_prepare(nml_kh *h, const nml_kernel *k, const nml_op_params *p);
nml_status kh_eval(nml_kh *h);
nml_status kh_run(nml_kh *h, const nml_kernel *k, const nml_op_params *p);

/* ---- nodes the kernel tests share ---- */

/* One tensor of a test node: type, shape, caller-owned data and quantization (scale 0: none). */
typedef struct kh_spec {
    int type, rank;
    const int32_t *dims;
    void *data;
    float scale;
    int32_t zero_point;
} kh_spec;

/* Tensor indices of the nodes built below (the output follows the last input). */
enum { KH_INPUT = 0, KH_INPUT2 = 1, KH_WEIGHTS = 1, KH_OPERAND = 1, KH_BIAS = 2 };
/* The bias of a node that has none. */
#define KH_NO_BIAS ((kh_spec){0})

/* A one-input, one-output node (activations, QUANTIZE, SOFTMAX, ...) in a freshly initialized
 * harness. Returns the output's tensor index. */
int kh_unary_node(nml_kh *h, kh_spec in, kh_spec out);

/* A two-input, one-output node (ADD, SUB, MUL, ...) in a freshly initialized harness: a is
 * tensor 0, b tensor 1. Returns the output's tensor index. */
int kh_binary_node(nml_kh *h, kh_spec a, kh_spec b, kh_spec out);

/* A node with an input and a constant operand (axis, paddings, size, permutation, ...) in a
 * freshly initialized harness. Returns the output's tensor index. */
int kh_operand_node(nml_kh *h, kh_spec in, kh_spec operand, kh_spec out);

/* A weighted node (CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED) in a freshly initialized
 * harness: input, constant weights, constant bias (left out when its data is NULL) and one
 * output. Returns the output's tensor index. */
int kh_weighted_node(nml_kh *h, kh_spec in, kh_spec weights, kh_spec bias, kh_spec out);

/* Pooling parameters: a filter_h x filter_w window moved by stride_h, stride_w. */
nml_op_params kh_pool_params(int padding, int32_t filter_h, int32_t filter_w, int32_t stride_h,
                             int32_t stride_w, int activation);
/* A pooling node (AVERAGE_POOL_2D, MAX_POOL_2D) in a freshly initialized harness: rank-4 NHWC
 * input (tensor 0) and output (tensor 1) of `type` sharing one quantization (scale 0: none). */
void kh_pool_node(nml_kh *h, int type, const int32_t *in_dims, void *in, const int32_t *out_dims,
                  void *out, float scale, int32_t zp);
/* Builds that node in a fresh harness, runs pooling kernel k with p (window, stride, padding,
 * activation) and frees the harness. */
nml_status kh_run_pool(const nml_kernel *k, int type, const int32_t *in_dims, void *in,
                       const int32_t *out_dims, void *out, float scale, int32_t zp,
                       const nml_op_params *p);

#endif
