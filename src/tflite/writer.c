/* nml_ir_to_tflite: the IR as a standard TFLite flatbuffer (schema v3).
 *
 * Flatbuffers are built back to front, so what is built first ends up last in the file: the
 * constant data goes first (the file ends with the weights, like converter output), then the
 * tensors, operators, subgraph, operator codes and finally the Model table near the start. */
#include <stdlib.h>
#include <string.h>

#include "nanoml/ir.h"
#include "tflite/fb_builder.h"
#include "tflite/options_writer.h"
#include "tflite/tflite_schema.h"

typedef struct opcode_key {
    int32_t builtin;
    const char *custom; /* borrowed from the IR */
    int32_t version;
} opcode_key;

/* A written QuantizationParameters table and what it holds (its vectors are shared, so equal
 * parameters have equal vector refs). */
typedef struct quant_ref {
    nml_fbb_ref scale, zero, table;
    int32_t dim;
} quant_ref;

typedef struct writer {
    nml_fbb b;
    const nml_ir *ir;
    nml_fbb_ref *buffers; /* one per Buffer entry: 0 sentinel, constants, metadata */
    int n_buffers;
    uint32_t *tensor_buffer;   /* Buffer index of each tensor (0 = none) */
    uint32_t *metadata_buffer; /* Buffer index of each metadata entry */
    opcode_key *codes;
    int n_codes;
    uint32_t *op_code;    /* OperatorCode index of each operator */
    nml_fbb_ref *scratch; /* refs for vectors of tables (tensors, operators, ...) */
    quant_ref *quants;    /* QuantizationParameters tables written so far, for sharing */
    int n_quants;
} writer;

static void writer_free(writer *w) {
    nml_fbb_free(&w->b);
    free(w->buffers);
    free(w->tensor_buffer);
    free(w->metadata_buffer);
    free(w->codes);
    free(w->op_code);
    free(w->scratch);
    free(w->quants);
}

static nml_status writer_alloc(writer *w, const nml_ir *ir, nml_error *err) {
    memset(w, 0, sizeof *w);
    nml_fbb_init(&w->b);
    w->ir = ir;
    size_t nt = (size_t)ir->n_tensors, no = (size_t)ir->n_ops, nm = (size_t)ir->n_metadata;
    size_t most = nt > no ? nt : no;
    if (nm > most) most = nm;
    if ((size_t)ir->n_inputs > most) most = (size_t)ir->n_inputs;
    if ((size_t)ir->n_outputs > most) most = (size_t)ir->n_outputs;
    w->buffers = calloc(1 + nt + nm, sizeof *w->buffers);
    w->tensor_buffer = calloc(nt + 1, sizeof *w->tensor_buffer);
    w->metadata_buffer = calloc(nm + 1, sizeof *w->metadata_buffer);
    w->codes = calloc(no + 1, sizeof *w->codes);
    w->op_code = calloc(no + 1, sizeof *w->op_code);
    w->scratch = calloc(most + 1, sizeof *w->scratch);
    w->quants = calloc(nt + 1, sizeof *w->quants);
    if (!w->buffers || !w->tensor_buffer || !w->metadata_buffer || !w->codes || !w->op_code ||
        !w->scratch || !w->quants)
        return nml_fail(err, NML_E_NOMEM, "tflite writer: out of memory for %zu tensors", nt);
    return NML_OK;
}

/* ---- operator codes ---- */

static int same_custom(const char *a, const char *b) {
    if (!a || !b) return a == b;
    return strcmp(a, b) == 0;
}

/* One OperatorCode per distinct (builtin, custom code, version), in order of first use. */
static void assign_opcodes(writer *w) {
    for (int i = 0; i < w->ir->n_ops; i++) {
        const nml_ir_op *op = &w->ir->ops[i];
        opcode_key key = {op->builtin, op->builtin == NML_OP_CUSTOM ? op->custom_code : NULL,
                          nml_ir_op_min_version(w->ir, op)};
        if (op->version > key.version) key.version = op->version;
        int found = -1;
        for (int c = 0; c < w->n_codes && found < 0; c++)
            if (w->codes[c].builtin == key.builtin && w->codes[c].version == key.version &&
                same_custom(w->codes[c].custom, key.custom))
                found = c;
        if (found < 0) {
            found = w->n_codes++;
            w->codes[found] = key;
        }
        w->op_code[i] = (uint32_t)found;
    }
}

