/* FastestDet output decoding (see include/nanoml/detect.h for the formulas). */
#include <math.h>
#include <stdint.h>

#include "nanoml/detect.h"

#define FASTESTDET_BOX_CHANNELS 5

nml_fastestdet_config nml_fastestdet_defaults(void) {
    nml_fastestdet_config c;
    c.grid_w = c.grid_h = 22;
    c.num_classes = 80;
    c.layout = NML_LAYOUT_NCHW;
    c.score_threshold = 0.65f;
    c.nms_iou = 0.45f;
    c.per_class_nms = 1;
    c.max_det = 0;
    c.clip = 0;
    c.train_w = c.train_h = NML_FASTESTDET_TRAIN_SIZE;
    c.input_w = c.input_h = 0;
    c.stride = NML_FASTESTDET_STRIDE;
    return c;
}

/* Reads channel ch of cell (row, col) whatever the layout. */
typedef struct grid_view {
    const float *data;
    int w, h, channels;
    nml_tensor_layout layout;
} grid_view;

static float grid_at(const grid_view *g, int ch, int row, int col) {
    size_t cell = (size_t)row * (size_t)g->w + (size_t)col;
    if (g->layout == NML_LAYOUT_NCHW) return g->data[(size_t)ch * (size_t)g->w * g->h + cell];
    return g->data[cell * (size_t)g->channels + (size_t)ch];
}

static double sigmoid(double x) {
    return 1.0 / (1.0 + exp(-x));
}

/* Probabilities should be in [0, 1]; a negative value would make pow() NaN. */
static double unit_clamp(float v) {
    return v > 0.f ? (v < 1.f ? (double)v : 1.0) : 0.0;
}

static int best_class(const grid_view *g, int row, int col, float *best) {
    int cls = 0;
    *best = grid_at(g, FASTESTDET_BOX_CHANNELS, row, col);
    for (int c = 1; c < g->channels - FASTESTDET_BOX_CHANNELS; c++) {
        float p = grid_at(g, FASTESTDET_BOX_CHANNELS + c, row, col);
        if (p > *best) {
            *best = p;
            cls = c;
        }
    }
    return cls;
}

static float clip_to(float v, int limit, int clip) {
    if (!clip) return v;
    return v < 0.f ? 0.f : v > (float)limit ? (float)limit : v;
}

/* train / input along one axis: how much larger the model would have seen the objects at its
 * training size (1 when either size is unknown). */
static double size_factor(int train, int input) {
    return train > 0 && input > 0 ? (double)train / (double)input : 1.0;
}

/* Grid cells the image spans, per axis. A cell covers `stride` input pixels; when the input is
 * not a multiple of the stride the last cell hangs over the edge (the convolutions pad), so the
 * image holds input / stride cells, not the whole grid. When the stride does not explain the
 * grid on both axes (an unknown head, input size not given) the grid spans the image. */
static void cells_per_image(const nml_fastestdet_config *cfg, double *cx, double *cy) {
    int s = cfg->stride;
    *cx = cfg->grid_w;
    *cy = cfg->grid_h;
    if (s < 1 || cfg->input_w < 1 || cfg->input_h < 1) return;
    if ((cfg->input_w + s - 1) / s != cfg->grid_w || (cfg->input_h + s - 1) / s != cfg->grid_h)
        return;
    *cx = (double)cfg->input_w / s;
    *cy = (double)cfg->input_h / s;
}

