/* nml_pack_weights / nml_unpack_weights: the constant filters of CONV_2D, DEPTHWISE_CONV_2D and
 * FULLY_CONNECTED re-encoded in the smallest packed format the runtime executes, and back. */
#include "nanoml/pack.h"

#include <stdlib.h>
#include <string.h>

#include "compress/pack_internal.h"
#include "nanoml/quantize.h"

/* What a packed tensor adds to the .tflite besides its data: the CustomQuantization table, the
 * 16-byte aligned record vector and the union fields (measured on LeNet-5: 64 to 72 bytes). A
 * tensor is packed only when it saves more than this. */
#define RECORD_FILE_BYTES 72

void nml_pack_options_default(nml_pack_options *o) {
    o->sparse = 1;
    o->clustered = 1;
    o->min_elements = 256;
}

void nml_pack_report_free(nml_pack_report *r) {
    if (!r) return;
    free(r->layers);
    memset(r, 0, sizeof *r);
}

/* ---- dense <-> rows ---- */

static int is_filter_op(int32_t builtin) {
    return builtin == NML_OP_CONV_2D || builtin == NML_OP_DEPTHWISE_CONV_2D ||
           builtin == NML_OP_FULLY_CONNECTED;
}

/* Logical values of a dense int8/int4 tensor, in element order. */
static void dense_values(int type, const uint8_t *data, uint32_t n, int8_t *out) {
    for (uint32_t i = 0; i < n; i++) {
        if (type == NML_INT8) {
            out[i] = (int8_t)data[i];
        } else {
            const uint32_t nib = (i & 1u) ? data[i >> 1] >> 4 : data[i >> 1] & 0x0fu;
            out[i] = (int8_t)((int32_t)nib - (int32_t)((nib & 8u) << 1));
        }
    }
}

/* Element order -> row order along row_axis (0: identical; last axis: transposed). */
static void to_rows(const int8_t *v, uint32_t rows, uint32_t row_len, int last_axis, int8_t *out) {
    if (!last_axis) {
        memcpy(out, v, (size_t)rows * row_len);
        return;
    }
    for (uint32_t r = 0; r < rows; r++)
        for (uint32_t j = 0; j < row_len; j++)
            out[(size_t)r * row_len + j] = v[(size_t)j * rows + r];
}

static void from_rows(const int8_t *rows_v, uint32_t rows, uint32_t row_len, int last_axis,
                      int8_t *out) {
    if (!last_axis) {
        memcpy(out, rows_v, (size_t)rows * row_len);
        return;
    }
    for (uint32_t r = 0; r < rows; r++)
        for (uint32_t j = 0; j < row_len; j++)
            out[(size_t)j * rows + r] = rows_v[(size_t)r * row_len + j];
}

/* ---- choosing an encoding ---- */

static int candidate_specs(const nml_pack_options *o, nml_pack_spec *specs) {
    int n = 0;
    static const int positions[4] = {NML_PACK_POS_ALL, NML_PACK_POS_BITMASK, NML_PACK_POS_GAPS,
                                     NML_PACK_POS_GAPS4};
    for (int p = 0; p < 4; p++) {
        if (positions[p] != NML_PACK_POS_ALL && !o->sparse) continue;
        for (int c = 0; c < 3; c++) { /* raw, tensor table, row tables */
            if (c == 0 && positions[p] == NML_PACK_POS_ALL) continue;
            if (c > 0 && !o->clustered) continue;
            specs[n].positions = positions[p];
            specs[n].clustered = c > 0;
            specs[n].row_tables = c == 2;
            n++;
        }
    }
    return n;
}

/* The smallest encoding of rows; *best stays empty when none is possible. */
static nml_status smallest_encoding(const nml_pack_rows *rows, const nml_pack_options *o,
                                    nml_pack_encoded *best, nml_pack_spec *best_spec,
                                    nml_error *err) {
    nml_pack_spec specs[12];
    const int n = candidate_specs(o, specs);
    memset(best, 0, sizeof *best);
    for (int i = 0; i < n; i++) {
        nml_pack_encoded enc;
        nml_status st = nml_pack_encode(rows, &specs[i], &enc, NULL);
        if (st == NML_E_NOMEM) return nml_fail(err, st, "pack: out of memory");
        if (st != NML_OK) continue; /* this format cannot hold these values */
        if (!best->data || enc.data_bytes < best->data_bytes) {
            nml_pack_encoded_free(best);
            *best = enc;
            *best_spec = specs[i];
        } else {
            nml_pack_encoded_free(&enc);
        }
    }
    return NML_OK;
}

