/* YOLO label files: "class cx cy w h" per line, strictly checked, errors as PATH:LINE. */
#include <stdlib.h>
#include <string.h>

#include "nanoml/det_dataset.h"
#include "nanoml/file.h"
#include "nanoml/parse.h"

#define LABEL_FIELDS 5
#define FIELD_MAX 64

typedef struct line_fields {
    char text[LABEL_FIELDS][FIELD_MAX];
    int count; /* may exceed LABEL_FIELDS (then only the first ones are stored) */
    int too_long;
} line_fields;

static int is_space(char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

static void split_fields(const char *s, size_t n, line_fields *f) {
    memset(f, 0, sizeof *f);
    size_t i = 0;
    while (i < n) {
        while (i < n && is_space(s[i]))
            i++;
        if (i >= n) break;
        size_t start = i;
        while (i < n && !is_space(s[i]))
            i++;
        size_t len = i - start;
        if (f->count < LABEL_FIELDS) {
            if (len >= FIELD_MAX)
                f->too_long = 1;
            else
                memcpy(f->text[f->count], s + start, len);
        }
        f->count++;
    }
}

/* Numbers go through nanoml/parse.h: no hex floats, no "inf", no trailing garbage. */
static nml_status parse_class(const char *t, const char *path, size_t line, int num_classes,
                              int *cls, nml_error *err) {
    int v;
    if (nml_parse_int(t, 0, 1000000, &v, NULL) != NML_OK)
        return nml_fail(err, NML_E_FORMAT, "%s:%zu: class '%s' is not a non-negative integer", path,
                        line, t);
    if (num_classes > 0 && v >= num_classes)
        return nml_fail(err, NML_E_FORMAT, "%s:%zu: class %d out of range (%d classes)", path,
                        line, v, num_classes);
    *cls = v;
    return NML_OK;
}

static nml_status parse_coord(const char *t, const char *name, const char *path, size_t line,
                              float *out, nml_error *err) {
    double v;
    nml_status st = nml_parse_double(t, 0.0, 1.0, &v, NULL);
    if (st == NML_E_LIMIT)
        return nml_fail(err, NML_E_FORMAT,
                        "%s:%zu: %s '%s' outside [0, 1] (coordinates must be normalised)", path,
                        line, name, t);
    if (st != NML_OK)
        return nml_fail(err, NML_E_FORMAT, "%s:%zu: %s '%s' is not a number", path, line, name, t);
    *out = (float)v;
    return NML_OK;
}

static nml_status parse_line(const line_fields *f, const char *path, size_t line, int num_classes,
                             nml_yolo_label *out, nml_error *err) {
    static const char *names[LABEL_FIELDS] = {"class", "cx", "cy", "w", "h"};
    if (f->count != LABEL_FIELDS)
        return nml_fail(err, NML_E_FORMAT, "%s:%zu: expected 5 fields (class cx cy w h), found %d",
                        path, line, f->count);
    if (f->too_long) return nml_fail(err, NML_E_FORMAT, "%s:%zu: field too long", path, line);
    NML_TRY(parse_class(f->text[0], path, line, num_classes, &out->cls, err));
    float *coords[4] = {&out->cx, &out->cy, &out->w, &out->h};
    for (int i = 0; i < 4; i++)
        NML_TRY(parse_coord(f->text[i + 1], names[i + 1], path, line, coords[i], err));
    return NML_OK;
}

/* Most labels the text can hold: a label line has at least 9 characters ("0 0 0 0 0") and a
 * newline, so (len + 1) / 10. Sizing by lines instead cost 20 bytes per newline: a 16 MiB file
 * of blank lines asked for 335 MB. */
static size_t max_labels(size_t len) {
    return (len + 1) / 10 + 1;
}

nml_status nml_yolo_labels_parse(const char *text, size_t len, const char *path, int num_classes,
                                 nml_yolo_label **labels, size_t *count, nml_error *err) {
    *labels = NULL;
    *count = 0;
    if (!path) path = "labels";
    const size_t cap = max_labels(len);
    nml_yolo_label *out = malloc(cap * sizeof *out);
    if (!out) return nml_fail(err, NML_E_NOMEM, "%s: out of memory", path);
    size_t n = 0, line = 0, pos = 0;
    while (pos < len) {
        size_t end = pos;
        while (end < len && text[end] != '\n')
            end++;
        line++;
        if (memchr(text + pos, '\0', end - pos)) {
            free(out);
            return nml_fail(err, NML_E_FORMAT, "%s:%zu: NUL byte (not a text file?)", path, line);
        }
        line_fields f;
        split_fields(text + pos, end - pos, &f);
        pos = end + 1;
        if (f.count == 0) continue;
        if (n == cap) { /* cannot happen while a label needs 10 bytes: never write past out */
            free(out);
            return nml_fail(err, NML_E_INTERNAL, "%s:%zu: more labels than expected", path, line);
        }
        nml_status st = parse_line(&f, path, line, num_classes, &out[n], err);
        if (st != NML_OK) {
            free(out);
            return st;
        }
        n++;
    }
    if (n == 0) {
        free(out);
        out = NULL;
    }
    *labels = out;
    *count = n;
    return NML_OK;
}

nml_status nml_yolo_labels_load(const char *path, int num_classes, nml_yolo_label **labels,
                                size_t *count, nml_error *err) {
    uint8_t *data = NULL;
    size_t size = 0;
    *labels = NULL;
    *count = 0;
    NML_TRY(nml_read_file(path, NML_LABEL_MAX_FILE_BYTES, &data, &size, err));
    nml_status st =
        nml_yolo_labels_parse((const char *)data, size, path, num_classes, labels, count, err);
    free(data);
    return st;
}

nml_gt_box nml_yolo_label_to_box(const nml_yolo_label *l, int img_w, int img_h) {
    nml_gt_box b;
    b.x1 = (l->cx - 0.5f * l->w) * (float)img_w;
    b.y1 = (l->cy - 0.5f * l->h) * (float)img_h;
    b.x2 = (l->cx + 0.5f * l->w) * (float)img_w;
    b.y2 = (l->cy + 0.5f * l->h) * (float)img_h;
    b.cls = l->cls;
    return b;
}
