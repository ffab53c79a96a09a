/* Packed weights (internal to the runtime, shared with the host packer): the record a packed
 * constant tensor carries in QuantizationParameters.details (CustomQuantization) and the
 * decoders the kernels use. Byte layouts: docs/packed-weights.md.
 *
 * A packed tensor keeps its logical type (int8 or int4), shape and quantization; its buffer
 * holds, back to back: the cluster tables (int8), the positions of the stored elements (a
 * bitmask or a stream of uint8 gaps) and the stored values (1, 2, 4 or 8-bit fields, low bits
 * first, raw values or table indices). Elements are seen as rows along the output-channel axis
 * (axis 0 for CONV_2D and FULLY_CONNECTED filters, the last axis for DEPTHWISE_CONV_2D), so a
 * kernel decodes one output channel at a time into its scratch.
 *
 * Verification is split so that loading stays linear and interpreter init stays cheap:
 * nml_packed_parse checks the header against the tensor and the buffer (constant time, done for
 * every tensor read); nml_packed_verify walks the data once (bitmask popcount, index ranges,
 * the gap stream) and is run by nml_model_load. Whatever passed both decodes without any
 * further check. */
#ifndef NANOML_RUNTIME_PACKED_H
#define NANOML_RUNTIME_PACKED_H

#include <stdint.h>

#include "nanoml/runtime.h"
#include "nanoml/status.h"

#define NML_PACK_MAGIC "NMLP"
#define NML_PACK_VERSION 1
#define NML_PACK_HEADER_BYTES 32
/* Union type of QuantizationDetails that holds a CustomQuantization table. */
#define NML_PACK_DETAILS_TYPE 1
/* The longest row the sparse decoders index with 16 bits. */
#define NML_PACK_MAX_SPARSE_ROW 65535u

enum nml_pack_positions {
    NML_PACK_POS_ALL = 0,     /* every element stored (clustered only) */
    NML_PACK_POS_BITMASK = 1, /* one bit per element, 1 = stored */
    NML_PACK_POS_GAPS = 2,    /* 8-bit gaps between stored elements, 0 = skip 255 */
    NML_PACK_POS_GAPS4 = 3    /* 4-bit gaps (two per byte, low first), 0 = skip 15 */
};

enum nml_pack_flags {
    NML_PACK_CLUSTERED = 1, /* values are indices into a table of int8 values */
    NML_PACK_ROW_TABLES = 2 /* one table per row (else one for the whole tensor) */
};

typedef struct nml_packed {
    uint8_t positions;   /* enum nml_pack_positions */
    uint8_t value_bits;  /* 1, 2, 4 or 8 */
    uint8_t flags;       /* enum nml_pack_flags */
    uint8_t row_axis;    /* 0 or rank - 1 */
    uint32_t table_size; /* entries per table (clustered), else 0 */
    uint32_t rows, row_len;
    uint32_t stored; /* number of value fields */
    uint32_t steps;  /* gaps (POS_GAPS, POS_GAPS4: bytes, nibbles), else 0 */
    uint32_t data_bytes;
    int is_int4;          /* logical type int4: raw values are signed 4-bit */
    const int8_t *tables; /* n_tables * table_size, or NULL */
    const uint8_t *pos;   /* bitmask or gaps, or NULL */
    const uint8_t *values;
} nml_packed;

/* Defined in packed_verify.c (which references packed.c). The runtime's own calls into packed.c
 * are weak references (packed_weak.h), which do not make a static link (an archive such as
 * libnanoml_runtime.a, or the firmware's) take packed.c; code that must run packed weights
 * references this instead, through NML_LINK_PACKED_WEIGHTS: the export of a model with packed
 * tensors, and nml_ops_all(). A runtime linked without it refuses packed tensors at load. */
extern const uint8_t nml_packed_support;
#define NML_LINK_PACKED_WEIGHTS(name) const uint8_t *const name = &nml_packed_support

/* 1 when the record starts with NML_PACK_MAGIC. Inline: the loader recognises a packed record
 * without referencing packed.c, which it reaches only through weak references (model.c). */
