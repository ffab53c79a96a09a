/* Building small .tflite flatbuffers in tests (planner graphs, malformed models), written from
 * the schema: a back-to-front flatbuffer builder (fbb_*) and a TFLite model description on top
 * (tb_*). Positions returned by fbb_* count bytes from the end of the finished buffer, as in
 * the flatbuffers library. */
#ifndef NML_TFL_BUILDER_H
#define NML_TFL_BUILDER_H

#include <stddef.h>
#include <stdint.h>

typedef struct fbb {
    uint8_t *buf; /* the data occupies buf[cap - used, cap) */
    size_t cap, used;
} fbb;

typedef struct fbb_field {
    int id;
    int size;      /* 1, 2, 4 or 8; offsets are 4 */
    int is_offset; /* value is the position of a table, vector or string */
    uint64_t value;
} fbb_field;

void fbb_init(fbb *b);
void fbb_free(fbb *b);
/* A vector of count elements of elem bytes whose data starts at an absolute offset congruent
 * to `phase` modulo 16 (phase 0: 16-byte aligned). */
uint32_t fbb_vector(fbb *b, const void *elems, uint32_t count, uint32_t elem, uint32_t phase);
uint32_t fbb_string(fbb *b, const char *s);
uint32_t fbb_offsets(fbb *b, const uint32_t *targets, uint32_t count);
uint32_t fbb_table(fbb *b, const fbb_field *fields, int n);
/* Root offset and identifier (NULL: none); returns a 16-byte aligned malloc'd copy. */
uint8_t *fbb_finish(fbb *b, uint32_t root, const char *ident, size_t *size);

#define TB_MAX_TENSORS 160
#define TB_MAX_OPS 96
#define TB_MAX_IO 20

typedef struct tb_tensor {
    int type, rank;
    int32_t dims[8];
    uint32_t buffer;
    const char *name;
    int n_q, q_dim, has_quant, is_variable;
    const float *scales;
    const int64_t *zero_points;
    /* QuantizationParameters.details: union type (0 none) and, for type 1
     * (CustomQuantization), its custom bytes */
    uint8_t details_type;
    const uint8_t *details;
    uint32_t details_bytes;
} tb_tensor;

typedef struct tb_op {
    uint32_t opcode;
    int n_in, n_out;
    int32_t in[TB_MAX_IO], out[TB_MAX_IO];
    uint8_t opt_type; /* BuiltinOptions union type; 0 none */
    int n_opt;
    fbb_field opt[8]; /* scalar fields of the options table */
    int vec_id;       /* an int-vector field of the options table, -1 none */
    int n_vec;
    int32_t vec[8];
} tb_op;

typedef struct tb_model {
    uint32_t version;
    int n_opcodes;
    int32_t opcodes[16];
    int n_buffers;
    const void *buf_data[TB_MAX_TENSORS];
    uint32_t buf_size[TB_MAX_TENSORS];
    uint32_t buf_phase[TB_MAX_TENSORS];    /* data offset modulo 16 (0 = aligned) */
    uint64_t buf_offset[TB_MAX_TENSORS];   /* Buffer.offset field, 0 = absent */
    uint64_t buf_ext_size[TB_MAX_TENSORS]; /* Buffer.size field, 0 = absent */
    int n_tensors;
    tb_tensor tensors[TB_MAX_TENSORS];
    int n_ops;
    tb_op ops[TB_MAX_OPS];
    int n_inputs, n_outputs;
    int32_t inputs[8], outputs[8];
} tb_model;

/* calloc'd, version 3, buffer 0 empty. free() it. */
tb_model *tb_new(void);
/* tb_new with ADD(in0, in1) -> out, all int8 1x4, as the model's inputs and output (tensors
 * 0, 1, 2; operator 0): the smallest valid model, to add to. */
tb_model *tb_new_add_int8(void);
int tb_buffer(tb_model *m, const void *data, uint32_t size);
int tb_add_tensor(tb_model *m, int type, int rank, const int32_t *dims, uint32_t buffer,
                  const char *name);
void tb_quant(tb_model *m, int t, int n, const float *scales, const int64_t *zero_points,
              int q_dim);
/* Quantization details of tensor t (adds a quantization table if there is none). */
void tb_details(tb_model *m, int t, uint8_t type, const uint8_t *bytes, uint32_t n);
int tb_opcode(tb_model *m, int32_t builtin);
int tb_add_op(tb_model *m, int opcode, int n_in, const int32_t *in, int n_out, const int32_t *out);
void tb_option(tb_model *m, int op, uint8_t type, int id, int size, uint64_t value);
void tb_io(tb_model *m, int n_in, const int32_t *in, int n_out, const int32_t *out);
/* Serializes (16-byte aligned, malloc'd). */
uint8_t *tb_build(const tb_model *m, size_t *size);

#endif
