/* Window geometry and im2col. Within one kernel row the valid kx positions read consecutive
 * input pixels, which in NHWC are one contiguous run of (valid kx) * in_c floats, so each
 * (output pixel, kernel row) is one short copy plus zero fill at the borders. The loops run per
 * (output row, kernel row) over the output columns, with the columns whose window lies wholly
 * inside the image (all of them for "valid" padding) in a tight loop of exact copies. */
#include "conv_geom.h"

#include <string.h>

#include "vec4.h"

nml_status nml_conv_geom_init(nml_conv_geom *g, const nml_shape *in, int32_t k_h, int32_t k_w,
                              int32_t s_h, int32_t s_w, int same, nml_error *err) {
    char buf[64];
    memset(g, 0, sizeof *g);
    if (in->rank != 3)
        return nml_fail(err, NML_E_SHAPE, "input shape %s is not an image (expected HxWxC)",
                        nml_shape_str(in, buf, sizeof buf));
    if (k_h < 1 || k_w < 1 || s_h < 1 || s_w < 1 || k_h > 4096 || k_w > 4096 || s_h > 4096 ||
        s_w > 4096)
        return nml_fail(err, NML_E_ARG, "bad window %dx%d stride %dx%d", (int)k_h, (int)k_w,
                        (int)s_h, (int)s_w);
    g->in_h = in->dims[0], g->in_w = in->dims[1], g->in_c = in->dims[2];
    g->k_h = k_h, g->k_w = k_w, g->s_h = s_h, g->s_w = s_w;
    g->same = same;
    if (same) {
        g->out_h = (g->in_h + s_h - 1) / s_h;
        g->out_w = (g->in_w + s_w - 1) / s_w;
        int32_t pad_h = (g->out_h - 1) * s_h + k_h - g->in_h;
        int32_t pad_w = (g->out_w - 1) * s_w + k_w - g->in_w;
        g->pad_top = pad_h > 0 ? pad_h / 2 : 0;
        g->pad_left = pad_w > 0 ? pad_w / 2 : 0;
    } else {
        if (k_h > g->in_h || k_w > g->in_w)
            return nml_fail(err, NML_E_SHAPE, "window %dx%d does not fit input %s with valid "
                            "padding", (int)k_h, (int)k_w, nml_shape_str(in, buf, sizeof buf));
        g->out_h = (g->in_h - k_h) / s_h + 1;
        g->out_w = (g->in_w - k_w) / s_w + 1;
    }
    if ((int64_t)k_h * k_w * g->in_c > (int64_t)NML_MAX_SAMPLE_FLOATS)
        return nml_fail(err, NML_E_LIMIT, "window %dx%d over %d channels is too large", (int)k_h,
                        (int)k_w, (int)g->in_c);
    return NML_OK;
}

int nml_conv_is_identity(const nml_conv_geom *g) {
    if (g->pad_top || g->pad_left) return 0;
    if (g->k_h == 1 && g->k_w == 1 && g->s_h == 1 && g->s_w == 1) return 1;
    return g->k_h == g->in_h && g->k_w == g->in_w && g->out_h == 1 && g->out_w == 1;
}

/* kx range [*kx0, *kx1) whose input column ix = x0 + kx lies inside the image */
static void valid_kx(const nml_conv_geom *g, int32_t x0, int32_t *kx0, int32_t *kx1) {
    *kx0 = x0 < 0 ? -x0 : 0;
    *kx1 = g->in_w - x0 < g->k_w ? g->in_w - x0 : g->k_w;
    if (*kx1 < *kx0) *kx1 = *kx0;
}

/* Output columns [*lo, *hi) whose window lies wholly inside the image. */
static void interior_columns(const nml_conv_geom *g, int32_t *lo, int32_t *hi) {
    *lo = (g->pad_left + g->s_w - 1) / g->s_w;
    int32_t last = g->in_w - g->k_w + g->pad_left; /* largest ox * s_w allowed */
    *hi = last < 0 ? 0 : last / g->s_w + 1;
    if (*hi > g->out_w) *hi = g->out_w;
    if (*lo > *hi) *lo = *hi;
}

