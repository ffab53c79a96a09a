/* Detection pictures: boxes with "name score" labels drawn onto the original image, colour per
 * class, line width and text size chosen from the image size. Host only. */
#ifndef NANOML_DET_DRAW_H
#define NANOML_DET_DRAW_H

#include <stddef.h>

#include "nanoml/class_names.h"
#include "nanoml/detect.h"
#include "nanoml/image.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Line thickness and text scale for an image of this size (readable at 1:1). */
void nml_det_draw_style(int w, int h, int *thickness, int *text_scale);

/* Draws detections in reverse order, so the highest-scoring box's label ends up on top. Classes
 * without a name are labelled by their index. */
void nml_draw_detections(nml_image *img, const nml_detection *dets, size_t n,
                         const nml_class_names *names);

#ifdef __cplusplus
}
#endif
#endif
