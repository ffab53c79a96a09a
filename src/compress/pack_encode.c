/* Encoders of the packed-weights formats: cluster tables, bitmask or gap positions, value
 * fields (docs/packed-weights.md). */
#include <stdlib.h>
#include <string.h>

#include "compress/pack_internal.h"

#define MAX_TABLE 16

static uint32_t bits_for(uint32_t table_size) {
    return table_size <= 2 ? 1 : table_size <= 4 ? 2 : 4;
}

static void put_u16(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void put_u32(uint8_t *p, uint32_t v) {
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* Field k of `bits` bits, low bits of each byte first. */
static void put_field(uint8_t *buf, uint32_t k, uint32_t bits, uint32_t f) {
    const uint64_t bit = (uint64_t)k * bits;
    buf[bit >> 3] |= (uint8_t)(f << (bit & 7u));
}

static int is_stored(const nml_pack_spec *s, int8_t v) {
    return s->positions == NML_PACK_POS_ALL || v != 0;
}

/* The sorted distinct stored values of v[0..n) into table (at most MAX_TABLE written);
 * returns how many there are (may exceed MAX_TABLE). */
static uint32_t distinct_values(const nml_pack_spec *s, const int8_t *v, uint32_t n,
                                int8_t *table) {
    uint8_t seen[256] = {0};
    for (uint32_t i = 0; i < n; i++)
        if (is_stored(s, v[i])) seen[(uint8_t)v[i]] = 1;
    uint32_t k = 0;
    for (int x = -128; x < 128; x++)
        if (seen[(uint8_t)(int8_t)x]) {
            if (k < MAX_TABLE) table[k] = (int8_t)x;
            k++;
        }
    return k;
}

/* Cluster tables: one for the tensor or one per row, each padded to the largest size. */
static nml_status make_tables(const nml_pack_rows *r, const nml_pack_spec *s, int8_t **tables,
                              uint32_t *n_tables, uint32_t *size, nml_error *err) {
    const uint32_t nt = s->row_tables ? r->rows : 1;
    const uint32_t len = s->row_tables ? r->row_len : r->rows * r->row_len;
    int8_t *t = calloc((size_t)nt * MAX_TABLE, 1);
    uint32_t *count = calloc(nt, sizeof *count);
    if (!t || !count) {
        free(t);
        free(count);
        return nml_fail(err, NML_E_NOMEM, "pack: out of memory for tables");
    }
    uint32_t k_max = 1;
    for (uint32_t i = 0; i < nt; i++) {
        count[i] = distinct_values(s, r->v + (size_t)i * len, len, t + (size_t)i * MAX_TABLE);
        if (count[i] > k_max) k_max = count[i];
    }
    if (k_max > MAX_TABLE) {
        free(t);
        free(count);
        return nml_fail(err, NML_E_UNSUPPORTED, "%lu distinct values (a table holds %d)",
                        (unsigned long)k_max, MAX_TABLE);
    }
    /* compact to k_max entries per table; unused entries repeat the last value (or 0) */
    int8_t *out = calloc((size_t)nt * k_max, 1);
    if (!out) {
        free(t);
        free(count);
        return nml_fail(err, NML_E_NOMEM, "pack: out of memory for tables");
    }
    for (uint32_t i = 0; i < nt; i++)
        for (uint32_t k = 0; k < k_max; k++) {
            const uint32_t from = k < count[i] ? k : (count[i] ? count[i] - 1 : 0);
            out[(size_t)i * k_max + k] = count[i] ? t[(size_t)i * MAX_TABLE + from] : 0;
        }
    free(t);
    free(count);
    *tables = out;
    *n_tables = nt;
    *size = k_max;
    return NML_OK;
}

static int is_gaps(int positions) {
    return positions == NML_PACK_POS_GAPS || positions == NML_PACK_POS_GAPS4;
}

/* The largest gap a gap coding holds; a 0 gap skips this many elements. */
static uint32_t max_gap(int positions) {
    return positions == NML_PACK_POS_GAPS4 ? 15 : 255;
}

static uint32_t gap_steps(const nml_pack_rows *r, uint32_t max) {
    const uint32_t n = r->rows * r->row_len;
    uint32_t steps = 0, at = 0;
    for (uint32_t e = 0; e < n; e++) {
        if (!r->v[e]) continue;
        steps += (e - at) / max + 1; /* a gap e - at + 1 > max needs skips of max first */
        at = e + 1;
    }
    return steps;
}

static void put_gap(uint8_t *pos, uint32_t step, uint32_t gap, int nibbles) {
    if (nibbles)
        pos[step >> 1] |= (uint8_t)(gap << ((step & 1u) << 2));
    else
        pos[step] = (uint8_t)gap;
}

/* Positions and value fields, in row order. */
static void write_elements(const nml_pack_rows *r, const nml_pack_spec *s, const int8_t *tables,
                           uint32_t table_size, uint32_t bits, uint8_t *pos, uint8_t *values) {
    int16_t index_of[256];
    uint32_t k = 0, step = 0, at = 0;
    for (uint32_t row = 0; row < r->rows; row++) {
        if (s->clustered && (row == 0 || s->row_tables)) {
            const int8_t *t = tables + (s->row_tables ? (size_t)row * table_size : 0);
            for (int i = 0; i < 256; i++)
                index_of[i] = -1;
            for (uint32_t i = table_size; i-- > 0;)
                index_of[(uint8_t)t[i]] = (int16_t)i; /* padding repeats: first entry wins */
        }
        for (uint32_t j = 0; j < r->row_len; j++) {
            const uint32_t e = row * r->row_len + j;
            const int8_t v = r->v[e];
            if (!is_stored(s, v)) continue;
            if (s->positions == NML_PACK_POS_BITMASK) pos[e >> 3] |= (uint8_t)(1u << (e & 7u));
            if (is_gaps(s->positions)) {
                const uint32_t max = max_gap(s->positions);
                const int nibbles = s->positions == NML_PACK_POS_GAPS4;
                uint32_t gap = e - at + 1;
                for (; gap > max; gap -= max)
                    put_gap(pos, step++, 0, nibbles);
                put_gap(pos, step++, gap, nibbles);
                at = e + 1;
            }
            const uint32_t f = s->clustered ? (uint32_t)index_of[(uint8_t)v]
                                            : (uint32_t)(uint8_t)v & ((1u << bits) - 1u);
            put_field(values, k++, bits, f);
        }
    }
}

static void write_record(const nml_pack_rows *r, const nml_pack_spec *s, uint32_t table_size,
                         uint32_t steps, nml_pack_encoded *enc) {
    uint8_t *h = enc->record;
    memset(h, 0, NML_PACK_HEADER_BYTES);
    memcpy(h, NML_PACK_MAGIC, 4);
    h[4] = NML_PACK_VERSION;
    h[5] = (uint8_t)s->positions;
    h[6] = (uint8_t)enc->value_bits;
    h[7] = (uint8_t)((s->clustered ? NML_PACK_CLUSTERED : 0) |
                     (s->clustered && s->row_tables ? NML_PACK_ROW_TABLES : 0));
    h[8] = (uint8_t)r->row_axis;
    put_u16(h + 10, table_size);
    put_u32(h + 12, r->rows);
    put_u32(h + 16, r->row_len);
    put_u32(h + 20, enc->stored);
    put_u32(h + 24, steps);
    put_u32(h + 28, (uint32_t)enc->data_bytes);
}

nml_status nml_pack_encode(const nml_pack_rows *r, const nml_pack_spec *s, nml_pack_encoded *enc,
                           nml_error *err) {
    memset(enc, 0, sizeof *enc);
    const uint64_t n = (uint64_t)r->rows * r->row_len;
    if (n == 0 || n > UINT32_MAX / 2)
        return nml_fail(err, NML_E_LIMIT, "pack: %llu elements", (unsigned long long)n);
    if (!s->clustered && s->positions == NML_PACK_POS_ALL)
        return nml_fail(err, NML_E_UNSUPPORTED, "pack: dense raw values are not an encoding");
    uint32_t stored = 0;
    for (uint32_t e = 0; e < n; e++)
        stored += is_stored(s, r->v[e]);
    int8_t *tables = NULL;
    uint32_t n_tables = 0, table_size = 0, bits = r->is_int4 ? 4 : 8;
    if (s->clustered) {
        NML_TRY(make_tables(r, s, &tables, &n_tables, &table_size, err));
        bits = bits_for(table_size);
    }
    const uint32_t steps = is_gaps(s->positions) ? gap_steps(r, max_gap(s->positions)) : 0;
    const size_t tables_bytes = (size_t)n_tables * table_size;
    const size_t pos_bytes = s->positions == NML_PACK_POS_BITMASK ? (size_t)(n + 7) / 8
                             : s->positions == NML_PACK_POS_GAPS  ? steps
                             : s->positions == NML_PACK_POS_GAPS4 ? ((size_t)steps + 1) / 2
                                                                  : 0;
    const size_t values_bytes = ((size_t)stored * bits + 7) / 8;
    enc->data_bytes = tables_bytes + pos_bytes + values_bytes;
    if (enc->data_bytes == 0 || enc->data_bytes > UINT32_MAX) {
        free(tables);
        enc->data_bytes = 0;
        return nml_fail(err, NML_E_UNSUPPORTED, "pack: the encoding would be empty");
    }
    enc->data = calloc(enc->data_bytes, 1);
    if (!enc->data) {
        free(tables);
        return nml_fail(err, NML_E_NOMEM, "pack: out of memory (%zu bytes)", enc->data_bytes);
    }
    if (tables_bytes) memcpy(enc->data, tables, tables_bytes);
    write_elements(r, s, tables, table_size, bits, enc->data + tables_bytes,
                   enc->data + tables_bytes + pos_bytes);
    free(tables);
    enc->table_size = table_size;
    enc->value_bits = bits;
    enc->stored = stored;
    write_record(r, s, table_size, steps, enc);
    return NML_OK;
}

void nml_pack_encoded_free(nml_pack_encoded *enc) {
    free(enc->data);
    memset(enc, 0, sizeof *enc);
}

void nml_pack_decode_rows(const nml_packed *p, int8_t *rows) {
    nml_packed_cursor c;
    nml_packed_begin(&c);
    for (uint32_t r = 0; r < p->rows; r++)
        nml_packed_next_dense(p, &c, rows + (size_t)r * p->row_len);
}

/* ---- names ---- */

static const char *const names[4][3][3] = {
    /* positions ALL: raw is not an encoding */
    {{"dense", "dense", "dense"},
     {"clustered-2", "clustered-4", "clustered-16"},
     {"clustered-2/row", "clustered-4/row", "clustered-16/row"}},
    {{"sparse-bitmask", "sparse-bitmask", "sparse-bitmask"},
     {"sparse-bitmask+clustered-2", "sparse-bitmask+clustered-4", "sparse-bitmask+clustered-16"},
     {"sparse-bitmask+clustered-2/row", "sparse-bitmask+clustered-4/row",
      "sparse-bitmask+clustered-16/row"}},
    {{"sparse-gaps", "sparse-gaps", "sparse-gaps"},
     {"sparse-gaps+clustered-2", "sparse-gaps+clustered-4", "sparse-gaps+clustered-16"},
     {"sparse-gaps+clustered-2/row", "sparse-gaps+clustered-4/row",
      "sparse-gaps+clustered-16/row"}},
    {{"sparse-gaps4", "sparse-gaps4", "sparse-gaps4"},
     {"sparse-gaps4+clustered-2", "sparse-gaps4+clustered-4", "sparse-gaps4+clustered-16"},
     {"sparse-gaps4+clustered-2/row", "sparse-gaps4+clustered-4/row",
      "sparse-gaps4+clustered-16/row"}},
};

static int bits_slot(uint32_t bits) {
    return bits == 1 ? 0 : bits == 2 ? 1 : 2;
}

const char *nml_pack_encoding_name(int positions, int clustered, int row_tables,
                                   uint32_t value_bits) {
    if (positions < 0 || positions > 3) return "unknown";
    const int c = clustered ? (row_tables ? 2 : 1) : 0;
    return names[positions][c][bits_slot(value_bits)];
}

int nml_pack_encoding_id(int positions, int clustered, int row_tables, uint32_t value_bits) {
    const int c = clustered ? (row_tables ? 2 : 1) : 0;
    return positions * 9 + c * 3 + (clustered ? bits_slot(value_bits) : 0);
}
