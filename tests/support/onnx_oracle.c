#include "onnx_oracle.h"

#include "nanoml/image.h"
#include "nanoml/npy.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>


static void say(char *why, size_t cap, const char *msg, const char *arg) {
    if (why && cap) snprintf(why, cap, "%s%s", msg, arg ? arg : "");
}

static const char *oracle_dir(void) {
    static char buf[1024];
    snprintf(buf, sizeof buf, "%s/tests/oracles", NML_SOURCE_DIR);
    return buf;
}

int nml_test_ort_available(char *why, size_t cap) {
    char path[1200];
    struct stat st;
    if (system("node --version > /dev/null 2>&1") != 0) {
        say(why, cap, "node is not installed", NULL);
        return 0;
    }
    snprintf(path, sizeof path, "%s/node_modules/onnxruntime-node", oracle_dir());
    if (stat(path, &st) != 0) {
        say(why, cap, "onnxruntime-node is not installed; run scripts/setup.sh (missing ", path);
        return 0;
    }
    return 1;
}

/* float32 .npy through the library's reader/writer (int64 ONNX dims to int32). */
static int write_f32(const char *path, const int64_t *dims, int rank, const float *data) {
    int32_t d[NML_MAX_RANK];
    if (rank > NML_MAX_RANK) return -1;
    for (int i = 0; i < rank; i++) d[i] = (int32_t)dims[i];
    nml_error err;
    return nml_npy_write(path, NML_FLOAT32, rank, d, data, &err) == NML_OK ? 0 : -1;
}

static int read_f32(const char *path, float **data, size_t *count) {
    nml_npy a;
    nml_error err;
    if (nml_npy_read(path, &a, &err) != NML_OK) return -1;
    if (a.dtype != NML_FLOAT32) {
        nml_npy_free(&a);
        return -1;
    }
    *data = (float *)a.data;
    *count = a.bytes / sizeof(float);
    return 0;
}

int nml_test_ort_run(const char *model_path, const char *input_name, const int64_t *dims, int rank,
                     const float *data, const char *output_name, float **out, size_t *count,
                     char *why, size_t cap) {
    static int serial;
    char dir[1024], in_path[1200], cmd[4096], out_path[1400];
    snprintf(dir, sizeof dir, "%s/onnx_oracle_tmp/%d_%d", NML_BINARY_DIR, (int)getpid(), serial++);
    snprintf(cmd, sizeof cmd, "mkdir -p '%s'", dir);
    if (system(cmd) != 0) {
        say(why, cap, "cannot create ", dir);
        return -1;
    }
    snprintf(in_path, sizeof in_path, "%s/input.npy", dir);
    if (write_f32(in_path, dims, rank, data) != 0) {
        say(why, cap, "cannot write ", in_path);
        return -1;
    }
    int len =
        snprintf(cmd, sizeof cmd, "node '%s/ort_run.mjs' '%s' '%s' '%s=%s' > '%s/log.txt' 2>&1",
                 oracle_dir(), model_path, dir, input_name, in_path, dir);
    if (len < 0 || (size_t)len >= sizeof cmd) {
        say(why, cap, "paths too long for ", model_path);
        return -1;
    }
    if (system(cmd) != 0) {
        say(why, cap, "ONNX Runtime failed; see ", dir);
        return -1;
    }
    char safe[256];
    size_t k = 0;
    for (; output_name[k] && k + 1 < sizeof safe; k++) {
        char ch = output_name[k];
        int okc = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                  (ch >= '0' && ch <= '9') || ch == '_' || ch == '.' || ch == '-';
        safe[k] = okc ? ch : '_';
    }
    safe[k] = 0;
    snprintf(out_path, sizeof out_path, "%s/%s.npy", dir, safe);
    if (read_f32(out_path, out, count) != 0) {
        say(why, cap, "cannot read ", out_path);
        return -1;
    }
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) { /* leftovers in the build tree are harmless */
    }
    return 0;
}

float *nml_test_fastestdet_input(const char *image_path, int h, int w) {
    nml_image img, sized;
    nml_error err;
    if (nml_image_load(image_path, 3, &img, &err) != NML_OK) return NULL;
    nml_status st = nml_image_resize(&img, w, h, NML_INTERP_LINEAR, &sized, &err);
    nml_image_free(&img);
    if (st != NML_OK) return NULL;
    size_t count = (size_t)3 * h * w;
    float *x = malloc(count * sizeof(float));
    nml_pixel_norm norm = nml_pixel_norm_unit(1);
    if (x && nml_image_to_float(&sized, NML_LAYOUT_NCHW, &norm, x, count, &err) != NML_OK) {
        free(x);
        x = NULL;
    }
    nml_image_free(&sized);
    return x;
}

float *nml_test_nchw_to_nhwc(const float *x, int c, int h, int w) {
    float *y = malloc((size_t)c * h * w * sizeof(float));
    if (!y) return NULL;
    for (int k = 0; k < c; k++)
        for (int i = 0; i < h * w; i++)
            y[(size_t)i * c + k] = x[(size_t)k * h * w + i];
    return y;
}
