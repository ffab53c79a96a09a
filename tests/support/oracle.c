#include "oracle.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nanoml/types.h"
#include "test_util.h"

static int oracles_found(const char **why) {
    if (system("node --version > /dev/null 2>&1") != 0) {
        *why = "node not found (scripts/setup.sh installs it)";
        return 0;
    }
    if (!nml_test_exists(nml_test_source("tests/oracles/node_modules/@litertjs/core"))) {
        *why = "tests/oracles/node_modules missing (run scripts/setup.sh or npm ci there)";
        return 0;
    }
    *why = "";
    return 1;
}

/* scripts/test.sh sets NML_REQUIRE_ORACLES=1 so that CI fails rather than skips when the
 * oracles are missing; a developer build without node still runs the rest. */
int nml_test_oracles_available(const char **why) {
    if (oracles_found(why)) return 1;
    const char *req = getenv("NML_REQUIRE_ORACLES");
    if (req && *req && strcmp(req, "0") != 0) fail_msg("oracles required but missing: %s", *why);
    return 0;
}

const char *nml_test_tmpdir(void) {
    static char dir[256];
    const char *base = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/nml-test-XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp(dir)) fail_msg("cannot create a temporary directory under %s", dir);
    return dir;
}

void nml_test_tmpdir_remove(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    char path[1024];
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        unlink(path);
    }
    closedir(d);
    rmdir(dir);
}

static const char *npy_descr(int dtype) {
    switch (dtype) {
    case NML_FLOAT32:
        return "<f4";
    case NML_INT8:
        return "|i1";
    case NML_UINT8:
        return "|u1";
    case NML_INT16:
        return "<i2";
    case NML_INT32:
        return "<i4";
    case NML_INT64:
        return "<i8";
    default:
        return NULL;
    }
}

void nml_test_npy_write(const char *path, int dtype, int rank, const int32_t *dims,
                        const void *data) {
    const char *descr = npy_descr(dtype);
    if (!descr) fail_msg("npy: dtype %d unsupported", dtype);
    char shape[128] = "";
    size_t count = 1;
    for (int i = 0; i < rank; i++) {
        size_t len = strlen(shape);
        snprintf(shape + len, sizeof shape - len, "%d%s", (int)dims[i],
                 rank == 1 ? "," : (i + 1 < rank ? ", " : ""));
        count *= (size_t)dims[i];
    }
    char header[256];
    int n = snprintf(header, sizeof header,
                     "{'descr': '%s', 'fortran_order': False, 'shape': (%s), }", descr, shape);
    /* pad so that magic (6) + version (2) + length (2) + header is a multiple of 64 */
    int total = 10 + n + 1;
    int pad = (64 - total % 64) % 64;
    for (int i = 0; i < pad; i++)
        header[n++] = ' ';
    header[n++] = '\n';
    FILE *f = fopen(path, "wb");
    if (!f) fail_msg("cannot write %s", path);
    const unsigned char magic[8] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0};
    unsigned char len[2] = {(unsigned char)(n & 0xff), (unsigned char)(n >> 8)};
    fwrite(magic, 1, 8, f);
    fwrite(len, 1, 2, f);
    fwrite(header, 1, (size_t)n, f);
    fwrite(data, nml_dtype_size(dtype), count, f);
    if (fclose(f) != 0) fail_msg("cannot write %s", path);
}

void nml_test_npy_read(const char *path, int *dtype, int *rank, int32_t *dims, void **data,
                       size_t *bytes) {
    size_t size;
    uint8_t *buf = nml_test_read(path, &size);
    if (size < 10 || memcmp(buf, "\x93NUMPY", 6) != 0) fail_msg("%s: not a .npy file", path);
    size_t hlen = buf[6] == 1 ? (size_t)(buf[8] | buf[9] << 8)
                              : (size_t)(buf[8] | buf[9] << 8 | buf[10] << 16 | buf[11] << 24);
    size_t hstart = buf[6] == 1 ? 10 : 12;
    if (hstart + hlen > size) fail_msg("%s: header beyond the file", path);
    char header[512];
    if (hlen >= sizeof header) fail_msg("%s: header too long", path);
    memcpy(header, buf + hstart, hlen);
    header[hlen] = 0;
    const int types[] = {NML_FLOAT32, NML_INT8, NML_UINT8, NML_INT16, NML_INT32, NML_INT64};
    *dtype = -1;
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        char want[32];
        snprintf(want, sizeof want, "'descr': '%s'", npy_descr(types[i]));
        if (strstr(header, want)) *dtype = types[i];
    }
    if (*dtype < 0) fail_msg("%s: unsupported dtype in %s", path, header);
    if (strstr(header, "'fortran_order': True")) fail_msg("%s: Fortran order", path);
    const char *s = strstr(header, "'shape': (");
    if (!s) fail_msg("%s: no shape", path);
    s += strlen("'shape': (");
    *rank = 0;
    size_t count = 1;
    while (*s && *s != ')') {
        char *end;
        long v = strtol(s, &end, 10);
        if (end == s) {
            s++;
            continue;
        }
        if (*rank >= NML_MAX_RANK) fail_msg("%s: rank too large", path);
        dims[(*rank)++] = (int32_t)v;
        count *= (size_t)v;
        s = end;
    }
    *bytes = count * nml_dtype_size(*dtype);
    if (hstart + hlen + *bytes != size)
        fail_msg("%s: %zu data bytes, shape needs %zu", path, size - hstart - hlen, *bytes);
    *data = malloc(*bytes ? *bytes : 1);
    memcpy(*data, buf + hstart + hlen, *bytes);
    free(buf);
}

void nml_test_litert_run(const char *model, const char *out_dir, int n_inputs,
                         const char *const *input_npys) {
    char cmd[4096];
    int n = snprintf(cmd, sizeof cmd, "node '%s' '%s' '%s'",
                     nml_test_source("tests/oracles/litert_run.mjs"), model, out_dir);
    for (int i = 0; i < n_inputs; i++)
        n += snprintf(cmd + n, sizeof cmd - (size_t)n, " '%s'", input_npys[i]);
    snprintf(cmd + n, sizeof cmd - (size_t)n, " 2>&1");
    FILE *p = popen(cmd, "r");
    if (!p) fail_msg("cannot run %s", cmd);
    char log[4096] = "";
    size_t used = 0;
    while (used + 1 < sizeof log) {
        size_t got = fread(log + used, 1, sizeof log - 1 - used, p);
        if (got == 0) break;
        used += got;
    }
    log[used] = 0;
    char sink[256];
    while (fread(sink, 1, sizeof sink, p) > 0) {
    }
    int status = pclose(p);
    if (status != 0) fail_msg("LiteRT failed on %s:\n%s", model, log);
}
