/* Loading and verifying a .tflite model, and reading its parts.
 *
 * Verification is the accessors run once over everything: nml_model_load() reads every operator
 * code, buffer, tensor, subgraph input/output and operator (with its options) through the same
 * checked functions the interpreter uses later, so whatever loads cleanly cannot fail or read
 * out of bounds afterwards. The walk follows the schema explicitly (no recursion) and touches
 * each element a bounded number of times, so a hostile file costs time linear in its size. */
#include <stddef.h>
#include <string.h>

#include "model_internal.h"
#include "packed_weak.h"
#include "schema.h"

/* Runs expr; on failure prefixes the message with the given context and returns. */
#define TRY_CTX(expr, ...)                                                                         \
    do {                                                                                           \
        nml_status st_ = (expr);                                                                   \
        if (st_ != NML_OK) {                                                                       \
            nml_error_prefix(err, __VA_ARGS__);                                                    \
            return st_;                                                                            \
        }                                                                                          \
    } while (0)

static nml_fb_vec vec_of(uint32_t pos, uint32_t len) {
    nml_fb_vec v = {pos, len};
    return v;
}

/* ---- operator codes ---- */

static nml_status read_opcode(const nml_fb *fb, const nml_fb_table *t, nml_model_op *op,
                              nml_error *err) {
    /* signed fields are read as their unsigned bits (no sign-converting wrappers linked) */
    uint8_t deprecated;
    uint32_t code, version, len;
    NML_TRY(nml_fb_u8(fb, t, TFL_OPCODE_DEPRECATED_BUILTIN_CODE, 0, &deprecated, err));
    NML_TRY(nml_fb_u32(fb, t, TFL_OPCODE_BUILTIN_CODE, 0, &code, err));
    NML_TRY(nml_fb_u32(fb, t, TFL_OPCODE_VERSION, 1, &version, err));
    NML_TRY(nml_fb_str_field(fb, t, TFL_OPCODE_CUSTOM_CODE, &op->custom_code, &len, err));
    op->version = (int32_t)version;
    /* the schema's rule: the larger of the two fields is the operator */
    op->builtin = (int32_t)code > (int8_t)deprecated ? (int32_t)code : (int8_t)deprecated;
    if (op->builtin < 0)
        return nml_fail(err, NML_E_FORMAT, "builtin code %d is negative", (int)op->builtin);
    if (op->builtin != NML_OP_CUSTOM) op->custom_code = NULL;
    return NML_OK;
}

static nml_status opcode_in(const nml_model *m, uint32_t i, nml_model_op *op, nml_error *err) {
    nml_fb fb = nml_model_fb(m);
    nml_fb_table t;
    NML_TRY(nml_fb_vec_table(&fb, vec_of(m->opcodes_vec, m->n_opcodes), i, &t, err));
    return read_opcode(&fb, &t, op, err);
}

static nml_status opcode_at(const nml_model *m, uint32_t i, nml_model_op *op, nml_error *err) {
    TRY_CTX(opcode_in(m, i, op, err), "operator code %lu: ", (unsigned long)i);
    return NML_OK;
}

/* ---- buffers ---- */

static nml_status read_buffer(const nml_model *m, uint32_t i, const uint8_t **data, uint32_t *bytes,
                              nml_error *err) {
    nml_fb fb = nml_model_fb(m);
    nml_fb_table t;
    nml_fb_vec v;
    uint64_t ext[2]; /* offset, size: one read loop for both fields */
    NML_TRY(nml_fb_vec_table(&fb, vec_of(m->buffers_vec, m->n_buffers), i, &t, err));
    NML_TRY(nml_fb_vec_field(&fb, &t, TFL_BUFFER_DATA, 1, &v, err));
    _Static_assert(TFL_BUFFER_SIZE == TFL_BUFFER_OFFSET + 1, "offset and size are adjacent");
    for (unsigned k = 0; k < 2; k++)
        NML_TRY(nml_fb_u64(&fb, &t, TFL_BUFFER_OFFSET + k, 0, &ext[k], err));
    if (ext[0] > 1 || ext[1] > 0)
        return nml_fail(err, NML_E_UNSUPPORTED,
                        "data stored outside the flatbuffer (offset %llu, size %llu): models "
                        "over 2 GB are not supported",
                        (unsigned long long)ext[0], (unsigned long long)ext[1]);
    if (v.len) {
        *data = m->data + v.pos;
        *bytes = v.len;
    }
    return NML_OK;
}

