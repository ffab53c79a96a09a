/* Packed weights: record parsing, one-pass verification and the row decoders (packed.h). */
#include "packed.h"

#include <string.h>

#include "nanoml/types.h"

enum {
    HDR_MAGIC = 0,
    HDR_VERSION = 4,
    HDR_POSITIONS = 5,
    HDR_VALUE_BITS = 6,
    HDR_FLAGS = 7,
    HDR_ROW_AXIS = 8,
    HDR_RESERVED = 9,
    HDR_TABLE_SIZE = 10, /* u16 */
    HDR_ROWS = 12,       /* u32 ... */
    HDR_ROW_LEN = 16,
    HDR_STORED = 20,
    HDR_STEPS = 24,
    HDR_DATA_BYTES = 28
};

static uint32_t load_u16(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8;
}

static uint32_t load_u32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* log2 of the value fields per byte: 8-bit 0, 4-bit 1, 2-bit 2, 1-bit 3 */
static uint32_t fields_per_byte_log2(uint32_t bits) {
    return bits == 8 ? 0 : bits == 4 ? 1 : bits == 2 ? 2 : 3;
}

/* Value field k (bits wide, low bits of each byte first). Shifts only: no k * bits overflow. */
static inline uint32_t field_at(const uint8_t *v, uint32_t k, uint32_t bits) {
    const uint32_t lg = fields_per_byte_log2(bits);
    const uint32_t shift = (k & ((1u << lg) - 1u)) << (3u - lg);
    return ((uint32_t)v[k >> lg] >> shift) & ((1u << bits) - 1u);
}

static uint64_t element_count(const nml_packed *p) {
    return (uint64_t)p->rows * p->row_len;
}

static uint32_t n_tables(const nml_packed *p) {
    if (!(p->flags & NML_PACK_CLUSTERED)) return 0;
    return (p->flags & NML_PACK_ROW_TABLES) ? p->rows : 1;
}

static uint32_t clamp_u32(uint64_t x) {
    return x > UINT32_MAX ? 0 : (uint32_t)x;
}

uint32_t nml_packed_tables_bytes(const nml_packed *p) {
    return clamp_u32((uint64_t)n_tables(p) * p->table_size);
}

static int is_gaps(uint32_t positions) {
    return positions == NML_PACK_POS_GAPS || positions == NML_PACK_POS_GAPS4;
}

static uint64_t positions_bytes(const nml_packed *p) {
    switch (p->positions) {
    case NML_PACK_POS_BITMASK:
        return (element_count(p) + 7) / 8;
    case NML_PACK_POS_GAPS:
        return p->steps;
    case NML_PACK_POS_GAPS4:
        return ((uint64_t)p->steps + 1) / 2;
    default:
        return 0;
    }
}

uint32_t nml_packed_positions_bytes(const nml_packed *p) {
    return clamp_u32(positions_bytes(p));
}

/* Gap s of a gap coding, and how far its 0 skips. */
static inline uint32_t gap_at(const uint8_t *pos, uint32_t s, int nibbles) {
    return nibbles ? (pos[s >> 1] >> ((s & 1u) << 2)) & 0x0fu : pos[s];
}

uint32_t nml_packed_values_bytes(const nml_packed *p) {
    return clamp_u32(((uint64_t)p->stored * p->value_bits + 7) / 8);
}

/* ---- header ---- */

static nml_status parse_shape(nml_packed *p, int rank, const int32_t *dims, nml_error *err) {
    if (rank < 1) return nml_fail(err, NML_E_FORMAT, "a scalar cannot be packed");
    if (p->row_axis != 0 && p->row_axis != rank - 1)
        return nml_fail(err, NML_E_FORMAT, "row axis %u is neither 0 nor the last axis (%d)",
                        (unsigned)p->row_axis, rank - 1);
    uint64_t count = 1;
    for (int i = 0; i < rank; i++)
        count *= (uint64_t)(dims[i] < 0 ? 0 : dims[i]); /* dims < 2^31, count <= 2^32 checked */
    if (count == 0 || count > UINT32_MAX)
        return nml_fail(err, NML_E_FORMAT, "tensor has %llu elements", (unsigned long long)count);
    if (p->rows != (uint32_t)dims[p->row_axis] || element_count(p) != count)
        return nml_fail(err, NML_E_FORMAT,
                        "%lu rows of %lu elements do not match the shape (%llu elements, %d "
                        "along axis %u)",
                        (unsigned long)p->rows, (unsigned long)p->row_len,
                        (unsigned long long)count, (int)dims[p->row_axis], (unsigned)p->row_axis);
    return NML_OK;
}

