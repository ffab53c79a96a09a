/* Scatter plots: ranges with round ticks, axes, labels and points, drawn pixel by pixel. */
#include "nanoml/plot.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "nanoml/draw.h"

#define MAX_POINTS 4096

static const nml_rgb black = {0, 0, 0}, grid = {225, 225, 225}, white = {255, 255, 255};

void nml_plot_options_default(nml_plot_options *o) {
    memset(o, 0, sizeof *o);
    o->width = 800;
    o->height = 560;
}

/* 1, 2 or 5 x 10^k, the smallest at least raw. */
static double nice_step(double raw) {
    const double p = pow(10.0, floor(log10(raw)));
    const double m = raw / p;
    return (m <= 1.0 ? 1.0 : m <= 2.0 ? 2.0 : m <= 5.0 ? 5.0 : 10.0) * p;
}

static void linear_range(double lo, double hi, double *min, double *max, double *step) {
    if (hi - lo <= 0.0) {
        const double pad = lo != 0.0 ? fabs(lo) * 0.1 : 1.0;
        lo -= pad;
        hi += pad;
    }
    const double span = hi - lo;
    lo -= 0.05 * span;
    hi += 0.05 * span;
    *step = nice_step((hi - lo) / 5.0);
    *min = floor(lo / *step) * *step;
    *max = ceil(hi / *step) * *step;
}

static void log_range(double lo, double hi, double *min, double *max) {
    *min = pow(10.0, floor(log10(lo)));
    *max = pow(10.0, ceil(log10(hi)));
    if (*max <= *min) *max = *min * 10.0;
}

void nml_plot_pixel(const nml_plot_layout *l, double x, double y, int *px, int *py) {
    double fx = l->log_x ? (log10(x) - log10(l->x_min)) / (log10(l->x_max) - log10(l->x_min))
                         : (x - l->x_min) / (l->x_max - l->x_min);
    double fy = (y - l->y_min) / (l->y_max - l->y_min);
    *px = l->left + (int)lround(fx * (double)(l->right - l->left));
    *py = l->bottom - (int)lround(fy * (double)(l->bottom - l->top));
}

/* Tick label: "60k" for round thousands from 10000, else as many decimals as the step needs. */
static void format_tick(char *buf, size_t cap, double v, double step) {
    if (fabs(v) < step * 1e-9) v = 0.0;
    if (fabs(v) >= 10000.0 && fmod(v, 1000.0) == 0.0) {
        snprintf(buf, cap, "%.0fk", v / 1000.0);
        return;
    }
    int decimals = step >= 1.0 ? 0 : (int)ceil(-log10(step) - 1e-9);
    snprintf(buf, cap, "%.*f", decimals, v);
}

static void fill_circle(nml_image *img, int cx, int cy, int r, nml_rgb c) {
    for (int dy = -r; dy <= r; dy++)
        for (int dx = -r; dx <= r; dx++)
            if (dx * dx + dy * dy <= r * r) nml_draw_pixel(img, cx + dx, cy + dy, c);
}

static void x_tick(nml_image *img, const nml_plot_layout *l, double v, double step, int label) {
    int px, py;
    nml_plot_pixel(l, v, l->y_min, &px, &py);
    nml_draw_fill_rect(img, px, l->top, px, l->bottom - 1, grid);
    nml_draw_fill_rect(img, px, l->bottom, px, l->bottom + 5, black);
    if (!label) return;
    char s[32];
    format_tick(s, sizeof s, v, step);
    nml_draw_text(img, px - nml_text_width(s, 1) / 2, l->bottom + 9, s, 1, black);
}

static void y_tick(nml_image *img, const nml_plot_layout *l, double v) {
    int px, py;
    nml_plot_pixel(l, l->log_x ? l->x_min : l->x_min, v, &px, &py);
    nml_draw_fill_rect(img, l->left + 1, py, l->right, py, grid);
    nml_draw_fill_rect(img, l->left - 5, py, l->left, py, black);
    char s[32];
    format_tick(s, sizeof s, v, l->y_step);
    nml_draw_text(img, l->left - 9 - nml_text_width(s, 1), py - NML_FONT_H / 2, s, 1, black);
}