/* ---- which tensors ---- */

/* Row axis of filter tensor t if every use is the filter of a kernel that runs packed weights
 * (int8 activations), else -1. */
static int packable_axis(const nml_ir *ir, int32_t t) {
    int axis = -1;
    for (int i = 0; i < ir->n_ops; i++) {
        const nml_ir_op *op = &ir->ops[i];
        for (int k = 0; k < op->n_inputs; k++) {
            if (op->inputs[k] != t) continue;
            if (!is_filter_op(op->builtin) || k != 1 || op->inputs[0] < 0) return -1;
            if (ir->tensors[op->inputs[0]].type != NML_INT8) return -1;
            const int a = op->builtin == NML_OP_DEPTHWISE_CONV_2D ? ir->tensors[t].rank - 1 : 0;
            if (axis >= 0 && a != axis) return -1;
            axis = a;
        }
    }
    for (int k = 0; k < ir->n_outputs; k++)
        if (ir->outputs[k] == t) return -1;
    return axis;
}

static int is_weight_candidate(const nml_ir_tensor *w) {
    return w->data && !w->pack && (w->type == NML_INT8 || w->type == NML_INT4) && w->rank >= 1;
}

/* ---- packing one tensor ---- */

typedef struct tensor_stats {
    double sparsity;
    uint32_t distinct;
} tensor_stats;

static tensor_stats stats_of(const int8_t *v, uint32_t n) {
    uint8_t seen[256] = {0};
    uint32_t zeros = 0, distinct = 0;
    for (uint32_t i = 0; i < n; i++) {
        zeros += v[i] == 0;
        if (!seen[(uint8_t)v[i]]) distinct++;
        seen[(uint8_t)v[i]] = 1;
    }
    tensor_stats s = {n ? (double)zeros / n : 0.0, distinct};
    return s;
}

static nml_status pack_tensor(nml_ir *ir, int32_t t, int axis, const nml_pack_options *o,
                              nml_pack_layer *layer, nml_error *err) {
    nml_ir_tensor *w = &ir->tensors[t];
    const uint32_t n = (uint32_t)nml_ir_tensor_count(w);
    const uint32_t rows = (uint32_t)w->dims[axis];
    int8_t *v = malloc(n ? n : 1), *rv = malloc(n ? n : 1);
    if (!v || !rv) {
        free(v);
        free(rv);
        return nml_fail(err, NML_E_NOMEM, "pack: out of memory for %u weights", n);
    }
    dense_values(w->type, w->data, n, v);
    const tensor_stats st = stats_of(v, n);
    layer->tensor = t;
    layer->encoding = 0;
    layer->encoding_name = "dense";
    layer->dense_bytes = layer->packed_bytes = w->data_bytes;
    layer->sparsity = st.sparsity;
    layer->distinct = st.distinct;

    nml_status status = NML_OK;
    const uint32_t row_len = rows ? n / rows : 0;
    if (n >= o->min_elements && rows && row_len <= NML_PACK_MAX_SPARSE_ROW) {
        to_rows(v, rows, row_len, axis != 0, rv);
        nml_pack_rows pr = {rv, rows, row_len, w->type == NML_INT4, axis};
        nml_pack_encoded best;
        nml_pack_spec spec = {0, 0, 0};
        status = smallest_encoding(&pr, o, &best, &spec, err);
        if (status == NML_OK && best.data && best.data_bytes + RECORD_FILE_BYTES < w->data_bytes) {
            status = nml_ir_set_packed(ir, t, best.record, sizeof best.record, best.data,
                                       best.data_bytes, err);
            if (status == NML_OK) {
                layer->encoding = nml_pack_encoding_id(spec.positions, spec.clustered,
                                                       spec.row_tables, best.value_bits);
                layer->encoding_name = nml_pack_encoding_name(spec.positions, spec.clustered,
                                                              spec.row_tables, best.value_bits);
                layer->packed_bytes = best.data_bytes;
            }
        }
        nml_pack_encoded_free(&best);
    }
    free(v);
    free(rv);
    return status;
}

