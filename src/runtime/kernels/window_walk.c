#include "window_walk.h"

/* Taps [*k0, *k1) of `taps` taps `dilation` apart from `origin` that lie inside [0, size)
 * (an empty range has *k1 <= *k0). */
static void window_taps(int32_t origin, int32_t taps, int32_t dilation, int32_t size, int32_t *k0,
                        int32_t *k1) {
    *k0 = origin < 0 ? (dilation - 1 - origin) / dilation : 0;
    const int32_t end = size <= origin ? 0 : (size - origin + dilation - 1) / dilation;
    *k1 = end < taps ? end : taps;
}

static void walk_row(nml_pixel_walk *p) {
    p->iy0 = p->oy * p->w->stride_h - p->w->pad_h;
    window_taps(p->iy0, p->w->filter_h, p->w->dilation_h, p->in_h, &p->ky0, &p->ky1);
}

static void walk_column(nml_pixel_walk *p) {
    p->ix0 = p->ox * p->w->stride_w - p->w->pad_w;
    window_taps(p->ix0, p->w->filter_w, p->w->dilation_w, p->in_w, &p->kx0, &p->kx1);
}

void nml_walk_start(nml_pixel_walk *p, const nml_window *w, int32_t batches, int32_t in_h,
                    int32_t in_w, int32_t depth) {
    *p = (nml_pixel_walk){0};
    p->w = w;
    p->batches = batches;
    p->in_h = in_h;
    p->in_w = in_w;
    p->depth = depth;
    walk_row(p);
    walk_column(p);
}

void nml_walk_next(nml_pixel_walk *p) {
    p->out += (uint32_t)p->depth;
    if (++p->ox == p->w->out_w) {
        p->ox = 0;
        if (++p->oy == p->w->out_h) {
            p->oy = 0;
            p->b++;
        }
        walk_row(p);
    }
    walk_column(p);
}