/* Buffer i (data NULL and 0 bytes when it has none, or on failure), checked against the buffer
 * count (out of range: status range_st) and read with its index as the context of any error. */
static nml_status buffer_at(const nml_model *m, uint32_t i, nml_status range_st,
                            const uint8_t **data, uint32_t *bytes, nml_error *err) {
    *data = NULL;
    *bytes = 0;
    if (i >= m->n_buffers)
        return nml_fail(err, range_st, "buffer %lu out of range (model has %lu buffers)",
                        (unsigned long)i, (unsigned long)m->n_buffers);
    TRY_CTX(read_buffer(m, i, data, bytes, err), "buffer %lu: ", (unsigned long)i);
    return NML_OK;
}

nml_status nml_model_buffer(const nml_model *m, uint32_t i, const uint8_t **data, uint32_t *bytes,
                            nml_error *err) {
    return buffer_at(m, i, NML_E_ARG, data, bytes, err);
}

/* ---- tensors ---- */

/* Not NaN, not negative (-0 is fine), not infinite: on the bits, so that a soft-float target
 * links no float comparison for it. */
static int float_ok(float f) {
    uint32_t bits;
    memcpy(&bits, &f, sizeof bits);
    return bits < 0x7f800000u || bits == 0x80000000u;
}

/* QuantizationDetails: only nanoml's packed-weights record (a CustomQuantization whose bytes
 * start with its magic) is understood; the header is checked later against tensor and buffer. */
static nml_status read_details(const nml_fb *fb, const nml_fb_table *q, nml_tensor *t,
                               nml_error *err) {
    uint8_t type;
    nml_fb_table details;
    nml_fb_vec custom;
    NML_TRY(nml_fb_union_field(fb, q, TFL_QUANT_DETAILS_TYPE, &type, &details, err));
    if (type == 0) return NML_OK;
    if (type != TFL_QUANT_DETAILS_CUSTOM)
        return nml_fail(err, NML_E_UNSUPPORTED, "quantization details of type %u are not supported",
                        (unsigned)type);
#ifdef NML_NO_PACKED_WEIGHTS
    /* compiled without packed weights (packed_weak.h): the only custom details nanoml reads are
     * a packed-weights record, which this runtime refuses anyway, so it reads no further */
    (void)t;
    return nml_fail(err, NML_E_UNSUPPORTED,
                    "custom quantization details (packed weights?), but this runtime was compiled "
                    "without packed weights (NML_NO_PACKED_WEIGHTS: the exported model had none)");
#endif
    NML_TRY(nml_fb_vec_field(fb, &details, TFL_CUSTOM_QUANT_CUSTOM, 1, &custom, err));
    if (!nml_packed_magic(fb->data + custom.pos, custom.len))
        return nml_fail(err, NML_E_UNSUPPORTED,
                        "custom quantization (%lu bytes) is not a nanoml packed-weights record",
                        (unsigned long)custom.len);
    t->pack = fb->data + custom.pos;
    t->pack_bytes = custom.len;
    return NML_OK;
}

