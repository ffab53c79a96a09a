/* The IR container: construction, ownership, deep copy and simple queries. */
#include "nanoml/ir.h"

#include <stdlib.h>
#include <string.h>

#include "tflite/ir_internal.h"

void nml_ir_init(nml_ir *ir) { memset(ir, 0, sizeof *ir); }

static void tensor_free(nml_ir_tensor *t) {
    free(t->name);
    free(t->data);
    free(t->scales);
    free(t->zero_points);
    free(t->pack);
    memset(t, 0, sizeof *t);
}

static void op_free(nml_ir_op *op) {
    free(op->custom_code);
    free(op->custom_options);
    free(op->name);
    memset(op, 0, sizeof *op);
}

void nml_ir_free(nml_ir *ir) {
    for (int i = 0; i < ir->n_tensors; i++) tensor_free(&ir->tensors[i]);
    for (int i = 0; i < ir->n_ops; i++) op_free(&ir->ops[i]);
    for (int i = 0; i < ir->n_metadata; i++) {
        free(ir->metadata[i].name);
        free(ir->metadata[i].data);
    }
    free(ir->tensors);
    free(ir->ops);
    free(ir->inputs);
    free(ir->outputs);
    free(ir->description);
    free(ir->metadata);
    nml_ir_init(ir);
}

/* ---- small owned-memory helpers ---- */

