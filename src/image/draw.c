/* Pixels and rectangles, clipped to the image. */
#include "nanoml/draw.h"

void nml_draw_pixel(nml_image *img, int x, int y, nml_rgb color) {
    if (!img || !img->data || x < 0 || y < 0 || x >= img->w || y >= img->h) return;
    uint8_t *p = img->data + ((size_t)y * (size_t)img->w + (size_t)x) * (size_t)img->c;
    if (img->c >= 3) {
        p[0] = color.r;
        p[1] = color.g;
        p[2] = color.b;
        if (img->c == 4) p[3] = 255;
    } else {
        p[0] = (uint8_t)((color.r + color.g + color.b) / 3);
        if (img->c == 2) p[1] = 255;
    }
}

static int clamp_int(int v, int lo, int hi) {
    return v < lo ? lo : v > hi ? hi : v;
}

/* Swaps the corners' coordinates as needed so that (x1, y1) is the top-left one. */
static void order_corners(int *x1, int *y1, int *x2, int *y2) {
    if (*x1 > *x2) {
        const int t = *x1;
        *x1 = *x2;
        *x2 = t;
    }
    if (*y1 > *y2) {
        const int t = *y1;
        *y1 = *y2;
        *y2 = t;
    }
}

void nml_draw_fill_rect(nml_image *img, int x1, int y1, int x2, int y2, nml_rgb color) {
    if (!img || !img->data) return;
    order_corners(&x1, &y1, &x2, &y2);
    if (x2 < 0 || y2 < 0 || x1 >= img->w || y1 >= img->h) return;
    x1 = clamp_int(x1, 0, img->w - 1);
    x2 = clamp_int(x2, 0, img->w - 1);
    y1 = clamp_int(y1, 0, img->h - 1);
    y2 = clamp_int(y2, 0, img->h - 1);
    for (int y = y1; y <= y2; y++)
        for (int x = x1; x <= x2; x++)
            nml_draw_pixel(img, x, y, color);
}

/* Far-away coordinates change nothing visible; clamping them keeps the arithmetic below
 * (x2 - x1, x1 + t) free of overflow. */
#define COORD_LIMIT (1 << 24)

void nml_draw_rect(nml_image *img, int x1, int y1, int x2, int y2, int thickness, nml_rgb color) {
    x1 = clamp_int(x1, -COORD_LIMIT, COORD_LIMIT);
    x2 = clamp_int(x2, -COORD_LIMIT, COORD_LIMIT);
    y1 = clamp_int(y1, -COORD_LIMIT, COORD_LIMIT);
    y2 = clamp_int(y2, -COORD_LIMIT, COORD_LIMIT);
    thickness = clamp_int(thickness, 1, COORD_LIMIT);
    order_corners(&x1, &y1, &x2, &y2);
    int t = thickness - 1;
    if (2 * t >= x2 - x1 || 2 * t >= y2 - y1) { /* the outline covers the whole box */
        nml_draw_fill_rect(img, x1, y1, x2, y2, color);
        return;
    }
    nml_draw_fill_rect(img, x1, y1, x2, y1 + t, color);
    nml_draw_fill_rect(img, x1, y2 - t, x2, y2, color);
    nml_draw_fill_rect(img, x1, y1, x1 + t, y2, color);
    nml_draw_fill_rect(img, x2 - t, y1, x2, y2, color);
}