static nml_status read_quantization(const nml_fb *fb, const nml_fb_table *q, nml_tensor *t,
                                    nml_error *err) {
    nml_fb_vec scale, zp;
    uint32_t qdim_bits;
    NML_TRY(nml_fb_vec_field(fb, q, TFL_QUANT_SCALE, 4, &scale, err));
    NML_TRY(nml_fb_vec_field(fb, q, TFL_QUANT_ZERO_POINT, 8, &zp, err));
    NML_TRY(nml_fb_u32(fb, q, TFL_QUANT_QUANTIZED_DIMENSION, 0, &qdim_bits, err));
    int32_t qdim = (int32_t)qdim_bits;
    NML_TRY(read_details(fb, q, t, err));
    if (zp.len && zp.len != scale.len)
        return nml_fail(err, NML_E_FORMAT, "%lu scales but %lu zero points",
                        (unsigned long)scale.len, (unsigned long)zp.len);
    if (scale.len == 0) return NML_OK; /* min/max only, or empty: not quantized */
    /* Converters have written the filter's quantized_dimension into per-channel bias tensors
     * (person_detect: rank 1, dimension 3). A rank-1 tensor can only be quantized along its one
     * dimension, so read it that way when the length agrees. Per-tensor quantization may carry
     * any (legacy) quantized_dimension that is not negative: it means nothing. */
    const int per_channel = scale.len > 1;
    if (per_channel && t->rank == 1 && qdim >= 1 && (uint32_t)t->dims[0] == scale.len) qdim = 0;
    if (qdim < 0 || (per_channel && qdim >= (int32_t)t->rank))
        return nml_fail(err, NML_E_FORMAT, "quantized_dimension %d out of range (rank %u)",
                        (int)qdim, (unsigned)t->rank);
    if (per_channel && (uint32_t)t->dims[qdim] != scale.len)
        return nml_fail(err, NML_E_FORMAT, "%lu scales for dimension %d of size %d",
                        (unsigned long)scale.len, (int)qdim, (int)t->dims[qdim]);
    t->q_dim = per_channel ? qdim : 0;
    t->n_q = scale.len;
    t->scale = nml_fb_vec_f32(fb, scale, 0);
    if (!float_ok(t->scale)) return nml_fail(err, NML_E_FORMAT, "scale is negative or not finite");
    int64_t z = zp.len ? nml_fb_vec_i64(fb, zp, 0) : 0;
    if (z < INT32_MIN || z > INT32_MAX)
        return nml_fail(err, NML_E_FORMAT, "zero point %lld does not fit in 32 bits", (long long)z);
    t->zero_point = (int32_t)z;
    t->q_scales = fb->data + scale.pos;
    t->q_zero_points = zp.len ? fb->data + zp.pos : NULL;
    return NML_OK;
}

static nml_status read_shape(const nml_fb *fb, const nml_fb_table *tt, nml_tensor *t,
                             uint32_t *count, nml_error *err) {
    nml_fb_vec shape;
    NML_TRY(nml_fb_vec_field(fb, tt, TFL_TENSOR_SHAPE, 4, &shape, err));
    if (shape.len > NML_MAX_RANK)
        return nml_fail(err, NML_E_LIMIT, "rank %lu exceeds the limit of %d",
                        (unsigned long)shape.len, NML_MAX_RANK);
    t->rank = (uint8_t)shape.len;
    /* the count saturates at UINT32_MAX, past any limit (a zero dimension still gives 0) */
    *count = 1;
    for (uint32_t d = 0; d < shape.len; d++) {
        t->dims[d] = nml_fb_vec_i32(fb, shape, d);
        if (t->dims[d] < 0)
            return nml_fail(err, NML_E_SHAPE,
                            "dimension %lu is %d (dynamic shapes are not "
                            "supported)",
                            (unsigned long)d, (int)t->dims[d]);
        const uint64_t product = (uint64_t)*count * (uint32_t)t->dims[d];
        *count = product > UINT32_MAX ? UINT32_MAX : (uint32_t)product;
    }
    return NML_OK;
}

#ifndef NML_NO_PACKED_WEIGHTS
/* A packed weight tensor: nml_packed_read_tensor (packed_verify.c), when it is linked. */
static nml_status read_packed(nml_tensor *t, uint8_t is_variable, const uint8_t *data,
                              uint32_t data_bytes, nml_error *err) {
    if (!NML_PACKED_LINKED())
        return nml_fail(err, NML_E_UNSUPPORTED,
                        "packed weights, but this runtime was linked without their code "
                        "(src/runtime/packed.c; NML_LINK_PACKED_WEIGHTS in packed.h links it, "
                        "as `nanoml export` does for packed models)");
    return nml_packed_read_tensor(t, is_variable, data, data_bytes, err);
}
#endif