static nml_status pack_all(nml_ir *ir, const nml_pack_options *o, nml_pack_report *rep,
                           nml_error *err) {
    uint8_t *done = calloc((size_t)ir->n_tensors + 1, 1);
    rep->layers = calloc((size_t)ir->n_tensors + 1, sizeof *rep->layers);
    if (!done || !rep->layers) {
        free(done);
        return nml_fail(err, NML_E_NOMEM, "pack: out of memory");
    }
    nml_status st = NML_OK;
    for (int i = 0; i < ir->n_ops && st == NML_OK; i++) {
        const nml_ir_op *op = &ir->ops[i];
        if (!is_filter_op(op->builtin) || op->n_inputs < 2) continue;
        const int32_t t = op->inputs[1];
        if (t < 0 || done[t] || !is_weight_candidate(&ir->tensors[t])) continue;
        done[t] = 1;
        nml_pack_layer *layer = &rep->layers[rep->n_layers];
        const int axis = packable_axis(ir, t);
        if (axis < 0) {
            /* read by something that cannot run packed weights: reported, left dense */
            nml_pack_options dense = *o;
            dense.min_elements = UINT32_MAX;
            st = pack_tensor(ir, t, 0, &dense, layer, err);
        } else {
            st = pack_tensor(ir, t, axis, o, layer, err);
        }
        if (st != NML_OK) {
            nml_error_prefix(err, "tensor %d (%s): ", (int)t, ir->tensors[t].name);
            break;
        }
        rep->dense_bytes += layer->dense_bytes;
        rep->packed_bytes += layer->packed_bytes;
        rep->n_layers++;
    }
    free(done);
    return st;
}

nml_status nml_pack_weights(nml_ir *ir, const nml_pack_options *o, nml_pack_report *report,
                            nml_error *err) {
    nml_pack_options defaults;
    if (!o) {
        nml_pack_options_default(&defaults);
        o = &defaults;
    }
    if (report) memset(report, 0, sizeof *report);
    /* work on a copy so that a failure leaves the caller's IR unchanged */
    nml_ir work;
    NML_TRY(nml_ir_clone(&work, ir, err));
    nml_pack_report rep;
    memset(&rep, 0, sizeof rep);
    nml_status st = pack_all(&work, o, &rep, err);
    if (st != NML_OK) {
        nml_ir_free(&work);
        nml_pack_report_free(&rep);
        return st;
    }
    nml_ir_free(ir);
    *ir = work;
    if (report)
        *report = rep;
    else
        nml_pack_report_free(&rep);
    return NML_OK;
}

/* ---- unpacking ---- */

static nml_status parse_ir_tensor(const nml_ir_tensor *w, nml_packed *p, nml_error *err) {
    if (w->pack_bytes > UINT32_MAX || w->data_bytes > UINT32_MAX)
        return nml_fail(err, NML_E_LIMIT, "packed weights exceed 4 GB");
    NML_TRY(nml_packed_parse(w->pack, (uint32_t)w->pack_bytes, w->type, w->rank, w->dims, w->data,
                             (uint32_t)w->data_bytes, p, err));
    return nml_packed_verify(p, err);
}

/* Dense storage bytes of the logical values v (int8 as is, int4 packed two per byte). */
static nml_status store_dense(nml_ir *ir, int t, const int8_t *v, uint32_t n, nml_error *err) {
    const nml_ir_tensor *w = &ir->tensors[t];
    if (w->type == NML_INT8) return nml_ir_set_data(ir, t, w->type, v, n, err);
    uint8_t *packed = malloc(((size_t)n + 1) / 2);
    if (!packed) return nml_fail(err, NML_E_NOMEM, "unpack: out of memory");
    nml_int4_pack(v, n, packed);
    nml_status st = nml_ir_set_data(ir, t, w->type, packed, ((size_t)n + 1) / 2, err);
    free(packed);
    return st;
}

