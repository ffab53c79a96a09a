/* Packed-weights measurements on a real model (bench/README.md, "Packed weights"):
 *
 *   pack_compress npy DATA_DIR OUT_DIR N
 *       writes the first N Fashion-MNIST training images as .npy calibration samples for
 *       `nanoml quantize --calib npy:OUT_DIR` (float32 1x32x32x1, [0, 1], centred in 32x32 like
 *       `nanoml train` feeds LeNet-5);
 *   pack_compress variants MODEL_INT8.tflite OUT_DIR
 *       makes pruned and clustered variants of an int8 model the simple way (per filter tensor:
 *       zero the weights of smallest real magnitude |q * scale|; 1-D k-means over the int8
 *       values with centroids rounded to integers), writes each dense and packed, and prints
 *       per tensor the bytes every position coding would take (bitmask, uint8 gaps, CSR with
 *       uint8 column deltas and 16-bit row counts, 4-bit gaps), with int8 values and with 4-bit
 *       cluster indices, next to what nml_pack_weights chose.
 * This is a measuring tool, not a compression pass: real pruning and clustering happen during
 * training. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nanoml/file.h"
#include "nanoml/idx.h"
#include "nanoml/ir.h"
#include "nanoml/npy.h"
#include "nanoml/pack.h"

static int die(const nml_error *err) {
    fprintf(stderr, "pack_compress: %s\n", err->msg);
    return 1;
}

/* ---- npy ---- */

static int write_npy(const char *data_dir, const char *out_dir, int n) {
    nml_idx_dataset ds;
    nml_error err;
    if (nml_idx_load_split(data_dir, "train", &ds, &err) != NML_OK) return die(&err);
    if (nml_make_dirs(out_dir, &err) != NML_OK) return die(&err);
    float img[32 * 32];
    for (int i = 0; i < n && i < ds.n; i++) {
        memset(img, 0, sizeof img);
        for (int y = 0; y < 28; y++)
            for (int x = 0; x < 28; x++)
                img[(y + 2) * 32 + x + 2] = ds.images[(size_t)i * 784 + y * 28 + x] / 255.0f;
        char path[1024];
        snprintf(path, sizeof path, "%s/img_%05d.npy", out_dir, i);
        const int32_t dims[4] = {1, 32, 32, 1};
        if (nml_npy_write(path, NML_FLOAT32, 4, dims, img, &err) != NML_OK) return die(&err);
    }
    nml_idx_dataset_free(&ds);
    return 0;
}

/* ---- weights ---- */

static int is_filter(const nml_ir *ir, int t) {
    for (int i = 0; i < ir->n_ops; i++) {
        const nml_ir_op *op = &ir->ops[i];
        if ((op->builtin == NML_OP_CONV_2D || op->builtin == NML_OP_DEPTHWISE_CONV_2D ||
             op->builtin == NML_OP_FULLY_CONNECTED) &&
            op->n_inputs > 1 && op->inputs[1] == t)
            return op->builtin == NML_OP_DEPTHWISE_CONV_2D ? 2 : 1;
    }
    return 0;
}

static float scale_of(const nml_ir_tensor *t, size_t i) {
    if (t->n_q <= 1) return t->scales ? t->scales[0] : 1.0f;
    size_t inner = 1;
    for (int d = t->q_dim + 1; d < t->rank; d++)
        inner *= (size_t)t->dims[d];
    return t->scales[(i / inner) % t->n_q];
}

static const nml_ir_tensor *sort_tensor;
static int by_magnitude(const void *a, const void *b) {
    const size_t i = *(const size_t *)a, j = *(const size_t *)b;
    const float x = fabsf((float)(int8_t)sort_tensor->data[i] * scale_of(sort_tensor, i));
    const float y = fabsf((float)(int8_t)sort_tensor->data[j] * scale_of(sort_tensor, j));
    return x < y ? -1 : x > y ? 1 : (i > j) - (i < j);
}

static void prune(nml_ir_tensor *t, double fraction) {
    const size_t n = t->data_bytes;
    size_t *order = malloc(n * sizeof *order);
    for (size_t i = 0; i < n; i++)
        order[i] = i;
    sort_tensor = t;
    qsort(order, n, sizeof *order, by_magnitude);
    for (size_t k = 0; k < (size_t)(fraction * (double)n); k++)
        t->data[order[k]] = 0;
    free(order);
}