static nml_status parse_values(nml_packed *p, nml_error *err) {
    const uint32_t b = p->value_bits;
    if (b != 1 && b != 2 && b != 4 && b != 8)
        return nml_fail(err, NML_E_FORMAT, "value width %u bits (1, 2, 4 or 8 expected)",
                        (unsigned)b);
    if (p->flags & ~(uint32_t)(NML_PACK_CLUSTERED | NML_PACK_ROW_TABLES))
        return nml_fail(err, NML_E_FORMAT, "unknown flags 0x%x", (unsigned)p->flags);
    if (p->flags & NML_PACK_CLUSTERED) {
        if (b == 8) return nml_fail(err, NML_E_FORMAT, "cluster indices are 1, 2 or 4 bits, not 8");
        if (p->table_size < 1 || p->table_size > (1u << b))
            return nml_fail(err, NML_E_FORMAT, "table of %lu entries for %u-bit indices",
                            (unsigned long)p->table_size, (unsigned)b);
        return NML_OK;
    }
    if (p->flags & NML_PACK_ROW_TABLES)
        return nml_fail(err, NML_E_FORMAT, "per-row tables without clustering");
    if (p->table_size != 0)
        return nml_fail(err, NML_E_FORMAT, "table of %lu entries without clustering",
                        (unsigned long)p->table_size);
    const uint32_t raw = p->is_int4 ? 4 : 8;
    if (b != raw)
        return nml_fail(err, NML_E_FORMAT, "raw %s values stored in %u bits (expected %u)",
                        p->is_int4 ? "int4" : "int8", (unsigned)b, (unsigned)raw);
    return NML_OK;
}

static nml_status parse_positions(nml_packed *p, nml_error *err) {
    const uint64_t count = element_count(p);
    switch (p->positions) {
    case NML_PACK_POS_ALL:
        if (!(p->flags & NML_PACK_CLUSTERED))
            return nml_fail(err, NML_E_FORMAT, "dense raw values: nothing is packed");
        if (p->stored != count)
            return nml_fail(err, NML_E_FORMAT, "%lu values stored for %llu elements",
                            (unsigned long)p->stored, (unsigned long long)count);
        break;
    case NML_PACK_POS_BITMASK:
    case NML_PACK_POS_GAPS:
    case NML_PACK_POS_GAPS4:
        if (p->stored > count)
            return nml_fail(err, NML_E_FORMAT, "%lu values stored for %llu elements",
                            (unsigned long)p->stored, (unsigned long long)count);
        if (is_gaps(p->positions) && p->steps < p->stored)
            return nml_fail(err, NML_E_FORMAT, "%lu gaps for %lu stored values",
                            (unsigned long)p->steps, (unsigned long)p->stored);
        break;
    default:
        return nml_fail(err, NML_E_FORMAT, "unknown position coding %u", (unsigned)p->positions);
    }
    if (!is_gaps(p->positions) && p->steps != 0)
        return nml_fail(err, NML_E_FORMAT, "%lu gaps without gap coding", (unsigned long)p->steps);
    return NML_OK;
}

static nml_status parse_sections(nml_packed *p, const uint8_t *data, uint32_t data_bytes,
                                 nml_error *err) {
    const uint64_t tables = (uint64_t)n_tables(p) * p->table_size;
    const uint64_t positions = positions_bytes(p);
    const uint64_t values = ((uint64_t)p->stored * p->value_bits + 7) / 8;
    const uint64_t total = tables + positions + values;
    if (p->data_bytes != data_bytes)
        return nml_fail(err, NML_E_FORMAT, "record says %lu data bytes, the buffer holds %lu",
                        (unsigned long)p->data_bytes, (unsigned long)data_bytes);
    if (total != data_bytes)
        return nml_fail(err, NML_E_FORMAT,
                        "sections need %llu bytes (tables %llu, positions %llu, values %llu), "
                        "the buffer holds %lu",
                        (unsigned long long)total, (unsigned long long)tables,
                        (unsigned long long)positions, (unsigned long long)values,
                        (unsigned long)data_bytes);
    if (data_bytes == 0 || !data) return nml_fail(err, NML_E_FORMAT, "no packed data");
    p->tables = tables ? (const int8_t *)data : NULL;
    p->pos = positions ? data + tables : NULL;
    p->values = data + tables + positions;
    return NML_OK;
}

