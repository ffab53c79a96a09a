/* Calibration sources by name, as the command line spells them. */
#include <stdlib.h>
#include <string.h>

#include "nanoml/calib.h"
#include "nanoml/idx.h"
#include "nanoml/ir.h"
#include "nanoml/parse.h"
#include "nanoml/runtime.h"

/* The model input as an image: 1 x H x W x C float32. */
static nml_status image_input(const nml_ir *model, const char *spec, int32_t *h, int32_t *w,
                              int32_t *c, nml_error *err) {
    if (!model || model->n_inputs < 1)
        return nml_fail(err, NML_E_ARG, "%s: the model has no input", spec);
    const nml_ir_tensor *t = &model->tensors[model->inputs[0]];
    char dims[96];
    nml_format_dims(dims, sizeof dims, t->dims, t->rank);
    if (t->rank != 4 || t->dims[0] != 1)
        return nml_fail(err, NML_E_SHAPE,
                        "%s: the model input %s (%s) is not an image (1 x H x "
                        "W x C)",
                        spec, t->name, dims);
    if (t->type != NML_FLOAT32)
        return nml_fail(err, NML_E_UNSUPPORTED, "%s: the model input %s is %s, not float32", spec,
                        t->name, nml_dtype_name(t->type));
    *h = t->dims[1];
    *w = t->dims[2];
    *c = t->dims[3];
    return NML_OK;
}

static nml_status open_fashion(nml_calib_source *src, const char *spec, const nml_ir *model,
                               const char *dir, nml_error *err) {
    int32_t h = 0, w = 0, c = 0; /* gcc -O3 cannot see image_input set them */
    int n = NML_CALIB_FASHION_DEFAULT;
    if (spec[strlen("fashion-mnist")] == ':' &&
        nml_parse_int(spec + strlen("fashion-mnist:"), 1, 1 << 30, &n, err) != NML_OK)
        return nml_error_prefix(err, "%s: sample count: ", spec);
    NML_TRY(image_input(model, spec, &h, &w, &c, err));
    if (c != 1)
        return nml_fail(err, NML_E_SHAPE, "%s: the model input has %d channels, the images 1", spec,
                        (int)c);
    return nml_calib_idx_open(src, dir ? dir : NML_FASHION_MNIST_DIR, "train", (uint32_t)n, h, w,
                              err);
}

nml_status nml_calib_open_spec(nml_calib_source *src, const char *spec, const nml_ir *model,
                               const char *fashion_dir, nml_error *err) {
    memset(src, 0, sizeof *src);
    if (!spec || !*spec) return nml_fail(err, NML_E_ARG, "no calibration source given");
    if (strncmp(spec, "npy:", 4) == 0) return nml_calib_npy_open(src, spec + 4, err);
    if (strcmp(spec, "fashion-mnist") == 0 || strncmp(spec, "fashion-mnist:", 14) == 0)
        return open_fashion(src, spec, model, fashion_dir, err);
    if (strncmp(spec, "images:", 7) == 0) {
        int32_t h = 0, w = 0, c = 0;
        NML_TRY(image_input(model, spec, &h, &w, &c, err));
        return nml_calib_images_open(src, spec + 7, h, w, c, err);
    }
    return nml_fail(err, NML_E_ARG,
                    "unknown calibration source '%s' (npy:DIR, npy:FILE, "
                    "fashion-mnist[:N], images:DIR)",
                    spec);
}