static nml_fbb_ref write_opcodes(writer *w) {
    nml_fbb *b = &w->b;
    for (int c = 0; c < w->n_codes; c++) {
        const opcode_key *k = &w->codes[c];
        nml_fbb_ref custom = k->custom ? nml_fbb_string(b, k->custom) : 0;
        /* old readers only see the byte; codes above 127 say "look at builtin_code" */
        int8_t legacy = (int8_t)(k->builtin < NML_OP_PLACEHOLDER_FOR_GREATER_OP_CODES
                                     ? k->builtin
                                     : NML_OP_PLACEHOLDER_FOR_GREATER_OP_CODES);
        nml_fbb_start_table(b);
        nml_fbb_add_i8(b, NML_TFL_OPCODE_DEPRECATED_BUILTIN_CODE, legacy, 0);
        nml_fbb_add_ref(b, NML_TFL_OPCODE_CUSTOM_CODE, custom);
        nml_fbb_add_i32(b, NML_TFL_OPCODE_VERSION, k->version, 1);
        nml_fbb_add_i32(b, NML_TFL_OPCODE_BUILTIN_CODE, k->builtin, 0);
        w->scratch[c] = nml_fbb_end_table(b);
    }
    return nml_fbb_vector_refs(b, w->scratch, (size_t)w->n_codes);
}

/* ---- buffers ---- */

static nml_fbb_ref write_buffer(nml_fbb *b, const uint8_t *data, size_t bytes) {
    nml_fbb_ref vec = data ? nml_fbb_vector_u8(b, data, bytes, NML_TFL_BUFFER_ALIGN) : 0;
    nml_fbb_start_table(b);
    nml_fbb_add_ref(b, NML_TFL_BUFFER_DATA, vec);
    return nml_fbb_end_table(b);
}

static nml_fbb_ref write_buffers(writer *w) {
    const nml_ir *ir = w->ir;
    /* buffer 0 is the empty sentinel that activations point at; it is built last so that it
     * sits in front of the large constant data */
    w->n_buffers = 1;
    for (int t = 0; t < ir->n_tensors; t++) {
        if (!ir->tensors[t].data || ir->tensors[t].data_bytes == 0) continue;
        w->tensor_buffer[t] = (uint32_t)w->n_buffers;
        w->buffers[w->n_buffers++] =
            write_buffer(&w->b, ir->tensors[t].data, ir->tensors[t].data_bytes);
    }
    for (int m = 0; m < ir->n_metadata; m++) {
        w->metadata_buffer[m] = (uint32_t)w->n_buffers;
        w->buffers[w->n_buffers++] =
            write_buffer(&w->b, ir->metadata[m].data, ir->metadata[m].bytes);
    }
    w->buffers[0] = write_buffer(&w->b, NULL, 0);
    return nml_fbb_vector_refs(&w->b, w->buffers, (size_t)w->n_buffers);
}

/* ---- tensors ---- */

/* Packed weights: the record as CustomQuantization details. */
static nml_fbb_ref write_pack_record(nml_fbb *b, const nml_ir_tensor *t) {
    if (!t->pack) return 0;
    nml_fbb_ref custom = nml_fbb_vector_u8(b, t->pack, t->pack_bytes, NML_TFL_CUSTOM_QUANT_ALIGN);
    nml_fbb_start_table(b);
    nml_fbb_add_ref(b, NML_TFL_CUSTOM_QUANT_CUSTOM, custom);
    return nml_fbb_end_table(b);
}

