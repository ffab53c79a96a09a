/* Horizontal bar charts: a label column, bars scaled to a round axis, values at the bar ends. */
#include "nanoml/bars.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "nanoml/draw.h"

#define SCALE 2        /* font scale: 10x14-pixel glyphs stay legible in a browser */
#define LABEL_CHARS 40 /* longer labels are cut */
#define MARGIN 12      /* pixels around the chart */
#define GAP 6          /* pixels between bars */
#define MAX_WIDTH 8192 /* image limits keep a caller's typo from allocating gigabytes */
#define MAX_BAR_H 256

static const nml_rgb black = {0, 0, 0}, grid = {225, 225, 225}, bar_color = {66, 114, 196};

void nml_bars_options_default(nml_bars_options *o) {
    memset(o, 0, sizeof *o);
    o->width = 900;
    o->bar_height = 18;
}

void nml_bars_format_value(char *buf, size_t cap, double v) {
    if (v >= 1e9)
        snprintf(buf, cap, "%.2fG", v / 1e9);
    else if (v >= 1e6)
        snprintf(buf, cap, "%.2fM", v / 1e6);
    else if (v >= 1e4)
        snprintf(buf, cap, "%.1fk", v / 1e3);
    else if (v == floor(v))
        snprintf(buf, cap, "%.0f", v);
    else
        snprintf(buf, cap, "%.3g", v);
}

/* A tick label: the value's short form without trailing zeros ("10.00M" -> "10M"). */
static void format_tick(char *buf, size_t cap, double v) {
    nml_bars_format_value(buf, cap, v);
    char *dot = strchr(buf, '.');
    if (!dot) return;
    char *end = dot + strlen(dot); /* the unit letter, if any, stays */
    char unit = end[-1] >= '0' && end[-1] <= '9' ? '\0' : end[-1];
    char *last = unit ? end - 2 : end - 1;
    while (last > dot && *last == '0')
        last--;
    if (last == dot) last--;
    last[1] = unit;
    last[2] = '\0';
}

/* 1, 2 or 5 x 10^k, the smallest at least raw. */
static double nice_step(double raw) {
    const double p = pow(10.0, floor(log10(raw)));
    const double m = raw / p;
    return (m <= 1.0 ? 1.0 : m <= 2.0 ? 2.0 : m <= 5.0 ? 5.0 : 10.0) * p;
}

static void cut_label(char *buf, size_t cap, const char *label) {
    snprintf(buf, cap, "%.*s", LABEL_CHARS, label ? label : "");
}

static nml_status check_input(const nml_bar *bars, int n, const nml_bars_options *o,
                              nml_error *err) {
    if (!bars || n < 1 || n > NML_BARS_MAX)
        return nml_fail(err, NML_E_ARG, "bar chart: %d bars (1..%d)", n, NML_BARS_MAX);
    if (o->width < 200 || o->width > MAX_WIDTH)
        return nml_fail(err, NML_E_ARG, "bar chart: width %d pixels (200..%d)", o->width,
                        MAX_WIDTH);
    if (o->bar_height < 4 || o->bar_height > MAX_BAR_H)
        return nml_fail(err, NML_E_ARG, "bar chart: bar height %d pixels (4..%d)", o->bar_height,
                        MAX_BAR_H);
    for (int i = 0; i < n; i++)
        if (!isfinite(bars[i].value) || bars[i].value < 0.0)
            return nml_fail(err, NML_E_ARG,
                            "bar chart: bar %d has a value that is negative or "
                            "not finite",
                            i);
    return NML_OK;
}

