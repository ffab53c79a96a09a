/* Compression pipelines: a chain of steps (pruning, clustering, quantization-aware training,
 * post-training quantization) applied to a float model, each fine-tuning on training data as
 * it goes. The steps meet in the host IR: every step imports the model it is given into a
 * trainable network (train_import.h), works on it, and exports it again, so a step sees only
 * the weights the previous one left (zeros, few distinct values) and preserves them when told
 * to (TF-MOT's collaborative optimization works the same way).
 *
 * A recipe is text, one step per line, `#` starts a comment:
 *
 *     prune sparsity=0.5 schedule=polynomial epochs=2
 *     cluster clusters=16 preserve=sparsity epochs=1
 *     qat preserve=sparsity,clusters epochs=1
 *
 * Steps and their settings (defaults in brackets):
 *   every step that trains: epochs [prune 2, cluster 1, qat 1; 0 = no fine-tuning], batch [32],
 *       lr [Adam, 1e-4, cosine decay over the step], seed [1]
 *   prune     sparsity [0.5]  schedule=polynomial|constant [polynomial]  initial [0]
 *             begin [0]  end [70% of the step's training steps]  frequency [100]  power [3]
 *             structure=unstructured|2:4|N:M|filters [unstructured]
 *             layers=NAME:SPARSITY,...  skip=NAME,...  remove=yes|no [yes: filters are deleted]
 *   cluster   clusters [16]  init=kmeans++|linear|density [kmeans++]  iterations [until stable]
 *             preserve=sparsity|none [none]  layers=NAME:CLUSTERS,...  skip=NAME,...
 *   qat       preserve=sparsity,clusters|none [none]  decay [0.999]
 *             weights=per-channel|per-tensor [per-channel; per-tensor with preserve=clusters,
 *             so a layer's k centroids stay k int8 codes]  io=float|int8|uint8 [float]
 *   quantize  mode=int8|int4|dynamic|float16 [int8]  calib=SOURCE [fashion-mnist:1000]
 *             samples  calibrator=minmax|percentile|mse  percentile  io  weights
 *   pack      sparse=yes|no [yes]  clustered=yes|no [yes]  min-elements [256]: stores the int8 /
 *             int4 weights in the runtime's compact encodings (pack.h, `nanoml pack`)
 * qat and quantize produce the final (quantized) model, so only pack may follow them; pack
 * needs a quantized model (it follows qat or quantize) and ends the recipe.
 * Host only. */
#ifndef NANOML_COMPRESS_H
#define NANOML_COMPRESS_H

#include <stdint.h>
#include <stdio.h>

#include "nanoml/cluster.h"
#include "nanoml/ir.h"
#include "nanoml/pack.h"
#include "nanoml/prune.h"
#include "nanoml/qat.h"
#include "nanoml/quantize.h"
#include "nanoml/status.h"
#include "nanoml/train_data.h"
#include "nanoml/train_fit.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum nml_step_kind {
    NML_STEP_PRUNE = 0,
    NML_STEP_CLUSTER,
    NML_STEP_QAT,
    NML_STEP_QUANTIZE,
    NML_STEP_PACK
} nml_step_kind;

/* "prune", "cluster", "qat", "quantize", "pack" */
const char *nml_step_name(nml_step_kind k);

typedef struct nml_finetune_opts {
    int32_t epochs; /* 0: no fine-tuning */
    int32_t batch;
    float lr;      /* Adam, cosine decay to 0 over the epochs */
    uint64_t seed; /* shuffling */
} nml_finetune_opts;

typedef struct nml_compress_step {
    nml_step_kind kind;
    int line; /* in the recipe (0: not from a recipe) */
    nml_finetune_opts train;
    nml_prune_opts prune;     /* prune.layers points into owned memory */
    int end_auto;             /* prune: end step = 70% of the training steps */
    int remove_channels;      /* prune, filters: delete the pruned channels */
    nml_cluster_opts cluster; /* cluster.layers points into owned memory */
    nml_qat_opts qat;
    int per_tensor_weights;  /* qat, quantize: one weight scale per tensor */
    int weights_given;       /* the recipe said weights=... */
    nml_quant_options quant; /* quantize; qat uses io */
    char *calib;             /* quantize: owned source spec */
    nml_pack_options pack;   /* pack */
} nml_compress_step;

typedef struct nml_recipe {
    nml_compress_step *steps; /* owned */
    int n;
} nml_recipe;

/* Defaults of a step of that kind. */
void nml_compress_step_default(nml_compress_step *s, nml_step_kind kind);
void nml_compress_step_free(nml_compress_step *s);

/* One step from its settings ("sparsity=0.8", "layers=c1:0.5,c3:0.7", ...). Errors name the
 * step and the setting: "prune: sparsity=1.5: sparsity 1.5 is outside [0, 1)". */
nml_status nml_compress_step_parse(const char *kind, int n_words, const char *const *words,
                                   nml_compress_step *s, nml_error *err);

/* A whole recipe; errors start with "line N: ". *r is initialized by the call. */
nml_status nml_recipe_parse(const char *text, nml_recipe *r, nml_error *err);
void nml_recipe_free(nml_recipe *r);

/* What the steps run with. */
typedef struct nml_compress_env {
    const nml_data *train;        /* fine-tuning data (steps with epochs > 0 need it) */
    const char *fashion_dir;      /* for calib=fashion-mnist (NULL: the Debian location) */
    nml_fit_callback on_progress; /* training progress (optional) */
    void *progress_user;
    nml_progress_fn quant_progress; /* calibration progress (optional) */
    void *quant_progress_user;
    FILE *log; /* one summary block per step (NULL: quiet) */
} nml_compress_env;

/* Applies one step to a float model (pack: to a quantized one); *out is initialized by the call
 * (float after prune and cluster, quantized after qat and quantize, packed after pack). */
nml_status nml_compress_step_run(const nml_ir *in, const nml_compress_step *s,
                                 const nml_compress_env *env, nml_ir *out, nml_error *err);

/* Applies every step in order. Errors name the step and its line. */
nml_status nml_compress_run(const nml_ir *in, const nml_recipe *r, const nml_compress_env *env,
                            nml_ir *out, nml_error *err);

/* Fine-tunes a network on data with Adam (o->lr, cosine decay over o->epochs); on_step (may be
 * NULL) runs before every step, e.g. nml_pruner_on_step. */
nml_status nml_finetune(nml_net *net, const nml_data *data, const nml_finetune_opts *o,
                        nml_status (*on_step)(void *user, int64_t step, nml_error *err),
                        void *step_user, nml_fit_callback on_progress, void *progress_user,
                        nml_error *err);

/* ---- what a model holds ---- */

typedef struct nml_weight_stats {
    uint64_t params;       /* elements of the constant weights and biases of CONV_2D,
                              DEPTHWISE_CONV_2D and FULLY_CONNECTED */
    uint64_t kernel;       /* of which weights (not biases) */
    uint64_t zeros;        /* weights equal to zero (int8: code 0 = real 0) */
    uint32_t max_distinct; /* most distinct weight values in one layer (int8/int4: codes) */
    int layers;
} nml_weight_stats;

/* Counts over the weights of a float32, float16 (behind DEQUANTIZE), int8 or int4 model
 * (packed tensors are counted, not read). */
nml_status nml_weight_stats_of(const nml_ir *ir, nml_weight_stats *s, nml_error *err);

#ifdef __cplusplus
}
#endif
#endif
