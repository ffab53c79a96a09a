/* Catalog and structure-aware mutation of .tflite fields (see tfl_fields.h). */
#include "tfl_fields.h"

#include <stdlib.h>
#include <string.h>

#include "fb.h"
#include "nanoml/runtime.h"
#include "schema.h"

#define SAMPLED_DATA_BYTES 16 /* positions catalogued inside each large constant buffer */
#define QUANT_ELEMS 4         /* per-channel scales / zero points catalogued per tensor */

static const char *const KIND_NAMES[TFL_F_KINDS] = {
    "dimension",   "shape length", "tensor type",   "tensor buffer", "quant scale", "zero point",
    "quant dim",   "opcode index", "op input",      "op output",     "graph io",    "builtin code",
    "old builtin", "option field", "vector length", "offset",        "const int32", "const byte"};

const char *tfl_field_kind_name(int kind) {
    return kind >= 0 && kind < TFL_F_KINDS ? KIND_NAMES[kind] : "?";
}

/* ---- catalog ---- */

typedef struct walker {
    nml_fb fb;
    tfl_fields *f;
    int oom;
} walker;

static void add(walker *w, uint32_t pos, int kind, int width, uint32_t limit) {
    tfl_fields *f = w->f;
    if (!pos || w->oom) return;
    if (f->n == f->cap) {
        uint32_t cap = f->cap ? 2 * f->cap : 1024;
        tfl_field *grown = realloc(f->items, cap * sizeof *grown);
        if (!grown) {
            w->oom = 1;
            return;
        }
        f->items = grown;
        f->cap = cap;
    }
    tfl_field *it = &f->items[f->n++];
    it->pos = pos;
    it->kind = (uint8_t)kind;
    it->width = (uint8_t)width;
    it->limit = (uint16_t)(limit > 0xffff ? 0xffff : limit);
    f->per_kind[kind]++;
}

/* Position of field id inside a verified table, 0 when absent. */
static uint32_t field_at(const walker *w, const nml_fb_table *t, unsigned id) {
    if (id >= t->n_fields) return 0;
    uint16_t off = nml_fb_load_u16(w->fb.data + t->vtable + 4 + 2 * id);
    return off ? t->pos + off : 0;
}

/* A vector field: its offset and length are catalogued, and elements (of elem_kind, when
 * given) up to max_elems. */
static nml_status vector(walker *w, const nml_fb_table *t, unsigned id, uint32_t elem_bytes,
                         int elem_kind, uint32_t limit, uint32_t max_elems, nml_fb_vec *v,
                         nml_error *err) {
    NML_TRY(nml_fb_vec_field(&w->fb, t, id, elem_bytes, v, err));
    if (!v->pos) return NML_OK;
    add(w, field_at(w, t, id), TFL_F_OFFSET, 4, 0);
    add(w, v->pos - 4, TFL_F_VEC_LEN, 4, 0);
    for (uint32_t i = 0; elem_kind >= 0 && i < v->len && i < max_elems; i++)
        add(w, v->pos + elem_bytes * i, elem_kind, (int)elem_bytes, limit);
    return NML_OK;
}

/* Vector of tables: offsets catalogued, each table handed to visit. */
typedef nml_status (*visit_fn)(walker *w, const nml_fb_table *t, const nml_model *m,
                               nml_error *err);

static nml_status tables(walker *w, const nml_fb_table *parent, unsigned id, visit_fn visit,
                         const nml_model *m, uint32_t max_tables, nml_error *err) {
    nml_fb_vec v;
    NML_TRY(vector(w, parent, id, 4, TFL_F_OFFSET, 0, UINT32_MAX, &v, err));
    for (uint32_t i = 0; i < v.len && i < max_tables; i++) {
        nml_fb_table t;
        NML_TRY(nml_fb_vec_table(&w->fb, v, i, &t, err));
        if (visit) NML_TRY(visit(w, &t, m, err));
    }
    return NML_OK;
}

static nml_status visit_opcode(walker *w, const nml_fb_table *t, const nml_model *m,
                               nml_error *err) {
    (void)m;
    (void)err;
    add(w, field_at(w, t, TFL_OPCODE_DEPRECATED_BUILTIN_CODE), TFL_F_BUILTIN_OLD, 1, 0);
    add(w, field_at(w, t, TFL_OPCODE_BUILTIN_CODE), TFL_F_BUILTIN, 4, 0);
    return NML_OK;
}

