/* Drawing detections (include/nanoml/det_draw.h). */
#include <math.h>
#include <stdio.h>

#include "nanoml/det_draw.h"
#include "nanoml/draw.h"

void nml_det_draw_style(int w, int h, int *thickness, int *text_scale) {
    int m = w > h ? w : h;
    *thickness = m >= 1200 ? 3 : m >= 200 ? 2 : 1;
    *text_scale = m >= 1200 ? 3 : m >= 400 ? 2 : 1;
}

/* Pixel index of a coordinate, kept in int range (the drawing clips to the image). */
static int pixel(float v) {
    if (!(v > -1e6f)) return -1000000;
    if (v > 1e6f) return 1000000;
    return (int)lrintf(v);
}

void nml_draw_detections(nml_image *img, const nml_detection *dets, size_t n,
                         const nml_class_names *names) {
    int thickness, scale;
    nml_det_draw_style(img->w, img->h, &thickness, &scale);
    for (size_t k = n; k-- > 0;) {
        const nml_detection *d = &dets[k];
        const char *name = nml_class_name(names, d->cls);
        char label[96];
        if (name)
            snprintf(label, sizeof label, "%s %.2f", name, (double)d->score);
        else
            snprintf(label, sizeof label, "class %d %.2f", d->cls, (double)d->score);
        nml_draw_labeled_box(img, pixel(d->x1), pixel(d->y1), pixel(d->x2) - 1, pixel(d->y2) - 1,
                             label, thickness, scale, nml_class_color(d->cls));
    }
}
