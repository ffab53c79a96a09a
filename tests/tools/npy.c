#include "npy.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nanoml/file.h"

nml_status npy_write_f32(const char *path, const float *data, const size_t *shape, int rank,
                         nml_error *err) {
    char header[256];
    int n = snprintf(header, sizeof header, "{'descr': '<f4', 'fortran_order': False, 'shape': (");
    size_t count = 1;
    for (int i = 0; i < rank; i++) {
        n += snprintf(header + n, sizeof header - (size_t)n, "%zu%s", shape[i],
                      rank == 1 ? "," : (i + 1 < rank ? ", " : ""));
        count *= shape[i];
    }
    n += snprintf(header + n, sizeof header - (size_t)n, "), }");
    size_t total = 10 + (size_t)n + 1, pad = (64 - total % 64) % 64;
    size_t hlen = (size_t)n + pad + 1;
    FILE *f = fopen(path, "wb");
    if (!f) return nml_fail(err, NML_E_IO, "%s: cannot create", path);
    uint8_t pre[10] = {
        0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, (uint8_t)(hlen & 0xff), (uint8_t)(hlen >> 8)};
    fwrite(pre, 1, 10, f);
    fwrite(header, 1, (size_t)n, f);
    for (size_t i = 0; i < pad; i++)
        fputc(' ', f);
    fputc('\n', f);
    size_t put = fwrite(data, sizeof(float), count, f);
    if (fclose(f) != 0 || put != count) return nml_fail(err, NML_E_IO, "%s: write failed", path);
    return NML_OK;
}

static nml_status parse_shape(const char *h, const char *path, npy_array *a, nml_error *err) {
    const char *s = strstr(h, "'shape':");
    if (!s || !(s = strchr(s, '('))) return nml_fail(err, NML_E_FORMAT, "%s: no shape", path);
    s++;
    a->rank = 0;
    a->count = 1;
    while (*s && *s != ')') {
        while (*s == ' ' || *s == ',')
            s++;
        if (*s == ')') break;
        char *end;
        unsigned long long v = strtoull(s, &end, 10);
        if (end == s || a->rank >= NPY_MAX_RANK)
            return nml_fail(err, NML_E_FORMAT, "%s: bad shape", path);
        a->shape[a->rank++] = (size_t)v;
        a->count *= (size_t)v;
        s = end;
    }
    return NML_OK;
}

nml_status npy_read_f32(const char *path, npy_array *a, nml_error *err) {
    memset(a, 0, sizeof *a);
    uint8_t *buf = NULL;
    size_t size = 0;
    NML_TRY(nml_read_file(path, (size_t)1 << 30, &buf, &size, err));
    nml_status st = NML_OK;
    size_t hlen = size >= 10 ? (size_t)buf[8] | ((size_t)buf[9] << 8) : 0;
    if (size < 10 || memcmp(buf, "\x93NUMPY", 6) != 0 || buf[6] != 1 || 10 + hlen > size)
        st = nml_fail(err, NML_E_FORMAT, "%s: not a version 1 .npy file", path);
    char header[1024] = {0};
    if (st == NML_OK && hlen < sizeof header) memcpy(header, buf + 10, hlen);
    if (st == NML_OK && !strstr(header, "'<f4'"))
        st = nml_fail(err, NML_E_FORMAT, "%s: not float32 ('<f4')", path);
    if (st == NML_OK) st = parse_shape(header, path, a, err);
    if (st == NML_OK && (size - 10 - hlen) != a->count * sizeof(float))
        st = nml_fail(err, NML_E_FORMAT, "%s: %zu data bytes for %zu floats", path,
                      size - 10 - hlen, a->count);
    if (st == NML_OK && !(a->data = malloc(a->count * sizeof(float) + 1)))
        st = nml_fail(err, NML_E_NOMEM, "%s: out of memory", path);
    if (st == NML_OK) memcpy(a->data, buf + 10 + hlen, a->count * sizeof(float));
    free(buf);
    return st;
}