static void draw_x_ticks(nml_image *img, const nml_plot_layout *l) {
    if (!l->log_x) {
        const int n = (int)lround((l->x_max - l->x_min) / l->x_step);
        for (int i = 0; i <= n; i++)
            x_tick(img, l, l->x_min + i * l->x_step, l->x_step, 1);
        return;
    }
    const int decades = (int)lround(log10(l->x_max / l->x_min));
    for (double d = l->x_min; d < l->x_max * 1.0001; d *= 10.0)
        for (int m = 1; m <= 9; m++) {
            const double v = d * m;
            if (v > l->x_max * 1.0001) break;
            const int labelled = m == 1 || (decades <= 2 && (m == 2 || m == 5));
            x_tick(img, l, v, v, labelled);
        }
}

static void draw_axes(nml_image *img, const nml_plot_layout *l, const nml_plot_options *o) {
    draw_x_ticks(img, l);
    const int n = (int)lround((l->y_max - l->y_min) / l->y_step);
    for (int i = 0; i <= n; i++)
        y_tick(img, l, l->y_min + i * l->y_step);
    nml_draw_fill_rect(img, l->left, l->top, l->left, l->bottom, black);
    nml_draw_fill_rect(img, l->left, l->bottom, l->right, l->bottom, black);
    if (o->x_label)
        nml_draw_text(img, (l->left + l->right - nml_text_width(o->x_label, 2)) / 2, l->bottom + 26,
                      o->x_label, 2, black);
    if (o->y_label) nml_draw_text(img, 10, l->top - 24, o->y_label, 2, black);
    if (o->title)
        nml_draw_text(img, (o->width - nml_text_width(o->title, 2)) / 2, 10, o->title, 2, black);
}

static void draw_points(nml_image *img, const nml_plot_layout *l, const nml_plot_point *p, int n) {
    for (int i = 0; i < n; i++) {
        int px, py;
        nml_plot_pixel(l, p[i].x, p[i].y, &px, &py);
        fill_circle(img, px, py, 6, black);
        fill_circle(img, px, py, 4, nml_class_color(i));
        if (!p[i].label) continue;
        const int w = nml_text_width(p[i].label, 1);
        const int tx = px + 10 + w < img->w - 2 ? px + 10 : px - 10 - w;
        nml_draw_text(img, tx, py - 12, p[i].label, 1, black);
    }
}

static nml_status check_points(const nml_plot_point *p, int n, const nml_plot_options *o,
                               nml_error *err) {
    if (n < 1 || n > MAX_POINTS)
        return nml_fail(err, NML_E_ARG, "plot: %d points (1..%d)", n, MAX_POINTS);
    if (o->width < 200 || o->height < 150 || o->width > 8192 || o->height > 8192)
        return nml_fail(err, NML_E_ARG, "plot: size %dx%d outside 200x150..8192x8192", o->width,
                        o->height);
    for (int i = 0; i < n; i++)
        if (!isfinite(p[i].x) || !isfinite(p[i].y) || (o->log_x && !(p[i].x > 0.0)))
            return nml_fail(err, NML_E_ARG, "plot: point %d (%s) is not %s", i,
                            p[i].label ? p[i].label : "unlabelled",
                            o->log_x ? "finite with x > 0" : "finite");
    return NML_OK;
}

nml_status nml_plot_scatter(const nml_plot_point *p, int n, const nml_plot_options *opts,
                            nml_image *img, nml_plot_layout *layout, nml_error *err) {
    nml_plot_options defaults;
    if (!opts) {
        nml_plot_options_default(&defaults);
        opts = &defaults;
    }
    NML_TRY(check_points(p, n, opts, err));
    nml_plot_layout l;
    memset(&l, 0, sizeof l);
    l.left = 90;
    l.top = 60;
    l.right = opts->width - 40;
    l.bottom = opts->height - 70;
    l.log_x = opts->log_x;
    double x_lo = p[0].x, x_hi = p[0].x, y_lo = p[0].y, y_hi = p[0].y;
    for (int i = 1; i < n; i++) {
        x_lo = fmin(x_lo, p[i].x);
        x_hi = fmax(x_hi, p[i].x);
        y_lo = fmin(y_lo, p[i].y);
        y_hi = fmax(y_hi, p[i].y);
    }
    if (l.log_x)
        log_range(x_lo, x_hi, &l.x_min, &l.x_max);
    else
        linear_range(x_lo, x_hi, &l.x_min, &l.x_max, &l.x_step);
    linear_range(y_lo, y_hi, &l.y_min, &l.y_max, &l.y_step);
    NML_TRY(nml_image_alloc(img, opts->width, opts->height, 3, err));
    nml_draw_fill_rect(img, 0, 0, img->w - 1, img->h - 1, white);
    draw_axes(img, &l, opts);
    draw_points(img, &l, p, n);
    if (layout) *layout = l;
    return NML_OK;
}
