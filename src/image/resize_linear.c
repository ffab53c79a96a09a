/* Bilinear resize of uint8 images with the arithmetic of OpenCV's cv::resize(INTER_LINEAR), so
 * a model fed by this code sees the same input bytes as in the Python pipeline it was trained and
 * evaluated with (cv2.resize on uint8, then /255):
 *  - source coordinate f = (float)((d + 0.5) * (1 / (dst/src)) - 0.5) (double, then float),
 *    index floor(f), weights 1-frac and frac; coordinates left of 0 or at/after the last pixel
 *    clamp to the edge pixel with weight 1;
 *  - weights rounded to 11-bit fixed point (x2048, round half even), horizontal pass in int32;
 *  - vertical pass with the rounding of OpenCV's 128-bit SIMD kernel, ((b0*(S0>>4))>>16 +
 *    (b1*(S1>>4))>>16 + 2) >> 2, for the first 8*floor(n/8) values of each row and the scalar
 *    (b0*S0 + b1*S1 + 2^21) >> 22 for the rest (these differ by at most one in rare cases);
 *  - an exact 2x reduction in both directions is INTER_AREA in OpenCV: 2x2 means rounded up.
 * Like OpenCV, it does not low-pass filter before shrinking. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nanoml/image.h"
#include "resize_internal.h"

#define COEF_BITS 11
#define COEF_ONE (1 << COEF_BITS)
#define SIMD_LANES16 8 /* int16 lanes of a 128-bit vector (SSE2/NEON builds of OpenCV) */

typedef struct linear_tap {
    int src;        /* first source index */
    int16_t w0, w1; /* fixed-point weights of src and src+1 */
} linear_tap;

static int floor_float(float v) {
    int i = (int)v;
    return i - (v < (float)i);
}

static int16_t coef_fixed(float weight) {
    long v = lrintf(weight * (float)COEF_ONE); /* round half to even, like cvRound */
    if (v > INT16_MAX) v = INT16_MAX;
    if (v < INT16_MIN) v = INT16_MIN;
    return (int16_t)v;
}

static void linear_taps(int src_n, int dst_n, linear_tap *taps) {
    double scale = 1.0 / ((double)dst_n / (double)src_n);
    for (int d = 0; d < dst_n; d++) {
        float f = (float)((d + 0.5) * scale - 0.5);
        int s = floor_float(f);
        f -= (float)s;
        if (s < 0) {
            f = 0.f;
            s = 0;
        }
        if (s >= src_n - 1) {
            f = 0.f;
            s = src_n - 1;
        }
        taps[d].src = s;
        taps[d].w0 = coef_fixed(1.f - f);
        taps[d].w1 = coef_fixed(f);
    }
}

static void horizontal_pass(const uint8_t *row, int src_w, int c, const linear_tap *tx, int dst_w,
                            int32_t *out) {
    for (int dx = 0; dx < dst_w; dx++, out += c) {
        const uint8_t *p = row + (size_t)tx[dx].src * (size_t)c;
        if (tx[dx].src + 1 < src_w) {
            for (int ch = 0; ch < c; ch++)
                out[ch] = p[ch] * tx[dx].w0 + p[ch + c] * tx[dx].w1;
        } else {
            for (int ch = 0; ch < c; ch++)
                out[ch] = p[ch] * tx[dx].w0;
        }
    }
}

static uint8_t saturate_u8(int v) {
    return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
}

static int16_t saturate_i16(int32_t v) {
    return (int16_t)(v < INT16_MIN ? INT16_MIN : v > INT16_MAX ? INT16_MAX : v);
}

/* mulhi of two int16 lanes: the high half of the 32-bit product (arithmetic shift). */
static int32_t mul_hi16(int16_t a, int16_t b) {
    int32_t p = (int32_t)a * (int32_t)b;
    return p >= 0 ? p >> 16 : -((-p + 65535) >> 16);
}