static nml_status unpack_tensor(nml_ir *ir, int t, nml_error *err) {
    nml_packed p;
    NML_TRY(parse_ir_tensor(&ir->tensors[t], &p, err));
    const uint32_t n = p.rows * p.row_len;
    int8_t *rv = malloc(n), *v = malloc(n);
    nml_status st = NML_OK;
    if (!rv || !v) {
        st = nml_fail(err, NML_E_NOMEM, "unpack: out of memory for %u weights", n);
    } else {
        nml_pack_decode_rows(&p, rv);
        from_rows(rv, p.rows, p.row_len, p.row_axis != 0, v);
        st = store_dense(ir, t, v, n, err);
    }
    free(rv);
    free(v);
    return st;
}

nml_status nml_unpack_weights(nml_ir *ir, nml_error *err) {
    nml_ir work;
    NML_TRY(nml_ir_clone(&work, ir, err));
    for (int t = 0; t < work.n_tensors; t++) {
        if (!work.tensors[t].pack) continue;
        if (unpack_tensor(&work, t, err) != NML_OK) {
            nml_ir_free(&work);
            return nml_error_prefix(err, "unpack: tensor %d (%s): ", t, ir->tensors[t].name);
        }
    }
    nml_ir_free(ir);
    *ir = work;
    return NML_OK;
}

/* ---- loaded models ---- */

static nml_status parse_model_tensor(const nml_tensor *t, nml_packed *p, nml_error *err) {
    return nml_packed_parse(t->pack, t->pack_bytes, t->type, t->rank, t->dims, t->data, t->bytes, p,
                            err);
}

nml_status nml_pack_info_of(const nml_tensor *t, nml_pack_info *info, nml_error *err) {
    memset(info, 0, sizeof *info);
    info->encoding_name = "dense";
    info->elements = nml_tensor_count(t);
    info->stored_bytes = t->bytes;
    info->dense_bytes = t->bytes;
    info->stored = info->elements;
    if (!t->pack) return NML_OK;
    nml_packed p;
    NML_TRY(parse_model_tensor(t, &p, err));
    int ok;
    info->packed = 1;
    info->dense_bytes = nml_dtype_bytes_for(t->type, info->elements, &ok);
    info->record_bytes = t->pack_bytes;
    info->stored = p.stored;
    info->value_bits = p.value_bits;
    info->table_size = p.table_size;
    info->tables =
        (p.flags & NML_PACK_CLUSTERED) ? ((p.flags & NML_PACK_ROW_TABLES) ? p.rows : 1) : 0;
    info->encoding_name =
        nml_pack_encoding_name(p.positions, (p.flags & NML_PACK_CLUSTERED) != 0,
                               (p.flags & NML_PACK_ROW_TABLES) != 0, p.value_bits);
    return NML_OK;
}

nml_status nml_pack_tensor_values(const nml_tensor *t, int8_t *out, size_t count, nml_error *err) {
    const uint32_t n = nml_tensor_count(t);
    if (t->type != NML_INT8 && t->type != NML_INT4)
        return nml_fail(err, NML_E_ARG, "tensor %s is %s, not int8/int4", t->name,
                        nml_dtype_name(t->type));
    if (!t->data || count != n)
        return nml_fail(err, NML_E_ARG, "tensor %s: %zu values asked, it has %u (constant: %s)",
                        t->name, count, n, t->data ? "yes" : "no");
    if (!t->pack) {
        dense_values(t->type, t->data, n, out);
        return NML_OK;
    }
    nml_packed p;
    NML_TRY(parse_model_tensor(t, &p, err));
    int8_t *rv = malloc(n ? n : 1);
    if (!rv) return nml_fail(err, NML_E_NOMEM, "out of memory for %u weights", n);
    nml_pack_decode_rows(&p, rv);
    from_rows(rv, p.rows, p.row_len, p.row_axis != 0, out);
    free(rv);
    return NML_OK;
}
