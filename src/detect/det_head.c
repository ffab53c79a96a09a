/* Recognising a detection model's head and input from tensor shapes. */
#include <string.h>

#include "nanoml/detector.h"

#define FASTESTDET_EXTRA 5 /* objectness, x, y, w, h */
#define YOLOV8_EXTRA 4     /* cx, cy, w, h */
#define MAX_GRID 4096

const char *nml_det_kind_name(nml_det_kind kind) {
    switch (kind) {
    case NML_DET_AUTO:
        return "auto";
    case NML_DET_FASTESTDET:
        return "fastestdet";
    case NML_DET_YOLOV8:
        return "yolov8";
    }
    return "unknown";
}

nml_status nml_det_kind_parse(const char *s, nml_det_kind *kind, nml_error *err) {
    for (int k = NML_DET_AUTO; k <= NML_DET_YOLOV8; k++) {
        if (strcmp(s, nml_det_kind_name((nml_det_kind)k)) == 0) {
            *kind = (nml_det_kind)k;
            return NML_OK;
        }
    }
    return nml_fail(err, NML_E_ARG, "unknown decoder '%s' (fastestdet, yolov8 or auto)", s);
}

static void format_dims(char *buf, size_t cap, const int32_t *dims, int rank) {
    size_t n = 0;
    buf[0] = '\0';
    for (int i = 0; i < rank && n + 1 < cap; i++)
        n += nml_format(buf + n, cap - n, i ? "x%d" : "%d", (int)dims[i]);
    if (rank == 0) nml_format(buf, cap, "scalar");
}

static int fits_fastestdet(const int32_t *dims, int rank, int nc, nml_det_head *h) {
    if (rank != 4 || dims[0] != 1) return 0;
    int ch = nc + FASTESTDET_EXTRA;
    memset(h, 0, sizeof *h);
    h->kind = NML_DET_FASTESTDET;
    if (dims[1] == ch) {
        h->layout = NML_LAYOUT_NCHW;
        h->grid_h = dims[2];
        h->grid_w = dims[3];
    } else if (dims[3] == ch) {
        h->layout = NML_LAYOUT_NHWC;
        h->grid_h = dims[1];
        h->grid_w = dims[2];
    } else {
        return 0;
    }
    return h->grid_w >= 1 && h->grid_h >= 1 && h->grid_w <= MAX_GRID && h->grid_h <= MAX_GRID;
}

static int fits_yolov8(const int32_t *dims, int rank, int nc, nml_det_head *h) {
    if (rank != 3 || dims[0] != 1) return 0;
    int rows = nc + YOLOV8_EXTRA;
    memset(h, 0, sizeof *h);
    h->kind = NML_DET_YOLOV8;
    if (dims[1] == rows) {
        h->anchors = dims[2];
    } else if (dims[2] == rows) {
        h->anchors_first = 1;
        h->anchors = dims[1];
    } else {
        return 0;
    }
    return h->anchors >= 1;
}

nml_status nml_det_head_from_shape(const int32_t *dims, int rank, int num_classes,
                                   nml_det_kind want, nml_det_head *head, nml_error *err) {
    if (num_classes < 1 || num_classes > 100000)
        return nml_fail(err, NML_E_ARG, "bad class count %d", num_classes);
    if (rank < 0 || rank > NML_MAX_RANK) return nml_fail(err, NML_E_ARG, "bad rank %d", rank);
    char shape[96];
    format_dims(shape, sizeof shape, dims, rank);
    if ((want == NML_DET_AUTO || want == NML_DET_FASTESTDET) &&
        fits_fastestdet(dims, rank, num_classes, head))
        return NML_OK;
    if ((want == NML_DET_AUTO || want == NML_DET_YOLOV8) &&
        fits_yolov8(dims, rank, num_classes, head))
        return NML_OK;
    int fd = num_classes + FASTESTDET_EXTRA, yo = num_classes + YOLOV8_EXTRA;
    if (want == NML_DET_FASTESTDET)
        return nml_fail(err, NML_E_SHAPE,
                        "output %s is not a FastestDet head for %d classes (1x%dxHxW or 1xHxWx%d)",
                        shape, num_classes, fd, fd);
    if (want == NML_DET_YOLOV8)
        return nml_fail(err, NML_E_SHAPE,
                        "output %s is not a YOLOv8 head for %d classes (1x%dxN or 1xNx%d)", shape,
                        num_classes, yo, yo);
    return nml_fail(err, NML_E_SHAPE,
                    "output %s is not a detection head for %d classes: FastestDet is 1x%dxHxW or "
                    "1xHxWx%d, YOLOv8 1x%dxN or 1xNx%d",
                    shape, num_classes, fd, fd, yo, yo);
}

nml_status nml_det_input_from_tensor(const nml_tensor *t, nml_det_input *in, nml_error *err) {
    char shape[96];
    nml_format_shape(shape, sizeof shape, t);
    memset(in, 0, sizeof *in);
    if (t->rank != 4 || t->dims[0] != 1 || (t->dims[3] != 3 && t->dims[1] != 3))
        return nml_fail(err, NML_E_SHAPE, "input %s is not an image tensor (1xHxWx3 or 1x3xHxW)",
                        shape);
    if (t->dims[3] == 3) {
        in->layout = NML_LAYOUT_NHWC;
        in->h = t->dims[1];
        in->w = t->dims[2];
    } else {
        in->layout = NML_LAYOUT_NCHW;
        in->h = t->dims[2];
        in->w = t->dims[3];
    }
    if (in->w > NML_IMAGE_MAX_DIM || in->h > NML_IMAGE_MAX_DIM)
        return nml_fail(err, NML_E_LIMIT, "input %s is larger than %d pixels a side", shape,
                        NML_IMAGE_MAX_DIM);
    in->dtype = t->type;
    if (t->type == NML_INT8 || t->type == NML_UINT8) {
        if (t->n_q != 1 || !(t->scale > 0.f))
            return nml_fail(err, NML_E_UNSUPPORTED,
                            "input %s is %s without per-tensor quantization", shape,
                            nml_dtype_name(t->type));
        in->scale = t->scale;
        in->zero_point = (int)t->zero_point;
    } else if (t->type != NML_FLOAT32) {
        return nml_fail(err, NML_E_UNSUPPORTED, "input type %s (float32, int8 or uint8 only)",
                        nml_dtype_name(t->type));
    }
    return NML_OK;
}
