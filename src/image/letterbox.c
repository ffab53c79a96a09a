/* Stretch and letterbox: geometry (pure) and the image operations built on it. */
#include <math.h>
#include <string.h>

#include "nanoml/image.h"

nml_image_transform nml_stretch_geometry(int src_w, int src_h, int dst_w, int dst_h) {
    nml_image_transform tf;
    memset(&tf, 0, sizeof tf);
    tf.src_w = src_w;
    tf.src_h = src_h;
    tf.dst_w = tf.new_w = dst_w;
    tf.dst_h = tf.new_h = dst_h;
    tf.scale_x = src_w > 0 ? (float)((double)dst_w / src_w) : 0.f;
    tf.scale_y = src_h > 0 ? (float)((double)dst_h / src_h) : 0.f;
    return tf;
}

/* Python's round(): half to even (the default floating-point rounding mode). */
static int round_half_even(double v) {
    return (int)nearbyint(v);
}

nml_image_transform nml_letterbox_geometry(int src_w, int src_h, int dst_w, int dst_h) {
    nml_image_transform tf;
    memset(&tf, 0, sizeof tf);
    tf.src_w = src_w;
    tf.src_h = src_h;
    tf.dst_w = dst_w;
    tf.dst_h = dst_h;
    if (src_w < 1 || src_h < 1 || dst_w < 1 || dst_h < 1) return tf;
    double r = fmin((double)dst_h / src_h, (double)dst_w / src_w);
    tf.new_w = round_half_even(src_w * r);
    tf.new_h = round_half_even(src_h * r);
    if (tf.new_w < 1) tf.new_w = 1;
    if (tf.new_h < 1) tf.new_h = 1;
    if (tf.new_w > dst_w) tf.new_w = dst_w;
    if (tf.new_h > dst_h) tf.new_h = dst_h;
    tf.pad_x = round_half_even((dst_w - tf.new_w) / 2.0 - 0.1);
    tf.pad_y = round_half_even((dst_h - tf.new_h) / 2.0 - 0.1);
    tf.scale_x = tf.scale_y = (float)r;
    return tf;
}

void nml_transform_to_source(const nml_image_transform *tf, float *x, float *y) {
    if (x && tf->scale_x != 0.f) *x = (*x - (float)tf->pad_x) / tf->scale_x;
    if (y && tf->scale_y != 0.f) *y = (*y - (float)tf->pad_y) / tf->scale_y;
}

static nml_status check_target(const nml_image *src, int w, int h, const nml_image *dst,
                               nml_error *err) {
    if (!src || !src->data || src->w < 1 || src->h < 1)
        return nml_fail(err, NML_E_ARG, "empty source image");
    if (dst == src) return nml_fail(err, NML_E_ARG, "destination aliases the source");
    if (w < 1 || h < 1 || w > NML_IMAGE_MAX_DIM || h > NML_IMAGE_MAX_DIM)
        return nml_fail(err, NML_E_ARG, "bad target size %dx%d", w, h);
    return NML_OK;
}

nml_status nml_image_stretch(const nml_image *src, int w, int h, nml_image *dst,
                             nml_image_transform *tf, nml_error *err) {
    if (check_target(src, w, h, dst, err) != NML_OK) return nml_error_prefix(err, "stretch: ");
    NML_TRY(nml_image_resize(src, w, h, NML_INTERP_LINEAR, dst, err));
    if (tf) *tf = nml_stretch_geometry(src->w, src->h, w, h);
    return NML_OK;
}

static void paste(const nml_image *content, nml_image *canvas, int x0, int y0) {
    size_t row = (size_t)content->w * (size_t)content->c;
    for (int y = 0; y < content->h; y++)
        memcpy(canvas->data + ((size_t)(y0 + y) * (size_t)canvas->w + (size_t)x0) * canvas->c,
               content->data + (size_t)y * row, row);
}

nml_status nml_image_letterbox(const nml_image *src, int w, int h, uint8_t pad_value,
                               nml_image *dst, nml_image_transform *tf, nml_error *err) {
    if (check_target(src, w, h, dst, err) != NML_OK) return nml_error_prefix(err, "letterbox: ");
    nml_image_transform g = nml_letterbox_geometry(src->w, src->h, w, h);
    nml_image resized = {0, 0, 0, NULL};
    const nml_image *content = src;
    if (g.new_w != src->w || g.new_h != src->h) {
        NML_TRY(nml_image_resize(src, g.new_w, g.new_h, NML_INTERP_LINEAR, &resized, err));
        content = &resized;
    }
    nml_status st = nml_image_alloc(dst, w, h, src->c, err);
    if (st == NML_OK) {
        memset(dst->data, pad_value, (size_t)w * (size_t)h * (size_t)src->c);
        paste(content, dst, g.pad_x, g.pad_y);
        if (tf) *tf = g;
    }
    nml_image_free(&resized);
    return st;
}
