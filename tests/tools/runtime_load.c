/* Helper program of tests/scripts/test_packed_link.sh: loads a .tflite with nml_model_load and
 * nothing else, linked against the runtime library alone (libnanoml_runtime.a, no host code and
 * no kernel table). Nothing here references the packed-weights code strongly, so the static link
 * leaves packed.c out, as firmware without packed weights does; the loader must then refuse a
 * packed model by name instead of misreading it.
 * usage: runtime_load MODEL.tflite   -> prints "loaded: N tensors" (exit 0) or the error (1) */
#include <stdio.h>
#include <stdlib.h>

#include "nanoml/runtime.h"

/* runtime_load_lean: the same with the options decoder compiled as in firmware
 * (NML_OPTIONS_BY_KERNELS, src/runtime/options_extra.h): nothing here links the reader of list
 * and type options, so the loader must refuse operators that have them */

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: runtime_load MODEL.tflite\n");
        return 2;
    }
    FILE *f = fopen(argv[1], "rb");
    if (!f) {
        perror(argv[1]);
        return 2;
    }
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    size_t cap = ((size_t)(size > 0 ? size : 1) + 15u) & ~(size_t)15u;
    unsigned char *data = aligned_alloc(16, cap);
    if (!data || size <= 0 || fread(data, 1, (size_t)size, f) != (size_t)size) {
        fprintf(stderr, "%s: cannot read\n", argv[1]);
        fclose(f);
        free(data);
        return 2;
    }
    fclose(f);
    nml_model m;
    nml_error err;
    nml_error_clear(&err);
    int rc = 0;
    const nml_status st = nml_model_load(&m, data, (size_t)size, &err);
    if (st == NML_OK) {
        printf("loaded: %lu tensors\n", (unsigned long)m.n_tensors);
    } else {
        printf("error: %s [%s]\n", err.msg, nml_status_str(st));
        rc = 1;
    }
    free(data);
    return rc;
}
