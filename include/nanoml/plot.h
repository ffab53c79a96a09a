/* Scatter plots drawn with nanoml's own image, drawing and font code (no plotting library):
 * labelled points, axes with ticks, tick labels, axis labels and a title. `nanoml compare` uses
 * it for size-versus-accuracy pictures. Host only. */
#ifndef NANOML_PLOT_H
#define NANOML_PLOT_H

#include "nanoml/image.h"
#include "nanoml/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct nml_plot_point {
    double x, y;
    const char *label; /* drawn next to the point; may be NULL */
} nml_plot_point;

typedef struct nml_plot_options {
    int width, height; /* pixels (default 800 x 560) */
    int log_x;         /* logarithmic x axis: ticks at 1, 2, 5 x 10^k */
    const char *title, *x_label, *y_label;
} nml_plot_options;

/* Where the plot landed: the plot area (pixels, inclusive) and the axis ranges. A value maps
 * linearly (x: in log10 when log_x) from [min, max] onto [left, right] and [bottom, top]. */
typedef struct nml_plot_layout {
    int left, top, right, bottom;
    double x_min, x_max, y_min, y_max;
    double x_step, y_step; /* tick spacing (x: linear axes only) */
    int log_x;
} nml_plot_layout;

void nml_plot_options_default(nml_plot_options *o);

/* Draws the points into a new white RGB image (free with nml_image_free). Ranges are the data's
 * extent widened by 5 % on each side and then out to multiples of a 1, 2 or 5 x 10^k tick step
 * (about five ticks); log axes to whole decades. Points must be finite (x > 0 for log_x).
 * layout may be NULL. */
nml_status nml_plot_scatter(const nml_plot_point *points, int n, const nml_plot_options *o,
                            nml_image *img, nml_plot_layout *layout, nml_error *err);

/* The pixel of a value under a layout. */
void nml_plot_pixel(const nml_plot_layout *l, double x, double y, int *px, int *py);

#ifdef __cplusplus
}
#endif
#endif