static nml_status read_tensor(const nml_model *m, uint32_t i, nml_tensor *t, nml_error *err) {
    nml_fb fb_ = nml_model_fb(m), *fb = &fb_;
    nml_fb_table tt_, *tt = &tt_;
    uint8_t type_bits;
    uint32_t buffer, name_len;
    uint8_t is_variable;
    uint32_t count = 0;
    int present, ok;
    nml_fb_table q, sparsity;
    char shape[64];

    NML_TRY(nml_fb_vec_table(fb, vec_of(m->tensors_vec, m->n_tensors), i, tt, err));
    NML_TRY(read_shape(fb, tt, t, &count, err));
    NML_TRY(nml_fb_u8(fb, tt, TFL_TENSOR_TYPE, NML_FLOAT32, &type_bits, err));
    const int8_t type = (int8_t)type_bits; /* TensorType is a byte */
    t->type = type_bits;
    const size_t esize = nml_dtype_size(type); /* 0 for int4 (packed nibbles) */
#ifdef NML_NO_INT4
    /* firmware for a model without int4 tensors (`nanoml deploy`): no code sizes or reads them */
    if (type == NML_INT4)
        return nml_fail(err, NML_E_UNSUPPORTED,
                        "int4 tensor, but this runtime was compiled without int4 (NML_NO_INT4: the "
                        "exported model had none)");
#endif
    if (type != NML_INT4 && esize == 0)
        return nml_fail(err, NML_E_UNSUPPORTED, "type %s (%d) is not supported",
                        nml_dtype_name(type), (int)type);
    size_t bytes = nml_dtype_bytes_for(type, count, &ok);
    if (!ok) { /* a saturated count is past the limit too */
        if (NML_ERROR_DETAIL) nml_format_shape(shape, sizeof shape, t);
        return nml_fail(err, NML_E_LIMIT,
                        "%s tensor of shape %s exceeds the size limit of %lu "
                        "bytes",
                        nml_dtype_name(type), shape, (unsigned long)NML_MAX_TENSOR_BYTES);
    }
    t->bytes = (uint32_t)bytes;

    NML_TRY(nml_fb_str_field(fb, tt, TFL_TENSOR_NAME, &t->name, &name_len, err));
    if (!t->name) t->name = "";
    NML_TRY(nml_fb_table_field(fb, tt, TFL_TENSOR_QUANTIZATION, &q, &present, err));
    if (present) TRY_CTX(read_quantization(fb, &q, t, err), "quantization: ");
    NML_TRY(nml_fb_table_field(fb, tt, TFL_TENSOR_SPARSITY, &sparsity, &present, err));
    if (present) return nml_fail(err, NML_E_UNSUPPORTED, "sparse tensors are not supported");

    NML_TRY(nml_fb_u32(fb, tt, TFL_TENSOR_BUFFER, 0, &buffer, err));
    NML_TRY(nml_fb_u8(fb, tt, TFL_TENSOR_IS_VARIABLE, 0, &is_variable, err));
#ifdef NML_NO_VARIABLES
    /* firmware for a model without variable tensors (`nanoml deploy`): the interpreter has no
     * code to place or reset them */
    if (is_variable)
        return nml_fail(err, NML_E_UNSUPPORTED,
                        "variable tensor, but this runtime was compiled without variable tensors "
                        "(NML_NO_VARIABLES: the exported model had none)");
#endif
    const uint8_t *data = NULL;
    uint32_t data_bytes = 0;
    /* buffer 0 of a model without buffers: no data */
    if (buffer || m->n_buffers)
        NML_TRY(buffer_at(m, buffer, NML_E_FORMAT, &data, &data_bytes, err));
#ifndef NML_NO_PACKED_WEIGHTS /* else read_details refused any packed-weights record */
    if (t->pack) return read_packed(t, is_variable, data, data_bytes, err);
#endif
    if (data_bytes) {
        if (is_variable)
            return nml_fail(err, NML_E_UNSUPPORTED,
                            "variable tensor with initial data "
                            "(buffer %lu) is not supported",
                            (unsigned long)buffer);
        if (data_bytes != t->bytes) {
            if (NML_ERROR_DETAIL) nml_format_shape(shape, sizeof shape, t);
            return nml_fail(err, NML_E_FORMAT, "buffer %lu holds %lu bytes, but %s %s needs %lu",
                            (unsigned long)buffer, (unsigned long)data_bytes, nml_dtype_name(type),
                            shape, (unsigned long)t->bytes);
        }
        /* element sizes are 1, 2, 4 or 8 (nml_dtype_size): a mask, not a division */
        size_t align = esize ? esize : 1; /* int4: bytes */
        if ((size_t)(data - m->data) & (align - 1))
            return nml_fail(err, NML_E_FORMAT,
                            "constant data at offset %lu is not aligned to "
                            "%lu bytes for %s",
                            (unsigned long)(data - m->data), (unsigned long)align,
                            nml_dtype_name(type));
        t->data = (void *)(uintptr_t)data; /* read only: alloc says so */
        t->alloc = NML_ALLOC_CONST;
    } else if (is_variable) {
        t->alloc = NML_ALLOC_PERSIST;
    }
    return NML_OK;
}