nml_status nml_packed_parse(const uint8_t *record, uint32_t record_bytes, int type, int rank,
                            const int32_t *dims, const uint8_t *data, uint32_t data_bytes,
                            nml_packed *p, nml_error *err) {
    memset(p, 0, sizeof *p);
    if (!record || record_bytes < NML_PACK_HEADER_BYTES)
        return nml_fail(err, NML_E_FORMAT, "record of %lu bytes is shorter than its %d-byte header",
                        (unsigned long)record_bytes, NML_PACK_HEADER_BYTES);
    if (!nml_packed_magic(record, record_bytes))
        return nml_fail(err, NML_E_FORMAT, "record does not start with \"%s\"", NML_PACK_MAGIC);
    if (record[HDR_VERSION] != NML_PACK_VERSION)
        return nml_fail(err, NML_E_UNSUPPORTED, "record version %u (this runtime reads %d)",
                        (unsigned)record[HDR_VERSION], NML_PACK_VERSION);
    if (type != NML_INT8 && type != NML_INT4)
        return nml_fail(err, NML_E_FORMAT, "type %s cannot be packed (int8, int4 can)",
                        nml_dtype_name(type));
    if (record[HDR_RESERVED] != 0)
        return nml_fail(err, NML_E_FORMAT, "reserved header byte is %u, not 0",
                        (unsigned)record[HDR_RESERVED]);
    p->positions = record[HDR_POSITIONS];
    p->value_bits = record[HDR_VALUE_BITS];
    p->flags = record[HDR_FLAGS];
    p->row_axis = record[HDR_ROW_AXIS];
    p->table_size = load_u16(record + HDR_TABLE_SIZE);
    p->rows = load_u32(record + HDR_ROWS);
    p->row_len = load_u32(record + HDR_ROW_LEN);
    p->stored = load_u32(record + HDR_STORED);
    p->steps = load_u32(record + HDR_STEPS);
    p->data_bytes = load_u32(record + HDR_DATA_BYTES);
    p->is_int4 = type == NML_INT4;
    NML_TRY(parse_shape(p, rank, dims, err));
    NML_TRY(parse_values(p, err));
    NML_TRY(parse_positions(p, err));
    return parse_sections(p, data, data_bytes, err);
}

/* ---- one pass over the data ---- */

static uint32_t popcount8(uint32_t b) {
    b = b - ((b >> 1) & 0x55u);
    b = (b & 0x33u) + ((b >> 2) & 0x33u);
    return (b + (b >> 4)) & 0x0fu;
}

static nml_status verify_bitmask(const nml_packed *p, nml_error *err) {
    const uint32_t count = (uint32_t)element_count(p);
    const uint32_t full = count / 8, tail = count % 8;
    uint64_t ones = 0;
    for (uint32_t i = 0; i < full; i++)
        ones += popcount8(p->pos[i]);
    if (tail) {
        const uint32_t last = p->pos[full];
        if (last >> tail)
            return nml_fail(err, NML_E_FORMAT, "bitmask has bits set past element %lu",
                            (unsigned long)count);
        ones += popcount8(last);
    }
    if (ones != p->stored)
        return nml_fail(err, NML_E_FORMAT, "bitmask marks %llu elements, %lu values are stored",
                        (unsigned long long)ones, (unsigned long)p->stored);
    return NML_OK;
}

static nml_status verify_gaps(const nml_packed *p, nml_error *err) {
    const int nibbles = p->positions == NML_PACK_POS_GAPS4;
    const uint32_t skip = nibbles ? 15 : 255;
    const uint64_t count = element_count(p);
    uint64_t at = 0, values = 0; /* at: first element a gap can reach */
    for (uint32_t s = 0; s < p->steps; s++) {
        const uint32_t g = gap_at(p->pos, s, nibbles);
        if (g == 0) {
            at += skip;
            if (s + 1 == p->steps)
                return nml_fail(err, NML_E_FORMAT, "gap stream ends with a skip (gap %lu)",
                                (unsigned long)s);
            if (at >= count)
                return nml_fail(err, NML_E_FORMAT, "gap %lu skips past element %llu",
                                (unsigned long)s, (unsigned long long)count);
            continue;
        }
        at += g - 1;
        if (at >= count)
            return nml_fail(err, NML_E_FORMAT,
                            "gap %lu reaches element %llu of a %llu-element tensor",
                            (unsigned long)s, (unsigned long long)at, (unsigned long long)count);
        at++;
        values++;
    }
    if (values != p->stored)
        return nml_fail(err, NML_E_FORMAT, "gaps mark %llu elements, %lu values are stored",
                        (unsigned long long)values, (unsigned long)p->stored);
    if (nibbles && (p->steps & 1u) && (p->pos[p->steps >> 1] >> 4))
        return nml_fail(err, NML_E_FORMAT, "the unused last gap nibble is not 0");
    return NML_OK;
}

