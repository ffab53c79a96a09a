#include "test_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "nanoml/file.h"

static const char *join(char *buf, size_t cap, const char *base, const char *rel) {
    snprintf(buf, cap, "%s/%s", base, rel);
    return buf;
}

const char *nml_test_shared(const char *relative) {
    static char bufs[8][1024];
    static int next;
    const char *base = getenv("NML_SHARED_DIR");
    if (!base || !*base) base = NML_SHARED_DIR;
    char *buf = bufs[next++ % 8];
    return join(buf, sizeof bufs[0], base, relative);
}

const char *nml_test_source(const char *relative) {
    static char bufs[8][1024];
    static int next;
    char *buf = bufs[next++ % 8];
    return join(buf, sizeof bufs[0], NML_SOURCE_DIR, relative);
}

uint8_t *nml_test_read(const char *path, size_t *size) {
    uint8_t *data = NULL;
    nml_error err;
    if (nml_read_file(path, (size_t)1 << 30, &data, size, &err) != NML_OK)
        fail_msg("cannot read %s: %s", path, err.msg);
    return data;
}

int nml_test_exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0;
}

void *nml_test_alloc16(size_t bytes) {
    void *p = NULL;
    if (posix_memalign(&p, 16, bytes ? bytes : 1) != 0) fail_msg("out of memory");
    return p;
}
