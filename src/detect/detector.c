/* The detection pipeline: model + runtime + preprocessing + decoder (include/nanoml/detector.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nanoml/detector.h"
#include "nanoml/runtime_host.h"

#define LETTERBOX_PAD 114
/* A normalised box coordinate never exceeds ~1; input pixels reach the input size. */
#define NORMALIZED_LIMIT 2.0f

static nml_status output_tensor(nml_detector *d, nml_tensor **out, nml_error *err) {
    if (nml_output_count(&d->it) != 1)
        return nml_fail(err, NML_E_UNSUPPORTED, "the model has %u outputs; a detector has one",
                        (unsigned)nml_output_count(&d->it));
    nml_tensor *t = nml_output(&d->it, 0);
    if (t->type != NML_FLOAT32 && !((t->type == NML_INT8 || t->type == NML_UINT8) && t->n_q == 1))
        return nml_fail(err, NML_E_UNSUPPORTED,
                        "output type %s (float32, or int8/uint8 with per-tensor quantization)",
                        nml_dtype_name(t->type));
    *out = t;
    return NML_OK;
}

static void set_decoders(nml_detector *d) {
    d->fastestdet = nml_fastestdet_defaults();
    d->fastestdet.num_classes = d->num_classes;
    d->fastestdet.grid_w = d->head.grid_w;
    d->fastestdet.grid_h = d->head.grid_h;
    d->fastestdet.layout = d->head.layout;
    d->fastestdet.input_w = d->input.w; /* box sizes rescale when this differs from training */
    d->fastestdet.input_h = d->input.h;
    d->yolov8 = nml_yolov8_defaults();
    d->yolov8.num_classes = d->num_classes;
    d->yolov8.anchors_first = d->head.anchors_first;
    d->yolov8.coord_scale = 1.f; /* nml_detector_invoke converts to input pixels */
}

static void set_preprocessing(nml_detector *d) {
    int yolo = d->kind == NML_DET_YOLOV8;
    d->letterbox = yolo;
    d->pad_value = LETTERBOX_PAD;
    d->norm = nml_pixel_norm_unit(!yolo); /* FastestDet was trained on OpenCV's BGR */
    d->rounding = NML_DET_ROUND;
    d->coords = NML_DET_COORDS_AUTO;
}

/* Everything after the interpreter exists: recognise input and output, allocate the output. */
static nml_status describe(nml_detector *d, nml_det_kind kind, nml_error *err) {
    if (nml_input_count(&d->it) != 1)
        return nml_fail(err, NML_E_UNSUPPORTED, "the model has %u inputs; a detector has one",
                        (unsigned)nml_input_count(&d->it));
    NML_TRY(nml_det_input_from_tensor(nml_input(&d->it, 0), &d->input, err));
    nml_tensor *out = NULL;
    NML_TRY(output_tensor(d, &out, err));
    NML_TRY(nml_det_head_from_shape(out->dims, out->rank, d->num_classes, kind, &d->head, err));
    d->kind = d->head.kind;
    d->out_count = nml_tensor_count(out);
    d->out = malloc(d->out_count * sizeof *d->out);
    if (!d->out) return nml_fail(err, NML_E_NOMEM, "out of memory for the output");
    set_decoders(d);
    set_preprocessing(d);
    return NML_OK;
}

static nml_status open_loaded(nml_detector *d, nml_det_kind kind, nml_error *err) {
    NML_TRY(nml_interpreter_init_alloc(&d->it, &d->model, nml_ops_all(), &d->arena, err));
    return describe(d, kind, err);
}

static void reset(nml_detector *d, int num_classes) {
    memset(d, 0, sizeof *d);
    d->num_classes = num_classes;
}

nml_status nml_detector_open(nml_detector *d, const char *path, nml_det_kind kind, int num_classes,
                             nml_error *err) {
    reset(d, num_classes);
    NML_TRY(nml_load_model_file(path, &d->model_data, &d->model_size, &d->model, err));
    nml_status st = open_loaded(d, kind, err);
    if (st != NML_OK) {
        nml_detector_close(d);
        return nml_error_prefix(err, "%s: ", path);
    }
    return NML_OK;
}

nml_status nml_detector_open_bytes(nml_detector *d, const uint8_t *data, size_t size,
                                   nml_det_kind kind, int num_classes, nml_error *err) {
    reset(d, num_classes);
    if (!data || size == 0 || size > NML_MAX_MODEL_BYTES)
        return nml_fail(err, NML_E_ARG, "no model bytes");
    size_t cap = (size + 15) / 16 * 16;
    d->model_data = aligned_alloc(16, cap);
    if (!d->model_data) return nml_fail(err, NML_E_NOMEM, "out of memory for %zu bytes", size);
    memcpy(d->model_data, data, size);
    d->model_size = size;
    nml_status st = nml_model_load(&d->model, d->model_data, size, err);
    if (st == NML_OK) st = open_loaded(d, kind, err);
    if (st != NML_OK) nml_detector_close(d);
    return st;
}

void nml_detector_close(nml_detector *d) {
    if (!d) return;
    free(d->out);
    free(d->arena);
    free(d->model_data);
    int nc = d->num_classes;
    reset(d, nc);
}

nml_status nml_detector_check_size(const nml_detector *d, int w, int h, nml_error *err) {
    if (w == d->input.w && h == d->input.h) return NML_OK;
    return nml_fail(err, NML_E_ARG,
                    "size %dx%d requested, but the model was built for %dx%d input (the model's "
                    "input shape decides; import or export the model for %dx%d)",
                    w, h, d->input.w, d->input.h, w, h);
}