static nml_status visit_buffer(walker *w, const nml_fb_table *t, const nml_model *m,
                               nml_error *err) {
    (void)m;
    nml_fb_vec v;
    NML_TRY(vector(w, t, TFL_BUFFER_DATA, 1, -1, 0, 0, &v, err));
    if (v.len <= 64 && v.len % 4 == 0) {
        for (uint32_t i = 0; i < v.len; i += 4)
            add(w, v.pos + i, TFL_F_CONST_I32, 4, 0);
    } else {
        for (uint32_t k = 0; k < SAMPLED_DATA_BYTES && k < v.len; k++)
            add(w, v.pos + (uint32_t)((uint64_t)v.len * k / SAMPLED_DATA_BYTES), TFL_F_CONST_BYTE,
                1, 0);
    }
    return NML_OK;
}

static nml_status visit_quant(walker *w, const nml_fb_table *q, nml_error *err) {
    nml_fb_vec v;
    NML_TRY(vector(w, q, TFL_QUANT_SCALE, 4, TFL_F_QUANT_SCALE, 0, QUANT_ELEMS, &v, err));
    NML_TRY(vector(w, q, TFL_QUANT_ZERO_POINT, 8, TFL_F_QUANT_ZERO, 0, QUANT_ELEMS, &v, err));
    add(w, field_at(w, q, TFL_QUANT_QUANTIZED_DIMENSION), TFL_F_QUANT_DIM, 4, 0);
    return NML_OK;
}

static nml_status visit_tensor(walker *w, const nml_fb_table *t, const nml_model *m,
                               nml_error *err) {
    nml_fb_vec v;
    NML_TRY(vector(w, t, TFL_TENSOR_SHAPE, 4, TFL_F_DIM, 0, UINT32_MAX, &v, err));
    if (v.pos) add(w, v.pos - 4, TFL_F_SHAPE_LEN, 4, 0);
    add(w, field_at(w, t, TFL_TENSOR_TYPE), TFL_F_TENSOR_TYPE, 1, 0);
    add(w, field_at(w, t, TFL_TENSOR_BUFFER), TFL_F_TENSOR_BUFFER, 4, m->n_buffers);
    nml_fb_table q;
    int present;
    NML_TRY(nml_fb_table_field(&w->fb, t, TFL_TENSOR_QUANTIZATION, &q, &present, err));
    if (!present) return NML_OK;
    add(w, field_at(w, t, TFL_TENSOR_QUANTIZATION), TFL_F_OFFSET, 4, 0);
    return visit_quant(w, &q, err);
}

/* Width of a scalar option field: up to the next field (or the table end), at most 4. */
static int option_width(const walker *w, const nml_fb_table *t, uint16_t off) {
    uint32_t next = t->size;
    for (unsigned id = 0; id < t->n_fields; id++) {
        uint16_t o = nml_fb_load_u16(w->fb.data + t->vtable + 4 + 2 * id);
        if (o > off && o < next) next = o;
    }
    uint32_t gap = next - off;
    return gap >= 4 ? 4 : gap >= 2 ? 2 : 1;
}

static nml_status visit_operator(walker *w, const nml_fb_table *t, const nml_model *m,
                                 nml_error *err) {
    nml_fb_vec v;
    add(w, field_at(w, t, TFL_OP_OPCODE_INDEX), TFL_F_OP_OPCODE, 4, m->n_opcodes);
    NML_TRY(vector(w, t, TFL_OP_INPUTS, 4, TFL_F_OP_INPUT, m->n_tensors, UINT32_MAX, &v, err));
    NML_TRY(vector(w, t, TFL_OP_OUTPUTS, 4, TFL_F_OP_OUTPUT, m->n_tensors, UINT32_MAX, &v, err));
    uint8_t type;
    nml_fb_table opt;
    NML_TRY(nml_fb_union_field(&w->fb, t, TFL_OP_BUILTIN_OPTIONS_TYPE, &type, &opt, err));
    if (!type) return NML_OK;
    add(w, field_at(w, t, TFL_OP_BUILTIN_OPTIONS), TFL_F_OFFSET, 4, 0);
    for (unsigned id = 0; id < opt.n_fields; id++) {
        uint16_t off = nml_fb_load_u16(w->fb.data + opt.vtable + 4 + 2 * id);
        if (off >= 4) add(w, opt.pos + off, TFL_F_OPTION, option_width(w, &opt, off), 0);
    }
    return NML_OK;
}

