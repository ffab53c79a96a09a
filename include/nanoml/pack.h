/* Weight packing: turn the structure that pruning and clustering leave in a quantized model's
 * weights (many zeros; few distinct values per layer) into bytes the microcontroller actually
 * saves, in a form the runtime's kernels execute directly (no decompression pass, no extra RAM
 * beyond a per-node scratch row).
 *
 * The packed model stays a schema-valid .tflite: a packed weight tensor keeps its logical type,
 * shape and quantization, its buffer holds the compact encoding, and a nanoml-specific record in
 * QuantizationParameters.details (CustomQuantization) says how to read it (layout documented in
 * docs/packed-weights.md). Tools that do not know the record (LiteRT) cannot run a packed model;
 * `nml_unpack_weights` restores the standard dense form byte for byte.
 *
 * Host only. The runtime side lives in src/runtime (decoders used by the kernels). */
#ifndef NANOML_PACK_H
#define NANOML_PACK_H

#include <stddef.h>
#include <stdint.h>

#include "nanoml/ir.h"
#include "nanoml/runtime.h"
#include "nanoml/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct nml_pack_options {
    int sparse;            /* 1: encode zeros compactly where it saves bytes (default 1) */
    int clustered;         /* 1: encode few-distinct-value layers as indices + table (default 1) */
    uint32_t min_elements; /* weight tensors smaller than this stay dense (default 256) */
} nml_pack_options;

typedef struct nml_pack_layer {
    int tensor;                /* IR tensor index */
    int encoding;              /* implementation-defined id, for reports */
    const char *encoding_name; /* "dense", "sparse", "clustered-16", "sparse+clustered-16" */
    size_t dense_bytes, packed_bytes;
    double sparsity;   /* fraction of zero weights */
    uint32_t distinct; /* distinct weight values */
} nml_pack_layer;

typedef struct nml_pack_report {
    nml_pack_layer *layers; /* malloc'd; free with nml_pack_report_free */
    int n_layers;
    size_t dense_bytes, packed_bytes; /* over all weight tensors considered */
} nml_pack_report;

void nml_pack_options_default(nml_pack_options *o);

/* Re-encodes the constant weights of CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED in place,
 * choosing per tensor the smallest encoding the runtime supports (dense when nothing pays).
 * The model's outputs do not change: the kernels compute bit-identical results. */
nml_status nml_pack_weights(nml_ir *ir, const nml_pack_options *o, nml_pack_report *report,
                            nml_error *err);

/* Back to standard dense tensors. */
nml_status nml_unpack_weights(nml_ir *ir, nml_error *err);

void nml_pack_report_free(nml_pack_report *r);

/* What a tensor of a loaded model stores, for reports (`nanoml inspect`). */
typedef struct nml_pack_info {
    int packed;                /* 0: dense (the other fields describe the plain data) */
    const char *encoding_name; /* "dense", "sparse-bitmask+clustered-16", ... */
    uint32_t elements;
    size_t stored_bytes; /* bytes of the buffer */
    size_t dense_bytes;  /* bytes of the tensor in its plain form */
    size_t record_bytes; /* bytes of the packing record (0 when dense) */
    uint32_t stored;     /* values stored (packed: non-zero, or all when not sparse) */
    uint32_t tables, table_size, value_bits;
} nml_pack_info;

nml_status nml_pack_info_of(const nml_tensor *t, nml_pack_info *info, nml_error *err);

/* The logical values of an int8 or int4 constant tensor of a loaded model, packed or not:
 * count (= element count) int8 values in the tensor's element order. */
nml_status nml_pack_tensor_values(const nml_tensor *t, int8_t *out, size_t count, nml_error *err);

#ifdef __cplusplus
}
#endif
#endif
