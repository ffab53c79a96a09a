/* Magnitude pruning of a quantized model's convolution weights, in place in the .tflite bytes:
 * zeroing int8 weights changes no tensor, shape or offset, so the file stays valid and the same
 * size (it compresses better). Per layer (each CONV_2D / DEPTHWISE_CONV_2D weight tensor):
 *   NML_PRUNE_WEIGHTS  the round(fraction * n) weights of smallest real magnitude
 *                      |q - zero_point_c| * scale_c become the zero point (unstructured, like
 *                      torch.nn.utils.prune.l1_unstructured);
 *   NML_PRUNE_FILTERS  the round(fraction * C) output channels with the smallest L1 norm of real
 *                      weights are zeroed whole (like prune.ln_structured(n=1, dim=0)).
 * Biases are kept (pruning a PyTorch weight leaves the bias and the folded batch norm shift).
 * Ties are broken by position. Host only. */
#ifndef NANOML_PRUNE_INT8_H
#define NANOML_PRUNE_INT8_H

#include <stddef.h>
#include <stdint.h>

#include "nanoml/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum nml_prune_mode { NML_PRUNE_WEIGHTS = 0, NML_PRUNE_FILTERS = 1 } nml_prune_mode;

typedef struct nml_prune_options {
    nml_prune_mode mode;
    float fraction;          /* 0..1 of each layer's weights or filters */
    const int32_t *skip_ops; /* operator indices left alone (YOLOv8's fixed DFL convolution) */
    int n_skip;
} nml_prune_options;

typedef struct nml_prune_stats {
    int layers;           /* weight tensors visited */
    uint64_t weights;     /* weights in those tensors */
    uint64_t zero_before; /* already zero before pruning */
    uint64_t zero_after;  /* zero afterwards */
    uint64_t filters, filters_pruned;
} nml_prune_stats;

/* data: a .tflite model in writable, 16-byte aligned memory (it is verified first). Weights
 * must be int8 with (per-channel) quantization; others are an error naming the operator.
 * Operators listed in opt->skip_ops are not touched. stats may be NULL. */
nml_status nml_prune_int8_convs(uint8_t *data, size_t size, const nml_prune_options *opt,
                                nml_prune_stats *stats, nml_error *err);

#ifdef __cplusplus
}
#endif
#endif
