/* Counting what compression left in a model's weights: parameters, zeros, distinct values. */
#include <stdlib.h>
#include <string.h>

#include "nanoml/cluster.h"
#include "nanoml/compress.h"

static int has_weights(int32_t op) {
    return op == NML_OP_CONV_2D || op == NML_OP_DEPTHWISE_CONV_2D || op == NML_OP_FULLY_CONNECTED;
}

/* Plain stored data (packed tensors hold an encoding; pack.h reads them on a loaded model). */
static int plain(const nml_ir_tensor *t) {
    size_t bytes;
    return t->data && !t->pack && nml_ir_tensor_bytes(t, &bytes, NULL) == NML_OK &&
           bytes == t->data_bytes;
}

/* Integer code i of an int8 or int4 tensor. */
static int code(const nml_ir_tensor *t, uint64_t i) {
    if (t->type == NML_INT8) return ((const int8_t *)t->data)[i];
    const uint8_t b = t->data[i / 2];
    const int nib = i % 2 ? b >> 4 : b & 15;
    return nib >= 8 ? nib - 16 : nib;
}

/* float16 weights: zero is +-0, distinct values are distinct bit patterns (but one zero). */
static uint32_t count_half(const nml_ir_tensor *t, uint64_t n, nml_weight_stats *s) {
    uint8_t *seen = calloc(65536 / 8, 1);
    uint32_t distinct = 0;
    if (!seen) return 0;
    for (uint64_t i = 0; i < n; i++) {
        uint16_t h;
        memcpy(&h, t->data + 2 * i, 2);
        if ((h & 0x7fffu) == 0) {
            s->zeros++;
            h = 0;
        }
        distinct += !(seen[h / 8] & (1u << (h % 8)));
        seen[h / 8] |= (uint8_t)(1u << (h % 8));
    }
    free(seen);
    return distinct;
}

static void count_weights(const nml_ir_tensor *t, nml_weight_stats *s) {
    const uint64_t n = nml_ir_tensor_count(t);
    s->kernel += n;
    if (!plain(t)) return;
    uint32_t distinct = 0;
    if (t->type == NML_FLOAT16) {
        distinct = count_half(t, n, s);
    } else if (t->type == NML_FLOAT32) {
        const float *v = (const float *)(const void *)t->data;
        for (uint64_t i = 0; i < n; i++)
            s->zeros += v[i] == 0.0f;
        distinct = (uint32_t)nml_count_distinct(v, (size_t)n);
    } else if (t->type == NML_INT8 || t->type == NML_INT4) {
        uint8_t seen[256] = {0};
        for (uint64_t i = 0; i < n; i++) {
            const int c = code(t, i);
            s->zeros += c == 0; /* symmetric weights: code 0 is 0 */
            distinct += !seen[c + 128];
            seen[c + 128] = 1;
        }
    }
    if (distinct > s->max_distinct) s->max_distinct = distinct;
}

nml_status nml_weight_stats_of(const nml_ir *ir, nml_weight_stats *s, nml_error *err) {
    memset(s, 0, sizeof *s);
    NML_TRY(nml_ir_validate(ir, err));
    char *seen = calloc((size_t)ir->n_tensors + 1, 1); /* shared weights count once */
    if (!seen) return nml_fail(err, NML_E_NOMEM, "out of memory");
    for (int i = 0; i < ir->n_ops; i++) {
        const nml_ir_op *op = &ir->ops[i];
        if (!has_weights(op->builtin)) continue;
        for (int k = 1; k < op->n_inputs && k < 3; k++) {
            int t = op->inputs[k];
            const int p = t >= 0 && !ir->tensors[t].data ? nml_ir_producer(ir, t) : -1;
            if (p >= 0 && ir->ops[p].builtin == NML_OP_DEQUANTIZE && ir->ops[p].n_inputs > 0)
                t = ir->ops[p].inputs[0]; /* float16 weights expanded at run time */
            if (t < 0 || !ir->tensors[t].data || seen[t]) continue;
            seen[t] = 1;
            s->params += nml_ir_tensor_count(&ir->tensors[t]);
            if (k == 1) {
                count_weights(&ir->tensors[t], s);
                s->layers++;
            }
        }
    }
    free(seen);
    return NML_OK;
}