/* n floats from src to dst: 4-float moves, the last one overlapping back so it ends exactly at
 * n (no write or read past the run). */
static inline void copy_run(float *dst, const float *src, int32_t n) {
    if (n < 4) {
        for (int32_t i = 0; i < n; i++) dst[i] = src[i];
        return;
    }
    int32_t i = 0;
    for (; i + 4 < n; i += 4) nml_v4_store(dst + i, nml_v4_load(src + i));
    nml_v4_store(dst + n - 4, nml_v4_load(src + n - 4));
}

/* Segment (ox, ky) of a column matrix row for an input row that exists: zeros where the window
 * leaves the image on the left or right. */
static void im2col_border(const nml_conv_geom *g, const float *in_row, int32_t ox, float *dst) {
    const int32_t c = g->in_c, kwc = g->k_w * c;
    const int32_t x0 = ox * g->s_w - g->pad_left;
    int32_t kx0, kx1;
    valid_kx(g, x0, &kx0, &kx1);
    const int32_t lo = kx0 * c, hi = kx1 * c;
    for (int32_t i = 0; i < lo; i++) dst[i] = 0.0f;
    if (hi > lo) copy_run(dst + lo, in_row + (size_t)(x0 + kx0) * c, hi - lo);
    for (int32_t i = hi; i < kwc; i++) dst[i] = 0.0f;
}

void nml_im2col(const float *in, const nml_conv_geom *g, float *col) {
    const int32_t c = g->in_c, kwc = g->k_w * c, patch = nml_conv_patch(g);
    const size_t step = (size_t)g->s_w * c;
    int32_t lo, hi;
    interior_columns(g, &lo, &hi);
    for (int32_t oy = 0; oy < g->out_h; oy++) {
        float *row0 = col + (size_t)oy * g->out_w * patch;
        for (int32_t ky = 0; ky < g->k_h; ky++) {
            const int32_t iy = oy * g->s_h - g->pad_top + ky;
            float *seg = row0 + ky * kwc;
            if (iy < 0 || iy >= g->in_h) {
                for (int32_t ox = 0; ox < g->out_w; ox++)
                    memset(seg + (size_t)ox * patch, 0, (size_t)kwc * sizeof(float));
                continue;
            }
            const float *in_row = in + (size_t)iy * g->in_w * c;
            for (int32_t ox = 0; ox < lo; ox++) im2col_border(g, in_row, ox, seg + (size_t)ox * patch);
            const float *src = in_row + (size_t)(lo * g->s_w - g->pad_left) * c;
            float *dst = seg + (size_t)lo * patch;
            for (int32_t ox = lo; ox < hi; ox++, src += step, dst += patch) copy_run(dst, src, kwc);
            for (int32_t ox = hi; ox < g->out_w; ox++)
                im2col_border(g, in_row, ox, seg + (size_t)ox * patch);
        }
    }
}

void nml_col2im(const float *col, const nml_conv_geom *g, float *din) {
    const int32_t c = g->in_c, kwc = g->k_w * c, patch = nml_conv_patch(g);
    for (int32_t oy = 0; oy < g->out_h; oy++) {
        const float *row0 = col + (size_t)oy * g->out_w * patch;
        for (int32_t ky = 0; ky < g->k_h; ky++) {
            const int32_t iy = oy * g->s_h - g->pad_top + ky;
            if (iy < 0 || iy >= g->in_h) continue;
            float *in_row = din + (size_t)iy * g->in_w * c;
            for (int32_t ox = 0; ox < g->out_w; ox++) {
                const int32_t x0 = ox * g->s_w - g->pad_left;
                int32_t kx0, kx1;
                valid_kx(g, x0, &kx0, &kx1);
                const float *src = row0 + (size_t)ox * patch + ky * kwc;
                nml_add_into(in_row + (size_t)(x0 + kx0) * c, src + kx0 * c,
                             (size_t)(kx1 - kx0) * c);
            }
        }
    }
}