nml_status nml_model_tensor(const nml_model *m, uint32_t i, nml_tensor *t, nml_error *err) {
    memset(t, 0, sizeof *t);
    t->name = "";
    t->first_use = t->last_use = -1;
    if (i >= m->n_tensors)
        return nml_fail(err, NML_E_ARG, "tensor %lu out of range (subgraph has %lu tensors)",
                        (unsigned long)i, (unsigned long)m->n_tensors);
    TRY_CTX(read_tensor(m, i, t, err), "tensor %lu: ", (unsigned long)i);
    return NML_OK;
}

/* ---- operators ---- */

/* Every entry of v names a tensor of the subgraph (-1, "absent", only when allow_absent). */
static nml_status check_indices(const nml_model *m, nml_fb_vec v, int allow_absent,
                                const char *what, nml_error *err) {
    nml_fb fb = nml_model_fb(m);
    for (uint32_t k = 0; k < v.len; k++) {
        int32_t idx = nml_fb_vec_i32(&fb, v, k);
        if (idx == -1 && allow_absent) continue;
        if (idx < 0 || (uint32_t)idx >= m->n_tensors)
            return nml_fail(err, NML_E_FORMAT,
                            "%s %lu refers to tensor %d (subgraph has %lu "
                            "tensors)",
                            what, (unsigned long)k, (int)idx, (unsigned long)m->n_tensors);
    }
    return NML_OK;
}

_Static_assert(NML_MAX_OP_INPUTS == NML_MAX_OP_OUTPUTS, "one limit for both lists");

static nml_status read_indices(const nml_model *m, const nml_fb *fb, const nml_fb_table *t,
                               unsigned field, const char *what, int allow_absent,
                               const int32_t **out, uint16_t *n, nml_error *err) {
    nml_fb_vec v;
    NML_TRY(nml_fb_vec_field(fb, t, field, 4, &v, err));
    if (v.len > NML_MAX_OP_INPUTS)
        return nml_fail(err, NML_E_LIMIT, "%lu %ss exceed the limit of %d", (unsigned long)v.len,
                        what, NML_MAX_OP_INPUTS);
    NML_TRY(check_indices(m, v, allow_absent, what, err));
    /* vectors of int are 4-aligned inside a 16-aligned model and the target is little-endian,
     * so the indices are used in place */
    *out = v.len ? (const int32_t *)(const void *)(fb->data + v.pos) : NULL;
    *n = (uint16_t)v.len;
    return NML_OK;
}

static nml_status read_operator(const nml_model *m, uint32_t i, nml_model_op *op, nml_error *err) {
    nml_fb fb = nml_model_fb(m);
    nml_fb_table t;
    uint32_t opcode;
    NML_TRY(nml_fb_vec_table(&fb, vec_of(m->operators_vec, m->n_operators), i, &t, err));
    NML_TRY(nml_fb_u32(&fb, &t, TFL_OP_OPCODE_INDEX, 0, &opcode, err));
    if (opcode >= m->n_opcodes)
        return nml_fail(err, NML_E_FORMAT,
                        "opcode index %lu out of range (model has %lu "
                        "operator codes)",
                        (unsigned long)opcode, (unsigned long)m->n_opcodes);
    NML_TRY(opcode_at(m, opcode, op, err));
    NML_TRY(read_indices(m, &fb, &t, TFL_OP_INPUTS, "input", 1, &op->inputs, &op->n_inputs, err));
    NML_TRY(
        read_indices(m, &fb, &t, TFL_OP_OUTPUTS, "output", 0, &op->outputs, &op->n_outputs, err));
    op->table = t.pos;
    return NML_OK;
}