static nml_detection cell_box(const grid_view *g, int row, int col,
                              const nml_fastestdet_config *cfg, int img_w, int img_h) {
    double cells_x, cells_y;
    cells_per_image(cfg, &cells_x, &cells_y);
    double cx = (col + tanh(grid_at(g, 1, row, col))) / cells_x;
    double cy = (row + tanh(grid_at(g, 2, row, col))) / cells_y;
    double bw = sigmoid(grid_at(g, 3, row, col)) * size_factor(cfg->train_w, cfg->input_w);
    double bh = sigmoid(grid_at(g, 4, row, col)) * size_factor(cfg->train_h, cfg->input_h);
    int clip = cfg->clip;
    nml_detection d;
    d.x1 = clip_to((float)((cx - 0.5 * bw) * img_w), img_w, clip);
    d.y1 = clip_to((float)((cy - 0.5 * bh) * img_h), img_h, clip);
    d.x2 = clip_to((float)((cx + 0.5 * bw) * img_w), img_w, clip);
    d.y2 = clip_to((float)((cy + 0.5 * bh) * img_h), img_h, clip);
    d.score = 0.f;
    d.cls = 0;
    return d;
}

static nml_status check_config(const nml_fastestdet_config *cfg, size_t count, int img_w, int img_h,
                               nml_error *err) {
    if (cfg->grid_w < 1 || cfg->grid_h < 1 || cfg->num_classes < 1 || cfg->grid_w > 4096 ||
        cfg->grid_h > 4096 || cfg->num_classes > 100000)
        return nml_fail(err, NML_E_ARG, "fastestdet: bad grid %dx%d or class count %d", cfg->grid_w,
                        cfg->grid_h, cfg->num_classes);
    if (cfg->layout != NML_LAYOUT_NCHW && cfg->layout != NML_LAYOUT_NHWC)
        return nml_fail(err, NML_E_ARG, "fastestdet: unknown layout %d", (int)cfg->layout);
    size_t need = (size_t)(FASTESTDET_BOX_CHANNELS + cfg->num_classes) * (size_t)cfg->grid_w *
                  (size_t)cfg->grid_h;
    if (count != need)
        return nml_fail(err, NML_E_SHAPE,
                        "fastestdet: output has %zu values, expected %d x %d x %d = %zu", count,
                        FASTESTDET_BOX_CHANNELS + cfg->num_classes, cfg->grid_h, cfg->grid_w, need);
    if (cfg->stride < 0 || cfg->stride > 4096 || cfg->train_w < 0 || cfg->train_h < 0 ||
        cfg->input_w < 0 || cfg->input_h < 0 || cfg->train_w > 65536 || cfg->train_h > 65536 ||
        cfg->input_w > 65536 || cfg->input_h > 65536)
        return nml_fail(err, NML_E_ARG,
                        "fastestdet: bad training size %dx%d, input size %dx%d or stride %d",
                        cfg->train_w, cfg->train_h, cfg->input_w, cfg->input_h, cfg->stride);
    if (img_w < 1 || img_h < 1)
        return nml_fail(err, NML_E_ARG, "fastestdet: bad image size %dx%d", img_w, img_h);
    return NML_OK;
}

nml_status nml_fastestdet_decode(const float *out, size_t count, const nml_fastestdet_config *cfg,
                                 int img_w, int img_h, nml_detections *dets, nml_error *err) {
    NML_TRY(check_config(cfg, count, img_w, img_h, err));
    grid_view g = {out, cfg->grid_w, cfg->grid_h, FASTESTDET_BOX_CHANNELS + cfg->num_classes,
                   cfg->layout};
    size_t first = dets->n;
    for (int row = 0; row < g.h; row++) {
        for (int col = 0; col < g.w; col++) {
            float cls_p;
            int cls = best_class(&g, row, col, &cls_p);
            double score =
                pow(unit_clamp(grid_at(&g, 0, row, col)), 0.6) * pow(unit_clamp(cls_p), 0.4);
            if (!(score > cfg->score_threshold)) continue;
            nml_detection d = cell_box(&g, row, col, cfg, img_w, img_h);
            d.score = (float)score;
            d.cls = cls;
            NML_TRY(nml_detections_push(dets, d, err));
        }
    }
    size_t kept = 0;
    NML_TRY(nml_nms(dets->v + first, dets->n - first, cfg->nms_iou, cfg->per_class_nms,
                    cfg->max_det, &kept, err));
    dets->n = first + kept;
    return NML_OK;
}
