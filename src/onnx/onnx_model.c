/* ModelProto parsing. Field numbers below are those of onnx/onnx.proto (proto2 syntax, stable
 * since IR version 3); unknown fields are skipped so newer files still load. */
#include "onnx/onnx_model.h"

#include <stdlib.h>
#include <string.h>

#include "onnx/pb.h"

/* ModelProto */
enum {
    MODEL_IR_VERSION = 1,
    MODEL_PRODUCER_NAME = 2,
    MODEL_PRODUCER_VERSION = 3,
    MODEL_GRAPH = 7,
    MODEL_OPSET_IMPORT = 8
};
/* OperatorSetIdProto */
enum { OPSET_DOMAIN = 1, OPSET_VERSION = 2 };
/* GraphProto */
enum {
    GRAPH_NODE = 1,
    GRAPH_NAME = 2,
    GRAPH_INITIALIZER = 5,
    GRAPH_INPUT = 11,
    GRAPH_OUTPUT = 12,
    GRAPH_VALUE_INFO = 13,
    GRAPH_SPARSE_INITIALIZER = 15
};
/* NodeProto */
enum {
    NODE_INPUT = 1,
    NODE_OUTPUT = 2,
    NODE_NAME = 3,
    NODE_OP_TYPE = 4,
    NODE_ATTRIBUTE = 5,
    NODE_DOMAIN = 7
};
/* AttributeProto */
enum {
    ATTR_NAME = 1,
    ATTR_F = 2,
    ATTR_I = 3,
    ATTR_S = 4,
    ATTR_T = 5,
    ATTR_G = 6,
    ATTR_FLOATS = 7,
    ATTR_INTS = 8,
    ATTR_STRINGS = 9,
    ATTR_TENSORS = 10,
    ATTR_GRAPHS = 11,
    ATTR_TYPE = 20,
    ATTR_SPARSE_TENSOR = 22,
    ATTR_SPARSE_TENSORS = 23
};
/* ValueInfoProto, TypeProto, TypeProto.Tensor, TensorShapeProto, TensorShapeProto.Dimension */
enum { VI_NAME = 1, VI_TYPE = 2 };
enum { TYPE_TENSOR = 1 };
enum { TT_ELEM_TYPE = 1, TT_SHAPE = 2 };
enum { SHAPE_DIM = 1 };
enum { DIM_VALUE = 1, DIM_PARAM = 2 };
/* TensorProto */
enum {
    T_DIMS = 1,
    T_DATA_TYPE = 2,
    T_SEGMENT = 3,
    T_FLOAT_DATA = 4,
    T_INT32_DATA = 5,
    T_STRING_DATA = 6,
    T_INT64_DATA = 7,
    T_NAME = 8,
    T_RAW_DATA = 9,
    T_DOUBLE_DATA = 10,
    T_UINT64_DATA = 11,
    T_EXTERNAL_DATA = 13,
    T_DATA_LOCATION = 14
};

size_t nml_onnx_dtype_size(int dtype) {
    switch (dtype) {
    case NML_ONNX_FLOAT:
    case NML_ONNX_INT32:
    case NML_ONNX_UINT32:
        return 4;
    case NML_ONNX_UINT8:
    case NML_ONNX_INT8:
    case NML_ONNX_BOOL:
        return 1;
    case NML_ONNX_UINT16:
    case NML_ONNX_INT16:
    case NML_ONNX_FLOAT16:
        return 2;
    case NML_ONNX_INT64:
    case NML_ONNX_DOUBLE:
    case NML_ONNX_UINT64:
        return 8;
    default:
        return 0;
    }
}

const char *nml_onnx_dtype_name(int dtype) {
    static const char *names[] = {"undefined", "float",  "uint8",  "int8",   "uint16",
                                  "int16",     "int32",  "int64",  "string", "bool",
                                  "float16",   "double", "uint32", "uint64"};
    return dtype >= 0 && dtype < (int)(sizeof names / sizeof names[0]) ? names[dtype] : "unknown";
}

