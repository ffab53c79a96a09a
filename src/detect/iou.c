#include "nanoml/detect.h"

static float box_area(const nml_detection *b) {
    float w = b->x2 - b->x1, h = b->y2 - b->y1;
    return (w > 0.f && h > 0.f) ? w * h : 0.f;
}

float nml_box_iou(const nml_detection *a, const nml_detection *b) {
    float ix = (a->x2 < b->x2 ? a->x2 : b->x2) - (a->x1 > b->x1 ? a->x1 : b->x1);
    float iy = (a->y2 < b->y2 ? a->y2 : b->y2) - (a->y1 > b->y1 ? a->y1 : b->y1);
    float inter = (ix > 0.f && iy > 0.f) ? ix * iy : 0.f;
    float uni = box_area(a) + box_area(b) - inter;
    return uni > 0.f ? inter / uni : 0.f;
}