static nml_status walk(walker *w, const nml_model *m, nml_error *err) {
    nml_fb_table root, sub;
    nml_fb_vec v;
    NML_TRY(nml_fb_table_at(&w->fb, m->model_table, &root, err));
    NML_TRY(tables(w, &root, TFL_MODEL_OPERATOR_CODES, visit_opcode, m, UINT32_MAX, err));
    NML_TRY(tables(w, &root, TFL_MODEL_BUFFERS, visit_buffer, m, UINT32_MAX, err));
    NML_TRY(tables(w, &root, TFL_MODEL_SUBGRAPHS, NULL, m, 0, err));
    NML_TRY(nml_fb_table_at(&w->fb, m->subgraph_table, &sub, err));
    NML_TRY(tables(w, &sub, TFL_SUBGRAPH_TENSORS, visit_tensor, m, UINT32_MAX, err));
    NML_TRY(
        vector(w, &sub, TFL_SUBGRAPH_INPUTS, 4, TFL_F_GRAPH_IO, m->n_tensors, UINT32_MAX, &v, err));
    NML_TRY(vector(w, &sub, TFL_SUBGRAPH_OUTPUTS, 4, TFL_F_GRAPH_IO, m->n_tensors, UINT32_MAX, &v,
                   err));
    NML_TRY(tables(w, &sub, TFL_SUBGRAPH_OPERATORS, visit_operator, m, UINT32_MAX, err));
    return NML_OK;
}

nml_status tfl_fields_collect(const uint8_t *model, size_t size, tfl_fields *f, nml_error *err) {
    nml_model m;
    memset(f, 0, sizeof *f);
    NML_TRY(nml_model_load(&m, model, size, err));
    walker w = {{model, (uint32_t)size}, f, 0};
    nml_status st = walk(&w, &m, err);
    if (st == NML_OK && w.oom) st = nml_fail(err, NML_E_NOMEM, "out of memory");
    if (st != NML_OK) tfl_fields_free(f);
    return st;
}

void tfl_fields_free(tfl_fields *f) {
    free(f->items);
    memset(f, 0, sizeof *f);
}

/* ---- mutation ---- */