static nml_status verify_values(const nml_packed *p, nml_error *err) {
    if (!(p->flags & NML_PACK_CLUSTERED)) return NML_OK;
    for (uint32_t k = 0; k < p->stored; k++) {
        const uint32_t idx = field_at(p->values, k, p->value_bits);
        if (idx >= p->table_size)
            return nml_fail(err, NML_E_FORMAT, "value %lu: index %lu >= table size %lu",
                            (unsigned long)k, (unsigned long)idx, (unsigned long)p->table_size);
    }
    if (p->is_int4) {
        const uint32_t n = nml_packed_tables_bytes(p);
        for (uint32_t i = 0; i < n; i++)
            if (p->tables[i] < -8 || p->tables[i] > 7)
                return nml_fail(err, NML_E_FORMAT, "table entry %lu is %d, outside int4",
                                (unsigned long)i, (int)p->tables[i]);
    }
    return NML_OK;
}

nml_status nml_packed_verify(const nml_packed *p, nml_error *err) {
    if (p->positions == NML_PACK_POS_BITMASK) NML_TRY(verify_bitmask(p, err));
    if (is_gaps(p->positions)) NML_TRY(verify_gaps(p, err));
    return verify_values(p, err);
}

/* ---- decoding ---- */

/* The value decoders must be specialised per field width (at -Os gcc would otherwise keep one
 * generic loop with shifts computed per element). */
#if defined(__GNUC__)
#define DECODE_INLINE static inline __attribute__((always_inline))
#else
#define DECODE_INLINE static inline
#endif

void nml_packed_begin(nml_packed_cursor *c) {
    memset(c, 0, sizeof *c);
}

static const int8_t *row_table(const nml_packed *p, uint32_t row) {
    if (!(p->flags & NML_PACK_CLUSTERED)) return NULL;
    return (p->flags & NML_PACK_ROW_TABLES) ? p->tables + row * p->table_size : p->tables;
}

/* Fields first .. first + n - 1 of `bits` bits as table entries. */
DECODE_INLINE void table_fields(const uint8_t *v, uint32_t first, uint32_t n, uint32_t bits,
                                const int8_t *table, int8_t *out) {
    const uint32_t lg = fields_per_byte_log2(bits), mask = (1u << bits) - 1u;
    const uint32_t per_byte = 1u << lg;
    uint32_t i = 0, k = first;
    for (; i < n && (k & (per_byte - 1u)); i++, k++) /* up to the next whole byte */
        out[i] = table[(v[k >> lg] >> ((k & (per_byte - 1u)) << (3u - lg))) & mask];
    const uint8_t *b = v + (k >> lg);
    if (bits == 4) { /* the common case, two per byte without a loop per field */
        for (; n - i >= 2; i += 2, k += 2, b++) {
            out[i] = table[*b & 0x0fu];
            out[i + 1] = table[*b >> 4];
        }
    } else {
        for (; n - i >= per_byte; k += per_byte, b++)
            for (uint32_t x = *b, f = 0; f < per_byte; f++, x >>= bits)
                out[i++] = table[x & mask];
    }
    for (; i < n; i++, k++) /* the last partial byte */
        out[i] = table[(v[k >> lg] >> ((k & (per_byte - 1u)) << (3u - lg))) & mask];
}

/* Raw int4 fields, sign-extended. */
DECODE_INLINE void int4_fields(const uint8_t *v, uint32_t first, uint32_t n, int8_t *out) {
    for (uint32_t i = 0, k = first; i < n; i++, k++) {
        const uint32_t f = (v[k >> 1] >> ((k & 1u) << 2)) & 0x0fu;
        out[i] = (int8_t)((int32_t)f - (int32_t)((f & 8u) << 1));
    }
}

