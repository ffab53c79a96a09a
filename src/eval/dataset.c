/* YOLO-layout dataset folders: list the images, pair each with its label file, parse labels. */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "nanoml/det_dataset.h"

static int is_dir(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static int is_file(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static char *join_path(const char *a, const char *b) {
    size_t la = strlen(a), lb = strlen(b);
    while (la > 1 && a[la - 1] == '/')
        la--;
    char *s = malloc(la + 1 + lb + 1);
    if (!s) return NULL;
    memcpy(s, a, la);
    s[la] = '/';
    memcpy(s + la + 1, b, lb + 1);
    return s;
}

static char *copy_string(const char *s) {
    size_t n = strlen(s) + 1;
    char *c = malloc(n);
    if (c) memcpy(c, s, n);
    return c;
}

/* ".../images" -> ".../labels", also for ".../images/val" -> ".../labels/val". */
static char *sibling_labels_dir(const char *images_dir) {
    size_t n = strlen(images_dir);
    while (n > 1 && images_dir[n - 1] == '/')
        n--;
    for (size_t i = n; i >= 6; i--) {
        size_t s = i - 6;
        if (memcmp(images_dir + s, "images", 6) != 0) continue;
        if ((s == 0 || images_dir[s - 1] == '/') && (i == n || images_dir[i] == '/')) {
            char *out = malloc(n + 1);
            if (!out) return NULL;
            memcpy(out, images_dir, n);
            memcpy(out + s, "labels", 6);
            out[n] = '\0';
            return out;
        }
    }
    return NULL;
}

static int has_image_extension(const char *name) {
    static const char *exts[] = {".jpg", ".jpeg", ".png", ".bmp"};
    const char *dot = strrchr(name, '.');
    if (!dot) return 0;
    for (size_t i = 0; i < sizeof exts / sizeof exts[0]; i++)
        if (strcasecmp(dot, exts[i]) == 0) return 1;
    return 0;
}

static int compare_names(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

typedef struct name_list {
    char **v;
    size_t n, cap;
} name_list;

static void free_names(name_list *l) {
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
}

static nml_status push_name(name_list *l, const char *name, nml_error *err) {
    if (l->n >= NML_DATASET_MAX_IMAGES)
        return nml_fail(err, NML_E_LIMIT, "more than %d images", NML_DATASET_MAX_IMAGES);
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 256;
        char **v = realloc(l->v, cap * sizeof *v);
        if (!v) return nml_fail(err, NML_E_NOMEM, "out of memory listing images");
        l->v = v;
        l->cap = cap;
    }
    if (!(l->v[l->n] = copy_string(name)))
        return nml_fail(err, NML_E_NOMEM, "out of memory listing images");
    l->n++;
    return NML_OK;
}

static nml_status list_images(const char *dir, name_list *out, nml_error *err) {
    DIR *d = opendir(dir);
    if (!d) return nml_fail(err, NML_E_IO, "%s: %s", dir, strerror(errno));
    nml_status st = NML_OK;
    struct dirent *e;
    while (st == NML_OK && (e = readdir(d)) != NULL)
        if (e->d_name[0] != '.' && has_image_extension(e->d_name))
            st = push_name(out, e->d_name, err);
    closedir(d);
    if (st != NML_OK) return nml_error_prefix(err, "%s: ", dir);
    if (out->n == 0) return nml_fail(err, NML_E_FORMAT, "%s: no .jpg/.jpeg/.png/.bmp images", dir);
    qsort(out->v, out->n, sizeof *out->v, compare_names);
    return NML_OK;
}

static char *label_path_for(const char *labels_dir, const char *image_name) {
    size_t stem = strlen(image_name);
    const char *dot = strrchr(image_name, '.');
    if (dot) stem = (size_t)(dot - image_name);
    char *file = malloc(stem + 5);
    if (!file) return NULL;
    memcpy(file, image_name, stem);
    memcpy(file + stem, ".txt", 5);
    char *p = join_path(labels_dir, file);
    free(file);
    return p;
}

static nml_status load_sample(const nml_det_dataset *ds, const char *name, int num_classes,
                              nml_det_sample *s, nml_error *err) {
    memset(s, 0, sizeof *s);
    s->image_path = join_path(ds->images_dir, name);
    char *label = label_path_for(ds->labels_dir, name);
    if (!s->image_path || !label) {
        free(label);
        return nml_fail(err, NML_E_NOMEM, "out of memory");
    }
    if (!is_file(label)) { /* no label file: an image without objects */
        free(label);
        return NML_OK;
    }
    s->label_path = label;
    return nml_yolo_labels_load(label, num_classes, &s->labels, &s->num_labels, err);
}

static nml_status resolve_dirs(const char *path, nml_det_dataset *ds, nml_error *err) {
    char *images = join_path(path, "images");
    if (!images) return nml_fail(err, NML_E_NOMEM, "out of memory");
    if (is_dir(images)) {
        ds->images_dir = images;
        ds->labels_dir = join_path(path, "labels");
    } else {
        free(images);
        if (!is_dir(path)) return nml_fail(err, NML_E_IO, "%s: not a folder", path);
        ds->images_dir = copy_string(path);
        ds->labels_dir = sibling_labels_dir(path);
        if (!ds->labels_dir)
            return nml_fail(err, NML_E_ARG,
                            "%s: cannot locate the labels folder (give a folder holding images/ "
                            "and labels/, or an images folder with a sibling labels folder)",
                            path);
    }
    if (!ds->images_dir || !ds->labels_dir) return nml_fail(err, NML_E_NOMEM, "out of memory");
    if (!is_dir(ds->labels_dir))
        return nml_fail(err, NML_E_IO, "%s: labels folder not found", ds->labels_dir);
    return NML_OK;
}

nml_status nml_det_dataset_open(const char *path, int num_classes, nml_det_dataset *ds,
                                nml_error *err) {
    memset(ds, 0, sizeof *ds);
    name_list names = {NULL, 0, 0};
    nml_status st = resolve_dirs(path, ds, err);
    if (st == NML_OK) st = list_images(ds->images_dir, &names, err);
    if (st == NML_OK && !(ds->samples = calloc(names.n, sizeof *ds->samples)))
        st = nml_fail(err, NML_E_NOMEM, "out of memory for %zu samples", names.n);
    for (size_t i = 0; st == NML_OK && i < names.n; i++) {
        st = load_sample(ds, names.v[i], num_classes, &ds->samples[i], err);
        ds->count = i + 1;
    }
    free_names(&names);
    if (st != NML_OK) nml_det_dataset_free(ds);
    return st;
}

void nml_det_dataset_free(nml_det_dataset *ds) {
    if (!ds) return;
    for (size_t i = 0; i < ds->count; i++) {
        free(ds->samples[i].image_path);
        free(ds->samples[i].label_path);
        free(ds->samples[i].labels);
    }
    free(ds->samples);
    free(ds->images_dir);
    free(ds->labels_dir);
    memset(ds, 0, sizeof *ds);
}
