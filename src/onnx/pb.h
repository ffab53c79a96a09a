/* A protobuf wire-format reader: single pass, zero copy, bounds-checked on every byte.
 *
 * A reader walks the fields of one message (a byte range). Length-delimited fields are handed
 * out as (pointer, length) ranges inside the original buffer; a nested message is read with a
 * child reader (nml_pb_sub), which tracks nesting depth so hostile input cannot recurse
 * without bound. All offsets in error messages are absolute byte offsets into the file.
 *
 * Wire types (protobuf encoding spec): 0 varint, 1 fixed64, 2 length-delimited, 5 fixed32.
 * Groups (3, 4) are deprecated and never used by ONNX: they are rejected as malformed. */
#ifndef NANOML_ONNX_PB_H
#define NANOML_ONNX_PB_H

#include <stddef.h>
#include <stdint.h>

#include "nanoml/status.h"

#define NML_PB_MAX_DEPTH 32          /* nested messages below the top-level message */
#define NML_PB_MAX_FIELD 0x1fffffffu /* field numbers are 29 bits */

enum { NML_PB_VARINT = 0, NML_PB_FIXED64 = 1, NML_PB_LEN = 2, NML_PB_FIXED32 = 5 };

typedef struct nml_pb_reader {
    const uint8_t *buf; /* the message bytes */
    size_t size;
    size_t pos;  /* next byte to read, relative to buf */
    size_t base; /* absolute file offset of buf[0], for messages */
    int depth;   /* 0 for the top-level message */
} nml_pb_reader;

typedef struct nml_pb_field {
    uint32_t number;
    int wire;
    uint64_t value;      /* VARINT: the value; FIXED64/FIXED32: the raw little-endian bits */
    const uint8_t *data; /* LEN: the payload (inside the reader's buffer) */
    size_t len;
    size_t offset;      /* absolute offset of the field's tag */
    size_t data_offset; /* LEN: absolute offset of the payload */
} nml_pb_field;

void nml_pb_init(nml_pb_reader *r, const uint8_t *buf, size_t size);

/* Reads the next field. *more is 0 (and *f untouched) at the end of the message. */
nml_status nml_pb_next(nml_pb_reader *r, nml_pb_field *f, int *more, nml_error *err);

/* Opens a LEN field as a nested message one level deeper; fails past NML_PB_MAX_DEPTH. */
nml_status nml_pb_sub(const nml_pb_reader *parent, const nml_pb_field *f, nml_pb_reader *child,
                      nml_error *err);

/* Decodes one varint at buf[*pos] (size bytes in all); advances *pos. base is the absolute
 * offset of buf[0]. Rejects truncated varints, more than 10 bytes and values above 2^64-1. */
nml_status nml_pb_varint(const uint8_t *buf, size_t size, size_t *pos, size_t base, uint64_t *value,
                         nml_error *err);

/* Field-type helpers: check the wire type and convert, naming the field on error. */
nml_status nml_pb_as_int64(const nml_pb_field *f, const char *what, int64_t *v, nml_error *err);
nml_status nml_pb_as_int32(const nml_pb_field *f, const char *what, int32_t *v, nml_error *err);
nml_status nml_pb_as_float(const nml_pb_field *f, const char *what, float *v, nml_error *err);
nml_status nml_pb_as_bytes(const nml_pb_field *f, const char *what, nml_error *err);

/* Repeated scalar fields arrive either packed (one LEN field) or one element per field.
 * These append the field's elements to a growable array (*items, *count, *cap; malloc'd). */
nml_status nml_pb_append_int64s(const nml_pb_field *f, const char *what, int64_t **items,
                                size_t *count, size_t *cap, nml_error *err);
nml_status nml_pb_append_floats(const nml_pb_field *f, const char *what, float **items,
                                size_t *count, size_t *cap, nml_error *err);
nml_status nml_pb_append_doubles(const nml_pb_field *f, const char *what, double **items,
                                 size_t *count, size_t *cap, nml_error *err);

/* Grows a malloc'd array so that it holds at least need elements of elem bytes. */
nml_status nml_pb_grow(void **items, size_t *cap, size_t need, size_t elem, nml_error *err);

#endif
