#include "tfl_builder.h"

#include <stdlib.h>
#include <string.h>

#include "nanoml/ops.h"
#include "nanoml/types.h"

static void put_u16(uint8_t *p, uint16_t v) {
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void put_u32(uint8_t *p, uint32_t v) {
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void put_u64(uint8_t *p, uint64_t v) {
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

void fbb_init(fbb *b) {
    memset(b, 0, sizeof *b);
}

void fbb_free(fbb *b) {
    free(b->buf);
    fbb_init(b);
}

static uint8_t *prepend(fbb *b, size_t n) {
    if (b->used + n > b->cap) {
        size_t cap = b->cap * 2 + n + 256;
        uint8_t *nb = calloc(1, cap);
        if (b->used) memcpy(nb + cap - b->used, b->buf + b->cap - b->used, b->used);
        free(b->buf);
        b->buf = nb;
        b->cap = cap;
    }
    b->used += n;
    uint8_t *p = b->buf + b->cap - b->used;
    memset(p, 0, n);
    return p;
}

/* Pads so that after prepending `extra` bytes the absolute start is congruent to `phase`
 * modulo `align` (the finished size is a multiple of 16, so absolute = size - position). */
static void pad_for(fbb *b, size_t extra, size_t align, size_t phase) {
    while ((b->used + extra + phase) % align)
        prepend(b, 1);
}

uint32_t fbb_vector(fbb *b, const void *elems, uint32_t count, uint32_t elem, uint32_t phase) {
    size_t bytes = (size_t)count * elem;
    pad_for(b, bytes, phase ? 16 : (elem > 4 ? (elem > 16 ? 16 : elem) : 4), phase);
    if (phase == 0 && elem == 1) pad_for(b, bytes, 16, 0); /* byte buffers: force_align 16 */
    uint8_t *p = prepend(b, bytes);
    if (bytes) memcpy(p, elems, bytes);
    put_u32(prepend(b, 4), count);
    return (uint32_t)b->used;
}

uint32_t fbb_string(fbb *b, const char *s) {
    size_t n = strlen(s);
    pad_for(b, n + 1, 4, 0);
    memcpy(prepend(b, n + 1), s, n);
    put_u32(prepend(b, 4), (uint32_t)n);
    return (uint32_t)b->used;
}

uint32_t fbb_offsets(fbb *b, const uint32_t *targets, uint32_t count) {
    pad_for(b, (size_t)count * 4, 4, 0);
    prepend(b, (size_t)count * 4);
    uint32_t start = (uint32_t)b->used; /* position of element 0 */
    for (uint32_t k = 0; k < count; k++)
        put_u32(b->buf + b->cap - start + 4 * k, start - 4 * k - targets[k]);
    put_u32(prepend(b, 4), count);
    return (uint32_t)b->used;
}

uint32_t fbb_table(fbb *b, const fbb_field *f, int n) {
    uint32_t pos[32];
    int slots = 0;
    pad_for(b, 0, 4, 0);
    size_t start = b->used;
    for (int i = n - 1; i >= 0; i--) {
        pad_for(b, (size_t)f[i].size, (size_t)f[i].size, 0);
        uint8_t *p = prepend(b, (size_t)f[i].size);
        pos[i] = (uint32_t)b->used;
        uint64_t v = f[i].is_offset ? pos[i] - (uint32_t)f[i].value : f[i].value;
        if (f[i].size == 1)
            p[0] = (uint8_t)v;
        else if (f[i].size == 2)
            put_u16(p, (uint16_t)v);
        else if (f[i].size == 4)
            put_u32(p, (uint32_t)v);
        else
            put_u64(p, v);
        if (f[i].id + 1 > slots) slots = f[i].id + 1;
    }
    pad_for(b, 4, 4, 0);
    prepend(b, 4);
    uint32_t table = (uint32_t)b->used;
    uint16_t table_bytes = (uint16_t)(table - start);
    uint8_t *vt = prepend(b, 4 + 2 * (size_t)slots);
    uint32_t vtable = (uint32_t)b->used;
    put_u16(vt, (uint16_t)(4 + 2 * slots));
    put_u16(vt + 2, table_bytes);
    for (int i = 0; i < n; i++)
        put_u16(vt + 4 + 2 * f[i].id, (uint16_t)(table - pos[i]));
    put_u32(b->buf + b->cap - table, vtable - table);
    return table;
}

uint8_t *fbb_finish(fbb *b, uint32_t root, const char *ident, size_t *size) {
    pad_for(b, 8, 16, 0);
    uint8_t *id = prepend(b, 4);
    if (ident) memcpy(id, ident, 4);
    uint8_t *rp = prepend(b, 4); /* the offset is relative to its own position, byte 0 */
    put_u32(rp, (uint32_t)b->used - root);
    *size = b->used;
    void *out = NULL;
    if (posix_memalign(&out, 16, b->used) != 0) return NULL;
    memcpy(out, b->buf + b->cap - b->used, b->used);
    return out;
}

/* ---- TFLite models ---- */

tb_model *tb_new(void) {
    tb_model *m = calloc(1, sizeof *m);
    m->version = 3;
    m->n_buffers = 1;
    return m;
}

tb_model *tb_new_add_int8(void) {
    tb_model *m = tb_new();
    int32_t dims[2] = {1, 4};
    tb_opcode(m, NML_OP_ADD);
    tb_add_tensor(m, NML_INT8, 2, dims, 0, "in0");
    tb_add_tensor(m, NML_INT8, 2, dims, 0, "in1");
    tb_add_tensor(m, NML_INT8, 2, dims, 0, "out");
    int32_t in[2] = {0, 1}, out[1] = {2};
    tb_add_op(m, 0, 2, in, 1, out);
    tb_io(m, 2, in, 1, out);
    return m;
}

int tb_buffer(tb_model *m, const void *data, uint32_t size) {
    m->buf_data[m->n_buffers] = data;
    m->buf_size[m->n_buffers] = size;
    return m->n_buffers++;
}

int tb_add_tensor(tb_model *m, int type, int rank, const int32_t *dims, uint32_t buffer,
                  const char *name) {
    tb_tensor *t = &m->tensors[m->n_tensors];
    memset(t, 0, sizeof *t);
    t->type = type;
    t->rank = rank;
    for (int i = 0; i < rank; i++)
        t->dims[i] = dims[i];
    t->buffer = buffer;
    t->name = name;
    return m->n_tensors++;
}

void tb_quant(tb_model *m, int t, int n, const float *scales, const int64_t *zero_points,
              int q_dim) {
    tb_tensor *x = &m->tensors[t];
    x->has_quant = 1;
    x->n_q = n;
    x->scales = scales;
    x->zero_points = zero_points;
    x->q_dim = q_dim;
}

void tb_details(tb_model *m, int t, uint8_t type, const uint8_t *bytes, uint32_t n) {
    tb_tensor *x = &m->tensors[t];
    x->has_quant = 1;
    x->details_type = type;
    x->details = bytes;
    x->details_bytes = n;
}

int tb_opcode(tb_model *m, int32_t builtin) {
    m->opcodes[m->n_opcodes] = builtin;
    return m->n_opcodes++;
}

int tb_add_op(tb_model *m, int opcode, int n_in, const int32_t *in, int n_out, const int32_t *out) {
    tb_op *o = &m->ops[m->n_ops];
    memset(o, 0, sizeof *o);
    o->opcode = (uint32_t)opcode;
    o->n_in = n_in;
    o->n_out = n_out;
    memcpy(o->in, in, sizeof(int32_t) * (size_t)n_in);
    memcpy(o->out, out, sizeof(int32_t) * (size_t)n_out);
    o->vec_id = -1;
    return m->n_ops++;
}

void tb_option(tb_model *m, int op, uint8_t type, int id, int size, uint64_t value) {
    tb_op *o = &m->ops[op];
    o->opt_type = type;
    o->opt[o->n_opt].id = id;
    o->opt[o->n_opt].size = size;
    o->opt[o->n_opt].is_offset = 0;
    o->opt[o->n_opt].value = value;
    o->n_opt++;
}

void tb_io(tb_model *m, int n_in, const int32_t *in, int n_out, const int32_t *out) {
    m->n_inputs = n_in;
    m->n_outputs = n_out;
    memcpy(m->inputs, in, sizeof(int32_t) * (size_t)n_in);
    memcpy(m->outputs, out, sizeof(int32_t) * (size_t)n_out);
}

static fbb_field scalar(int id, int size, uint64_t v) {
    fbb_field f = {id, size, 0, v};
    return f;
}

static fbb_field offset(int id, uint32_t target) {
    fbb_field f = {id, 4, 1, target};
    return f;
}

static uint32_t build_buffers(fbb *b, const tb_model *m) {
    uint32_t tables[TB_MAX_TENSORS];
    for (int i = m->n_buffers - 1; i >= 0; i--) {
        fbb_field f[3];
        int n = 0;
        if (m->buf_data[i])
            f[n++] = offset(0, fbb_vector(b, m->buf_data[i], m->buf_size[i], 1, m->buf_phase[i]));
        if (m->buf_offset[i]) f[n++] = scalar(1, 8, m->buf_offset[i]);
        if (m->buf_ext_size[i]) f[n++] = scalar(2, 8, m->buf_ext_size[i]);
        tables[i] = fbb_table(b, f, n);
    }
    return fbb_offsets(b, tables, (uint32_t)m->n_buffers);
}

static uint32_t build_tensor(fbb *b, const tb_tensor *t) {
    fbb_field f[6];
    int n = 0;
    uint32_t quant = 0;
    if (t->has_quant) {
        fbb_field q[5];
        int nq = 0;
        if (t->details_type) {
            fbb_field c = offset(0, fbb_vector(b, t->details, t->details_bytes, 1, 0));
            q[nq++] = scalar(4, 1, t->details_type);
            q[nq++] = offset(5, fbb_table(b, &c, 1));
        }
        if (t->scales) q[nq++] = offset(2, fbb_vector(b, t->scales, (uint32_t)t->n_q, 4, 0));
        if (t->zero_points)
            q[nq++] = offset(3, fbb_vector(b, t->zero_points, (uint32_t)t->n_q, 8, 0));
        if (t->q_dim) q[nq++] = scalar(6, 4, (uint32_t)t->q_dim);
        quant = fbb_table(b, q, nq);
    }
    uint32_t name = t->name ? fbb_string(b, t->name) : 0;
    uint32_t shape = fbb_vector(b, t->dims, (uint32_t)t->rank, 4, 0);
    f[n++] = offset(0, shape);
    f[n++] = scalar(1, 1, (uint8_t)t->type);
    if (t->buffer) f[n++] = scalar(2, 4, t->buffer);
    if (name) f[n++] = offset(3, name);
    if (quant) f[n++] = offset(4, quant);
    if (t->is_variable) f[n++] = scalar(5, 1, 1);
    return fbb_table(b, f, n);
}

static uint32_t build_op(fbb *b, const tb_op *o) {
    fbb_field f[5];
    int n = 0;
    uint32_t opts = 0;
    if (o->opt_type) {
        fbb_field of[9];
        int k = o->n_opt;
        memcpy(of, o->opt, sizeof(fbb_field) * (size_t)k);
        if (o->vec_id >= 0)
            of[k++] = offset(o->vec_id, fbb_vector(b, o->vec, (uint32_t)o->n_vec, 4, 0));
        opts = fbb_table(b, of, k);
    }
    uint32_t outs = fbb_vector(b, o->out, (uint32_t)o->n_out, 4, 0);
    uint32_t ins = fbb_vector(b, o->in, (uint32_t)o->n_in, 4, 0);
    if (o->opcode) f[n++] = scalar(0, 4, o->opcode);
    f[n++] = offset(1, ins);
    f[n++] = offset(2, outs);
    if (opts) {
        f[n++] = scalar(3, 1, o->opt_type);
        f[n++] = offset(4, opts);
    }
    return fbb_table(b, f, n);
}

uint8_t *tb_build(const tb_model *m, size_t *size) {
    fbb b;
    fbb_init(&b);
    uint32_t tmp[TB_MAX_TENSORS];
    uint32_t buffers = build_buffers(&b, m);
    for (int i = m->n_tensors - 1; i >= 0; i--)
        tmp[i] = build_tensor(&b, &m->tensors[i]);
    uint32_t tensors = fbb_offsets(&b, tmp, (uint32_t)m->n_tensors);
    for (int i = m->n_ops - 1; i >= 0; i--)
        tmp[i] = build_op(&b, &m->ops[i]);
    uint32_t ops = fbb_offsets(&b, tmp, (uint32_t)m->n_ops);
    uint32_t ins = fbb_vector(&b, m->inputs, (uint32_t)m->n_inputs, 4, 0);
    uint32_t outs = fbb_vector(&b, m->outputs, (uint32_t)m->n_outputs, 4, 0);
    fbb_field sf[4] = {offset(0, tensors), offset(1, ins), offset(2, outs), offset(3, ops)};
    uint32_t sub = fbb_table(&b, sf, 4);
    uint32_t subs = fbb_offsets(&b, &sub, 1);
    for (int i = m->n_opcodes - 1; i >= 0; i--) {
        int32_t c = m->opcodes[i];
        fbb_field of[2] = {scalar(0, 1, (uint8_t)(c < 127 ? c : 127)), scalar(3, 4, (uint32_t)c)};
        tmp[i] = fbb_table(&b, of, 2);
    }
    uint32_t opcodes = fbb_offsets(&b, tmp, (uint32_t)m->n_opcodes);
    fbb_field mf[4] = {scalar(0, 4, m->version), offset(1, opcodes), offset(2, subs),
                       offset(4, buffers)};
    uint32_t root = fbb_table(&b, mf, 4);
    uint8_t *out = fbb_finish(&b, root, "TFL3", size);
    fbb_free(&b);
    return out;
}