static uint32_t load32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void store(uint8_t *p, uint64_t v, int width) {
    for (int i = 0; i < width; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t pick(uint32_t r, const uint32_t *values, uint32_t n) {
    return values[r % n];
}

/* Hostile 32-bit integers for dimensions, constants and option fields. */
static uint32_t hostile_i32(uint32_t r, uint32_t old) {
    const uint32_t v[] = {0,
                          1,
                          2,
                          3,
                          (uint32_t)-1,
                          (uint32_t)-2,
                          0x80000000u,
                          0x7fffffffu,
                          0x10000,
                          0x7fff,
                          255,
                          256,
                          1u << 20,
                          old + 1,
                          old - 1,
                          old * 2,
                          0u - old, /* negated, without signed overflow */
                          r >> 16,
                          (r >> 16) % 8};
    return pick(r, v, sizeof v / sizeof v[0]);
}

/* An index field: mostly another valid index (a consistent-looking but wrong graph, which
 * only prepare-time checks can catch), otherwise out of range or negative. */
static uint32_t hostile_index(uint32_t r, uint32_t limit) {
    uint32_t valid = limit ? (r >> 8) % limit : 0;
    const uint32_t v[] = {valid,        valid,       valid, valid,     valid,       (uint32_t)-1,
                          (uint32_t)-2, 0x80000000u, limit, limit + 1, 0x7fffffffu, 0xffffffffu};
    return pick(r, v, sizeof v / sizeof v[0]);
}

static uint32_t float_bits(float f) {
    uint32_t b;
    memcpy(&b, &f, 4);
    return b;
}

static uint32_t hostile_scale(uint32_t r, uint32_t old) {
    float o;
    memcpy(&o, &old, 4);
    const uint32_t v[] = {0,
                          float_bits(-1.0f),
                          0x7fc00000u, /* NaN */
                          0x7f800000u, /* +inf */
                          0x00000001u, /* smallest denormal */
                          float_bits(1e-30f),
                          float_bits(1e30f),
                          float_bits(o * 2.0f),
                          float_bits(o / 1024.0f),
                          float_bits(1.0f),
                          float_bits(65536.0f)};
    return pick(r, v, sizeof v / sizeof v[0]);
}

static uint64_t hostile_zero_point(uint32_t r) {
    const uint64_t v[] = {(uint64_t)-128,        127, 128,          (uint64_t)-129, 0x80000000ull,
                          0x8000000000000000ull, 0,   (uint64_t)-1, 1ull << 40};
    return v[r % (sizeof v / sizeof v[0])];
}

/* The k-th catalogued offset. */
static const tfl_field *nth_offset(const tfl_fields *f, uint32_t k) {
    for (uint32_t i = 0; i < f->n; i++)
        if (f->items[i].kind == TFL_F_OFFSET && k-- == 0) return &f->items[i];
    return NULL;
}

static void mutate_offset(uint8_t *buf, const tfl_fields *f, const tfl_field *a, uint32_t r) {
    uint32_t old = load32(buf + a->pos);
    const tfl_field *b =
        f->per_kind[TFL_F_OFFSET] ? nth_offset(f, (r >> 4) % f->per_kind[TFL_F_OFFSET]) : NULL;
    switch (r % 6) {
    case 0: /* raw swap of the two stored values */
    case 1:
        if (b) {
            uint32_t other = load32(buf + b->pos);
            store(buf + b->pos, old, 4);
            store(buf + a->pos, other, 4);
        }
        break;
    case 2: /* a now points where b points (which may be before a: a huge unsigned value) */
        if (b) store(buf + a->pos, b->pos + load32(buf + b->pos) - a->pos, 4);
        break;
    case 3:
        store(buf + a->pos, old + 4u * (1 + (r >> 8) % 4), 4);
        break;
    case 4:
        store(buf + a->pos, old - 4u * (1 + (r >> 8) % 4), 4);
        break;
    default:
        store(buf + a->pos, (r >> 8) % 2 ? 0 : 0xffffffffu, 4);
        break;
    }
}

void tfl_field_mutate(uint8_t *buf, const tfl_fields *f, uint32_t which, uint32_t r) {
    if (!f->n) return;
    const tfl_field *it = &f->items[which % f->n];
    uint8_t *p = buf + it->pos;
    uint32_t old = it->width == 4 ? load32(p) : p[0];
    uint32_t q = r >> 5; /* the low bits chose the value kind; these give the "random" value */
    switch (it->kind) {
    case TFL_F_DIM:
    case TFL_F_CONST_I32:
    case TFL_F_QUANT_DIM:
        store(p, hostile_i32(r, old), 4);
        break;
    case TFL_F_OPTION:
        store(p, hostile_i32(r, old), it->width);
        break;
    case TFL_F_SHAPE_LEN:
    case TFL_F_VEC_LEN: {
        const uint32_t v[] = {0,           1,           old + 1,  old - 1, 7,
                              0xffffffffu, 0x10000000u, old + 16, old * 2, 0x7fffffffu};
        store(p, pick(r, v, sizeof v / sizeof v[0]), 4);
        break;
    }
    case TFL_F_TENSOR_TYPE: {
        const uint32_t v[] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 16, 17, 0xff, 0x7f};
        store(p, pick(r, v, sizeof v / sizeof v[0]), 1);
        break;
    }
    case TFL_F_TENSOR_BUFFER:
    case TFL_F_OP_OPCODE:
    case TFL_F_OP_INPUT:
    case TFL_F_OP_OUTPUT:
    case TFL_F_GRAPH_IO:
        store(p, hostile_index(r, it->limit), 4);
        break;
    case TFL_F_BUILTIN: {
        const uint32_t v[] = {q % 210, q % 210, q % 210, q % 210,    (uint32_t)-1,
                              32,      255,     1000,    0x7fffffffu};
        store(p, pick(r, v, sizeof v / sizeof v[0]), 4);
        break;
    }
    case TFL_F_BUILTIN_OLD:
        store(p, r % 4 ? q % 128 : 0x80 | q, 1);
        break;
    case TFL_F_QUANT_SCALE:
        store(p, hostile_scale(r, old), 4);
        break;
    case TFL_F_QUANT_ZERO:
        store(p, hostile_zero_point(r), 8);
        break;
    case TFL_F_OFFSET:
        mutate_offset(buf, f, it, r);
        break;
    default:
        store(p, r % 4 ? q : 0x80, 1);
        break; /* constant data byte */
    }
}

long tfl_fields_pick(const tfl_fields *f, int kind, uint32_t k) {
    if (kind < 0 || kind >= TFL_F_KINDS || !f->per_kind[kind]) return -1;
    k %= f->per_kind[kind];
    for (uint32_t i = 0; i < f->n; i++)
        if (f->items[i].kind == kind && k-- == 0) return (long)i;
    return -1;
}

void tfl_field_set(uint8_t *buf, const tfl_field *field, uint64_t value) {
    store(buf + field->pos, value, field->width);
}