static nml_fbb_ref write_quantization(writer *w, const nml_ir_tensor *t) {
    nml_fbb *b = &w->b;
    if (t->n_q == 0 && !t->pack) return 0;
    nml_fbb_ref details = write_pack_record(b, t);
    /* shared: per-channel zero points are all zero, and tensors that pass values through (or
     * a convolution's weights and bias) repeat the same parameters */
    nml_fbb_ref scale = t->n_q ? nml_fbb_vector_shared(b, t->scales, t->n_q, 4, 0) : 0;
    nml_fbb_ref zero = t->n_q ? nml_fbb_vector_shared(b, t->zero_points, t->n_q, 8, 0) : 0;
    /* Per-tensor parameters carry no meaningful dimension; writing a stale one makes LiteRT
     * reject the model (it checks the dimension against the rank), so keep it only when it
     * names a real axis of size n_q. */
    int32_t dim = 0;
    if (t->q_dim > 0 && t->q_dim < t->rank && (uint32_t)t->dims[t->q_dim] == t->n_q) dim = t->q_dim;
    /* tensors that pass values through share their parameters: one table serves them all
     * (a packed tensor's table also holds its own record, so it is never shared) */
    for (int k = 0; !details && k < w->n_quants; k++) {
        const quant_ref *q = &w->quants[k];
        if (q->scale == scale && q->zero == zero && q->dim == dim) return q->table;
    }
    nml_fbb_start_table(b);
    nml_fbb_add_ref(b, NML_TFL_QUANT_SCALE, scale);
    nml_fbb_add_ref(b, NML_TFL_QUANT_ZERO_POINT, zero);
    if (details)
        nml_fbb_add_union(b, NML_TFL_QUANT_DETAILS_TYPE, NML_TFL_QUANT_DETAILS_CUSTOM, details);
    nml_fbb_add_i32(b, NML_TFL_QUANT_QUANTIZED_DIMENSION, dim, 0);
    nml_fbb_ref table = nml_fbb_end_table(b);
    if (table && scale && zero && !details)
        w->quants[w->n_quants++] = (quant_ref){scale, zero, table, dim};
    return table;
}

static nml_fbb_ref write_tensor(writer *w, int i) {
    nml_fbb *b = &w->b;
    const nml_ir_tensor *t = &w->ir->tensors[i];
    nml_fbb_ref shape = nml_fbb_vector_shared(b, t->dims, (size_t)t->rank, 4, 0);
    /* an unnamed tensor (nml_ir_drop_tensor_names) has no name field: readers give "" */
    nml_fbb_ref name = t->name[0] ? nml_fbb_string(b, t->name) : 0;
    nml_fbb_ref quant = write_quantization(w, t);
    nml_fbb_start_table(b);
    nml_fbb_add_ref(b, NML_TFL_TENSOR_SHAPE, shape);
    nml_fbb_add_i8(b, NML_TFL_TENSOR_TYPE, (int8_t)t->type, 0);
    nml_fbb_add_u32(b, NML_TFL_TENSOR_BUFFER, w->tensor_buffer[i], 0);
    nml_fbb_add_ref(b, NML_TFL_TENSOR_NAME, name);
    nml_fbb_add_ref(b, NML_TFL_TENSOR_QUANTIZATION, quant);
    nml_fbb_add_bool(b, NML_TFL_TENSOR_IS_VARIABLE, t->is_variable, 0);
    /* shapes are always fully known. A non-empty shape says so by itself; only an empty one
     * needs has_rank to mean "a scalar" rather than "unknown rank" */
    nml_fbb_add_bool(b, NML_TFL_TENSOR_HAS_RANK, t->rank == 0, 0);
    return nml_fbb_end_table(b);
}

static nml_fbb_ref write_tensors(writer *w) {
    for (int i = 0; i < w->ir->n_tensors; i++)
        w->scratch[i] = write_tensor(w, i);
    return nml_fbb_vector_refs(&w->b, w->scratch, (size_t)w->ir->n_tensors);
}

/* ---- operators ---- */

