/* Encoders of the packed-weights formats (runtime/packed.h, docs/packed-weights.md), shared by
 * nml_pack_weights, the tests (which force each format) and the measurement tool. */
#ifndef NML_COMPRESS_PACK_INTERNAL_H
#define NML_COMPRESS_PACK_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "nanoml/status.h"
#include "runtime/packed.h"

/* A weight tensor's logical int8 values in row order (row r = output channel r). */
typedef struct nml_pack_rows {
    const int8_t *v; /* rows * row_len values */
    uint32_t rows, row_len;
    int is_int4;  /* logical type int4 (values in [-8, 7]) */
    int row_axis; /* 0, or the last axis */
} nml_pack_rows;

/* One encoding to produce. */
typedef struct nml_pack_spec {
    int positions;  /* enum nml_pack_positions */
    int clustered;  /* values are indices into tables */
    int row_tables; /* one table per row (clustered) */
} nml_pack_spec;

typedef struct nml_pack_encoded {
    uint8_t record[NML_PACK_HEADER_BYTES];
    uint8_t *data; /* malloc'd */
    size_t data_bytes;
    uint32_t table_size, value_bits, stored;
} nml_pack_encoded;

/* Encodes rows with spec. Returns NML_E_UNSUPPORTED when the spec cannot hold the values
 * (more than 16 distinct values per table, dense raw values, or an empty encoding such as a
 * gap stream of an all-zero tensor); enc is then empty. */
nml_status nml_pack_encode(const nml_pack_rows *rows, const nml_pack_spec *spec,
                           nml_pack_encoded *enc, nml_error *err);
void nml_pack_encoded_free(nml_pack_encoded *enc);

/* The logical values of a packed tensor in row order (rows * row_len entries). */
void nml_pack_decode_rows(const nml_packed *p, int8_t *rows);

/* Stable names for reports: "sparse-bitmask+clustered-16", "clustered-4/row", ... */
const char *nml_pack_encoding_name(int positions, int clustered, int row_tables,
                                   uint32_t value_bits);
int nml_pack_encoding_id(int positions, int clustered, int row_tables, uint32_t value_bits);

#endif