static nml_status dup_string(const nml_pb_field *f, const char *what, char **out, size_t *len,
                             nml_error *err) {
    NML_TRY(nml_pb_as_bytes(f, what, err));
    char *s = malloc(f->len + 1);
    if (!s) return nml_fail(err, NML_E_NOMEM, "%s: out of memory", what);
    if (f->len) memcpy(s, f->data, f->len);
    s[f->len] = 0;
    free(*out); /* a repeated optional field: the last one wins, as in protobuf */
    *out = s;
    if (len) *len = f->len;
    return NML_OK;
}

static nml_status empty_string(char **out, nml_error *err) {
    if (*out) return NML_OK;
    *out = calloc(1, 1);
    return *out ? NML_OK : nml_fail(err, NML_E_NOMEM, "out of memory");
}

/* Appends a zeroed element to a growable array and returns it. */
static nml_status push(void **items, size_t *count, size_t *cap, size_t elem, void **out,
                       nml_error *err) {
    NML_TRY(nml_pb_grow(items, cap, *count + 1, elem, err));
    *out = (uint8_t *)*items + *count * elem;
    memset(*out, 0, elem);
    (*count)++;
    return NML_OK;
}

static nml_status push_string(const nml_pb_field *f, const char *what, char ***items, size_t *count,
                              size_t *cap, nml_error *err) {
    void *slot;
    NML_TRY(push((void **)items, count, cap, sizeof(char *), &slot, err));
    return dup_string(f, what, (char **)slot, NULL, err);
}

static nml_status too_many(nml_error *err, const char *what, int limit, size_t at) {
    return nml_fail(err, NML_E_LIMIT, "more than %d %s at byte %zu", limit, what, at);
}

/* ---- TensorProto ---- */

typedef struct tensor_fields {
    const uint8_t *raw;
    size_t raw_len;
    int has_raw;
    float *floats;
    size_t n_floats, cap_floats;
    int64_t *ints;
    size_t n_ints, cap_ints; /* int32_data, int64_data and uint64_data */
    double *doubles;
    size_t n_doubles, cap_doubles;
    size_t n_strings;
    int sources; /* bit per data field seen */
    int64_t location;
} tensor_fields;

