/* ONNX -> nanoml IR (float32, NHWC, TFLite builtin operators).
 *
 * Layout decision (documented for users):
 *   - a rank-4 graph input [N,C,H,W] becomes an NHWC input [N,H,W,C] (FastestDet: [1,352,352,3],
 *     still BGR/255 as the ONNX model expects: only the axis order changes);
 *   - a rank-4 graph output becomes NHWC too (FastestDet: [1,22,22,85]) unless
 *     keep_nchw_output is set, in which case a final TRANSPOSE restores ONNX's [N,C,H,W] order;
 *   - inputs and outputs of any other rank keep ONNX's axis order.
 * Inside the graph every rank-4 activation is NHWC; weights are OHWI (depthwise: 1HWO). */
#ifndef NANOML_ONNX_IMPORT_H
#define NANOML_ONNX_IMPORT_H

#include <stddef.h>
#include <stdint.h>

#include "nanoml/ir.h"
#include "nanoml/status.h"
#include "onnx/onnx_model.h"

typedef struct nml_onnx_import_options {
    int n_input_shape; /* 0: use the model's input shape; else the new ONNX-order shape */
    int64_t input_shape[NML_ONNX_MAX_RANK];
    int keep_nchw_output; /* rank-4 outputs in ONNX order (adds a TRANSPOSE) */
    void (*progress)(void *user, size_t done, size_t total); /* optional, per ONNX node */
    void *progress_user;
    /* elements the importer may compute (constant folding, index maps of data-movement
     * chains) in all; 0 or more than the default: the default, 2^27 (a few seconds) */
    uint64_t max_eval_elems;
} nml_onnx_import_options;

typedef struct nml_onnx_import_stats {
    size_t onnx_nodes;         /* nodes in the ONNX graph */
    size_t converted;          /* nodes lowered to one or more IR operators */
    size_t fused;              /* nodes merged into the operator before them (BN, Relu, Clip) */
    size_t folded;             /* nodes evaluated at import time (constants, shape arithmetic) */
    size_t absorbed;           /* data-movement nodes (Reshape/Transpose/Gather/...) that became
                                  a layout change, a single GATHER/RESHAPE, or nothing */
    size_t dead;               /* nodes whose results nothing uses */
    size_t onnx_transposes;    /* Transpose nodes in the ONNX graph */
    size_t ir_transposes;      /* TRANSPOSE operators in the result */
    size_t transposes_removed; /* TRANSPOSE operators cancelled by the peephole pass */
    size_t ir_ops, ir_tensors;
    uint64_t params;      /* float32 elements in constant tensors */
    uint64_t param_bytes; /* bytes of all constant tensors */
    int op_hist[256];     /* IR operators by builtin code (codes < 256) */
} nml_onnx_import_stats;

void nml_onnx_import_options_default(nml_onnx_import_options *opt);

/* Converts a parsed model. ir must be initialized (nml_ir_init) and empty. stats may be NULL.
 * Errors name the ONNX node and operator: "node 'Conv_3' (Conv): ...". */
nml_status nml_onnx_import_model(const nml_onnx_model *model, const nml_onnx_import_options *opt,
                                 nml_ir *ir, nml_onnx_import_stats *stats, nml_error *err);

/* Parses serialized ONNX bytes and converts them. */
nml_status nml_onnx_import(const uint8_t *data, size_t size, const nml_onnx_import_options *opt,
                           nml_ir *ir, nml_onnx_import_stats *stats, nml_error *err);

/* Parses "1x3x86x128" into an ONNX-order shape (nml_parse_shape: at most NML_MAX_RANK
 * dimensions, each positive, at most NML_MAX_TENSOR_BYTES elements). */
nml_status nml_onnx_parse_shape(const char *text, int64_t *dims, int *rank, nml_error *err);

#endif
