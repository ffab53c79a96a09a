/* Test tool: Fashion-MNIST images as model inputs, preprocessed as `nanoml train` and `nanoml
 * eval` do (nml_data_from_images: pixels / 255, zero-padded to H x W, centred).
 *   idx_npy DATA_DIR SPLIT FIRST COUNT H W OUT_DIR                float32 [1,H,W,1] .npy files
 *   idx_npy DATA_DIR SPLIT FIRST COUNT H W OUT_DIR --int8 SCALE ZP raw int8 .bin files
 * Files are OUT_DIR/NNNNN.npy (or .bin), NNNNN counting from 0. The int8 form quantizes with
 * round(x / scale) + zp, clamped to [-128, 127], the rule the runtime's input quantization uses;
 * it feeds `nanoml run` and the RV32 firmware the same bytes. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nanoml/file.h"
#include "nanoml/idx.h"
#include "nanoml/npy.h"
#include "nanoml/train_data.h"

static int usage(void) {
    fprintf(stderr, "usage: idx_npy DATA_DIR SPLIT FIRST COUNT H W OUT_DIR [--int8 SCALE ZP]\n");
    return 2;
}

static nml_status write_sample(const char *dir, int32_t k, const float *x, int32_t h, int32_t w,
                               int int8, float scale, int zp, nml_error *err) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%05d.%s", dir, (int)k, int8 ? "bin" : "npy");
    size_t n = (size_t)h * (size_t)w;
    if (!int8) {
        int32_t dims[4] = {1, h, w, 1};
        return nml_npy_write(path, NML_FLOAT32, 4, dims, x, err);
    }
    int8_t *q = malloc(n);
    if (!q) return nml_fail(err, NML_E_NOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        float v = roundf(x[i] / scale) + (float)zp;
        q[i] = (int8_t)(v < -128.f ? -128.f : v > 127.f ? 127.f : v);
    }
    nml_status st = nml_write_file(path, q, n, err);
    free(q);
    return st;
}

int main(int argc, char **argv) {
    if (argc != 8 && argc != 11) return usage();
    int int8 = argc == 11;
    if (int8 && strcmp(argv[8], "--int8") != 0) return usage();
    int32_t first = (int32_t)atoi(argv[3]), count = (int32_t)atoi(argv[4]);
    int32_t h = (int32_t)atoi(argv[5]), w = (int32_t)atoi(argv[6]);
    float scale = int8 ? strtof(argv[9], NULL) : 1.f;
    int zp = int8 ? atoi(argv[10]) : 0;
    if (first < 0 || count < 1 || h < 1 || w < 1 || !(scale > 0.f)) return usage();
    nml_error err;
    nml_idx_dataset ds;
    if (nml_idx_load_split(argv[1], argv[2], &ds, &err) != NML_OK) {
        fprintf(stderr, "idx_npy: %s\n", err.msg);
        return 1;
    }
    nml_data data;
    nml_status st = nml_data_from_images(&data, &ds, h, w, &err);
    if (st == NML_OK && first + count > data.n)
        st = nml_fail(&err, NML_E_ARG, "images %d..%d requested, the split has %d", (int)first,
                      (int)(first + count - 1), (int)data.n);
    if (st == NML_OK) st = nml_make_dirs(argv[7], &err);
    float *x = malloc((size_t)h * (size_t)w * sizeof *x);
    if (st == NML_OK && !x) st = nml_fail(&err, NML_E_NOMEM, "out of memory");
    for (int32_t k = 0; st == NML_OK && k < count; k++) {
        int32_t index = first + k;
        float y;
        st = data.fetch(&data, &index, 1, x, &y, 0, &err);
        if (st == NML_OK) st = write_sample(argv[7], k, x, h, w, int8, scale, zp, &err);
    }
    free(x);
    nml_idx_dataset_free(&ds);
    if (st != NML_OK) {
        fprintf(stderr, "idx_npy: %s\n", err.msg);
        return 1;
    }
    return 0;
}
