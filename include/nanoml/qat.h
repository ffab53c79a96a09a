/* Quantization-aware training, as the TF Model Optimization Toolkit does it: the network trains
 * with fake quantization, i.e. values rounded onto the int8 grid they will have in the
 * quantized model, while the gradient passes straight through the rounding (straight-through
 * estimator), so the weights learn to tolerate it.
 *
 *   weights      symmetric, per output channel, scale max|w| / 127 (what NML_QUANT_INT8 stores),
 *                recomputed from the current weights at every step
 *   activations  per tensor, asymmetric, on the ranges nml_quantize would give them: a moving
 *                average (decay 0.999) of each training batch's min and max for the model
 *                input and every operator with an own output range (CONV_2D,
 *                DEPTHWISE_CONV_2D, FULLY_CONNECTED, ADD, CONCATENATION, RELU, RELU6); the
 *                fixed int8 ranges of TANH (1/128), LOGISTIC and SOFTMAX (1/256) outputs;
 *                average pooling on its input's grid
 *   backward     identity inside the representable range, zero where the forward clipped
 *
 * The moving averages start from the first training batch (TF-MOT starts them at -6 and 6 and
 * needs thousands of steps to forget that; fine-tuning a trained model for an epoch does not
 * have them). After training, nml_qat_export writes the same int8 model nml_quantize writes,
 * with the learned ranges instead of calibrated ones.
 *
 * Collaborative optimization: preserve_sparsity keeps zero weights zero (a mask), and
 * preserve_clusters keeps each layer's distinct weight values tied (their clusters are trained
 * as centroids, see cluster.h), so a pruned and clustered model stays pruned and clustered in
 * int8 (PCQAT with both). Host only. */
#ifndef NANOML_QAT_H
#define NANOML_QAT_H

#include <stddef.h>
#include <stdint.h>

#include "nanoml/ir.h"
#include "nanoml/quantize.h"
#include "nanoml/status.h"
#include "nanoml/train_net.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- the arithmetic ---- */

/* y = (clamp(round(x / s) + z, -128, 127) - z) * s with s, z = nml_quant_params(lo, hi, -128,
 * 127): the value an int8 tensor with that range represents. y may alias x. */
void nml_fake_quant(const float *x, size_t n, float lo, float hi, float *y);
/* Straight-through gradient: dx = dy where x lies in [(-128 - z) s, (127 - z) s], else 0. */
void nml_fake_quant_grad(const float *x, const float *dy, size_t n, float lo, float hi, float *dx);
/* Weights as int8 stores them: q * scale with the scales and rounding of nml_weight_scales /
 * nml_quantize_weights (per channel along axis, qmax 127 for int8). */
nml_status nml_fake_quant_weights(const float *w, int rank, const int32_t *dims, int axis, int qmax,
                                  float *out, nml_error *err);

/* ---- training ---- */

typedef struct nml_qat_opts {
    float ema_decay;       /* moving-average decay of activation ranges (0: 0.999) */
    int preserve_sparsity; /* zero weights stay zero */
    int preserve_clusters; /* each layer's distinct weight values stay tied (<= 256 per layer) */
    int per_tensor;        /* one weight scale per tensor instead of per channel (export with
                              nml_quant_options.per_channel = 0 then) */
    uint64_t seed;         /* the network's generator */
} nml_qat_opts;

typedef struct nml_qat nml_qat;

/* Imports a float model (train_import.h) with fake quantization in place. Fails naming the
 * operator for anything the importer or the int8 quantizer cannot handle, and naming the layer
 * when preserve_clusters meets more than 256 distinct values. */
nml_status nml_qat_create(nml_qat **q, const nml_ir *float_model, const nml_qat_opts *o,
                          nml_error *err);
void nml_qat_free(nml_qat *q);

/* The network to train (owned by q). */
nml_net *nml_qat_net(nml_qat *q);

/* The int8 (or int4, o->mode) model: the network's float export, with its fake-quantized
 * weights, through nml_quantize with the learned activation ranges (o->fixed_ranges is
 * replaced; calib may be NULL). Fails when a range was never learned (no training step). */
nml_status nml_qat_export(nml_qat *q, const nml_quant_options *o, nml_calib_source *calib,
                          nml_ir *out, nml_quant_report *report, nml_error *err);

/* The learned ranges: count, and entry i (name of the network layer that observes it). */
int nml_qat_range_count(const nml_qat *q);
void nml_qat_range(const nml_qat *q, int i, const char **layer, float *lo, float *hi);

#ifdef __cplusplus
}
#endif
#endif