/* Axis range and the pixel columns, before anything is drawn. */
static nml_status plan(const nml_bar *bars, int n, const nml_bars_options *o, nml_bars_layout *l,
                       int *height, nml_error *err) {
    char buf[64];
    int label_w = 0, value_w = 0;
    double max = 0.0;
    for (int i = 0; i < n; i++) {
        cut_label(buf, sizeof buf, bars[i].label);
        int w = nml_text_width(buf, SCALE);
        if (w > label_w) label_w = w;
        nml_bars_format_value(buf, sizeof buf, bars[i].value);
        w = nml_text_width(buf, SCALE);
        if (w > value_w) value_w = w;
        if (bars[i].value > max) max = bars[i].value;
    }
    l->x_step = max > 0.0 ? nice_step(max / 5.0) : 1.0;
    l->x_max = max > 0.0 ? ceil(max / l->x_step) * l->x_step : 5.0;
    const int text_h = nml_text_height(SCALE);
    l->left = MARGIN + label_w + 8;
    l->right = o->width - MARGIN - value_w - 8;
    if (l->right - l->left < 50)
        return nml_fail(err, NML_E_ARG,
                        "bar chart: width %d pixels leaves no room for bars "
                        "next to %d-pixel labels",
                        o->width, label_w);
    l->top = MARGIN + (o->title ? text_h + 10 : 0);
    l->bottom = l->top + n * (o->bar_height + GAP) + GAP;
    *height = l->bottom + 6 + text_h + (o->x_label ? text_h + 8 : 0) + MARGIN;
    return NML_OK;
}

static int value_x(const nml_bars_layout *l, double v) {
    return l->left + (int)lround(v / l->x_max * (double)(l->right - l->left));
}

static void draw_axis(nml_image *img, const nml_bars_layout *l, const nml_bars_options *o) {
    char buf[64];
    const int text_h = nml_text_height(SCALE);
    for (double t = 0.0; t <= l->x_max * (1.0 + 1e-9); t += l->x_step) {
        int x = value_x(l, t);
        nml_draw_fill_rect(img, x, l->top, x, l->bottom, grid);
        nml_draw_fill_rect(img, x, l->bottom, x, l->bottom + 4, black);
        format_tick(buf, sizeof buf, t);
        nml_draw_text(img, x - nml_text_width(buf, SCALE) / 2, l->bottom + 6, buf, SCALE, black);
    }
    nml_draw_fill_rect(img, l->left, l->top, l->left, l->bottom, black);
    nml_draw_fill_rect(img, l->left, l->bottom, l->right, l->bottom, black);
    if (o->x_label) {
        int w = nml_text_width(o->x_label, SCALE);
        nml_draw_text(img, (l->left + l->right - w) / 2, l->bottom + 6 + text_h + 8, o->x_label,
                      SCALE, black);
    }
    if (o->title) nml_draw_text(img, MARGIN, MARGIN, o->title, SCALE, black);
}

static void draw_bar(nml_image *img, const nml_bars_layout *l, const nml_bars_options *o, int i,
                     const nml_bar *bar) {
    char buf[64];
    const int text_h = nml_text_height(SCALE);
    const int y = l->top + GAP + i * (o->bar_height + GAP);
    const int text_y = y + (o->bar_height - text_h) / 2;
    cut_label(buf, sizeof buf, bar->label);
    nml_draw_text(img, l->left - 8 - nml_text_width(buf, SCALE), text_y, buf, SCALE, black);
    const int x_end = value_x(l, bar->value);
    if (x_end > l->left)
        nml_draw_fill_rect(img, l->left + 1, y, x_end, y + o->bar_height - 1, bar_color);
    nml_bars_format_value(buf, sizeof buf, bar->value);
    nml_draw_text(img, x_end + 6, text_y, buf, SCALE, black);
}

nml_status nml_plot_bars(const nml_bar *bars, int n, const nml_bars_options *opts, nml_image *img,
                         nml_bars_layout *layout, nml_error *err) {
    nml_bars_options o;
    if (opts)
        o = *opts;
    else
        nml_bars_options_default(&o);
    NML_TRY(check_input(bars, n, &o, err));
    if (o.title && o.width >= 200 && o.width <= MAX_WIDTH) { /* a long title widens the picture */
        const int need = nml_text_width(o.title, SCALE) + 2 * MARGIN;
        if (need > o.width) o.width = need < MAX_WIDTH ? need : MAX_WIDTH;
    }
    nml_bars_layout l;
    int height = 0;
    NML_TRY(plan(bars, n, &o, &l, &height, err));
    NML_TRY(nml_image_alloc(img, o.width, height, 3, err));
    memset(img->data, 255, (size_t)img->w * (size_t)img->h * 3u);
    draw_axis(img, &l, &o);
    for (int i = 0; i < n; i++)
        draw_bar(img, &l, &o, i, &bars[i]);
    if (layout) *layout = l;
    return NML_OK;
}
