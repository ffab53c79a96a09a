/* Calibration from a folder of images: decoded, resized to the model input, scaled to [0, 1].
 * Files are read one per sample, so a folder of any size needs one image of memory. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "nanoml/calib.h"
#include "nanoml/image.h"

typedef struct image_dir {
    char name[1100];
    char path[1400];
    char *dir;
    char **files;
    size_t n, cap, next;
    int32_t h, w, c;
    float *x;
} image_dir;

static int is_image_name(const char *s) {
    static const char *const ext[] = {".png", ".jpg", ".jpeg", ".bmp"};
    const size_t n = strlen(s);
    for (size_t i = 0; i < sizeof ext / sizeof ext[0]; i++) {
        const size_t e = strlen(ext[i]);
        if (n > e && strcasecmp(s + n - e, ext[i]) == 0) return 1;
    }
    return 0;
}

static int by_name(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void images_close(void *user) {
    image_dir *d = user;
    for (size_t i = 0; i < d->n; i++)
        free(d->files[i]);
    free(d->files);
    free(d->dir);
    free(d->x);
    free(d);
}

static int64_t images_count(void *user) {
    return (int64_t)((image_dir *)user)->n;
}

static nml_status images_next(void *user, nml_calib_tensor *inputs, int max_inputs, int *n,
                              nml_error *err) {
    image_dir *d = user;
    *n = 0;
    if (d->next >= d->n) return NML_OK;
    if (max_inputs < 1) return nml_fail(err, NML_E_ARG, "%s: no room for a sample", d->name);
    const char *file = d->files[d->next++];
    snprintf(d->path, sizeof d->path, "%s/%s", d->dir, file);
    nml_image img = {0}, sized = {0};
    nml_status st = nml_image_load(d->path, (int)d->c, &img, err);
    if (st == NML_OK)
        st = nml_image_resize(&img, (int)d->w, (int)d->h, NML_INTERP_LINEAR, &sized, err);
    if (st == NML_OK) {
        const nml_pixel_norm unit = nml_pixel_norm_unit(0);
        st = nml_image_to_float(&sized, NML_LAYOUT_NHWC, &unit, d->x,
                                (size_t)d->h * (size_t)d->w * (size_t)d->c, err);
    }
    nml_image_free(&img);
    nml_image_free(&sized);
    if (st != NML_OK) return nml_error_prefix(err, "%s: ", d->name);
    nml_calib_tensor *t = &inputs[0];
    memset(t, 0, sizeof *t);
    t->type = NML_FLOAT32;
    t->rank = 3;
    t->dims[0] = d->h;
    t->dims[1] = d->w;
    t->dims[2] = d->c;
    t->data = d->x;
    t->bytes = (size_t)d->h * (size_t)d->w * (size_t)d->c * sizeof(float);
    t->origin = file;
    *n = 1;
    return NML_OK;
}

static nml_status add_file(image_dir *d, const char *name, nml_error *err) {
    if (d->n == d->cap) {
        const size_t cap = d->cap ? d->cap * 2 : 64;
        char **f = realloc(d->files, cap * sizeof *f);
        if (!f) return nml_fail(err, NML_E_NOMEM, "%s: out of memory listing files", d->name);
        d->files = f;
        d->cap = cap;
    }
    const size_t len = strlen(name) + 1;
    if (!(d->files[d->n] = malloc(len)))
        return nml_fail(err, NML_E_NOMEM, "%s: out of memory listing files", d->name);
    memcpy(d->files[d->n++], name, len);
    return NML_OK;
}

static nml_status list_images(image_dir *d, nml_error *err) {
    DIR *dir = opendir(d->dir);
    if (!dir) return nml_fail(err, NML_E_IO, "%s: cannot open the directory", d->name);
    nml_status st = NML_OK;
    struct dirent *e;
    while (st == NML_OK && (e = readdir(dir)) != NULL)
        if (is_image_name(e->d_name)) st = add_file(d, e->d_name, err);
    closedir(dir);
    NML_TRY(st);
    if (d->n == 0)
        return nml_fail(err, NML_E_ARG,
                        "%s: no image files (.png, .jpg, .jpeg, .bmp) in the "
                        "directory",
                        d->name);
    qsort(d->files, d->n, sizeof *d->files, by_name);
    return NML_OK;
}

nml_status nml_calib_images_open(nml_calib_source *src, const char *dir, int32_t h, int32_t w,
                                 int32_t c, nml_error *err) {
    memset(src, 0, sizeof *src);
    if (!dir || !*dir) return nml_fail(err, NML_E_ARG, "images: no directory given");
    if (c != 1 && c != 3)
        return nml_fail(err, NML_E_SHAPE,
                        "images:%s: the model input has %d channels; images "
                        "give 1 (grey) or 3 (RGB)",
                        dir, (int)c);
    if (h < 1 || w < 1 || h > NML_IMAGE_MAX_DIM || w > NML_IMAGE_MAX_DIM)
        return nml_fail(err, NML_E_SHAPE, "images:%s: input size %dx%d is not an image size", dir,
                        (int)h, (int)w);
    image_dir *d = calloc(1, sizeof *d);
    if (!d) return nml_fail(err, NML_E_NOMEM, "out of memory");
    snprintf(d->name, sizeof d->name, "images:%s", dir);
    d->h = h;
    d->w = w;
    d->c = c;
    const size_t len = strlen(dir) + 1;
    d->dir = malloc(len);
    d->x = malloc((size_t)h * (size_t)w * (size_t)c * sizeof *d->x);
    nml_status st = d->dir && d->x ? NML_OK : nml_fail(err, NML_E_NOMEM, "out of memory");
    if (st == NML_OK) {
        memcpy(d->dir, dir, len);
        st = list_images(d, err);
    }
    if (st != NML_OK) {
        images_close(d);
        return st;
    }
    src->name = d->name;
    src->user = d;
    src->next = images_next;
    src->count = images_count;
    src->close = images_close;
    return NML_OK;
}
