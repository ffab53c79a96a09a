/* nml_model_stats_of: storage and weight statistics of a loaded model. */
#include "nanoml/model_stats.h"

#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "nanoml/pack.h"
#include "nanoml/quantize.h"

nml_status nml_gzip_size(const void *data, size_t size, int level, size_t *out, nml_error *err) {
    *out = 0;
    z_stream z;
    memset(&z, 0, sizeof z);
    /* windowBits 15 + 16: a gzip wrapper (header without name, mtime 0) */
    if (deflateInit2(&z, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return nml_fail(err, NML_E_INTERNAL, "zlib: deflateInit2 failed");
    uint8_t chunk[16384];
    z.next_in = (Bytef *)(uintptr_t)data;
    size_t left = size, total = 0;
    int flush = Z_NO_FLUSH, rc;
    do {
        if (z.avail_in == 0 && left) {
            const uInt n = left > (1u << 30) ? (1u << 30) : (uInt)left;
            z.avail_in = n;
            left -= n;
        }
        flush = left || z.avail_in ? Z_NO_FLUSH : Z_FINISH;
        z.next_out = chunk;
        z.avail_out = sizeof chunk;
        rc = deflate(&z, flush);
        total += sizeof chunk - z.avail_out;
    } while (rc == Z_OK || rc == Z_BUF_ERROR);
    deflateEnd(&z);
    if (rc != Z_STREAM_END) return nml_fail(err, NML_E_INTERNAL, "zlib: deflate failed (%d)", rc);
    *out = total;
    return NML_OK;
}

typedef struct const_data {
    const void *data;
    uint64_t bytes, dense_bytes;
} const_data;

static int by_address(const void *a, const void *b) {
    const uint8_t *x = ((const const_data *)a)->data, *y = ((const const_data *)b)->data;
    return x < y ? -1 : x > y;
}

/* Constant bytes (stored and plain), parameters and packed tensors; shared buffers once. */
static nml_status count_constants(const nml_model *m, nml_model_stats *s, nml_error *err) {
    const_data *seen = calloc(m->n_tensors ? m->n_tensors : 1, sizeof *seen);
    uint32_t n = 0;
    if (!seen) return nml_fail(err, NML_E_NOMEM, "out of memory");
    for (uint32_t i = 0; i < m->n_tensors; i++) {
        nml_tensor t;
        nml_pack_info info;
        nml_status st = nml_model_tensor(m, i, &t, err);
        if (st == NML_OK) st = nml_pack_info_of(&t, &info, err);
        if (st != NML_OK) {
            free(seen);
            return st;
        }
        if (t.alloc != NML_ALLOC_CONST) continue;
        s->parameters += nml_tensor_count(&t);
        s->packed_tensors += info.packed != 0;
        seen[n].data = t.data;
        seen[n].bytes = info.stored_bytes;
        seen[n++].dense_bytes = info.dense_bytes;
    }
    qsort(seen, n, sizeof *seen, by_address);
    for (uint32_t i = 0; i < n; i++) {
        if (i && seen[i].data == seen[i - 1].data) continue;
        s->constant_bytes += seen[i].bytes;
        s->constant_dense_bytes += seen[i].dense_bytes;
    }
    free(seen);
    return NML_OK;
}

static int cmp_u32(const void *a, const void *b) {
    const uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* Zeros and distinct values of one weight tensor's logical values. */
static nml_status weight_stats(const nml_tensor *t, uint64_t *zeros, uint32_t *distinct,
                               nml_error *err) {
    const uint32_t n = nml_tensor_count(t);
    *zeros = 0;
    *distinct = 0;
    if (t->type == NML_INT8 || t->type == NML_INT4) {
        int8_t *v = malloc(n ? n : 1);
        if (!v) return nml_fail(err, NML_E_NOMEM, "out of memory for %u weights", n);
        nml_status st = nml_pack_tensor_values(t, v, n, err);
        uint8_t seen[256] = {0};
        for (uint32_t i = 0; st == NML_OK && i < n; i++) {
            *zeros += v[i] == 0;
            *distinct += !seen[(uint8_t)v[i]];
            seen[(uint8_t)v[i]] = 1;
        }
        free(v);
        return st;
    }
    if (t->type != NML_FLOAT32 && t->type != NML_FLOAT16) return NML_OK;
    /* float: compare values (so -0 == 0), through their bit patterns after normalising */
    uint32_t *bits = malloc((size_t)(n ? n : 1) * sizeof *bits);
    if (!bits) return nml_fail(err, NML_E_NOMEM, "out of memory for %u weights", n);
    for (uint32_t i = 0; i < n; i++) {
        float f;
        if (t->type == NML_FLOAT32) {
            memcpy(&f, (const uint8_t *)t->data + 4u * i, 4);
        } else {
            uint16_t h;
            memcpy(&h, (const uint8_t *)t->data + 2u * i, 2);
            f = nml_f16_to_f32(h);
        }
        if (f == 0.0f) f = 0.0f;
        *zeros += f == 0.0f;
        memcpy(&bits[i], &f, 4);
    }
    qsort(bits, n, sizeof *bits, cmp_u32);
    for (uint32_t i = 0; i < n; i++)
        *distinct += i == 0 || bits[i] != bits[i - 1];
    free(bits);
    return NML_OK;
}

static nml_status count_weights(const nml_model *m, nml_model_stats *s, nml_error *err) {
    uint8_t *done = calloc(m->n_tensors + 1u, 1);
    if (!done) return nml_fail(err, NML_E_NOMEM, "out of memory");
    nml_status st = NML_OK;
    for (uint32_t i = 0; i < m->n_operators && st == NML_OK; i++) {
        nml_model_op op;
        nml_tensor t;
        st = nml_model_operator(m, i, &op, err);
        if (st != NML_OK) break;
        if ((op.builtin != NML_OP_CONV_2D && op.builtin != NML_OP_DEPTHWISE_CONV_2D &&
             op.builtin != NML_OP_FULLY_CONNECTED) ||
            op.n_inputs < 2 || op.inputs[1] < 0 || done[op.inputs[1]])
            continue;
        done[op.inputs[1]] = 1;
        st = nml_model_tensor(m, (uint32_t)op.inputs[1], &t, err);
        if (st != NML_OK || t.alloc != NML_ALLOC_CONST) continue;
        uint64_t zeros;
        uint32_t distinct;
        st = weight_stats(&t, &zeros, &distinct, err);
        s->weight_tensors++;
        s->weight_count += nml_tensor_count(&t);
        s->weight_zeros += zeros;
        if (distinct > s->max_distinct) s->max_distinct = distinct;
    }
    free(done);
    return st;
}

nml_status nml_model_stats_of(const nml_model *model, const void *file, size_t file_bytes,
                              nml_model_stats *s, nml_error *err) {
    memset(s, 0, sizeof *s);
    s->file_bytes = file_bytes;
    NML_TRY(nml_gzip_size(file, file_bytes, 9, &s->gzip_bytes, err));
    NML_TRY(count_constants(model, s, err));
    return count_weights(model, s, err);
}