static nml_fbb_ref write_operator(writer *w, int i) {
    nml_fbb *b = &w->b;
    const nml_ir_op *op = &w->ir->ops[i];
    nml_fbb_ref inputs = nml_fbb_vector_i32(b, op->inputs, (size_t)op->n_inputs);
    nml_fbb_ref outputs = nml_fbb_vector_i32(b, op->outputs, (size_t)op->n_outputs);
    uint8_t options_type = NML_TFL_OPT_NONE;
    nml_fbb_ref options = 0;
    if (op->builtin != NML_OP_CUSTOM) options = nml_tfl_write_options(b, w->ir, op, &options_type);
    nml_fbb_ref custom = 0;
    if (op->custom_options)
        custom = nml_fbb_vector_u8(b, op->custom_options, op->custom_options_bytes, 0);
    nml_fbb_start_table(b);
    nml_fbb_add_u32(b, NML_TFL_OP_OPCODE_INDEX, w->op_code[i], 0);
    nml_fbb_add_ref(b, NML_TFL_OP_INPUTS, inputs);
    nml_fbb_add_ref(b, NML_TFL_OP_OUTPUTS, outputs);
    nml_fbb_add_union(b, NML_TFL_OP_BUILTIN_OPTIONS_TYPE, options_type, options);
    nml_fbb_add_ref(b, NML_TFL_OP_CUSTOM_OPTIONS, custom);
    return nml_fbb_end_table(b);
}

static nml_fbb_ref write_operators(writer *w) {
    for (int i = 0; i < w->ir->n_ops; i++)
        w->scratch[i] = write_operator(w, i);
    return nml_fbb_vector_refs(&w->b, w->scratch, (size_t)w->ir->n_ops);
}

static nml_fbb_ref write_subgraph(writer *w) {
    nml_fbb *b = &w->b;
    const nml_ir *ir = w->ir;
    nml_fbb_ref tensors = write_tensors(w);
    nml_fbb_ref operators = write_operators(w);
    nml_fbb_ref inputs = nml_fbb_vector_i32(b, ir->inputs, (size_t)ir->n_inputs);
    nml_fbb_ref outputs = nml_fbb_vector_i32(b, ir->outputs, (size_t)ir->n_outputs);
    nml_fbb_ref name = nml_fbb_string(b, "main");
    nml_fbb_start_table(b);
    nml_fbb_add_ref(b, NML_TFL_SUBGRAPH_TENSORS, tensors);
    nml_fbb_add_ref(b, NML_TFL_SUBGRAPH_INPUTS, inputs);
    nml_fbb_add_ref(b, NML_TFL_SUBGRAPH_OUTPUTS, outputs);
    nml_fbb_add_ref(b, NML_TFL_SUBGRAPH_OPERATORS, operators);
    nml_fbb_add_ref(b, NML_TFL_SUBGRAPH_NAME, name);
    nml_fbb_ref sg = nml_fbb_end_table(b);
    return nml_fbb_vector_refs(b, &sg, 1);
}

/* ---- metadata and signature ---- */

static nml_fbb_ref write_metadata(writer *w) {
    const nml_ir *ir = w->ir;
    if (ir->n_metadata == 0) return 0;
    for (int m = 0; m < ir->n_metadata; m++) {
        nml_fbb_ref name = nml_fbb_string(&w->b, ir->metadata[m].name);
        nml_fbb_start_table(&w->b);
        nml_fbb_add_ref(&w->b, NML_TFL_METADATA_NAME, name);
        nml_fbb_add_u32(&w->b, NML_TFL_METADATA_BUFFER, w->metadata_buffer[m], 0);
        w->scratch[m] = nml_fbb_end_table(&w->b);
    }
    return nml_fbb_vector_refs(&w->b, w->scratch, (size_t)ir->n_metadata);
}

/* TensorMaps naming graph inputs or outputs by their tensor names. */
static nml_fbb_ref write_tensor_maps(writer *w, const int32_t *idx, int n) {
    for (int k = 0; k < n; k++) {
        nml_fbb_ref name = nml_fbb_string(&w->b, w->ir->tensors[idx[k]].name);
        nml_fbb_start_table(&w->b);
        nml_fbb_add_ref(&w->b, NML_TFL_TENSORMAP_NAME, name);
        nml_fbb_add_u32(&w->b, NML_TFL_TENSORMAP_TENSOR_INDEX, (uint32_t)idx[k], 0);
        w->scratch[k] = nml_fbb_end_table(&w->b);
    }
    return nml_fbb_vector_refs(&w->b, w->scratch, (size_t)n);
}

