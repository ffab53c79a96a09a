/* YOLO label text (nanoml eval on a detection dataset): one "class cx cy w h" object per line.
 * The first byte picks the class count the caller allows (0 = any), the rest is the text. Every
 * accepted label must have a class within that count and coordinates in [0, 1], and the
 * count of labels cannot exceed the count of lines. */
#include <math.h>
#include <stdlib.h>

#include "fuzz_target.h"
#include "nanoml/det_dataset.h"

static nml_status one(const uint8_t *data, size_t size, nml_error *err) {
    if (size == 0) return NML_OK;
    const int classes = data[0] % 4 == 0 ? 0 : data[0];
    const char *text = (const char *)data + 1;
    const size_t len = size - 1;
    nml_yolo_label *labels;
    size_t n;
    NML_TRY(nml_yolo_labels_parse(text, len, "fuzz", classes, &labels, &n, err));
    size_t lines = 1;
    for (size_t i = 0; i < len; i++)
        lines += text[i] == '\n';
    nml_fuzz_check(n <= lines, "at most one label per line");
    nml_fuzz_check((n == 0) == (labels == NULL), "labels present exactly when counted");
    for (size_t i = 0; i < n; i++) {
        const nml_yolo_label *l = &labels[i];
        nml_fuzz_check(l->cls >= 0 && (classes == 0 || l->cls < classes), "class in range");
        const float v[4] = {l->cx, l->cy, l->w, l->h};
        for (int k = 0; k < 4; k++)
            nml_fuzz_check(isfinite(v[k]) && v[k] >= 0.0f && v[k] <= 1.0f, "coordinate in [0, 1]");
    }
    free(labels);
    return NML_OK;
}

NML_FUZZ_TARGET(one, 64u << 10)
