/* Data sources for fitting: float arrays and 8-bit labelled images. */
#include "nanoml/train_data.h"

#include <math.h>
#include <string.h>

static nml_status fetch_arrays(const nml_data *d, const int32_t *idx, int32_t count, float *x,
                               float *y, int training, nml_error *err) {
    (void)training;
    const size_t xc = nml_shape_count(&d->x_shape), yc = (size_t)d->y_count;
    for (int32_t i = 0; i < count; i++) {
        if (idx[i] < 0 || idx[i] >= d->n)
            return nml_fail(err, NML_E_ARG, "sample index %d out of range (%d samples)",
                            (int)idx[i], (int)d->n);
        memcpy(x + (size_t)i * xc, d->xf + (size_t)idx[i] * xc, xc * sizeof(float));
        if (y) memcpy(y + (size_t)i * yc, d->yf + (size_t)idx[i] * yc, yc * sizeof(float));
    }
    return NML_OK;
}

nml_status nml_data_from_arrays(nml_data *d, const float *x, const float *y, int32_t n,
                                nml_shape x_shape, int32_t y_count, int32_t n_classes,
                                nml_error *err) {
    memset(d, 0, sizeof *d);
    NML_TRY(nml_shape_check(&x_shape, err));
    if (n < 1 || y_count < 1 || !x || !y)
        return nml_fail(err, NML_E_ARG, "data needs at least one sample with inputs and targets");
    d->n = n;
    d->x_shape = x_shape;
    d->y_count = y_count;
    d->n_classes = n_classes;
    d->fetch = fetch_arrays;
    d->xf = x;
    d->yf = y;
    return NML_OK;
}

/* Random offset in [-limit, limit]. */
static int32_t random_shift(nml_rng *rng, int32_t limit) {
    return limit > 0 ? (int32_t)nml_rng_below(rng, (uint32_t)(2 * limit + 1)) - limit : 0;
}

static nml_status fetch_images(const nml_data *d, const int32_t *idx, int32_t count, float *x,
                               float *y, int training, nml_error *err) {
    const nml_idx_dataset *ds = d->images;
    const int32_t oh = d->x_shape.dims[0], ow = d->x_shape.dims[1];
    const size_t per = (size_t)oh * ow, src_per = (size_t)ds->rows * ds->cols;
    const int augment = training && d->aug_rng;
    /* the image always stays inside the frame */
    const int32_t lim_y = d->max_shift < d->pad_top ? d->max_shift : d->pad_top;
    const int32_t lim_x = d->max_shift < d->pad_left ? d->max_shift : d->pad_left;
    for (int32_t i = 0; i < count; i++) {
        if (idx[i] < 0 || idx[i] >= d->n)
            return nml_fail(err, NML_E_ARG, "sample index %d out of range (%d samples)",
                            (int)idx[i], (int)d->n);
        float *dst = x + (size_t)i * per;
        const uint8_t *src = ds->images + (size_t)idx[i] * src_per;
        int32_t top = d->pad_top, left = d->pad_left, flip = 0;
        if (augment) {
            top += random_shift(d->aug_rng, lim_y);
            left += random_shift(d->aug_rng, lim_x);
            flip = d->hflip && (nml_rng_next(d->aug_rng) >> 63);
        }
        const float scale = d->scale, offset = d->offset;
        for (size_t k = 0; k < per; k++) dst[k] = d->pad_value;
        for (int32_t r = 0; r < ds->rows; r++) {
            float *row = dst + (size_t)(r + top) * ow + left;
            const uint8_t *s = src + (size_t)r * ds->cols;
            if (flip)
                for (int32_t c = 0; c < ds->cols; c++)
                    row[c] = s[ds->cols - 1 - c] * scale + offset;
            else
                for (int32_t c = 0; c < ds->cols; c++) row[c] = s[c] * scale + offset;
        }
        if (y) y[i] = (float)ds->labels[idx[i]];
    }
    return NML_OK;
}

nml_status nml_data_augment(nml_data *d, int32_t max_shift, int hflip, nml_rng *rng,
                            nml_error *err) {
    if (d->fetch != fetch_images)
        return nml_fail(err, NML_E_UNSUPPORTED, "augmentation needs an image data source");
    if (max_shift < 0) return nml_fail(err, NML_E_ARG, "negative shift %d", (int)max_shift);
    d->max_shift = max_shift;
    d->hflip = hflip;
    d->aug_rng = (max_shift > 0 || hflip) ? rng : NULL;
    return NML_OK;
}

nml_status nml_data_from_images(nml_data *d, const nml_idx_dataset *ds, int32_t out_h,
                                int32_t out_w, nml_error *err) {
    memset(d, 0, sizeof *d);
    if (ds->n < 1 || !ds->images || !ds->labels)
        return nml_fail(err, NML_E_ARG, "empty image dataset");
    if (out_h < ds->rows || out_w < ds->cols || out_h > 65536 || out_w > 65536)
        return nml_fail(err, NML_E_SHAPE, "images of %dx%d cannot be padded to %dx%d",
                        (int)ds->rows, (int)ds->cols, (int)out_h, (int)out_w);
    d->n = ds->n;
    d->x_shape = nml_shape_3d(out_h, out_w, 1);
    d->y_count = 1;
    d->n_classes = ds->n_classes;
    d->fetch = fetch_images;
    d->images = ds;
    d->pad_top = (out_h - ds->rows) / 2;
    d->pad_left = (out_w - ds->cols) / 2;
    d->scale = 1.0f / 255.0f;
    return NML_OK;
}

nml_status nml_data_image_stats(const nml_data *d, int32_t first, int32_t count, float *mean,
                                float *std, nml_error *err) {
    if (d->fetch != fetch_images)
        return nml_fail(err, NML_E_UNSUPPORTED, "pixel statistics need an image data source");
    if (count == 0 && first >= 0) count = d->n - first;
    if (first < 0 || count < 1 || first > d->n - count)
        return nml_fail(err, NML_E_ARG, "samples [%d, %d) are not inside the %d images",
                        (int)first, (int)first + (int)count, (int)d->n);
    const nml_idx_dataset *ds = d->images;
    const size_t per = (size_t)ds->rows * ds->cols;
    /* integer sums are exact; 60,000 images x 784 pixels x 255^2 fits easily in 64 bits */
    uint64_t sum = 0, sum_sq = 0;
    const uint8_t *p = ds->images + (size_t)first * per;
    for (size_t i = 0; i < (size_t)count * per; i++) {
        sum += p[i];
        sum_sq += (uint64_t)p[i] * p[i];
    }
    const double n = (double)count * (double)per;
    const double m = (double)sum / n, var = (double)sum_sq / n - m * m;
    *mean = (float)(m / 255.0);
    *std = (float)(sqrt(var > 0.0 ? var : 0.0) / 255.0);
    return NML_OK;
}

nml_status nml_data_standardize(nml_data *d, float mean, float std, int pad_with_mean,
                                nml_error *err) {
    if (d->fetch != fetch_images)
        return nml_fail(err, NML_E_UNSUPPORTED, "standardization needs an image data source");
    if (!isfinite(mean) || !isfinite(std) || !(std > 0.0f))
        return nml_fail(err, NML_E_ARG, "standardization needs a positive, finite standard "
                                        "deviation (got mean %g, std %g)",
                        (double)mean, (double)std);
    d->scale = 1.0f / (255.0f * std);
    d->offset = -mean / std;
    d->pad_value = pad_with_mean ? 0.0f : d->offset;
    return NML_OK;
}