static nml_status quantize_truncating(const nml_detector *d, const nml_image *img, void *out,
                                      size_t count, nml_error *err) {
    float *f = malloc(count * sizeof *f);
    if (!f) return nml_fail(err, NML_E_NOMEM, "out of memory for the input");
    nml_status st = nml_image_to_float(img, d->input.layout, &d->norm, f, count, err);
    int lo = d->input.dtype == NML_INT8 ? -128 : 0, hi = lo + 255;
    for (size_t i = 0; st == NML_OK && i < count; i++) {
        float v = f[i] / d->input.scale + (float)d->input.zero_point;
        int q = !(v >= (float)lo) ? lo : v > (float)hi ? hi : (int)v; /* (int) truncates */
        if (d->input.dtype == NML_INT8)
            ((int8_t *)out)[i] = (int8_t)q;
        else
            ((uint8_t *)out)[i] = (uint8_t)q;
    }
    free(f);
    return st;
}

static nml_status write_input(nml_detector *d, const nml_image *net, nml_error *err) {
    nml_tensor *t = nml_input(&d->it, 0);
    size_t count = nml_tensor_count(t);
    if (d->input.dtype == NML_FLOAT32)
        return nml_image_to_float(net, d->input.layout, &d->norm, t->data, count, err);
    if (d->rounding == NML_DET_TRUNCATE) return quantize_truncating(d, net, t->data, count, err);
    return nml_image_to_quantized(net, d->input.layout, &d->norm, d->input.scale,
                                  d->input.zero_point, d->input.dtype, t->data, count, err);
}

nml_status nml_detector_set_input(nml_detector *d, const nml_image *img, nml_image_transform *tf,
                                  nml_error *err) {
    if (!img || !img->data || img->c != 3)
        return nml_fail(err, NML_E_ARG, "detector: needs a 3-channel RGB image (got %d channels)",
                        img ? img->c : 0);
    nml_image net = {0, 0, 0, NULL};
    nml_image_transform g;
    nml_status st;
    if (d->letterbox)
        st = nml_image_letterbox(img, d->input.w, d->input.h, d->pad_value, &net, &g, err);
    else
        st = nml_image_stretch(img, d->input.w, d->input.h, &net, &g, err);
    if (st == NML_OK) st = write_input(d, &net, err);
    nml_image_free(&net);
    if (st == NML_OK && tf) *tf = g;
    return st;
}

static void dequantize_output(nml_detector *d, const nml_tensor *t) {
    if (t->type == NML_FLOAT32) {
        memcpy(d->out, t->data, d->out_count * sizeof *d->out);
        return;
    }
    for (size_t i = 0; i < d->out_count; i++) {
        int q = t->type == NML_INT8 ? ((const int8_t *)t->data)[i] : ((const uint8_t *)t->data)[i];
        d->out[i] = t->scale * (float)(q - t->zero_point);
    }
}

static float *yolo_at(nml_detector *d, int row, size_t anchor) {
    size_t rows = 4 + (size_t)d->num_classes, n = (size_t)d->head.anchors;
    return d->head.anchors_first ? &d->out[anchor * rows + (size_t)row]
                                 : &d->out[(size_t)row * n + anchor];
}

static int yolo_normalized(nml_detector *d, const nml_tensor *t) {
    if (d->coords != NML_DET_COORDS_AUTO) return d->coords == NML_DET_COORDS_NORMALIZED;
    if (t->type != NML_FLOAT32) {
        int qmax = t->type == NML_INT8 ? 127 : 255;
        return t->scale * (float)(qmax - t->zero_point) <= NORMALIZED_LIMIT;
    }
    for (size_t a = 0; a < (size_t)d->head.anchors; a++)
        if (fabsf(*yolo_at(d, 0, a)) > NORMALIZED_LIMIT) return 0;
    return 1;
}

/* Ultralytics' TFLite export divides x by the input width and y by its height. */
static void yolo_to_pixels(nml_detector *d) {
    for (size_t a = 0; a < (size_t)d->head.anchors; a++) {
        *yolo_at(d, 0, a) *= (float)d->input.w;
        *yolo_at(d, 1, a) *= (float)d->input.h;
        *yolo_at(d, 2, a) *= (float)d->input.w;
        *yolo_at(d, 3, a) *= (float)d->input.h;
    }
}

void nml_detector_read_output(nml_detector *d) {
    const nml_tensor *t = nml_output(&d->it, 0);
    dequantize_output(d, t);
    if (d->kind == NML_DET_YOLOV8 && yolo_normalized(d, t)) yolo_to_pixels(d);
}

nml_status nml_detector_invoke(nml_detector *d, nml_error *err) {
    NML_TRY(nml_invoke(&d->it, err));
    nml_detector_read_output(d);
    return NML_OK;
}

nml_status nml_detector_decode(nml_detector *d, const nml_image_transform *tf, nml_detections *dets,
                               nml_error *err) {
    if (d->kind == NML_DET_FASTESTDET)
        return nml_fastestdet_decode(d->out, d->out_count, &d->fastestdet, tf->src_w, tf->src_h,
                                     dets, err);
    return nml_yolov8_decode(d->out, d->out_count, &d->yolov8, tf, dets, err);
}

nml_status nml_detector_run(nml_detector *d, const nml_image *img, nml_detections *dets,
                            nml_error *err) {
    nml_image_transform tf;
    NML_TRY(nml_detector_set_input(d, img, &tf, err));
    NML_TRY(nml_detector_invoke(d, err));
    return nml_detector_decode(d, &tf, dets, err);
}