/* 1-D k-means (Lloyd, linear initialisation between min and max) over the values (pruned
 * tensors: over the non-zero values, so that zeros stay zeros); centroids rounded to integers
 * (non-zero ones for pruned tensors). */
static void cluster(nml_ir_tensor *t, int k, int keep_zeros) {
    const size_t n = t->data_bytes;
    int lo = 127, hi = -127;
    for (size_t i = 0; i < n; i++) {
        const int v = (int8_t)t->data[i];
        if (!v && keep_zeros) continue;
        lo = v < lo ? v : lo;
        hi = v > hi ? v : hi;
    }
    if (lo > hi) return;
    double c[16];
    for (int j = 0; j < k; j++)
        c[j] = lo + (hi - lo) * (j + 0.5) / k;
    int assign[256];
    for (int iter = 0; iter < 50; iter++) {
        double sum[16] = {0}, cnt[16] = {0};
        for (int v = -128; v < 128; v++) {
            int best = 0;
            for (int j = 1; j < k; j++)
                if (fabs(v - c[j]) < fabs(v - c[best])) best = j;
            assign[v + 128] = best;
        }
        for (size_t i = 0; i < n; i++) {
            const int v = (int8_t)t->data[i];
            if (!v) continue;
            sum[assign[v + 128]] += v;
            cnt[assign[v + 128]]++;
        }
        for (int j = 0; j < k; j++)
            if (cnt[j]) c[j] = sum[j] / cnt[j];
    }
    for (size_t i = 0; i < n; i++) {
        const int v = (int8_t)t->data[i];
        if (!v && keep_zeros) continue;
        long q = lround(c[assign[v + 128]]);
        if (q == 0 && keep_zeros) q = v > 0 ? 1 : -1;
        t->data[i] = (uint8_t)(int8_t)q;
    }
}

/* ---- position codings, by formula ---- */

typedef struct sizes {
    size_t n, nnz, rows, distinct_nz;
    size_t bitmask, gaps8, csr8, gaps4; /* position bytes */
} sizes;

static sizes measure(const nml_ir_tensor *t, int depthwise) {
    sizes s;
    memset(&s, 0, sizeof s);
    s.n = t->data_bytes;
    s.rows = (size_t)t->dims[depthwise ? t->rank - 1 : 0];
    const size_t len = s.n / s.rows;
    uint8_t seen[256] = {0};
    size_t at = 0, nibbles = 0, at4 = 0;
    s.csr8 = 2 * s.rows;
    for (size_t r = 0; r < s.rows; r++) {
        size_t prev = 0; /* next column a delta can reach */
        for (size_t j = 0; j < len; j++) {
            const size_t e = depthwise ? j * s.rows + r : r * len + j;
            const int8_t v = (int8_t)t->data[e];
            if (!v) continue;
            const size_t flat = r * len + j;
            s.nnz++;
            if (!seen[(uint8_t)v]) s.distinct_nz++;
            seen[(uint8_t)v] = 1;
            s.gaps8 += (flat - at) / 255 + 1;
            at = flat + 1;
            nibbles += (flat - at4) / 15 + 1;
            at4 = flat + 1;
            s.csr8 += (j - prev) / 255 + 1; /* filler entries for column jumps over 255 */
            prev = j + 1;
        }
    }
    s.bitmask = (s.n + 7) / 8;
    s.gaps4 = (nibbles + 1) / 2;
    return s;
}

/* "int8 / 4-bit": bytes with int8 values / with a 16-entry table and 4-bit indices (only when
 * at most 16 distinct non-zero values exist). */
static void cell(size_t positions, const sizes *s) {
    if (s->distinct_nz <= 16)
        printf(" %zu / %zu |", positions + s->nnz, positions + 16 + (s->nnz + 1) / 2);
    else
        printf(" %zu / - |", positions + s->nnz);
}

static void print_sizes(const char *variant, const nml_ir *ir, int t, const sizes *s,
                        const char *chosen, size_t chosen_bytes) {
    printf("| %s | %s | %zu | %.1f | %zu |", variant, ir->tensors[t].name, s->n,
           100.0 * (double)(s->n - s->nnz) / (double)s->n, s->distinct_nz);
    cell(s->bitmask, s);
    cell(s->gaps8, s);
    cell(s->csr8, s);
    cell(s->gaps4, s);
    printf(" %s | %zu |\n", chosen, chosen_bytes);
}