static void vertical_pass(const int32_t *r0, const int32_t *r1, int16_t b0, int16_t b1, int n,
                          uint8_t *out) {
    int simd_end = n - n % SIMD_LANES16;
    int x = 0;
    for (; x < simd_end; x++) {
        int32_t t = mul_hi16(saturate_i16(r0[x] >> 4), b0) + mul_hi16(saturate_i16(r1[x] >> 4), b1);
        out[x] = saturate_u8((int)saturate_i16(saturate_i16(t) + 2) >> 2); /* saturating adds */
    }
    for (; x < n; x++)
        out[x] = saturate_u8((r0[x] * b0 + r1[x] * b1 + (1 << 21)) >> 22);
}

/* Two cached horizontal rows, keyed by source row, so each source row is filtered once. */
typedef struct row_cache {
    int32_t *buf[2];
    int row[2];
} row_cache;

static const int32_t *cached_row(row_cache *rc, const nml_image *src, const linear_tap *tx,
                                 int dst_w, int sy, int avoid) {
    for (int i = 0; i < 2; i++)
        if (rc->row[i] == sy) return rc->buf[i];
    int slot = (rc->row[0] == avoid) ? 1 : 0;
    horizontal_pass(src->data + (size_t)sy * (size_t)src->w * (size_t)src->c, src->w, src->c, tx,
                    dst_w, rc->buf[slot]);
    rc->row[slot] = sy;
    return rc->buf[slot];
}

static int is_exact_half(int src_w, int src_h, int dst_w, int dst_h) {
    double sx = 1.0 / ((double)dst_w / src_w), sy = 1.0 / ((double)dst_h / src_h);
    return fabs(sx - 2.0) < 2.220446049250313e-16 && fabs(sy - 2.0) < 2.220446049250313e-16;
}

static void area_half(const nml_image *src, nml_image *dst) {
    int c = dst->c;
    size_t sstride = (size_t)src->w * (size_t)c;
    for (int y = 0; y < dst->h; y++) {
        const uint8_t *s0 = src->data + (size_t)(2 * y) * sstride, *s1 = s0 + sstride;
        uint8_t *d = dst->data + (size_t)y * (size_t)dst->w * (size_t)c;
        for (int x = 0; x < dst->w; x++) {
            for (int ch = 0; ch < c; ch++) {
                size_t i = (size_t)(2 * x) * (size_t)c + (size_t)ch;
                int sum = s0[i] + s0[i + (size_t)c] + s1[i] + s1[i + (size_t)c];
                /* OpenCV's fast path exists for 1, 3 and 4 channels; 2 channels take the
                 * generic sum * 0.25 with round-half-even. */
                d[(size_t)x * (size_t)c + (size_t)ch] =
                    (uint8_t)(c == 2 ? lrintf((float)sum * 0.25f) : (sum + 2) >> 2);
            }
        }
    }
}

nml_status nml_resize_linear(const nml_image *src, nml_image *dst, nml_error *err) {
    if (is_exact_half(src->w, src->h, dst->w, dst->h)) {
        area_half(src, dst);
        return NML_OK;
    }
    int n = dst->w * dst->c;
    linear_tap *tx = malloc(sizeof *tx * (size_t)dst->w);
    linear_tap *ty = malloc(sizeof *ty * (size_t)dst->h);
    row_cache rc = {{malloc(sizeof(int32_t) * (size_t)n), malloc(sizeof(int32_t) * (size_t)n)},
                    {-1, -1}};
    nml_status st = NML_OK;
    if (!tx || !ty || !rc.buf[0] || !rc.buf[1]) {
        st = nml_fail(err, NML_E_NOMEM, "resize: out of memory for %dx%d", dst->w, dst->h);
        goto done;
    }
    linear_taps(src->w, dst->w, tx);
    linear_taps(src->h, dst->h, ty);
    for (int dy = 0; dy < dst->h; dy++) {
        int s0 = ty[dy].src, s1 = s0 + 1 < src->h ? s0 + 1 : s0;
        const int32_t *r0 = cached_row(&rc, src, tx, dst->w, s0, s1);
        const int32_t *r1 = cached_row(&rc, src, tx, dst->w, s1, s0);
        vertical_pass(r0, r1, ty[dy].w0, ty[dy].w1, n, dst->data + (size_t)dy * (size_t)n);
    }
done:
    free(tx);
    free(ty);
    free(rc.buf[0]);
    free(rc.buf[1]);
    return st;
}
