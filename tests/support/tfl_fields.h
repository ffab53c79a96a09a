/* Structure-aware mutation of .tflite models, shared by the malformed-model corpus test and the
 * fields fuzz target. A valid model is walked once (with the runtime's bounds-checked
 * flatbuffer reader) into a catalog of the byte positions of its meaningful fields: shape
 * dimensions, types, buffer and opcode indices, operator input/output tensor indices,
 * quantization, builtin codes, option fields, vector lengths, offsets and constant data. A
 * mutation then writes a hostile but targeted value into one of them (a dimension of
 * 0x7fffffff, a tensor index of -2, another tensor's valid index so the shapes disagree, two
 * offsets swapped, ...), which reaches far deeper than random bit flips. No cmocka: the fuzz
 * target links this file too. */
#ifndef NML_TFL_FIELDS_H
#define NML_TFL_FIELDS_H

#include <stddef.h>
#include <stdint.h>

#include "nanoml/status.h"

typedef enum tfl_field_kind {
    TFL_F_DIM,           /* i32 element of a tensor shape */
    TFL_F_SHAPE_LEN,     /* u32 length of a tensor shape vector */
    TFL_F_TENSOR_TYPE,   /* i8 tensor type */
    TFL_F_TENSOR_BUFFER, /* u32 buffer index of a tensor */
    TFL_F_QUANT_SCALE,   /* f32 quantization scale */
    TFL_F_QUANT_ZERO,    /* i64 zero point */
    TFL_F_QUANT_DIM,     /* i32 quantized_dimension */
    TFL_F_OP_OPCODE,     /* u32 opcode_index of an operator */
    TFL_F_OP_INPUT,      /* i32 tensor index in an operator's inputs */
    TFL_F_OP_OUTPUT,     /* i32 tensor index in an operator's outputs */
    TFL_F_GRAPH_IO,      /* i32 tensor index in the subgraph's inputs/outputs */
    TFL_F_BUILTIN,       /* i32 OperatorCode.builtin_code */
    TFL_F_BUILTIN_OLD,   /* i8 OperatorCode.deprecated_builtin_code */
    TFL_F_OPTION,        /* a scalar field of an operator's builtin options (width 1-4) */
    TFL_F_VEC_LEN,       /* u32 element count of any vector */
    TFL_F_OFFSET,        /* u32 offset: a table/vector/string field or vector element */
    TFL_F_CONST_I32,     /* i32 element of a small constant buffer (shapes, axes, perms) */
    TFL_F_CONST_BYTE,    /* a byte of constant data (weights) */
    TFL_F_KINDS
} tfl_field_kind;

typedef struct tfl_field {
    uint32_t pos;   /* byte position in the model */
    uint8_t kind;   /* tfl_field_kind */
    uint8_t width;  /* bytes */
    uint16_t limit; /* tensors / opcodes / buffers the index refers to (capped), else 0 */
} tfl_field;

typedef struct tfl_fields {
    tfl_field *items;
    uint32_t n, cap;
    uint32_t per_kind[TFL_F_KINDS];
} tfl_fields;

/* Catalogs a model that nml_model_load accepts (16-byte aligned). */
nml_status tfl_fields_collect(const uint8_t *model, size_t size, tfl_fields *f, nml_error *err);
void tfl_fields_free(tfl_fields *f);
const char *tfl_field_kind_name(int kind);

/* Writes a hostile value, chosen by r, into field `which` of buf (a copy of the catalogued
 * model of the same size). Offsets are swapped with another offset chosen by r. */
void tfl_field_mutate(uint8_t *buf, const tfl_fields *f, uint32_t which, uint32_t r);

/* Index of the k-th (modulo their count) field of a kind, or -1 when the model has none. */
long tfl_fields_pick(const tfl_fields *f, int kind, uint32_t k);
/* Stores value (little-endian, the field's width) into the field. */
void tfl_field_set(uint8_t *buf, const tfl_field *field, uint64_t value);

#endif