static inline int nml_packed_magic(const uint8_t *record, uint32_t record_bytes) {
    return record && record_bytes >= 4 && record[0] == (uint8_t)NML_PACK_MAGIC[0] &&
           record[1] == (uint8_t)NML_PACK_MAGIC[1] && record[2] == (uint8_t)NML_PACK_MAGIC[2] &&
           record[3] == (uint8_t)NML_PACK_MAGIC[3];
}

/* Bytes of each section for a header; 0 on overflow or invalid fields. */
uint32_t nml_packed_tables_bytes(const nml_packed *p);
uint32_t nml_packed_positions_bytes(const nml_packed *p);
uint32_t nml_packed_values_bytes(const nml_packed *p);

/* Reads the record (record_bytes long) of a tensor of the given type (nml_dtype), rank and
 * dims whose buffer holds data_bytes at data, and checks every header field against them: magic
 * and version, type int8/int4, axis, rows x row_len = element count, field widths, table size,
 * counts, and that the sections add up to exactly data_bytes. Constant time. */
nml_status nml_packed_parse(const uint8_t *record, uint32_t record_bytes, int type, int rank,
                            const int32_t *dims, const uint8_t *data, uint32_t data_bytes,
                            nml_packed *p, nml_error *err);

/* Walks the data of a parsed record once: bitmask popcount = stored values and no bits past
 * the last element; gaps stay inside the tensor, end with a stored element and store exactly
 * `stored` values; every table index < table_size; int4 tables hold values in [-8, 7]. */
nml_status nml_packed_verify(const nml_packed *p, nml_error *err);

/* Sequential decoding, one row after the other (rows must be taken in order). */
typedef struct nml_packed_cursor {
    uint32_t row;   /* next row */
    uint32_t value; /* next value field */
    uint32_t step;  /* next gap (gap codings) */
    uint32_t at;    /* element index after the last stored one (gap codings) */
} nml_packed_cursor;

void nml_packed_begin(nml_packed_cursor *c);
/* The next row as row_len int8 values (zeros where nothing is stored). */
void nml_packed_next_dense(const nml_packed *p, nml_packed_cursor *c, int8_t *row);
/* The next row's stored elements: their positions inside the row (ascending) and values;
 * returns their count. Sparse codings store only non-zero weights; a row that stores every
 * element lists them all (a value may then be 0). Needs row_len <= NML_PACK_MAX_SPARSE_ROW. */
uint32_t nml_packed_next_sparse(const nml_packed *p, nml_packed_cursor *c, uint16_t *index,
                                int8_t *value);

/* Element index inside the dense tensor of element j of row r. */
static inline uint32_t nml_packed_dense_index(const nml_packed *p, uint32_t r, uint32_t j) {
    return p->row_axis == 0 ? r * p->row_len + j : j * p->rows + r;
}

/* ---- the loader's checks (packed_verify.c, which also defines nml_packed_support and so
 * comes into a static link exactly when packed.c does) ---- */

/* The rest of a packed tensor's reading (t has its shape, type and record): a constant whose
 * buffer (data_bytes at data) holds the encoding the record describes; the header checks. */
nml_status nml_packed_read_tensor(nml_tensor *t, uint8_t is_variable, const uint8_t *data,
                                  uint32_t data_bytes, nml_error *err);
/* The data walk of the packed tensor t (tensor index i); errors say "tensor i: packed weights". */
nml_status nml_packed_verify_tensor(const nml_tensor *t, uint32_t i, nml_error *err);
/* Subgraph inputs and outputs hold no packed weights. */
nml_status nml_packed_check_io(const nml_model *m, nml_error *err);
/* Operator i (op) reads packed weights only as the filter of CONV_2D, DEPTHWISE_CONV_2D or
 * FULLY_CONNECTED, packed along its output channels. */
nml_status nml_packed_check_use(const nml_model *m, uint32_t i, const nml_model_op *op,
                                nml_error *err);

#endif
