/* Calibration from NumPy files: a directory with one .npy per sample (file-name order), or one
 * .npy whose first dimension counts the samples. Files are read lazily, one per sample. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "compress/calib_internal.h"
#include "nanoml/npy.h"

#define NPY_NAME_MAX 1100

typedef struct npy_dir {
    char name[NPY_NAME_MAX]; /* "npy:DIR" */
    char path[NPY_NAME_MAX]; /* current file, for messages */
    char *dir;
    char **files;
    size_t n, next;
    nml_npy cur;
} npy_dir;

typedef struct npy_file {
    char name[NPY_NAME_MAX];
    char path[NPY_NAME_MAX];
    nml_npy array;
} npy_file;

static int has_npy_suffix(const char *s) {
    size_t n = strlen(s);
    return n > 4 && strcasecmp(s + n - 4, ".npy") == 0;
}

static int by_name(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void dir_free(npy_dir *d) {
    for (size_t i = 0; i < d->n; i++)
        free(d->files[i]);
    free(d->files);
    free(d->dir);
    nml_npy_free(&d->cur);
    free(d);
}

static void dir_close(void *user) {
    dir_free(user);
}

static int64_t dir_count(void *user) {
    return (int64_t)((npy_dir *)user)->n;
}

static nml_status dir_next(void *user, nml_calib_tensor *inputs, int max_inputs, int *n,
                           nml_error *err) {
    npy_dir *d = user;
    *n = 0;
    nml_npy_free(&d->cur);
    if (d->next >= d->n) return NML_OK;
    if (max_inputs < 1) return nml_fail(err, NML_E_ARG, "%s: no room for a sample", d->name);
    snprintf(d->path, sizeof d->path, "%s/%s", d->dir, d->files[d->next]);
    d->next++;
    if (nml_npy_read(d->path, &d->cur, err) != NML_OK)
        return nml_error_prefix(err, "%s: ", d->name);
    nml_calib_tensor *t = &inputs[0];
    memset(t, 0, sizeof *t);
    t->type = d->cur.dtype;
    t->rank = d->cur.rank;
    memcpy(t->dims, d->cur.dims, sizeof t->dims);
    t->data = d->cur.data;
    t->bytes = d->cur.bytes;
    t->origin = d->files[d->next - 1];
    *n = 1;
    return NML_OK;
}

static nml_status list_dir(npy_dir *d, nml_error *err) {
    DIR *dir = opendir(d->dir);
    if (!dir) return nml_fail(err, NML_E_IO, "%s: cannot open the directory", d->name);
    size_t cap = 0;
    nml_status st = NML_OK;
    struct dirent *e;
    while (st == NML_OK && (e = readdir(dir)) != NULL) {
        if (!has_npy_suffix(e->d_name)) continue;
        if (d->n == cap) {
            size_t ncap = cap ? cap * 2 : 64;
            char **grown = realloc(d->files, ncap * sizeof *grown);
            if (!grown) {
                st = nml_fail(err, NML_E_NOMEM, "%s: out of memory listing files", d->name);
                break;
            }
            d->files = grown;
            cap = ncap;
        }
        size_t len = strlen(e->d_name) + 1;
        d->files[d->n] = malloc(len);
        if (!d->files[d->n]) {
            st = nml_fail(err, NML_E_NOMEM, "%s: out of memory listing files", d->name);
            break;
        }
        memcpy(d->files[d->n++], e->d_name, len);
    }
    closedir(dir);
    if (st != NML_OK) return st;
    if (d->n == 0) return nml_fail(err, NML_E_ARG, "%s: no .npy files in the directory", d->name);
    qsort(d->files, d->n, sizeof *d->files, by_name);
    return NML_OK;
}

static nml_status open_dir(nml_calib_source *src, const char *path, nml_error *err) {
    npy_dir *d = calloc(1, sizeof *d);
    if (!d) return nml_fail(err, NML_E_NOMEM, "npy:%s: out of memory", path);
    snprintf(d->name, sizeof d->name, "npy:%s", path);
    size_t len = strlen(path) + 1;
    d->dir = malloc(len);
    if (!d->dir) {
        dir_free(d);
        return nml_fail(err, NML_E_NOMEM, "npy:%s: out of memory", path);
    }
    memcpy(d->dir, path, len);
    nml_status st = list_dir(d, err);
    if (st != NML_OK) {
        dir_free(d);
        return st;
    }
    memset(src, 0, sizeof *src);
    src->name = d->name;
    src->user = d;
    src->next = dir_next;
    src->count = dir_count;
    src->close = dir_close;
    return NML_OK;
}

static void file_free(void *owner) {
    npy_file *f = owner;
    nml_npy_free(&f->array);
    free(f);
}

/* One file holding [samples, ...sample shape]. */
static nml_status open_file(nml_calib_source *src, const char *path, nml_error *err) {
    npy_file *f = calloc(1, sizeof *f);
    if (!f) return nml_fail(err, NML_E_NOMEM, "npy:%s: out of memory", path);
    snprintf(f->name, sizeof f->name, "npy:%s", path);
    snprintf(f->path, sizeof f->path, "%s", path);
    if (nml_npy_read(path, &f->array, err) != NML_OK) {
        file_free(f);
        return nml_error_prefix(err, "npy:%s: ", path);
    }
    if (f->array.rank < 1) {
        file_free(f);
        return nml_fail(err, NML_E_SHAPE,
                        "npy:%s: a single file needs a first dimension counting the samples "
                        "(it holds a scalar)",
                        path);
    }
    nml_status st =
        nml_calib_array_make(src, f->array.dtype, f->array.rank - 1, f->array.dims + 1,
                             f->array.data, (size_t)f->array.dims[0], f->name, f->path, err);
    if (st != NML_OK) {
        file_free(f);
        return st;
    }
    nml_calib_array *a = src->user;
    a->on_close = file_free;
    a->owner = f;
    return NML_OK;
}

nml_status nml_calib_npy_open(nml_calib_source *src, const char *path, nml_error *err) {
    memset(src, 0, sizeof *src);
    if (!path || !*path) return nml_fail(err, NML_E_ARG, "npy: no path given");
    struct stat st;
    if (stat(path, &st) != 0)
        return nml_fail(err, NML_E_IO, "npy:%s: no such file or directory", path);
    return S_ISDIR(st.st_mode) ? open_dir(src, path, err) : open_file(src, path, err);
}
