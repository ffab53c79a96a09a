/* Drawing on nml_image for detection pictures: rectangles, filled label boxes, text in a built-in
 * 5x7 bitmap font (printable ASCII), and a fixed colour per class. Everything clips to the image;
 * coordinates are pixel indices and corners are inclusive (like cv2.rectangle). Colours are RGB;
 * on 1- and 2-channel images they become grey (mean of r, g, b), on 4-channel images alpha is
 * set to 255. Host only. */
#ifndef NANOML_DRAW_H
#define NANOML_DRAW_H

#include <stdint.h>

#include "nanoml/image.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct nml_rgb {
    uint8_t r, g, b;
} nml_rgb;

#define NML_FONT_W 5       /* glyph width in font pixels */
#define NML_FONT_H 7       /* glyph height */
#define NML_FONT_ADVANCE 6 /* horizontal distance between characters (one column of spacing) */

void nml_draw_pixel(nml_image *img, int x, int y, nml_rgb color);
/* Fills the rectangle with corners (x1,y1) and (x2,y2), both included. */
void nml_draw_fill_rect(nml_image *img, int x1, int y1, int x2, int y2, nml_rgb color);
/* Outline of that rectangle, `thickness` pixels wide, growing inwards (so it stays on the box). */
void nml_draw_rect(nml_image *img, int x1, int y1, int x2, int y2, int thickness, nml_rgb color);

/* The 7 row bitmaps of a character (bit 4 = leftmost column); characters outside printable ASCII
 * draw as '?'. */
const uint8_t *nml_font_glyph(char ch);
/* Size of a text line at an integer scale 1..64 (each font pixel becomes scale x scale pixels;
 * other scales draw nothing). At most 4096 characters are drawn. */
int nml_text_width(const char *text, int scale);
int nml_text_height(int scale);
/* Draws text with its top-left corner at (x, y); returns the width drawn. */
int nml_draw_text(nml_image *img, int x, int y, const char *text, int scale, nml_rgb color);

/* A detection box with its label: outline, a filled background above the box (inside it when
 * there is no room above) and the text in black or white, whichever contrasts better. */
void nml_draw_labeled_box(nml_image *img, int x1, int y1, int x2, int y2, const char *label,
                          int thickness, int text_scale, nml_rgb color);

/* A distinct, stable colour for class index cls (golden-ratio hue steps, strong saturation). */
nml_rgb nml_class_color(int cls);

#ifdef __cplusplus
}
#endif
#endif