/* ---- variants ---- */

typedef struct variant {
    const char *name;
    double prune;
    int k;
} variant;

static int write_ir(const nml_ir *ir, const char *dir, const char *name, const char *suffix,
                    size_t *size) {
    uint8_t *bytes;
    nml_error err;
    char path[1024];
    snprintf(path, sizeof path, "%s/%s%s.tflite", dir, name, suffix);
    if (nml_ir_to_tflite(ir, &bytes, size, &err) != NML_OK ||
        nml_write_file(path, bytes, *size, &err) != NML_OK)
        return die(&err);
    free(bytes);
    return 0;
}

static int make_variant(const nml_ir *base, const variant *v, const char *dir) {
    nml_ir ir;
    nml_error err;
    if (nml_ir_clone(&ir, base, &err) != NML_OK) return die(&err);
    for (int t = 0; t < ir.n_tensors; t++) {
        if (!is_filter(&ir, t) || ir.tensors[t].type != NML_INT8 || !ir.tensors[t].data) continue;
        if (v->prune > 0) prune(&ir.tensors[t], v->prune);
        if (v->k) cluster(&ir.tensors[t], v->k, v->prune > 0);
    }
    size_t dense_size, packed_size;
    if (write_ir(&ir, dir, v->name, "", &dense_size)) return 1;
    nml_ir dense;
    if (nml_ir_clone(&dense, &ir, &err) != NML_OK) return die(&err);
    nml_pack_options o;
    nml_pack_options_default(&o);
    nml_pack_report rep;
    if (nml_pack_weights(&ir, &o, &rep, &err) != NML_OK) return die(&err);
    if (write_ir(&ir, dir, v->name, "_packed", &packed_size)) return 1;
    for (int i = 0; i < rep.n_layers; i++) {
        const nml_pack_layer *l = &rep.layers[i];
        const sizes s = measure(&dense.tensors[l->tensor], is_filter(&dense, l->tensor) == 2);
        print_sizes(v->name, &dense, l->tensor, &s, l->encoding_name, l->packed_bytes);
    }
    fprintf(stderr, "%s: file %zu -> %zu bytes, weights %zu -> %zu bytes\n", v->name, dense_size,
            packed_size, rep.dense_bytes, rep.packed_bytes);
    nml_pack_report_free(&rep);
    nml_ir_free(&dense);
    nml_ir_free(&ir);
    return 0;
}

static int variants(const char *model, const char *dir) {
    uint8_t *bytes;
    size_t size;
    nml_ir ir;
    nml_error err;
    if (nml_read_file(model, NML_MAX_MODEL_BYTES, &bytes, &size, &err) != NML_OK ||
        nml_ir_from_tflite(&ir, bytes, size, &err) != NML_OK || nml_make_dirs(dir, &err) != NML_OK)
        return die(&err);
    free(bytes);
    static const variant vs[] = {
        {"int8", 0, 0},
        {"prune50", 0.5, 0},
        {"prune80", 0.8, 0},
        {"cluster16", 0, 16},
        {"cluster4", 0, 4},
        {"prune50_cluster16", 0.5, 16},
        {"prune80_cluster16", 0.8, 16},
        {"prune80_cluster4", 0.8, 4},
    };
    printf("| variant | tensor | weights | zeros %% | distinct non-zero | bitmask (int8 / 4-bit) | "
           "gaps8 | CSR u8 | gaps4 | chosen | chosen bytes |\n"
           "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: |\n");
    for (size_t i = 0; i < sizeof vs / sizeof *vs; i++)
        if (make_variant(&ir, &vs[i], dir)) return 1;
    nml_ir_free(&ir);
    return 0;
}

int main(int argc, char **argv) {
    if (argc == 5 && strcmp(argv[1], "npy") == 0) return write_npy(argv[2], argv[3], atoi(argv[4]));
    if (argc == 4 && strcmp(argv[1], "variants") == 0) return variants(argv[2], argv[3]);
    fprintf(stderr, "usage: pack_compress npy DATA_DIR OUT_DIR N\n"
                    "       pack_compress variants MODEL_INT8.tflite OUT_DIR\n");
    return 2;
}