/* The "serving_default" signature over subgraph 0, which runtimes such as LiteRT use to name
 * and order the model's inputs and outputs. */
static nml_fbb_ref write_signatures(writer *w) {
    nml_fbb_ref inputs = write_tensor_maps(w, w->ir->inputs, w->ir->n_inputs);
    nml_fbb_ref outputs = write_tensor_maps(w, w->ir->outputs, w->ir->n_outputs);
    nml_fbb_ref key = nml_fbb_string(&w->b, "serving_default");
    nml_fbb_start_table(&w->b);
    nml_fbb_add_ref(&w->b, NML_TFL_SIGDEF_INPUTS, inputs);
    nml_fbb_add_ref(&w->b, NML_TFL_SIGDEF_OUTPUTS, outputs);
    nml_fbb_add_ref(&w->b, NML_TFL_SIGDEF_SIGNATURE_KEY, key);
    nml_fbb_add_u32(&w->b, NML_TFL_SIGDEF_SUBGRAPH_INDEX, 0, 0);
    nml_fbb_ref sig = nml_fbb_end_table(&w->b);
    return nml_fbb_vector_refs(&w->b, &sig, 1);
}

static nml_status serialize(writer *w, uint8_t **out, size_t *size, nml_error *err) {
    nml_fbb *b = &w->b;
    assign_opcodes(w);
    nml_fbb_ref buffers = write_buffers(w);
    nml_fbb_ref subgraphs = write_subgraph(w);
    nml_fbb_ref opcodes = write_opcodes(w);
    nml_fbb_ref metadata = write_metadata(w);
    nml_fbb_ref signatures = write_signatures(w);
    nml_fbb_ref description = nml_fbb_string(b, w->ir->description ? w->ir->description : "nanoml");
    nml_fbb_start_table(b);
    nml_fbb_add_u32(b, NML_TFL_MODEL_VERSION, NML_TFL_SCHEMA_VERSION, 0);
    nml_fbb_add_ref(b, NML_TFL_MODEL_OPERATOR_CODES, opcodes);
    nml_fbb_add_ref(b, NML_TFL_MODEL_SUBGRAPHS, subgraphs);
    nml_fbb_add_ref(b, NML_TFL_MODEL_DESCRIPTION, description);
    nml_fbb_add_ref(b, NML_TFL_MODEL_BUFFERS, buffers);
    nml_fbb_add_ref(b, NML_TFL_MODEL_METADATA, metadata);
    nml_fbb_add_ref(b, NML_TFL_MODEL_SIGNATURE_DEFS, signatures);
    nml_fbb_ref model = nml_fbb_end_table(b);
    if (nml_fbb_finish(b, model, NML_TFL_IDENTIFIER, out, size, err) != NML_OK)
        return nml_error_prefix(err, "tflite writer: ");
    return NML_OK;
}

/* What nanoml's reader (nml_model_load) refuses is not written: a converter must not hand out
 * a model the runtime cannot load (a chain of 9,000 ONNX convolutions imported into 27,001
 * tensors and was written). */
static nml_status check_reader_limits(const nml_ir *ir, nml_error *err) {
    if (ir->n_tensors > NML_MAX_TENSORS)
        return nml_fail(err, NML_E_LIMIT, "%d tensors exceed the limit of %d", ir->n_tensors,
                        NML_MAX_TENSORS);
    if (ir->n_ops > NML_MAX_OPERATORS)
        return nml_fail(err, NML_E_LIMIT, "%d operators exceed the limit of %d", ir->n_ops,
                        NML_MAX_OPERATORS);
    return NML_OK;
}

nml_status nml_ir_to_tflite(const nml_ir *ir, uint8_t **out, size_t *size, nml_error *err) {
    *out = NULL;
    *size = 0;
    if (check_reader_limits(ir, err) != NML_OK || nml_ir_validate(ir, err) != NML_OK)
        return nml_error_prefix(err, "tflite writer: ");
    writer w;
    nml_status st = writer_alloc(&w, ir, err);
    if (st == NML_OK) st = serialize(&w, out, size, err);
    writer_free(&w);
    return st;
}
