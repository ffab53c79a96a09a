/* Built-in COCO class names and the names-file reader. */
#include <stdlib.h>
#include <string.h>

#include "nanoml/class_names.h"
#include "nanoml/file.h"

/* COCO's 80 detection classes in the contiguous index order every YOLO-style model uses, spelt as
 * in FastestDet's coco.names (Darknet). Ultralytics' metadata spells six of them differently
 * (motorcycle, airplane, couch, potted plant, dining table, tv): same classes, same order. */
static const char *const coco_names[NML_COCO_CLASSES] = {
    "person",        "bicycle",       "car",           "motorbike",
    "aeroplane",     "bus",           "train",         "truck",
    "boat",          "traffic light", "fire hydrant",  "stop sign",
    "parking meter", "bench",         "bird",          "cat",
    "dog",           "horse",         "sheep",         "cow",
    "elephant",      "bear",          "zebra",         "giraffe",
    "backpack",      "umbrella",      "handbag",       "tie",
    "suitcase",      "frisbee",       "skis",          "snowboard",
    "sports ball",   "kite",          "baseball bat",  "baseball glove",
    "skateboard",    "surfboard",     "tennis racket", "bottle",
    "wine glass",    "cup",           "fork",          "knife",
    "spoon",         "bowl",          "banana",        "apple",
    "sandwich",      "orange",        "broccoli",      "carrot",
    "hot dog",       "pizza",         "donut",         "cake",
    "chair",         "sofa",          "pottedplant",   "bed",
    "diningtable",   "toilet",        "tvmonitor",     "laptop",
    "mouse",         "remote",        "keyboard",      "cell phone",
    "microwave",     "oven",          "toaster",       "sink",
    "refrigerator",  "book",          "clock",         "vase",
    "scissors",      "teddy bear",    "hair drier",    "toothbrush"};

nml_class_names nml_class_names_coco(void) {
    nml_class_names n = {(char **)coco_names, NML_COCO_CLASSES, 0};
    return n;
}

const char *nml_class_name(const nml_class_names *names, int cls) {
    if (!names || cls < 0 || cls >= names->count) return NULL;
    return names->names[cls];
}

void nml_class_names_free(nml_class_names *names) {
    if (!names) return;
    if (names->owned) {
        for (int i = 0; i < names->count; i++)
            free(names->names[i]);
        free(names->names);
    }
    names->names = NULL;
    names->count = 0;
    names->owned = 0;
}

static int is_blank(char c) {
    return c == ' ' || c == '\t' || c == '\r';
}

/* Appends text[b, e) as a new name. */
static nml_status add_name(nml_class_names *n, const char *path, int line, const char *s,
                           size_t len, nml_error *err) {
    if (len > NML_NAMES_MAX_LEN)
        return nml_fail(err, NML_E_FORMAT, "%s:%d: name longer than %d bytes", path, line,
                        NML_NAMES_MAX_LEN);
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return nml_fail(err, NML_E_FORMAT, "%s:%d: control character in a name", path, line);
    char **v = realloc(n->names, ((size_t)n->count + 1) * sizeof *v);
    if (!v) return nml_fail(err, NML_E_NOMEM, "%s: out of memory", path);
    n->names = v;
    if (!(v[n->count] = malloc(len + 1)))
        return nml_fail(err, NML_E_NOMEM, "%s: out of memory", path);
    memcpy(v[n->count], s, len);
    v[n->count][len] = '\0';
    n->count++;
    return NML_OK;
}

static nml_status parse_names(const char *text, size_t size, const char *path, nml_class_names *n,
                              nml_error *err) {
    size_t pos = 0;
    for (int line = 1; pos < size; line++) {
        size_t end = pos;
        while (end < size && text[end] != '\n')
            end++;
        size_t b = pos, e = end;
        while (b < e && is_blank(text[b]))
            b++;
        while (e > b && is_blank(text[e - 1]))
            e--;
        if (e > b) NML_TRY(add_name(n, path, line, text + b, e - b, err));
        pos = end + 1;
    }
    if (n->count == 0) return nml_fail(err, NML_E_FORMAT, "%s: no class names in the file", path);
    return NML_OK;
}

nml_status nml_class_names_load(const char *path, nml_class_names *names, nml_error *err) {
    names->names = NULL;
    names->count = 0;
    names->owned = 1;
    uint8_t *data;
    size_t size;
    nml_status st = nml_read_file(path, NML_NAMES_MAX_FILE_BYTES, &data, &size, err);
    if (st == NML_E_LIMIT)
        return nml_fail(err, NML_E_LIMIT, "%s: larger than %zu bytes, not a names file", path,
                        NML_NAMES_MAX_FILE_BYTES);
    NML_TRY(st);
    st = parse_names((const char *)data, size, path, names, err);
    free(data);
    if (st != NML_OK) nml_class_names_free(names);
    return st;
}