char *nml_ir_strdup(const char *s) {
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

/* Copies bytes (malloc(0)-safe: an empty copy of non-NULL data is a 1-byte allocation). */
void *nml_ir_memdup(const void *p, size_t n) {
    void *d = malloc(n ? n : 1);
    if (d && n) memcpy(d, p, n);
    return d;
}

/* Grows an array of elem bytes to hold at least need entries. */
static nml_status grow(void **arr, int *cap, int need, size_t elem, const char *what,
                       nml_error *err) {
    if (need <= *cap) return NML_OK;
    if (need > (1 << 24)) return nml_fail(err, NML_E_LIMIT, "IR: more than %d %s", 1 << 24, what);
    int ncap = *cap ? *cap : 16;
    while (ncap < need) ncap *= 2;
    void *n = realloc(*arr, (size_t)ncap * elem);
    if (!n) return nml_fail(err, NML_E_NOMEM, "IR: cannot grow %s to %d", what, ncap);
    *arr = n;
    *cap = ncap;
    return NML_OK;
}

int nml_ir_dtype_known(int type) {
    switch (type) {
    case NML_FLOAT32: case NML_FLOAT16: case NML_INT32: case NML_UINT8: case NML_INT64:
    case NML_STRING: case NML_BOOL: case NML_INT16: case NML_COMPLEX64: case NML_INT8:
    case NML_FLOAT64: case NML_INT4:
        return 1;
    default:
        return 0;
    }
}

/* ---- queries ---- */

uint64_t nml_ir_tensor_count(const nml_ir_tensor *t) {
    uint64_t n = 1;
    for (int i = 0; i < t->rank && i < NML_MAX_RANK; i++) {
        if (t->dims[i] <= 0) return 0;
        if (n > UINT64_MAX / (uint64_t)t->dims[i]) return UINT64_MAX;
        n *= (uint64_t)t->dims[i];
    }
    return n;
}

nml_status nml_ir_tensor_bytes(const nml_ir_tensor *t, size_t *bytes, nml_error *err) {
    *bytes = 0;
    if (t->rank < 0 || t->rank > NML_MAX_RANK)
        return nml_fail(err, NML_E_LIMIT, "rank %d outside 0..%d", t->rank, NML_MAX_RANK);
    uint64_t count = 1;
    for (int i = 0; i < t->rank; i++) {
        if (t->dims[i] < 0)
            return nml_fail(err, NML_E_SHAPE,
                            "dimension %d is %ld (dynamic shapes are not supported)", i,
                            (long)t->dims[i]);
        if (t->dims[i] != 0 && count > NML_MAX_TENSOR_BYTES / (uint64_t)t->dims[i])
            return nml_fail(err, NML_E_LIMIT, "more than %u elements", NML_MAX_TENSOR_BYTES);
        count *= (uint64_t)t->dims[i];
    }
    if (!nml_ir_dtype_known(t->type) || t->type == NML_STRING)
        return nml_fail(err, NML_E_UNSUPPORTED, "type %s (%d) has no fixed element size",
                        nml_dtype_name(t->type), t->type);
    int ok;
    size_t n = nml_dtype_bytes_for(t->type, count, &ok);
    if (!ok)
        return nml_fail(err, NML_E_LIMIT, "%llu %s elements exceed %u bytes",
                        (unsigned long long)count, nml_dtype_name(t->type), NML_MAX_TENSOR_BYTES);
    *bytes = n;
    return NML_OK;
}

int nml_ir_find_tensor(const nml_ir *ir, const char *name) {
    for (int i = 0; i < ir->n_tensors; i++)
        if (strcmp(ir->tensors[i].name, name) == 0) return i;
    return -1;
}

int nml_ir_producer(const nml_ir *ir, int32_t t) {
    for (int i = 0; i < ir->n_ops; i++)
        for (int o = 0; o < ir->ops[i].n_outputs; o++)
            if (ir->ops[i].outputs[o] == t) return i;
    return -1;
}

int nml_ir_count_uses(const nml_ir *ir, int32_t t) {
    int n = 0;
    for (int i = 0; i < ir->n_ops; i++)
        for (int k = 0; k < ir->ops[i].n_inputs; k++) n += ir->ops[i].inputs[k] == t;
    for (int k = 0; k < ir->n_outputs; k++) n += ir->outputs[k] == t;
    return n;
}

int nml_ir_is_graph_io(const nml_ir *ir, int32_t t) {
    for (int k = 0; k < ir->n_inputs; k++)
        if (ir->inputs[k] == t) return 1;
    for (int k = 0; k < ir->n_outputs; k++)
        if (ir->outputs[k] == t) return 1;
    return 0;
}

/* ---- tensors ---- */

static nml_status check_tensor_index(const nml_ir *ir, int t, nml_error *err) {
    if (t < 0 || t >= ir->n_tensors)
        return nml_fail(err, NML_E_ARG, "tensor %d out of range (IR has %d tensors)", t,
                        ir->n_tensors);
    return NML_OK;
}

/* Checks that data_bytes is exactly the size of the shape in `type`. */
static nml_status check_data_size(const nml_ir_tensor *shape, int type, const void *data,
                                  size_t data_bytes, nml_error *err) {
    if (!data) {
        if (data_bytes)
            return nml_fail(err, NML_E_ARG, "%zu data bytes given without data", data_bytes);
        return NML_OK;
    }
    nml_ir_tensor probe = *shape;
    probe.type = type;
    size_t want;
    NML_TRY(nml_ir_tensor_bytes(&probe, &want, err));
    if (want != data_bytes)
        return nml_fail(err, NML_E_SHAPE, "%zu data bytes, shape needs %zu", data_bytes, want);
    return NML_OK;
}

nml_status nml_ir_add_tensor(nml_ir *ir, const char *name, int type, int rank,
                             const int32_t *dims, const void *data, size_t data_bytes,
                             int *index, nml_error *err) {
    const char *shown = name ? name : "(unnamed)";
    if (index) *index = -1;
    if (!nml_ir_dtype_known(type))
        return nml_fail(err, NML_E_UNSUPPORTED, "tensor %s: unknown type %d", shown, type);
    if (rank < 0 || rank > NML_MAX_RANK)
        return nml_fail(err, NML_E_LIMIT, "tensor %s: rank %d outside 0..%d", shown, rank,
                        NML_MAX_RANK);
    nml_ir_tensor t;
    memset(&t, 0, sizeof t);
    t.type = type;
    t.rank = rank;
    for (int i = 0; i < rank; i++) {
        if (dims[i] < 0)
            return nml_fail(err, NML_E_SHAPE,
                            "tensor %s: dimension %d is %ld (dynamic shapes are not supported)",
                            shown, i, (long)dims[i]);
        t.dims[i] = dims[i];
    }
    if (check_data_size(&t, type, data, data_bytes, err) != NML_OK)
        return nml_error_prefix(err, "tensor %s: ", shown);
    NML_TRY(grow((void **)&ir->tensors, &ir->cap_tensors, ir->n_tensors + 1, sizeof t, "tensors",
                 err));
    char generated[32];
    if (!name) {
        nml_format(generated, sizeof generated, "tensor_%d", ir->n_tensors);
        name = generated;
    }
    t.name = nml_ir_strdup(name);
    if (data) t.data = nml_ir_memdup(data, data_bytes);
    if (!t.name || (data && !t.data)) {
        tensor_free(&t);
        return nml_fail(err, NML_E_NOMEM, "tensor %s: out of memory (%zu bytes)", shown,
                        data_bytes);
    }
    t.data_bytes = data ? data_bytes : 0;
    ir->tensors[ir->n_tensors] = t;
    if (index) *index = ir->n_tensors;
    ir->n_tensors++;
    return NML_OK;
}

nml_status nml_ir_set_quant(nml_ir *ir, int t, uint32_t n_q, const float *scales,
                            const int64_t *zero_points, int32_t q_dim, nml_error *err) {
    NML_TRY(check_tensor_index(ir, t, err));
    nml_ir_tensor *tt = &ir->tensors[t];
    if (n_q > 0 && !scales)
        return nml_fail(err, NML_E_ARG, "tensor %d (%s): %u scales expected", t, tt->name, n_q);
    if (q_dim < 0)
        return nml_fail(err, NML_E_ARG, "tensor %d (%s): quantized dimension %ld is negative", t,
                        tt->name, (long)q_dim);
    if (n_q > 1 && (q_dim >= tt->rank || (uint32_t)tt->dims[q_dim] != n_q))
        return nml_fail(err, NML_E_SHAPE,
                        "tensor %d (%s): %u per-channel scales do not match dimension %ld of a "
                        "rank %d tensor",
                        t, tt->name, n_q, (long)q_dim, tt->rank);
    float *s = NULL;
    int64_t *z = NULL;
    if (n_q > 0) {
        s = malloc(n_q * sizeof *s);
        z = calloc(n_q, sizeof *z);
        if (!s || !z) {
            free(s);
            free(z);
            return nml_fail(err, NML_E_NOMEM, "tensor %d: out of memory for %u scales", t, n_q);
        }
        memcpy(s, scales, n_q * sizeof *s);
        if (zero_points) memcpy(z, zero_points, n_q * sizeof *z);
    }
    free(tt->scales);
    free(tt->zero_points);
    tt->scales = s;
    tt->zero_points = z;
    tt->n_q = n_q;
    tt->q_dim = n_q ? q_dim : 0;
    return NML_OK;
}

nml_status nml_ir_set_data(nml_ir *ir, int t, int type, const void *data, size_t data_bytes,
                           nml_error *err) {
    NML_TRY(check_tensor_index(ir, t, err));
    nml_ir_tensor *tt = &ir->tensors[t];
    if (!nml_ir_dtype_known(type))
        return nml_fail(err, NML_E_UNSUPPORTED, "tensor %d (%s): unknown type %d", t, tt->name,
                        type);
    if (check_data_size(tt, type, data, data_bytes, err) != NML_OK)
        return nml_error_prefix(err, "tensor %d (%s): ", t, tt->name);
    uint8_t *copy = NULL;
    if (data) {
        copy = nml_ir_memdup(data, data_bytes);
        if (!copy) return nml_fail(err, NML_E_NOMEM, "tensor %d: out of memory", t);
    }
    free(tt->data);
    free(tt->pack);
    tt->pack = NULL;
    tt->pack_bytes = 0;
    tt->data = copy;
    tt->data_bytes = data ? data_bytes : 0;
    tt->type = type;
    return NML_OK;
}

nml_status nml_ir_set_packed(nml_ir *ir, int t, const void *record, size_t record_bytes,
                             const void *data, size_t data_bytes, nml_error *err) {
    NML_TRY(check_tensor_index(ir, t, err));
    nml_ir_tensor *tt = &ir->tensors[t];
    if (!record || !data || !data_bytes)
        return nml_fail(err, NML_E_ARG, "tensor %d (%s): packed weights need a record and data", t,
                        tt->name);
    nml_ir_tensor probe = *tt;
    probe.pack = (uint8_t *)(uintptr_t)record;
    probe.pack_bytes = record_bytes;
    probe.data = (uint8_t *)(uintptr_t)data;
    probe.data_bytes = data_bytes;
    if (nml_ir_check_packed(&probe, err) != NML_OK)
        return nml_error_prefix(err, "tensor %d (%s): ", t, tt->name);
    uint8_t *r = nml_ir_memdup(record, record_bytes), *d = nml_ir_memdup(data, data_bytes);
    if (!r || !d) {
        free(r);
        free(d);
        return nml_fail(err, NML_E_NOMEM, "tensor %d: out of memory", t);
    }
    free(tt->data);
    free(tt->pack);
    tt->data = d;
    tt->data_bytes = data_bytes;
    tt->pack = r;
    tt->pack_bytes = record_bytes;
    return NML_OK;
}

/* ---- operators ---- */

static nml_status check_op_io(const nml_ir *ir, int n_inputs, const int32_t *inputs,
                              int n_outputs, const int32_t *outputs, nml_error *err) {
    if (n_inputs < 0 || n_inputs > NML_MAX_OP_INPUTS)
        return nml_fail(err, NML_E_LIMIT, "%d inputs (limit %d)", n_inputs, NML_MAX_OP_INPUTS);
    if (n_outputs < 0 || n_outputs > NML_MAX_OP_OUTPUTS)
        return nml_fail(err, NML_E_LIMIT, "%d outputs (limit %d)", n_outputs,
                        NML_MAX_OP_OUTPUTS);
    for (int i = 0; i < n_inputs; i++)
        if (inputs[i] < -1 || inputs[i] >= ir->n_tensors)
            return nml_fail(err, NML_E_ARG, "input %d is tensor %ld (IR has %d tensors)", i,
                            (long)inputs[i], ir->n_tensors);
    for (int i = 0; i < n_outputs; i++)
        if (outputs[i] < 0 || outputs[i] >= ir->n_tensors)
            return nml_fail(err, NML_E_ARG, "output %d is tensor %ld (IR has %d tensors)", i,
                            (long)outputs[i], ir->n_tensors);
    return NML_OK;
}

nml_status nml_ir_insert_op(nml_ir *ir, int pos, int32_t builtin, const nml_op_params *params,
                            int n_inputs, const int32_t *inputs, int n_outputs,
                            const int32_t *outputs, int *index, nml_error *err) {
    if (index) *index = -1;
    if (pos < 0 || pos > ir->n_ops)
        return nml_fail(err, NML_E_ARG, "insert position %d outside 0..%d", pos, ir->n_ops);
    if (builtin < 0)
        return nml_fail(err, NML_E_ARG, "operator code %ld is negative", (long)builtin);
    if (check_op_io(ir, n_inputs, inputs, n_outputs, outputs, err) != NML_OK)
        return nml_error_prefix(err, "%s: ", nml_op_name(builtin));
    NML_TRY(grow((void **)&ir->ops, &ir->cap_ops, ir->n_ops + 1, sizeof(nml_ir_op), "operators",
                 err));
    memmove(&ir->ops[pos + 1], &ir->ops[pos], (size_t)(ir->n_ops - pos) * sizeof(nml_ir_op));
    nml_ir_op *op = &ir->ops[pos];
    memset(op, 0, sizeof *op);
    op->builtin = builtin;
    op->version = 1;
    if (params)
        op->params = *params;
    else
        nml_op_params_default(&op->params);
    op->n_inputs = n_inputs;
    op->n_outputs = n_outputs;
    if (n_inputs) memcpy(op->inputs, inputs, (size_t)n_inputs * sizeof *inputs);
    if (n_outputs) memcpy(op->outputs, outputs, (size_t)n_outputs * sizeof *outputs);
    ir->n_ops++;
    if (index) *index = pos;
    return NML_OK;
}

nml_status nml_ir_add_op(nml_ir *ir, int32_t builtin, const nml_op_params *params,
                         int n_inputs, const int32_t *inputs, int n_outputs,
                         const int32_t *outputs, int *index, nml_error *err) {
    return nml_ir_insert_op(ir, ir->n_ops, builtin, params, n_inputs, inputs, n_outputs, outputs,
                            index, err);
}

static nml_status check_op_index(const nml_ir *ir, int op, nml_error *err) {
    if (op < 0 || op >= ir->n_ops)
        return nml_fail(err, NML_E_ARG, "operator %d out of range (IR has %d operators)", op,
                        ir->n_ops);
    return NML_OK;
}

nml_status nml_ir_remove_op(nml_ir *ir, int i, nml_error *err) {
    NML_TRY(check_op_index(ir, i, err));
    op_free(&ir->ops[i]);
    memmove(&ir->ops[i], &ir->ops[i + 1], (size_t)(ir->n_ops - i - 1) * sizeof(nml_ir_op));
    ir->n_ops--;
    return NML_OK;
}

/* Replaces *dst by a copy of src (NULL clears it). */
static nml_status replace_string(char **dst, const char *src, nml_error *err) {
    char *copy = NULL;
    if (src && !(copy = nml_ir_strdup(src)))
        return nml_fail(err, NML_E_NOMEM, "IR: out of memory for a string");
    free(*dst);
    *dst = copy;
    return NML_OK;
}

nml_status nml_ir_set_op_name(nml_ir *ir, int op, const char *name, nml_error *err) {
    NML_TRY(check_op_index(ir, op, err));
    return replace_string(&ir->ops[op].name, name, err);
}

nml_status nml_ir_set_custom(nml_ir *ir, int op, const char *custom_code, const void *options,
                             size_t options_bytes, nml_error *err) {
    NML_TRY(check_op_index(ir, op, err));
    if (options_bytes && !options)
        return nml_fail(err, NML_E_ARG, "operator %d: %zu option bytes without data", op,
                        options_bytes);
    uint8_t *copy = NULL;
    if (options && options_bytes && !(copy = nml_ir_memdup(options, options_bytes)))
        return nml_fail(err, NML_E_NOMEM, "operator %d: out of memory", op);
    nml_status st = replace_string(&ir->ops[op].custom_code, custom_code, err);
    if (st != NML_OK) {
        free(copy);
        return st;
    }
    free(ir->ops[op].custom_options);
    ir->ops[op].custom_options = copy;
    ir->ops[op].custom_options_bytes = copy ? options_bytes : 0;
    return NML_OK;
}

/* ---- graph ---- */

static nml_status copy_indices(int32_t **dst, int n, const int32_t *src, nml_error *err) {
    int32_t *copy = NULL;
    if (n > 0) {
        copy = malloc((size_t)n * sizeof *copy);
        if (!copy) return nml_fail(err, NML_E_NOMEM, "IR: out of memory for %d indices", n);
        memcpy(copy, src, (size_t)n * sizeof *copy);
    }
    free(*dst);
    *dst = copy;
    return NML_OK;
}

nml_status nml_ir_set_io(nml_ir *ir, int n_inputs, const int32_t *inputs, int n_outputs,
                         const int32_t *outputs, nml_error *err) {
    if (n_inputs < 0 || n_outputs < 0)
        return nml_fail(err, NML_E_ARG, "negative graph input/output count");
    for (int i = 0; i < n_inputs; i++)
        if (inputs[i] < 0 || inputs[i] >= ir->n_tensors)
            return nml_fail(err, NML_E_ARG, "graph input %d is tensor %ld (IR has %d tensors)", i,
                            (long)inputs[i], ir->n_tensors);
    for (int i = 0; i < n_outputs; i++)
        if (outputs[i] < 0 || outputs[i] >= ir->n_tensors)
            return nml_fail(err, NML_E_ARG, "graph output %d is tensor %ld (IR has %d tensors)",
                            i, (long)outputs[i], ir->n_tensors);
    int32_t *in_copy = NULL;
    NML_TRY(copy_indices(&in_copy, n_inputs, inputs, err));
    int32_t *out_copy = NULL;
    nml_status st = copy_indices(&out_copy, n_outputs, outputs, err);
    if (st != NML_OK) {
        free(in_copy);
        return st;
    }
    free(ir->inputs);
    free(ir->outputs);
    ir->inputs = in_copy;
    ir->outputs = out_copy;
    ir->n_inputs = n_inputs;
    ir->n_outputs = n_outputs;
    return NML_OK;
}

nml_status nml_ir_set_description(nml_ir *ir, const char *description, nml_error *err) {
    return replace_string(&ir->description, description, err);
}

nml_status nml_ir_add_metadata(nml_ir *ir, const char *name, const void *data, size_t bytes,
                               nml_error *err) {
    if (!name) return nml_fail(err, NML_E_ARG, "metadata without a name");
    if (bytes && !data)
        return nml_fail(err, NML_E_ARG, "metadata %s: %zu bytes without data", name, bytes);
    nml_ir_metadata m;
    m.name = nml_ir_strdup(name);
    m.data = nml_ir_memdup(data, bytes);
    m.bytes = bytes;
    nml_ir_metadata *grown = m.name && m.data
                                 ? realloc(ir->metadata, (size_t)(ir->n_metadata + 1) * sizeof m)
                                 : NULL;
    if (!grown) {
        free(m.name);
        free(m.data);
        return nml_fail(err, NML_E_NOMEM, "metadata %s: out of memory", name);
    }
    ir->metadata = grown;
    ir->metadata[ir->n_metadata++] = m;
    return NML_OK;
}

/* ---- deep copy ---- */

static nml_status clone_tensor(nml_ir_tensor *d, const nml_ir_tensor *s, nml_error *err) {
    *d = *s;
    d->name = NULL;
    d->data = NULL;
    d->scales = NULL;
    d->zero_points = NULL;
    d->pack = NULL;
    d->name = nml_ir_strdup(s->name);
    if (s->pack) d->pack = nml_ir_memdup(s->pack, s->pack_bytes);
    if (s->data) d->data = nml_ir_memdup(s->data, s->data_bytes);
    if (s->n_q) {
        d->scales = nml_ir_memdup(s->scales, s->n_q * sizeof *s->scales);
        d->zero_points = s->zero_points
                             ? nml_ir_memdup(s->zero_points, s->n_q * sizeof *s->zero_points)
                             : calloc(s->n_q, sizeof *s->zero_points);
    }
    if (!d->name || (s->data && !d->data) || (s->n_q && (!d->scales || !d->zero_points)) ||
        (s->pack && !d->pack)) {
        tensor_free(d);
        return nml_fail(err, NML_E_NOMEM, "clone: out of memory for tensor %s", s->name);
    }
    return NML_OK;
}

static nml_status clone_op(nml_ir_op *d, const nml_ir_op *s, nml_error *err) {
    *d = *s;
    d->custom_code = s->custom_code ? nml_ir_strdup(s->custom_code) : NULL;
    d->name = s->name ? nml_ir_strdup(s->name) : NULL;
    d->custom_options =
        s->custom_options ? nml_ir_memdup(s->custom_options, s->custom_options_bytes) : NULL;
    if ((s->custom_code && !d->custom_code) || (s->name && !d->name) ||
        (s->custom_options && !d->custom_options)) {
        op_free(d);
        return nml_fail(err, NML_E_NOMEM, "clone: out of memory for an operator");
    }
    return NML_OK;
}

static nml_status clone_into(nml_ir *dst, const nml_ir *src, nml_error *err) {
    NML_TRY(grow((void **)&dst->tensors, &dst->cap_tensors, src->n_tensors,
                 sizeof(nml_ir_tensor), "tensors", err));
    for (int i = 0; i < src->n_tensors; i++) {
        NML_TRY(clone_tensor(&dst->tensors[i], &src->tensors[i], err));
        dst->n_tensors++;
    }
    NML_TRY(grow((void **)&dst->ops, &dst->cap_ops, src->n_ops, sizeof(nml_ir_op), "operators",
                 err));
    for (int i = 0; i < src->n_ops; i++) {
        NML_TRY(clone_op(&dst->ops[i], &src->ops[i], err));
        dst->n_ops++;
    }
    NML_TRY(nml_ir_set_io(dst, src->n_inputs, src->inputs, src->n_outputs, src->outputs, err));
    NML_TRY(nml_ir_set_description(dst, src->description, err));
    for (int i = 0; i < src->n_metadata; i++)
        NML_TRY(nml_ir_add_metadata(dst, src->metadata[i].name, src->metadata[i].data,
                                    src->metadata[i].bytes, err));
    return NML_OK;
}

nml_status nml_ir_clone(nml_ir *dst, const nml_ir *src, nml_error *err) {
    nml_ir_init(dst);
    nml_status st = clone_into(dst, src, err);
    if (st != NML_OK) nml_ir_free(dst);
    return st;
}
