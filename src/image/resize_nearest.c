/* Nearest-neighbour resize with cv2.INTER_NEAREST's index rule: floor(d * (1 / (dst/src))),
 * clamped to the last pixel (no half-pixel offset; that would be INTER_NEAREST_EXACT). */
#include <stdlib.h>
#include <string.h>

#include "resize_internal.h"

static int nearest_index(int d, int src_n, int dst_n) {
    double scale = 1.0 / ((double)dst_n / (double)src_n);
    double f = (double)d * scale;
    int i = (int)f;
    if ((double)i > f) i--;
    return i < src_n - 1 ? i : src_n - 1;
}

void nml_resize_nearest(const nml_image *src, nml_image *dst) {
    size_t c = (size_t)src->c;
    for (int dy = 0; dy < dst->h; dy++) {
        const uint8_t *srow =
            src->data + (size_t)nearest_index(dy, src->h, dst->h) * (size_t)src->w * c;
        uint8_t *drow = dst->data + (size_t)dy * (size_t)dst->w * c;
        for (int dx = 0; dx < dst->w; dx++)
            memcpy(drow + (size_t)dx * c, srow + (size_t)nearest_index(dx, src->w, dst->w) * c, c);
    }
}