static void store_le(uint8_t *p, uint64_t v, size_t n) {
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* Converts whichever data field the tensor used into its little-endian element array. */
static nml_status tensor_finish(nml_onnx_tensor *t, tensor_fields *tf, size_t at, nml_error *err) {
    const char *nm = t->name && t->name[0] ? t->name : "(unnamed)";
    if (tf->location == 1)
        return nml_fail(err, NML_E_UNSUPPORTED,
                        "tensor '%s' at byte %zu: external data files are not supported", nm, at);
    uint64_t count = 1;
    for (int i = 0; i < t->rank; i++) {
        if (t->dims[i] < 0)
            return nml_fail(err, NML_E_FORMAT, "tensor '%s' at byte %zu: negative dimension %lld",
                            nm, at, (long long)t->dims[i]);
        if (t->dims[i] != 0 && count > (uint64_t)0x7fffffff / (uint64_t)t->dims[i])
            return nml_fail(err, NML_E_LIMIT, "tensor '%s' at byte %zu: too many elements", nm, at);
        count *= (uint64_t)t->dims[i];
    }
    t->count = count;
    if (tf->sources & (tf->sources - 1))
        return nml_fail(err, NML_E_FORMAT, "tensor '%s' at byte %zu: data stored in two fields", nm,
                        at);
    if (t->dtype == NML_ONNX_STRING) {
        if (tf->n_strings != count)
            return nml_fail(err, NML_E_FORMAT,
                            "tensor '%s' at byte %zu: %zu strings for %llu "
                            "elements",
                            nm, at, tf->n_strings, (unsigned long long)count);
        return NML_OK; /* strings are never numeric data; the importer rejects their use */
    }
    size_t es = nml_onnx_dtype_size(t->dtype);
    if (es == 0)
        return nml_fail(err, NML_E_UNSUPPORTED,
                        "tensor '%s' at byte %zu: data type %d (%s) is "
                        "not supported",
                        nm, at, t->dtype, nml_onnx_dtype_name(t->dtype));
    t->bytes = (size_t)count * es;
    if (!tf->sources) {
        if (count == 0) return NML_OK;
        return nml_fail(err, NML_E_FORMAT, "tensor '%s' at byte %zu: %llu elements but no data", nm,
                        at, (unsigned long long)count);
    }
    size_t have = tf->has_raw    ? tf->raw_len / es
                  : tf->n_floats ? tf->n_floats
                  : tf->n_ints   ? tf->n_ints
                                 : tf->n_doubles;
    if (tf->has_raw && tf->raw_len != t->bytes)
        return nml_fail(err, NML_E_FORMAT,
                        "tensor '%s' at byte %zu: raw_data has %zu bytes, "
                        "shape needs %zu",
                        nm, at, tf->raw_len, t->bytes);
    if (have != count)
        return nml_fail(err, NML_E_FORMAT, "tensor '%s' at byte %zu: %zu values for %llu elements",
                        nm, at, have, (unsigned long long)count);
    t->data = malloc(t->bytes ? t->bytes : 1);
    if (!t->data) return nml_fail(err, NML_E_NOMEM, "tensor '%s': out of memory", nm);
    if (tf->has_raw) {
        if (t->bytes) memcpy(t->data, tf->raw, t->bytes);
        return NML_OK;
    }
    int ok;
    switch (t->dtype) {
    case NML_ONNX_FLOAT:
        ok = tf->n_floats == count;
        break;
    case NML_ONNX_DOUBLE:
        ok = tf->n_doubles == count;
        break;
    default:
        ok = tf->n_ints == count;
        break;
    }
    if (!ok)
        return nml_fail(err, NML_E_FORMAT, "tensor '%s' at byte %zu: %s data in the wrong field",
                        nm, at, nml_onnx_dtype_name(t->dtype));
    for (uint64_t i = 0; i < count; i++) {
        uint8_t *p = t->data + i * es;
        if (t->dtype == NML_ONNX_FLOAT) {
            memcpy(p, &tf->floats[i], 4);
        } else if (t->dtype == NML_ONNX_DOUBLE) {
            memcpy(p, &tf->doubles[i], 8);
        } else {
            store_le(p, (uint64_t)tf->ints[i], es);
        }
    }
    return NML_OK;
}

static nml_status parse_tensor(nml_pb_reader *r, nml_onnx_tensor *t, nml_error *err) {
    tensor_fields tf;
    memset(&tf, 0, sizeof tf);
    int64_t *dims = NULL;
    size_t n_dims = 0, cap_dims = 0;
    size_t at = r->base;
    nml_status st = NML_OK;
    nml_pb_field f;
    int more;
    while ((st = nml_pb_next(r, &f, &more, err)) == NML_OK && more) {
        switch (f.number) {
        case T_DIMS:
            st = nml_pb_append_int64s(&f, "tensor dims", &dims, &n_dims, &cap_dims, err);
            break;
        case T_DATA_TYPE: {
            int32_t v = 0;
            st = nml_pb_as_int32(&f, "tensor data_type", &v, err);
            t->dtype = v;
            break;
        }
        case T_SEGMENT:
            st = nml_fail(err, NML_E_UNSUPPORTED,
                          "tensor at byte %zu: segmented tensors are "
                          "not supported",
                          at);
            break;
        case T_NAME:
            st = dup_string(&f, "tensor name", &t->name, NULL, err);
            break;
        case T_RAW_DATA:
            st = nml_pb_as_bytes(&f, "tensor raw_data", err);
            tf.raw = f.data;
            tf.raw_len = f.len;
            tf.has_raw = 1;
            tf.sources |= 1;
            break;
        case T_FLOAT_DATA:
            st = nml_pb_append_floats(&f, "tensor float_data", &tf.floats, &tf.n_floats,
                                      &tf.cap_floats, err);
            tf.sources |= 2;
            break;
        case T_INT32_DATA:
        case T_INT64_DATA:
        case T_UINT64_DATA:
            st = nml_pb_append_int64s(&f, "tensor integer data", &tf.ints, &tf.n_ints, &tf.cap_ints,
                                      err);
            tf.sources |= 4;
            break;
        case T_DOUBLE_DATA:
            st = nml_pb_append_doubles(&f, "tensor double_data", &tf.doubles, &tf.n_doubles,
                                       &tf.cap_doubles, err);
            tf.sources |= 8;
            break;
        case T_STRING_DATA:
            st = nml_pb_as_bytes(&f, "tensor string_data", err);
            tf.n_strings++;
            break;
        case T_EXTERNAL_DATA:
            tf.location = 1;
            break;
        case T_DATA_LOCATION:
            st = nml_pb_as_int64(&f, "tensor data_location", &tf.location, err);
            break;
        default:
            break;
        }
        if (st != NML_OK) break;
    }
    if (st == NML_OK && empty_string(&t->name, err) != NML_OK) st = NML_E_NOMEM;
    if (st == NML_OK && n_dims > NML_ONNX_MAX_RANK)
        st = nml_fail(err, NML_E_LIMIT, "tensor '%s' at byte %zu: rank %zu exceeds %d", t->name, at,
                      n_dims, NML_ONNX_MAX_RANK);
    if (st == NML_OK) {
        t->rank = (int)n_dims;
        for (size_t i = 0; i < n_dims; i++)
            t->dims[i] = dims[i];
        st = tensor_finish(t, &tf, at, err);
    }
    free(dims);
    free(tf.floats);
    free(tf.ints);
    free(tf.doubles);
    return st;
}

static void tensor_free(nml_onnx_tensor *t) {
    free(t->name);
    free(t->data);
}

/* ---- ValueInfoProto ---- */

static nml_status parse_dim(nml_pb_reader *r, int64_t *dim, nml_error *err) {
    nml_pb_field f;
    int more;
    nml_status st;
    *dim = -1;
    while ((st = nml_pb_next(r, &f, &more, err)) == NML_OK && more) {
        if (f.number == DIM_VALUE) {
            NML_TRY(nml_pb_as_int64(&f, "dim_value", dim, err));
            if (*dim < 0)
                return nml_fail(err, NML_E_FORMAT, "negative dim_value %lld at byte %zu",
                                (long long)*dim, f.offset);
        } else if (f.number == DIM_PARAM) {
            NML_TRY(nml_pb_as_bytes(&f, "dim_param", err));
            *dim = -1;
        }
    }
    return st;
}

static nml_status parse_shape(nml_pb_reader *r, nml_onnx_value_info *vi, nml_error *err) {
    nml_pb_field f;
    int more;
    nml_status st;
    vi->has_shape = 1;
    while ((st = nml_pb_next(r, &f, &more, err)) == NML_OK && more) {
        if (f.number != SHAPE_DIM) continue;
        if (vi->rank >= NML_ONNX_MAX_RANK)
            return nml_fail(err, NML_E_LIMIT, "value '%s': rank exceeds %d", vi->name,
                            NML_ONNX_MAX_RANK);
        nml_pb_reader sub;
        NML_TRY(nml_pb_sub(r, &f, &sub, err));
        NML_TRY(parse_dim(&sub, &vi->dims[vi->rank], err));
        vi->rank++;
    }
    return st;
}

static nml_status parse_tensor_type(nml_pb_reader *r, nml_onnx_value_info *vi, nml_error *err) {
    nml_pb_field f;
    int more;
    nml_status st;
    while ((st = nml_pb_next(r, &f, &more, err)) == NML_OK && more) {
        if (f.number == TT_ELEM_TYPE) {
            int32_t v = 0;
            NML_TRY(nml_pb_as_int32(&f, "elem_type", &v, err));
            vi->elem_type = v;
        } else if (f.number == TT_SHAPE) {
            nml_pb_reader sub;
            NML_TRY(nml_pb_sub(r, &f, &sub, err));
            vi->rank = 0;
            NML_TRY(parse_shape(&sub, vi, err));
        }
    }
    return st;
}

static nml_status parse_value_info(nml_pb_reader *r, nml_onnx_value_info *vi, nml_error *err) {
    nml_pb_field f;
    int more;
    nml_status st;
    while ((st = nml_pb_next(r, &f, &more, err)) == NML_OK && more) {
        if (f.number == VI_NAME) {
            NML_TRY(dup_string(&f, "value name", &vi->name, NULL, err));
        } else if (f.number == VI_TYPE) {
            nml_pb_reader type, sub;
            NML_TRY(nml_pb_sub(r, &f, &type, err));
            nml_pb_field tf;
            int tmore;
            while ((st = nml_pb_next(&type, &tf, &tmore, err)) == NML_OK && tmore) {
                if (tf.number != TYPE_TENSOR) continue; /* sequences, maps: no tensor type */
                NML_TRY(nml_pb_sub(&type, &tf, &sub, err));
                NML_TRY(parse_tensor_type(&sub, vi, err));
            }
            NML_TRY(st);
        }
    }
    NML_TRY(st);
    return empty_string(&vi->name, err);
}

/* ---- AttributeProto ---- */

static nml_status parse_attr(nml_pb_reader *r, nml_onnx_attr *a, nml_error *err) {
    nml_pb_field f;
    int more;
    nml_status st;
    size_t cap_f = 0, cap_i = 0;
    int seen = NML_ONNX_ATTR_UNDEFINED; /* for files that predate the type field */
    while ((st = nml_pb_next(r, &f, &more, err)) == NML_OK && more) {
        switch (f.number) {
        case ATTR_NAME:
            st = dup_string(&f, "attribute name", &a->name, NULL, err);
            break;
        case ATTR_TYPE: {
            int32_t v = 0;
            st = nml_pb_as_int32(&f, "attribute type", &v, err);
            a->type = v;
            break;
        }
        case ATTR_F:
            st = nml_pb_as_float(&f, "attribute f", &a->f, err);
            seen = NML_ONNX_ATTR_FLOAT;
            break;
        case ATTR_I:
            st = nml_pb_as_int64(&f, "attribute i", &a->i, err);
            seen = NML_ONNX_ATTR_INT;
            break;
        case ATTR_S:
            st = dup_string(&f, "attribute s", &a->s, &a->s_len, err);
            seen = NML_ONNX_ATTR_STRING;
            break;
        case ATTR_T: {
            nml_pb_reader sub;
            st = nml_pb_sub(r, &f, &sub, err);
            if (st != NML_OK) break;
            if (a->t) tensor_free(a->t);
            free(a->t);
            a->t = calloc(1, sizeof *a->t);
            if (!a->t) return nml_fail(err, NML_E_NOMEM, "out of memory");
            st = parse_tensor(&sub, a->t, err);
            seen = NML_ONNX_ATTR_TENSOR;
            break;
        }
        case ATTR_G: /* sub-graphs (If/Loop bodies) are not imported: only noted */
            st = nml_pb_as_bytes(&f, "attribute g", err);
            seen = NML_ONNX_ATTR_GRAPH;
            break;
        case ATTR_FLOATS:
            st =
                nml_pb_append_floats(&f, "attribute floats", &a->floats, &a->n_floats, &cap_f, err);
            seen = NML_ONNX_ATTR_FLOATS;
            break;
        case ATTR_INTS:
            st = nml_pb_append_int64s(&f, "attribute ints", &a->ints, &a->n_ints, &cap_i, err);
            seen = NML_ONNX_ATTR_INTS;
            break;
        case ATTR_STRINGS:
            st = nml_pb_as_bytes(&f, "attribute strings", err);
            a->n_strings++;
            seen = NML_ONNX_ATTR_STRINGS;
            break;
        case ATTR_TENSORS:
            seen = NML_ONNX_ATTR_TENSORS;
            break;
        case ATTR_GRAPHS:
            seen = NML_ONNX_ATTR_GRAPHS;
            break;
        case ATTR_SPARSE_TENSOR:
            seen = NML_ONNX_ATTR_SPARSE_TENSOR;
            break;
        case ATTR_SPARSE_TENSORS:
            seen = NML_ONNX_ATTR_SPARSE_TENSORS;
            break;
        default:
            break;
        }
        if (st != NML_OK) return st;
    }
    NML_TRY(st);
    if (a->type == NML_ONNX_ATTR_UNDEFINED) a->type = seen;
    if (!a->name) return nml_fail(err, NML_E_FORMAT, "attribute at byte %zu has no name", r->base);
    return NML_OK;
}

static void attr_free(nml_onnx_attr *a) {
    free(a->name);
    free(a->s);
    if (a->t) tensor_free(a->t);
    free(a->t);
    free(a->floats);
    free(a->ints);
}

/* ---- NodeProto ---- */

static nml_status parse_node(nml_pb_reader *r, nml_onnx_node *n, nml_error *err) {
    nml_pb_field f;
    int more;
    nml_status st;
    size_t cap_in = 0, cap_out = 0, cap_attr = 0;
    while ((st = nml_pb_next(r, &f, &more, err)) == NML_OK && more) {
        switch (f.number) {
        case NODE_INPUT:
            if (n->n_inputs >= NML_ONNX_MAX_VALUES)
                return too_many(err, "inputs of one node", NML_ONNX_MAX_VALUES, f.offset);
            NML_TRY(push_string(&f, "node input", &n->inputs, &n->n_inputs, &cap_in, err));
            break;
        case NODE_OUTPUT:
            if (n->n_outputs >= NML_ONNX_MAX_VALUES)
                return too_many(err, "outputs of one node", NML_ONNX_MAX_VALUES, f.offset);
            NML_TRY(push_string(&f, "node output", &n->outputs, &n->n_outputs, &cap_out, err));
            break;
        case NODE_NAME:
            NML_TRY(dup_string(&f, "node name", &n->name, NULL, err));
            break;
        case NODE_OP_TYPE:
            NML_TRY(dup_string(&f, "node op_type", &n->op_type, NULL, err));
            break;
        case NODE_DOMAIN:
            NML_TRY(dup_string(&f, "node domain", &n->domain, NULL, err));
            break;
        case NODE_ATTRIBUTE: {
            nml_pb_reader sub;
            void *slot;
            if (n->n_attrs >= NML_ONNX_MAX_ATTRIBUTES)
                return too_many(err, "attributes of one node", NML_ONNX_MAX_ATTRIBUTES, f.offset);
            NML_TRY(nml_pb_sub(r, &f, &sub, err));
            NML_TRY(push((void **)&n->attrs, &n->n_attrs, &cap_attr, sizeof *n->attrs, &slot, err));
            NML_TRY(parse_attr(&sub, slot, err));
            break;
        }
        default:
            break;
        }
    }
    NML_TRY(st);
    NML_TRY(empty_string(&n->name, err));
    NML_TRY(empty_string(&n->domain, err));
    if (!n->op_type)
        return nml_fail(err, NML_E_FORMAT, "node '%s' at byte %zu has no op_type", n->name,
                        r->base);
    return NML_OK;
}

static void node_free(nml_onnx_node *n) {
    free(n->name);
    free(n->op_type);
    free(n->domain);
    for (size_t i = 0; i < n->n_inputs; i++)
        free(n->inputs[i]);
    for (size_t i = 0; i < n->n_outputs; i++)
        free(n->outputs[i]);
    free(n->inputs);
    free(n->outputs);
    for (size_t i = 0; i < n->n_attrs; i++)
        attr_free(&n->attrs[i]);
    free(n->attrs);
}

/* ---- GraphProto ---- */

typedef struct graph_caps {
    size_t nodes, inits, inputs, outputs, vis;
    size_t values; /* initializers + graph inputs + node outputs so far */
} graph_caps;

/* The per-graph counts of onnx_model.h, checked before each element is added. */
static nml_status check_graph_counts(const nml_pb_field *f, const nml_onnx_graph *g,
                                     const graph_caps *caps, nml_error *err) {
    switch (f->number) {
    case GRAPH_NODE:
        if (g->n_nodes >= NML_ONNX_MAX_NODES)
            return too_many(err, "nodes", NML_ONNX_MAX_NODES, f->offset);
        break;
    case GRAPH_INITIALIZER:
    case GRAPH_INPUT:
        if (caps->values >= NML_ONNX_MAX_VALUES)
            return too_many(err, "values (initializers, inputs, node outputs)",
                            NML_ONNX_MAX_VALUES, f->offset);
        break;
    case GRAPH_OUTPUT:
        if (g->n_outputs >= NML_ONNX_MAX_VALUE_INFOS)
            return too_many(err, "graph outputs", NML_ONNX_MAX_VALUE_INFOS, f->offset);
        break;
    case GRAPH_VALUE_INFO:
        if (g->n_value_info >= NML_ONNX_MAX_VALUE_INFOS)
            return too_many(err, "value_info entries", NML_ONNX_MAX_VALUE_INFOS, f->offset);
        break;
    default:
        break;
    }
    return NML_OK;
}

static nml_status parse_graph_field(nml_pb_reader *r, const nml_pb_field *f, nml_onnx_graph *g,
                                    graph_caps *caps, nml_error *err) {
    nml_pb_reader sub;
    void *slot;
    NML_TRY(check_graph_counts(f, g, caps, err));
    switch (f->number) {
    case GRAPH_NAME:
        return dup_string(f, "graph name", &g->name, NULL, err);
    case GRAPH_NODE:
        NML_TRY(nml_pb_sub(r, f, &sub, err));
        NML_TRY(push((void **)&g->nodes, &g->n_nodes, &caps->nodes, sizeof *g->nodes, &slot, err));
        if (parse_node(&sub, slot, err) != NML_OK)
            return nml_error_prefix(err, "node %zu: ", g->n_nodes - 1);
        caps->values += g->nodes[g->n_nodes - 1].n_outputs;
        if (caps->values > NML_ONNX_MAX_VALUES)
            return too_many(err, "values (initializers, inputs, node outputs)",
                            NML_ONNX_MAX_VALUES, f->offset);
        return NML_OK;
    case GRAPH_INITIALIZER:
        NML_TRY(nml_pb_sub(r, f, &sub, err));
        NML_TRY(push((void **)&g->initializers, &g->n_initializers, &caps->inits,
                     sizeof *g->initializers, &slot, err));
        caps->values++;
        if (parse_tensor(&sub, slot, err) != NML_OK)
            return nml_error_prefix(err, "initializer %zu: ", g->n_initializers - 1);
        return NML_OK;
    case GRAPH_SPARSE_INITIALIZER:
        return nml_fail(err, NML_E_UNSUPPORTED,
                        "sparse initializer at byte %zu: sparse tensors are not supported",
                        f->offset);
    case GRAPH_INPUT:
    case GRAPH_OUTPUT:
    case GRAPH_VALUE_INFO: {
        nml_onnx_value_info **arr = f->number == GRAPH_INPUT    ? &g->inputs
                                    : f->number == GRAPH_OUTPUT ? &g->outputs
                                                                : &g->value_info;
        size_t *n = f->number == GRAPH_INPUT    ? &g->n_inputs
                    : f->number == GRAPH_OUTPUT ? &g->n_outputs
                                                : &g->n_value_info;
        size_t *cap = f->number == GRAPH_INPUT    ? &caps->inputs
                      : f->number == GRAPH_OUTPUT ? &caps->outputs
                                                  : &caps->vis;
        NML_TRY(nml_pb_sub(r, f, &sub, err));
        NML_TRY(push((void **)arr, n, cap, sizeof **arr, &slot, err));
        caps->values += f->number == GRAPH_INPUT;
        return parse_value_info(&sub, slot, err);
    }
    default:
        return NML_OK;
    }
}

static nml_status parse_graph(nml_pb_reader *r, nml_onnx_graph *g, nml_error *err) {
    graph_caps caps = {0, 0, 0, 0, 0, 0};
    nml_pb_field f;
    int more;
    nml_status st;
    while ((st = nml_pb_next(r, &f, &more, err)) == NML_OK && more)
        NML_TRY(parse_graph_field(r, &f, g, &caps, err));
    NML_TRY(st);
    return empty_string(&g->name, err);
}

static void value_infos_free(nml_onnx_value_info *v, size_t n) {
    for (size_t i = 0; i < n; i++)
        free(v[i].name);
    free(v);
}

static void graph_free(nml_onnx_graph *g) {
    free(g->name);
    for (size_t i = 0; i < g->n_nodes; i++)
        node_free(&g->nodes[i]);
    free(g->nodes);
    for (size_t i = 0; i < g->n_initializers; i++)
        tensor_free(&g->initializers[i]);
    free(g->initializers);
    value_infos_free(g->inputs, g->n_inputs);
    value_infos_free(g->outputs, g->n_outputs);
    value_infos_free(g->value_info, g->n_value_info);
}

/* ---- ModelProto ---- */

static nml_status parse_opset(nml_pb_reader *r, nml_onnx_opset *o, nml_error *err) {
    nml_pb_field f;
    int more;
    nml_status st;
    while ((st = nml_pb_next(r, &f, &more, err)) == NML_OK && more) {
        if (f.number == OPSET_DOMAIN)
            NML_TRY(dup_string(&f, "opset domain", &o->domain, NULL, err));
        else if (f.number == OPSET_VERSION)
            NML_TRY(nml_pb_as_int64(&f, "opset version", &o->version, err));
    }
    NML_TRY(st);
    return empty_string(&o->domain, err);
}

static nml_status parse_model(nml_pb_reader *r, nml_onnx_model *m, nml_error *err) {
    nml_pb_field f;
    int more, have_graph = 0;
    nml_status st;
    size_t cap_opsets = 0;
    while ((st = nml_pb_next(r, &f, &more, err)) == NML_OK && more) {
        nml_pb_reader sub;
        void *slot;
        switch (f.number) {
        case MODEL_IR_VERSION:
            NML_TRY(nml_pb_as_int64(&f, "ir_version", &m->ir_version, err));
            break;
        case MODEL_PRODUCER_NAME:
            NML_TRY(dup_string(&f, "producer_name", &m->producer_name, NULL, err));
            break;
        case MODEL_PRODUCER_VERSION:
            NML_TRY(dup_string(&f, "producer_version", &m->producer_version, NULL, err));
            break;
        case MODEL_OPSET_IMPORT:
            NML_TRY(nml_pb_sub(r, &f, &sub, err));
            NML_TRY(push((void **)&m->opsets, &m->n_opsets, &cap_opsets, sizeof *m->opsets, &slot,
                         err));
            NML_TRY(parse_opset(&sub, slot, err));
            break;
        case MODEL_GRAPH:
            if (have_graph)
                return nml_fail(err, NML_E_FORMAT, "second graph at byte %zu", f.offset);
            have_graph = 1;
            NML_TRY(nml_pb_sub(r, &f, &sub, err));
            if (parse_graph(&sub, &m->graph, err) != NML_OK)
                return nml_error_prefix(err, "graph: ");
            break;
        default:
            break;
        }
    }
    NML_TRY(st);
    NML_TRY(empty_string(&m->producer_name, err));
    NML_TRY(empty_string(&m->producer_version, err));
    if (!have_graph) return nml_fail(err, NML_E_FORMAT, "not an ONNX model: no graph");
    if (m->ir_version <= 0)
        return nml_fail(err, NML_E_FORMAT, "not an ONNX model: ir_version %lld",
                        (long long)m->ir_version);
    return NML_OK;
}

nml_status nml_onnx_parse(nml_onnx_model *model, const uint8_t *data, size_t size, nml_error *err) {
    memset(model, 0, sizeof *model);
    if (!data && size) return nml_fail(err, NML_E_ARG, "onnx: no data");
    nml_pb_reader r;
    nml_pb_init(&r, data, size);
    nml_status st = parse_model(&r, model, err);
    if (st != NML_OK) nml_onnx_free(model);
    return st;
}

void nml_onnx_free(nml_onnx_model *m) {
    if (!m) return;
    free(m->producer_name);
    free(m->producer_version);
    for (size_t i = 0; i < m->n_opsets; i++)
        free(m->opsets[i].domain);
    free(m->opsets);
    graph_free(&m->graph);
    memset(m, 0, sizeof *m);
}

int64_t nml_onnx_opset_version(const nml_onnx_model *m) {
    int64_t v = 0;
    for (size_t i = 0; i < m->n_opsets; i++)
        if ((!m->opsets[i].domain[0] || strcmp(m->opsets[i].domain, "ai.onnx") == 0) &&
            m->opsets[i].version > v)
            v = m->opsets[i].version;
    return v;
}

const nml_onnx_attr *nml_onnx_attr_find(const nml_onnx_node *node, const char *name) {
    for (size_t i = 0; i < node->n_attrs; i++)
        if (strcmp(node->attrs[i].name, name) == 0) return &node->attrs[i];
    return NULL;
}
