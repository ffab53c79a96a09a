/* Calibration from labelled IDX images through the training data adapter, so the samples are
 * bit for bit what training fed the network. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nanoml/calib.h"
#include "nanoml/train_data.h"

typedef struct idx_source {
    char name[96];
    char origin[32];
    nml_idx_dataset ds;
    nml_data data;
    int32_t h, w, n, next;
    float *x, y;
} idx_source;

static void idx_close(void *user) {
    idx_source *s = user;
    nml_idx_dataset_free(&s->ds);
    free(s->x);
    free(s);
}

static int64_t idx_count(void *user) {
    return ((idx_source *)user)->n;
}

static nml_status idx_next(void *user, nml_calib_tensor *inputs, int max_inputs, int *n,
                           nml_error *err) {
    idx_source *s = user;
    *n = 0;
    if (s->next >= s->n) return NML_OK;
    if (max_inputs < 1) return nml_fail(err, NML_E_ARG, "%s: no room for a sample", s->name);
    const int32_t i = s->next++;
    NML_TRY(s->data.fetch(&s->data, &i, 1, s->x, &s->y, 0, err));
    snprintf(s->origin, sizeof s->origin, "image %d", (int)i);
    nml_calib_tensor *t = &inputs[0];
    memset(t, 0, sizeof *t);
    t->type = NML_FLOAT32;
    t->rank = 3;
    t->dims[0] = s->h;
    t->dims[1] = s->w;
    t->dims[2] = 1;
    t->data = s->x;
    t->bytes = (size_t)s->h * (size_t)s->w * sizeof(float);
    t->origin = s->origin;
    *n = 1;
    return NML_OK;
}

nml_status nml_calib_idx_open(nml_calib_source *src, const char *dir, const char *split, uint32_t n,
                              int32_t h, int32_t w, nml_error *err) {
    memset(src, 0, sizeof *src);
    idx_source *s = calloc(1, sizeof *s);
    if (!s) return nml_fail(err, NML_E_NOMEM, "out of memory");
    snprintf(s->name, sizeof s->name, "%s images of %s", split, dir);
    nml_status st = nml_idx_load_split(dir, split, &s->ds, err);
    if (st == NML_OK && (h < s->ds.rows || w < s->ds.cols))
        st = nml_fail(err, NML_E_SHAPE,
                      "%s: the model input %dx%d is smaller than the %dx%d "
                      "images",
                      s->name, (int)h, (int)w, (int)s->ds.rows, (int)s->ds.cols);
    if (st == NML_OK) st = nml_data_from_images(&s->data, &s->ds, h, w, err);
    if (st == NML_OK && s->ds.n == 0)
        st = nml_fail(err, NML_E_ARG, "%s: the dataset holds no images", s->name);
    if (st == NML_OK && !(s->x = malloc((size_t)h * (size_t)w * sizeof *s->x)))
        st = nml_fail(err, NML_E_NOMEM, "out of memory");
    if (st != NML_OK) {
        idx_close(s);
        return st;
    }
    s->h = h;
    s->w = w;
    s->n = n && n < (uint32_t)s->ds.n ? (int32_t)n : s->ds.n;
    src->name = s->name;
    src->user = s;
    src->next = idx_next;
    src->count = idx_count;
    src->close = idx_close;
    return NML_OK;
}