/* n values of row `row` starting at field `first`. */
static void decode_values(const nml_packed *p, uint32_t row, uint32_t first, uint32_t n,
                          int8_t *out) {
    const int8_t *t = row_table(p, row);
    if (!t) {
        if (p->value_bits == 8)
            memcpy(out, p->values + first, n);
        else
            int4_fields(p->values, first, n, out);
        return;
    }
    switch (p->value_bits) {
    case 4:
        table_fields(p->values, first, n, 4, t, out);
        break;
    case 2:
        table_fields(p->values, first, n, 2, t, out);
        break;
    default:
        table_fields(p->values, first, n, 1, t, out);
        break;
    }
}

/* Stored positions of the bitmask row starting at element `start`. */
static uint32_t bitmask_positions(const uint8_t *pos, uint32_t start, uint32_t len, uint16_t *idx) {
    const uint8_t *bp = pos + (start >> 3);
    uint32_t bits = *bp >> (start & 7u), left = 8u - (start & 7u), m = 0;
    for (uint32_t j = 0; j < len; j++) {
        if (left == 0) { /* load the next byte only when an element needs it */
            bits = *++bp;
            left = 8;
        }
        if (bits & 1u) idx[m++] = (uint16_t)j;
        bits >>= 1;
        left--;
    }
    return m;
}

/* Stored positions of the gap-coded row [start, start + len), continuing the cursor's stream. */
DECODE_INLINE uint32_t gap_positions(const nml_packed *p, nml_packed_cursor *c, uint32_t start,
                                     uint32_t len, int nibbles, uint16_t *idx) {
    const uint32_t end = start + len, steps = p->steps, skip = nibbles ? 15u : 255u;
    const uint8_t *pos = p->pos;
    uint32_t s = c->step, at = c->at, m = 0;
    while (s < steps) {
        const uint32_t g = gap_at(pos, s, nibbles);
        if (g == 0) {
            at += skip;
            s++;
            continue;
        }
        const uint32_t e = at + g - 1;
        if (e >= end) break; /* belongs to a later row */
        idx[m++] = (uint16_t)(e - start);
        at = e + 1;
        s++;
    }
    c->step = s;
    c->at = at;
    return m;
}

static uint32_t row_positions(const nml_packed *p, nml_packed_cursor *c, uint16_t *idx) {
    const uint32_t len = p->row_len, start = c->row * len;
    switch (p->positions) {
    case NML_PACK_POS_BITMASK:
        return bitmask_positions(p->pos, start, len, idx);
    case NML_PACK_POS_GAPS:
        return gap_positions(p, c, start, len, 0, idx);
    case NML_PACK_POS_GAPS4:
        return gap_positions(p, c, start, len, 1, idx);
    default:
        for (uint32_t j = 0; j < len; j++)
            idx[j] = (uint16_t)j;
        return len;
    }
}

uint32_t nml_packed_next_sparse(const nml_packed *p, nml_packed_cursor *c, uint16_t *index,
                                int8_t *value) {
    const uint32_t m = row_positions(p, c, index);
    decode_values(p, c->row, c->value, m, value);
    c->value += m;
    c->row++;
    return m;
}

/* Dense decoding of a sparse row, in windows of 64 elements so that the position lists fit on
 * the stack (host unpacking uses it; the kernels take whole-row position lists instead). */
static void scatter_row(const nml_packed *p, nml_packed_cursor *c, int8_t *row) {
    const uint32_t len = p->row_len, start = c->row * len;
    uint16_t idx[64];
    int8_t val[64];
    for (uint32_t w = 0; w < len; w += 64) {
        const uint32_t wl = len - w < 64 ? len - w : 64;
        uint32_t n;
        if (p->positions == NML_PACK_POS_BITMASK)
            n = bitmask_positions(p->pos, start + w, wl, idx);
        else
            n = gap_positions(p, c, start + w, wl, p->positions == NML_PACK_POS_GAPS4, idx);
        decode_values(p, c->row, c->value, n, val);
        c->value += n;
        for (uint32_t i = 0; i < n; i++)
            row[w + idx[i]] = val[i];
    }
}

void nml_packed_next_dense(const nml_packed *p, nml_packed_cursor *c, int8_t *row) {
    if (p->positions == NML_PACK_POS_ALL) {
        decode_values(p, c->row, c->value, p->row_len, row);
        c->value += p->row_len;
    } else {
        memset(row, 0, p->row_len);
        scatter_row(p, c, row);
    }
    c->row++;
}
