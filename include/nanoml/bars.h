/* Horizontal bar charts drawn with nanoml's own image, drawing and font code (no plotting
 * library): one labelled bar per value, the value printed at the bar's end, a title and an axis
 * with round ticks. The demo report uses it for instructions per operator. Host only. */
#ifndef NANOML_BARS_H
#define NANOML_BARS_H

#include "nanoml/image.h"
#include "nanoml/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define NML_BARS_MAX 1024 /* bars in one chart */

typedef struct nml_bar {
    const char *label; /* drawn left of the bar (at most 40 characters shown); may be NULL */
    double value;      /* finite, >= 0 */
} nml_bar;

typedef struct nml_bars_options {
    int width;           /* pixels (default 900; widened for a longer title); the height
                          * follows the number of bars */
    int bar_height;      /* pixels per bar (default 18) */
    const char *title;   /* above the chart; may be NULL */
    const char *x_label; /* below the axis; may be NULL */
} nml_bars_options;

/* Where the chart landed: the value axis spans [left, right] pixels for [0, x_max]. */
typedef struct nml_bars_layout {
    int left, right, top, bottom;
    double x_max, x_step;
} nml_bars_layout;

void nml_bars_options_default(nml_bars_options *o);

/* Draws the bars into a new white RGB image (free with nml_image_free). The axis runs from 0 to
 * the largest value rounded up to a 1, 2 or 5 x 10^k tick step (about five ticks). layout may
 * be NULL. */
nml_status nml_plot_bars(const nml_bar *bars, int n, const nml_bars_options *o, nml_image *img,
                         nml_bars_layout *layout, nml_error *err);

/* Short human form of a value for labels: 1234 -> "1234", 12345 -> "12.3k", 4.5e6 -> "4.50M". */
void nml_bars_format_value(char *buf, size_t cap, double v);

#ifdef __cplusplus
}
#endif
#endif
