/* The checks every fuzz target shares (see fuzz_target.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_target.h"

void nml_fuzz_check(int cond, const char *what) {
    if (cond) return;
    fprintf(stderr, "nanoml fuzz: invariant broken: %s\n", what);
    abort();
}

static void check_error(nml_status st, const nml_error *err) {
    if (st == NML_OK) return;
    if (st < NML_OK || st > NML_E_INTERNAL) {
        fprintf(stderr, "nanoml fuzz: unknown status %d\n", (int)st);
        abort();
    }
    if (err->status != st || err->msg[0] == '\0' ||
        memchr(err->msg, '\0', sizeof err->msg) == NULL) {
        fprintf(stderr, "nanoml fuzz: status %s without a matching message (\"%.*s\")\n",
                nml_status_str(st), (int)sizeof err->msg, err->msg);
        abort();
    }
    /* NML_E_INTERNAL means nanoml found a bug in itself: as bad as a crash */
    if (st == NML_E_INTERNAL) {
        fprintf(stderr, "nanoml fuzz: internal error: %s\n", err->msg);
        abort();
    }
}

int nml_fuzz_run(const uint8_t *data, size_t size, size_t max_bytes, nml_fuzz_fn fn) {
    if (size > max_bytes) return 0;
    void *copy = NULL;
    if (posix_memalign(&copy, 16, size ? size : 1) != 0) return 0;
    if (size) memcpy(copy, data, size);
    nml_error err;
    nml_error_clear(&err);
    nml_status st = fn(copy, size, &err);
    check_error(st, &err);
    free(copy);
    return 0;
}
