#include "nanoml/file.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

nml_status nml_read_file(const char *path, size_t max_bytes, uint8_t **data, size_t *size,
                         nml_error *err) {
    *data = NULL;
    *size = 0;
    struct stat st;
    if (stat(path, &st) != 0)
        return nml_fail(err, NML_E_IO, "%s: %s", path, strerror(errno));
    if (S_ISDIR(st.st_mode)) return nml_fail(err, NML_E_IO, "%s: is a directory", path);
    if (!S_ISREG(st.st_mode)) return nml_fail(err, NML_E_IO, "%s: not a regular file", path);
    if ((unsigned long long)st.st_size > max_bytes)
        return nml_fail(err, NML_E_LIMIT, "%s: file is %lld bytes, limit is %zu", path,
                        (long long)st.st_size, max_bytes);
    FILE *f = fopen(path, "rb");
    if (!f) return nml_fail(err, NML_E_IO, "%s: %s", path, strerror(errno));
    size_t n = (size_t)st.st_size;
    size_t alloc = (n + 1 + 15) & ~(size_t)15;
    uint8_t *buf = aligned_alloc(16, alloc);
    if (!buf) {
        fclose(f);
        return nml_fail(err, NML_E_NOMEM, "%s: cannot allocate %zu bytes", path, n);
    }
    size_t got = n ? fread(buf, 1, n, f) : 0;
    int read_error = ferror(f);
    fclose(f);
    if (got != n || read_error) {
        free(buf);
        return nml_fail(err, NML_E_IO, "%s: short read (%zu of %zu bytes)", path, got, n);
    }
    buf[n] = 0;
    *data = buf;
    *size = n;
    return NML_OK;
}

nml_status nml_write_file(const char *path, const void *data, size_t size, nml_error *err) {
    FILE *f = fopen(path, "wb");
    if (!f) return nml_fail(err, NML_E_IO, "%s: %s", path, strerror(errno));
    size_t put = size ? fwrite(data, 1, size, f) : 0;
    int close_failed = fclose(f);
    if (put != size || close_failed)
        return nml_fail(err, NML_E_IO, "%s: write failed (%zu of %zu bytes)", path, put, size);
    return NML_OK;
}

nml_status nml_make_dirs(const char *path, nml_error *err) {
    char buf[4096];
    size_t len = strlen(path);
    if (len == 0 || len >= sizeof buf) return nml_fail(err, NML_E_ARG, "bad directory path");
    memcpy(buf, path, len + 1);
    for (size_t i = 1; i <= len; i++) {
        if (buf[i] != '/' && buf[i] != '\0') continue;
        char saved = buf[i];
        buf[i] = '\0';
        if (mkdir(buf, 0777) != 0 && errno != EEXIST)
            return nml_fail(err, NML_E_IO, "%s: %s", buf, strerror(errno));
        buf[i] = saved;
    }
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
        return nml_fail(err, NML_E_IO, "%s: not a directory", path);
    return NML_OK;
}