nml_status nml_model_operator(const nml_model *m, uint32_t i, nml_model_op *op, nml_error *err) {
    memset(op, 0, sizeof *op);
    if (i >= m->n_operators)
        return nml_fail(err, NML_E_ARG, "operator %lu out of range (subgraph has %lu operators)",
                        (unsigned long)i, (unsigned long)m->n_operators);
    TRY_CTX(read_operator(m, i, op, err), "operator %lu: ", (unsigned long)i);
    return NML_OK;
}

const char *nml_model_op_name(const nml_model_op *op) {
    if (op->builtin == NML_OP_CUSTOM && op->custom_code && op->custom_code[0])
        return op->custom_code;
    return nml_op_name(op->builtin);
}

NML_OUTLINE static int32_t index_at(const nml_model *m, uint32_t vec, uint32_t n, uint32_t i) {
    if (i >= n) return -1;
    nml_fb fb = nml_model_fb(m);
    return nml_fb_vec_i32(&fb, vec_of(vec, n), i);
}

int32_t nml_model_input(const nml_model *m, uint32_t i) {
    return index_at(m, m->inputs_vec, m->n_inputs, i);
}

int32_t nml_model_output(const nml_model *m, uint32_t i) {
    return index_at(m, m->outputs_vec, m->n_outputs, i);
}

/* ---- loading ---- */

/* The vectors nml_model keeps, read by one loop: from the model table (in_subgraph 0), then
 * from subgraph 0. */
typedef struct model_vec {
    uint8_t in_subgraph, field, pos, len; /* offsets of the two uint32 inside nml_model */
    const char *what;                     /* error prefix */
} model_vec;

#define MODEL_VEC(sub, field, pos, len, what)                                                      \
    {sub, field, (uint8_t)offsetof(nml_model, pos), (uint8_t)offsetof(nml_model, len), what}

static const model_vec model_vecs[] = {
    MODEL_VEC(0, TFL_MODEL_OPERATOR_CODES, opcodes_vec, n_opcodes, "operator codes: "),
    MODEL_VEC(0, TFL_MODEL_BUFFERS, buffers_vec, n_buffers, "buffers: "),
    /* the subgraphs vector's position, until load_tables replaces it with subgraph 0's */
    MODEL_VEC(0, TFL_MODEL_SUBGRAPHS, subgraph_table, n_subgraphs, "subgraphs: "),
    MODEL_VEC(1, TFL_SUBGRAPH_TENSORS, tensors_vec, n_tensors, "subgraph 0: tensors: "),
    MODEL_VEC(1, TFL_SUBGRAPH_INPUTS, inputs_vec, n_inputs, "subgraph 0: inputs: "),
    MODEL_VEC(1, TFL_SUBGRAPH_OUTPUTS, outputs_vec, n_outputs, "subgraph 0: outputs: "),
    MODEL_VEC(1, TFL_SUBGRAPH_OPERATORS, operators_vec, n_operators, "subgraph 0: operators: "),
};

static nml_status load_vecs(nml_model *m, const nml_fb *fb, const nml_fb_table *t,
                            uint8_t in_subgraph, nml_error *err) {
    for (size_t i = 0; i < sizeof model_vecs / sizeof model_vecs[0]; i++) {
        const model_vec *d = &model_vecs[i];
        nml_fb_vec v;
        if (d->in_subgraph != in_subgraph) continue;
        TRY_CTX(nml_fb_vec_field(fb, t, d->field, 4, &v, err), "%s", d->what);
        memcpy((uint8_t *)m + d->pos, &v.pos, 4);
        memcpy((uint8_t *)m + d->len, &v.len, 4);
    }
    return NML_OK;
}

