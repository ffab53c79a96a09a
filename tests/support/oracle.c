#include "oracle.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nanoml/npy.h"
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

void nml_test_npy_write(const char *path, int dtype, int rank, const int32_t *dims,
                        const void *data) {
    nml_error err;
    if (nml_npy_write(path, dtype, rank, dims, data, &err) != NML_OK) fail_msg("%s", err.msg);
}

void nml_test_npy_read(const char *path, int *dtype, int *rank, int32_t *dims, void **data,
                       size_t *bytes) {
    nml_npy a;
    nml_error err;
    if (nml_npy_read(path, &a, &err) != NML_OK) fail_msg("%s", err.msg);
    *dtype = a.dtype;
    *rank = a.rank;
    for (int i = 0; i < a.rank; i++) dims[i] = a.dims[i];
    *data = a.data; /* caller frees with free() */
    *bytes = a.bytes;
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
