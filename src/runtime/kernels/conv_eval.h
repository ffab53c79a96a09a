/* What the reference CONV_2D and DEPTHWISE_CONV_2D evaluations share: the geometry of one
 * evaluation and the output stages that turn an output channel's accumulator into its value
 * (TFLite Micro's ConvPerChannel / DepthwiseConvPerChannel for int8). */
#ifndef NANOML_KERNELS_CONV_EVAL_H
#define NANOML_KERNELS_CONV_EVAL_H

#include <stdint.h>

#include "conv_ref.h"
#include "hybrid_common.h"
#include "qmath.h"
#include "window_walk.h"

/* Geometry of one evaluation, read from the tensors checked in prepare. */
typedef struct nml_conv_dims {
    int32_t batches, in_h, in_w, in_ch;
    int32_t out_h, out_w, out_ch;
    int32_t filter_h, filter_w;
    int32_t filter_in_ch;      /* filter dimension 3 */
    int32_t filters_per_group; /* CONV_2D (filter [O, KH, KW, C / groups]), else 0 */
} nml_conv_dims;

NML_WALK_INLINE nml_conv_dims nml_conv_dims_of(const nml_tensor *input, const nml_tensor *filter,
                                               const nml_tensor *output) {
    nml_conv_dims g;
    g.batches = input->dims[0];
    g.in_h = input->dims[1];
    g.in_w = input->dims[2];
    g.in_ch = input->dims[3];
    g.out_h = output->dims[1];
    g.out_w = output->dims[2];
    g.out_ch = output->dims[3];
    g.filter_h = filter->dims[1];
    g.filter_w = filter->dims[2];
    g.filter_in_ch = filter->dims[3];
    g.filters_per_group = 0;
    return g;
}

/* The walk over every output pixel of the evaluation. */
NML_WALK_INLINE void nml_conv_walk(nml_pixel_walk *p, const nml_conv_data *d,
                                   const nml_conv_dims *g) {
    nml_walk_start(p, &d->w, g->batches, g->in_h, g->in_w, g->out_ch);
}

/* int8: acc [+ bias] (wrapping), requantized with the channel's multiplier, plus the output
 * zero point, clamped to the activation range. */
NML_WALK_INLINE int8_t nml_conv_out_i8(const nml_conv_data *d, int32_t acc, const int32_t *bias,
                                       int32_t oc) {
    if (bias) acc = nml_add_wrap(acc, bias[oc]);
    acc = nml_mul_by_qm(acc, d->mult[oc], d->shift[oc]);
    return (int8_t)nml_add_zp_clamp(acc, d->output_offset, d->act_min, d->act_max);
}

/* float32 (and hybrid): acc [+ bias], clamped to the activation range. */
NML_WALK_INLINE float nml_conv_out_f32(const nml_conv_data *d, float acc, const float *bias,
                                       int32_t oc) {
    if (bias) acc += bias[oc];
    acc = acc < d->f_min ? d->f_min : acc;
    return acc > d->f_max ? d->f_max : acc;
}

/* Hybrid (float32 activations, int8 filter): one batch on its input quantized into xq, with
 * the quantization's zero point `offset` (0 when symmetric) and scale. */
typedef void (*nml_hybrid_batch)(const nml_conv_data *d, const nml_conv_dims *g, const int8_t *xq,
                                 int32_t offset, float in_scale, const int8_t *filter,
                                 const float *bias, float *out);

/* The hybrid evaluation batch by batch, as TFLite's hybrid kernels: each batch of the float
 * input quantized (asymmetrically, or symmetrically with `symmetric`), then run by `batch`. */
NML_WALK_INLINE void nml_conv_hybrid(const nml_conv_data *d, const nml_conv_dims *g,
                                     const float *in, const int8_t *filter, const float *bias,
                                     int8_t *xq, float *out, int symmetric,
                                     nml_hybrid_batch batch) {
    const uint32_t in_size = (uint32_t)(g->in_h * g->in_w * g->in_ch);
    const uint32_t out_size = (uint32_t)(g->out_h * g->out_w * g->out_ch);
    for (int32_t b = 0; b < g->batches; b++) {
        float scale;
        int32_t offset = 0;
        if (symmetric)
            nml_hybrid_quantize_symmetric(in + b * in_size, in_size, xq, &scale);
        else
            nml_hybrid_quantize_asymmetric(in + b * in_size, in_size, xq, &scale, &offset);
        batch(d, g, xq, offset, scale, filter, bias, out + b * out_size);
    }
}

#endif
