/* nml_classify_eval: accuracy and confusion matrix of an image classifier in the runtime. */
#include "nanoml/classify.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void nml_classify_options_default(nml_classify_options *o) {
    memset(o, 0, sizeof *o);
    o->arena_max = (size_t)64 << 20;
}

void nml_classify_result_free(nml_classify_result *r) {
    if (!r) return;
    free(r->confusion);
    memset(r, 0, sizeof *r);
}

/* Writes image i (rows x cols bytes) into the model input: scaled to [0, 1], zero-padded to
 * h x w, quantized for integer inputs. */
static void fill_input(nml_tensor *in, const uint8_t *img, int32_t rows, int32_t cols, int32_t h,
                       int32_t w) {
    const int32_t top = (h - rows) / 2, left = (w - cols) / 2;
    for (int32_t y = 0; y < h; y++)
        for (int32_t x = 0; x < w; x++) {
            int32_t sy = y - top, sx = x - left;
            float v =
                sy >= 0 && sy < rows && sx >= 0 && sx < cols ? img[sy * cols + sx] / 255.0f : 0.0f;
            size_t i = (size_t)y * w + x;
            if (in->type == NML_FLOAT32) {
                ((float *)in->data)[i] = v;
            } else {
                float q = roundf(v / in->scale) + (float)in->zero_point;
                float lo = in->type == NML_INT8 ? -128.0f : 0.0f;
                float hi = in->type == NML_INT8 ? 127.0f : 255.0f;
                q = q < lo ? lo : (q > hi ? hi : q);
                if (in->type == NML_INT8)
                    ((int8_t *)in->data)[i] = (int8_t)q;
                else
                    ((uint8_t *)in->data)[i] = (uint8_t)q;
            }
        }
}

static float output_value(const nml_tensor *out, uint32_t i) {
    switch (out->type) {
    case NML_FLOAT32:
        return ((const float *)out->data)[i];
    case NML_INT8:
        return out->scale * (float)(((const int8_t *)out->data)[i] - out->zero_point);
    default:
        return out->scale * (float)(((const uint8_t *)out->data)[i] - out->zero_point);
    }
}

static nml_status check_io(const nml_tensor *in, const nml_tensor *out, const nml_idx_dataset *ds,
                           nml_error *err) {
    if (!in || !out) return nml_fail(err, NML_E_ARG, "model needs one input and one output");
    if (in->rank != 4 || in->dims[0] != 1 || in->dims[3] != 1)
        return nml_fail(err, NML_E_SHAPE, "model input must be 1 x H x W x 1 (a grey image)");
    if (in->dims[1] < ds->rows || in->dims[2] < ds->cols)
        return nml_fail(err, NML_E_SHAPE, "model input %dx%d is smaller than the %dx%d images",
                        (int)in->dims[1], (int)in->dims[2], (int)ds->rows, (int)ds->cols);
    if (in->type != NML_FLOAT32 && in->type != NML_INT8 && in->type != NML_UINT8)
        return nml_fail(err, NML_E_UNSUPPORTED, "model input type %s is not supported",
                        nml_dtype_name(in->type));
    if (in->type != NML_FLOAT32 && !(in->scale > 0.0f))
        return nml_fail(err, NML_E_FORMAT, "quantized model input has no scale");
    if (out->type != NML_FLOAT32 && out->type != NML_INT8 && out->type != NML_UINT8)
        return nml_fail(err, NML_E_UNSUPPORTED, "model output type %s is not supported",
                        nml_dtype_name(out->type));
    if ((int32_t)nml_tensor_count(out) < ds->n_classes)
        return nml_fail(err, NML_E_SHAPE, "model has %u outputs, the dataset %d classes",
                        (unsigned)nml_tensor_count(out), (int)ds->n_classes);
    return NML_OK;
}

/* Tries arenas of growing size until the interpreter fits. */
static nml_status init_interpreter(nml_interpreter *it, const nml_model *m, size_t max,
                                   uint8_t **arena, nml_error *err) {
    for (size_t size = (size_t)64 << 10;; size *= 2) {
        if (size > max) size = max;
        *arena = aligned_alloc(16, (size + 15) & ~(size_t)15);
        if (!*arena) return nml_fail(err, NML_E_NOMEM, "cannot allocate a %zu-byte arena", size);
        nml_status st = nml_interpreter_init(it, m, nml_ops_all(), *arena, size, err);
        if (st != NML_E_ARENA || size == max) return st;
        free(*arena);
        *arena = NULL;
    }
}

static int32_t predict(const nml_tensor *out, int32_t classes) {
    int32_t best = 0;
    for (int32_t c = 1; c < classes; c++)
        if (output_value(out, (uint32_t)c) > output_value(out, (uint32_t)best)) best = c;
    return best;
}

nml_status nml_classify_eval(const nml_model *model, const nml_idx_dataset *ds,
                             const nml_classify_options *opts, nml_classify_result *res,
                             nml_error *err) {
    nml_classify_options defaults;
    if (!opts) {
        nml_classify_options_default(&defaults);
        opts = &defaults;
    }
    memset(res, 0, sizeof *res);
    if (ds->n_classes < 1 || ds->n < 1) return nml_fail(err, NML_E_ARG, "empty dataset");
    nml_interpreter it;
    memset(&it, 0, sizeof it);
    uint8_t *arena = NULL;
    nml_status st = init_interpreter(&it, model, opts->arena_max, &arena, err);
    nml_tensor *in = st == NML_OK ? nml_input(&it, 0) : NULL, *out = NULL;
    if (st == NML_OK) {
        out = nml_output(&it, 0);
        st = check_io(in, out, ds, err);
    }
    const int32_t classes = ds->n_classes;
    const int32_t n = opts->limit > 0 && opts->limit < ds->n ? opts->limit : ds->n;
    if (st == NML_OK && !(res->confusion = calloc((size_t)classes * classes, sizeof(int32_t))))
        st = nml_fail(err, NML_E_NOMEM, "out of memory");
    for (int32_t i = 0; st == NML_OK && i < n; i++) {
        fill_input(in, ds->images + (size_t)i * ds->rows * ds->cols, ds->rows, ds->cols,
                   in->dims[1], in->dims[2]);
        st = nml_invoke(&it, err);
        if (st != NML_OK) {
            nml_error_prefix(err, "image %d: ", (int)i);
            break;
        }
        const int32_t label = ds->labels[i], best = predict(out, classes);
        res->correct += best == label;
        res->confusion[label * classes + best]++;
        res->n = i + 1;
        if (opts->progress) opts->progress(opts->progress_user, i + 1, n, res->correct);
    }
    res->classes = classes;
    res->arena_bytes = it.arena_used;
    free(arena);
    if (st != NML_OK) nml_classify_result_free(res);
    return st;
}
