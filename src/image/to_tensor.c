/* Image -> network input tensor: channel order, normalisation, layout, optional quantization. */
#include <math.h>

#include "nanoml/image.h"
#include "nanoml/types.h"

nml_pixel_norm nml_pixel_norm_unit(int bgr) {
    nml_pixel_norm n = {bgr, {0.f, 0.f, 0.f, 0.f}, {255.f, 255.f, 255.f, 255.f}};
    return n;
}

static nml_status check_args(const nml_image *img, const nml_pixel_norm *norm, size_t count,
                             nml_tensor_layout layout, nml_error *err) {
    if (!img || !img->data || img->c < 1 || img->c > 4)
        return nml_fail(err, NML_E_ARG, "to tensor: empty image");
    if (!norm) return nml_fail(err, NML_E_ARG, "to tensor: no normalisation given");
    if (layout != NML_LAYOUT_NHWC && layout != NML_LAYOUT_NCHW)
        return nml_fail(err, NML_E_ARG, "to tensor: unknown layout %d", (int)layout);
    size_t need = (size_t)img->w * (size_t)img->h * (size_t)img->c;
    if (count != need)
        return nml_fail(err, NML_E_SHAPE,
                        "to tensor: tensor has %zu values, image %dx%dx%d needs %zu", count, img->w,
                        img->h, img->c, need);
    if (norm->bgr && img->c < 3)
        return nml_fail(err, NML_E_ARG, "to tensor: BGR order needs 3 or 4 channels, image has %d",
                        img->c);
    for (int ch = 0; ch < img->c; ch++)
        if (!(norm->std[ch] != 0.f) || !isfinite(norm->std[ch]) || !isfinite(norm->mean[ch]))
            return nml_fail(err, NML_E_ARG, "to tensor: bad normalisation for channel %d", ch);
    return NML_OK;
}

/* Tensor channel t reads image channel src_channel(t): BGR swaps the first and third. */
static int src_channel(const nml_pixel_norm *norm, int t) {
    if (norm->bgr && (t == 0 || t == 2)) return 2 - t;
    return t;
}

static size_t tensor_index(nml_tensor_layout layout, const nml_image *img, size_t pixel, int t) {
    if (layout == NML_LAYOUT_NHWC) return pixel * (size_t)img->c + (size_t)t;
    return (size_t)t * (size_t)img->w * (size_t)img->h + pixel;
}

nml_status nml_image_to_float(const nml_image *img, nml_tensor_layout layout,
                              const nml_pixel_norm *norm, float *out, size_t count,
                              nml_error *err) {
    NML_TRY(check_args(img, norm, count, layout, err));
    size_t pixels = (size_t)img->w * (size_t)img->h;
    for (int t = 0; t < img->c; t++) {
        int s = src_channel(norm, t);
        for (size_t p = 0; p < pixels; p++) {
            float v = (float)img->data[p * (size_t)img->c + (size_t)s];
            /* a division, not a multiply by 1/std: bit-identical to NumPy's img / 255.0 */
            out[tensor_index(layout, img, p, t)] = (v - norm->mean[t]) / norm->std[t];
        }
    }
    return NML_OK;
}

static int quantize(float v, float scale, int zero_point, int lo, int hi) {
    float q = roundf(v / scale) + (float)zero_point;
    if (!(q >= (float)lo)) return lo; /* also catches NaN */
    if (q > (float)hi) return hi;
    return (int)q;
}

nml_status nml_image_to_quantized(const nml_image *img, nml_tensor_layout layout,
                                  const nml_pixel_norm *norm, float scale, int zero_point,
                                  int dtype, void *out, size_t count, nml_error *err) {
    NML_TRY(check_args(img, norm, count, layout, err));
    if (!(scale > 0.f) || !isfinite(scale))
        return nml_fail(err, NML_E_ARG, "to tensor: quantization scale must be positive");
    int lo, hi;
    if (dtype == NML_INT8) {
        lo = -128;
        hi = 127;
    } else if (dtype == NML_UINT8) {
        lo = 0;
        hi = 255;
    } else {
        return nml_fail(err, NML_E_UNSUPPORTED, "to tensor: quantized type %s (int8 or uint8 only)",
                        nml_dtype_name(dtype));
    }
    if (zero_point < lo || zero_point > hi)
        return nml_fail(err, NML_E_ARG, "to tensor: zero point %d outside [%d, %d]", zero_point, lo,
                        hi);
    size_t pixels = (size_t)img->w * (size_t)img->h;
    for (int t = 0; t < img->c; t++) {
        int s = src_channel(norm, t);
        for (size_t p = 0; p < pixels; p++) {
            float v =
                ((float)img->data[p * (size_t)img->c + (size_t)s] - norm->mean[t]) / norm->std[t];
            int q = quantize(v, scale, zero_point, lo, hi);
            size_t i = tensor_index(layout, img, p, t);
            if (dtype == NML_INT8)
                ((int8_t *)out)[i] = (int8_t)q;
            else
                ((uint8_t *)out)[i] = (uint8_t)q;
        }
    }
    return NML_OK;
}
