#include "onnx_builder.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void ob_free(ob_buf *b) {
    free(b->d);
    memset(b, 0, sizeof *b);
}

void ob_raw(ob_buf *b, const void *p, size_t n) {
    if (b->n + n > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->n + n)
            cap *= 2;
        uint8_t *d = realloc(b->d, cap);
        if (!d) abort();
        b->d = d;
        b->cap = cap;
    }
    if (n) memcpy(b->d + b->n, p, n);
    b->n += n;
}

void ob_varint(ob_buf *b, uint64_t v) {
    uint8_t tmp[10];
    size_t n = 0;
    do {
        tmp[n] = (uint8_t)(v & 0x7f);
        v >>= 7;
        if (v) tmp[n] |= 0x80;
        n++;
    } while (v);
    ob_raw(b, tmp, n);
}

void ob_tag(ob_buf *b, uint32_t field, int wire) {
    ob_varint(b, (uint64_t)field << 3 | (unsigned)wire);
}

void ob_int(ob_buf *b, uint32_t field, int64_t v) {
    ob_tag(b, field, 0);
    ob_varint(b, (uint64_t)v);
}

void ob_fixed32(ob_buf *b, uint32_t field, float v) {
    uint32_t u;
    memcpy(&u, &v, 4);
    uint8_t p[4] = {(uint8_t)u, (uint8_t)(u >> 8), (uint8_t)(u >> 16), (uint8_t)(u >> 24)};
    ob_tag(b, field, 5);
    ob_raw(b, p, 4);
}

void ob_bytes(ob_buf *b, uint32_t field, const void *p, size_t n) {
    ob_tag(b, field, 2);
    ob_varint(b, n);
    ob_raw(b, p, n);
}

void ob_str(ob_buf *b, uint32_t field, const char *s) {
    ob_bytes(b, field, s, strlen(s));
}

void ob_msg(ob_buf *b, uint32_t field, ob_buf *child) {
    ob_bytes(b, field, child->d, child->n);
    ob_free(child);
}

static void attr_begin(ob_buf *a, const char *name, int type) {
    ob_str(a, 1, name);
    ob_int(a, 20, type);
}

void ob_attr_int(ob_buf *attrs, const char *name, int64_t v) {
    ob_buf a = {0};
    attr_begin(&a, name, 2);
    ob_int(&a, 3, v);
    ob_msg(attrs, 5, &a);
}

void ob_attr_float(ob_buf *attrs, const char *name, float v) {
    ob_buf a = {0};
    attr_begin(&a, name, 1);
    ob_fixed32(&a, 2, v);
    ob_msg(attrs, 5, &a);
}

void ob_attr_str(ob_buf *attrs, const char *name, const char *v) {
    ob_buf a = {0};
    attr_begin(&a, name, 3);
    ob_str(&a, 4, v);
    ob_msg(attrs, 5, &a);
}

void ob_attr_ints(ob_buf *attrs, const char *name, const int64_t *v, int n) {
    ob_buf a = {0}, packed = {0};
    attr_begin(&a, name, 7);
    for (int i = 0; i < n; i++)
        ob_varint(&packed, (uint64_t)v[i]);
    ob_msg(&a, 8, &packed);
    ob_msg(attrs, 5, &a);
}

void ob_node(ob_buf *graph, const char *op, const char *name, const char *const *inputs,
             const char *const *outputs, ob_buf *attrs) {
    ob_buf n = {0};
    for (int i = 0; inputs && inputs[i]; i++)
        ob_str(&n, 1, inputs[i]);
    for (int i = 0; outputs && outputs[i]; i++)
        ob_str(&n, 2, outputs[i]);
    ob_str(&n, 3, name);
    ob_str(&n, 4, op);
    if (attrs) {
        ob_raw(&n, attrs->d, attrs->n); /* already encoded as field-5 entries */
        ob_free(attrs);
    }
    ob_msg(graph, 1, &n);
}

static void tensor_head(ob_buf *t, const char *name, int dtype, int rank, const int64_t *dims) {
    for (int i = 0; i < rank; i++)
        ob_int(t, 1, dims[i]);
    ob_int(t, 2, dtype);
    ob_str(t, 8, name);
}

static size_t count(int rank, const int64_t *dims) {
    size_t n = 1;
    for (int i = 0; i < rank; i++)
        n *= (size_t)dims[i];
    return n;
}

void ob_init_f32(ob_buf *graph, const char *name, int rank, const int64_t *dims, const float *v) {
    ob_buf t = {0};
    tensor_head(&t, name, 1, rank, dims);
    ob_bytes(&t, 9, v, count(rank, dims) * 4);
    ob_msg(graph, 5, &t);
}

void ob_init_i64(ob_buf *graph, const char *name, int rank, const int64_t *dims, const int64_t *v) {
    ob_buf t = {0};
    tensor_head(&t, name, 7, rank, dims);
    ob_bytes(&t, 9, v, count(rank, dims) * 8);
    ob_msg(graph, 5, &t);
}

void ob_io(ob_buf *graph, int output, const char *name, int rank, const int64_t *dims) {
    ob_buf vi = {0}, type = {0}, tt = {0}, shape = {0};
    for (int i = 0; i < rank; i++) {
        ob_buf dim = {0};
        ob_int(&dim, 1, dims[i]);
        ob_msg(&shape, 1, &dim);
    }
    ob_int(&tt, 1, 1);
    if (rank >= 0) ob_msg(&tt, 2, &shape);
    ob_msg(&type, 1, &tt);
    ob_str(&vi, 1, name);
    ob_msg(&vi, 2, &type);
    ob_msg(graph, output ? 12 : 11, &vi);
}

void ob_model(ob_buf *model, int64_t opset, ob_buf *graph) {
    ob_buf op = {0};
    ob_int(model, 1, 7);
    ob_str(model, 2, "nanoml-test");
    ob_str(&op, 1, "");
    ob_int(&op, 2, opset);
    ob_msg(model, 8, &op);
    ob_msg(model, 7, graph);
}