static nml_status load_tables(nml_model *m, const nml_fb *fb, nml_error *err) {
    nml_fb_table root, sub;
    NML_TRY(nml_fb_root(fb, TFL_IDENTIFIER, &root, err));
    m->model_table = root.pos;
    NML_TRY(nml_fb_u32(fb, &root, TFL_MODEL_VERSION, 0, &m->version, err));
    if (m->version != TFL_SCHEMA_VERSION)
        return nml_fail(err, NML_E_UNSUPPORTED,
                        "schema version %lu is not supported (expected "
                        "%d)",
                        (unsigned long)m->version, TFL_SCHEMA_VERSION);
    NML_TRY(load_vecs(m, fb, &root, 0, err));
    if (m->n_subgraphs == 0) return nml_fail(err, NML_E_FORMAT, "model has no subgraphs");
    TRY_CTX(nml_fb_vec_table(fb, vec_of(m->subgraph_table, m->n_subgraphs), 0, &sub, err),
            "subgraph 0: ");
    m->subgraph_table = sub.pos;
    NML_TRY(load_vecs(m, fb, &sub, 1, err));
    if (m->n_tensors > NML_MAX_TENSORS)
        return nml_fail(err, NML_E_LIMIT, "subgraph 0: %lu tensors exceed the limit of %d",
                        (unsigned long)m->n_tensors, NML_MAX_TENSORS);
    if (m->n_operators > NML_MAX_OPERATORS)
        return nml_fail(err, NML_E_LIMIT, "subgraph 0: %lu operators exceed the limit of %d",
                        (unsigned long)m->n_operators, NML_MAX_OPERATORS);
    return NML_OK;
}

static nml_status verify_all(const nml_model *m, nml_error *err) {
    nml_model_op op;
    nml_tensor t;
    nml_op_params p;
    const uint8_t *data;
    uint32_t bytes;
    for (uint32_t i = 0; i < m->n_opcodes; i++)
        NML_TRY(opcode_at(m, i, &op, err));
    for (uint32_t i = 0; i < m->n_buffers; i++)
        NML_TRY(nml_model_buffer(m, i, &data, &bytes, err));
    for (uint32_t i = 0; i < m->n_tensors; i++) {
        NML_TRY(nml_model_tensor(m, i, &t, err));
        /* packed.c is linked (else the tensor was refused) */
        if (NML_PACKED_LINKED() && t.pack) NML_TRY(nml_packed_verify_tensor(&t, i, err));
    }
    NML_TRY(check_indices(m, vec_of(m->inputs_vec, m->n_inputs), 0, "subgraph input", err));
    NML_TRY(check_indices(m, vec_of(m->outputs_vec, m->n_outputs), 0, "subgraph output", err));
    if (NML_PACKED_LINKED()) NML_TRY(nml_packed_check_io(m, err));
    for (uint32_t i = 0; i < m->n_operators; i++) {
        NML_TRY(nml_model_op_params(m, i, &p, err)); /* reads the operator first */
        if (NML_PACKED_LINKED()) {
            NML_TRY(nml_model_operator(m, i, &op, err));
            NML_TRY(nml_packed_check_use(m, i, &op, err));
        }
    }
    return NML_OK;
}

nml_status nml_model_load(nml_model *model, const void *data, size_t size, nml_error *err) {
    if (!model) return nml_fail(err, NML_E_ARG, "no model to fill");
    memset(model, 0, sizeof *model);
    if (!data) return nml_fail(err, NML_E_ARG, "no model data");
    if ((uintptr_t)data % 16)
        return nml_fail(err, NML_E_ARG, "model data at %p is not 16-byte aligned", data);
    if (size == 0) return nml_fail(err, NML_E_FORMAT, "empty model (0 bytes)");
    nml_model m;
    memset(&m, 0, sizeof m);
    nml_fb fb;
    NML_TRY(nml_fb_init(&fb, data, size, err));
    m.data = data;
    m.size = size;
    NML_TRY(load_tables(&m, &fb, err));
    NML_TRY(verify_all(&m, err));
    *model = m;
    return NML_OK;
}
