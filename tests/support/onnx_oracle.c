#include "onnx_oracle.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <stb/stb_image.h>

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

int nml_test_npy_write(const char *path, const int64_t *dims, int rank, const float *data) {
    char shape[256] = "", header[512];
    size_t n = 1, p = 0;
    for (int i = 0; i < rank; i++) {
        p += (size_t)snprintf(shape + p, sizeof shape - p, "%lld%s", (long long)dims[i],
                              rank == 1 || i + 1 < rank ? ", " : "");
        n *= (size_t)dims[i];
    }
    int len = snprintf(header, sizeof header,
                       "{'descr': '<f4', 'fortran_order': False, 'shape': (%s), }", shape);
    int total = 10 + len + 1, padn = (64 - total % 64) % 64;
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    unsigned char head[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, 0, 0};
    int hl = len + padn + 1;
    head[8] = (unsigned char)(hl & 255);
    head[9] = (unsigned char)(hl >> 8);
    fwrite(head, 1, 10, f);
    fwrite(header, 1, (size_t)len, f);
    for (int i = 0; i < padn; i++)
        fputc(' ', f);
    fputc('\n', f);
    size_t w = fwrite(data, sizeof(float), n, f);
    return fclose(f) == 0 && w == n ? 0 : -1;
}

int nml_test_npy_read(const char *path, float **data, size_t *count) {
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    unsigned char head[12];
    if (fread(head, 1, 10, f) != 10 || memcmp(head, "\x93NUMPY", 6) != 0) {
        fclose(f);
        return -1;
    }
    size_t hl = head[8] | (size_t)head[9] << 8, off = 10;
    if (head[6] >= 2) {
        if (fread(head + 10, 1, 2, f) != 2) {
            fclose(f);
            return -1;
        }
        hl |= (size_t)head[10] << 16 | (size_t)head[11] << 24;
        off = 12;
    }
    char *h = malloc(hl + 1);
    if (!h || fread(h, 1, hl, f) != hl) {
        free(h);
        fclose(f);
        return -1;
    }
    h[hl] = 0;
    int ok = strstr(h, "'<f4'") != NULL && strstr(h, "'fortran_order': False") != NULL;
    free(h);
    fseek(f, 0, SEEK_END);
    long end = ftell(f);
    size_t bytes = (size_t)end - off - hl;
    fseek(f, (long)(off + hl), SEEK_SET);
    *count = bytes / 4;
    *data = malloc(bytes + 4);
    if (!ok || !*data || fread(*data, 1, bytes, f) != bytes) {
        free(*data);
        *data = NULL;
        fclose(f);
        return -1;
    }
    fclose(f);
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
    if (nml_test_npy_write(in_path, dims, rank, data) != 0) {
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
    if (nml_test_npy_read(out_path, out, count) != 0) {
        say(why, cap, "cannot read ", out_path);
        return -1;
    }
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) { /* leftovers in the build tree are harmless */
    }
    return 0;
}

float *nml_test_fastestdet_input(const char *image_path, int h, int w) {
    int iw, ih, ch;
    unsigned char *img = stbi_load(image_path, &iw, &ih, &ch, 3);
    if (!img) return NULL;
    float *x = malloc((size_t)3 * h * w * sizeof(float));
    if (!x) {
        stbi_image_free(img);
        return NULL;
    }
    for (int y = 0; y < h; y++) {
        float sy = ((float)y + 0.5f) * (float)ih / (float)h - 0.5f;
        if (sy < 0) sy = 0;
        int y0 = (int)sy, y1 = y0 + 1 < ih ? y0 + 1 : ih - 1;
        float fy = sy - (float)y0;
        for (int xx = 0; xx < w; xx++) {
            float sx = ((float)xx + 0.5f) * (float)iw / (float)w - 0.5f;
            if (sx < 0) sx = 0;
            int x0 = (int)sx, x1 = x0 + 1 < iw ? x0 + 1 : iw - 1;
            float fx = sx - (float)x0;
            for (int c = 0; c < 3; c++) {
                float a = img[((size_t)y0 * iw + x0) * 3 + c],
                      b = img[((size_t)y0 * iw + x1) * 3 + c];
                float d = img[((size_t)y1 * iw + x0) * 3 + c],
                      e = img[((size_t)y1 * iw + x1) * 3 + c];
                float v = (a * (1 - fx) + b * fx) * (1 - fy) + (d * (1 - fx) + e * fx) * fy;
                /* RGB from stb -> BGR planes */
                x[((size_t)(2 - c) * h + y) * w + xx] = v / 255.0f;
            }
        }
    }
    stbi_image_free(img);
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
