/* Model export for firmware: what a microcontroller build needs to know about a .tflite model
 * (operators, arena, input/output formats, MACs) and the C sources that embed it.
 *   nml_model_info info;  nml_model_info_analyze(&info, bytes, size, &err);
 *   char *h, *c;          nml_export_sources(&info, bytes, size, "hello", &opts, &h, &c, &err);
 * Host only (uses malloc). */
#ifndef NANOML_EXPORT_H
#define NANOML_EXPORT_H

#include <stddef.h>
#include <stdint.h>

#include "nanoml/status.h"
#include "nanoml/types.h"

#ifdef __cplusplus
extern "C" {
#endif

#define NML_EXPORT_MAX_IO 16   /* model inputs/outputs described */
#define NML_EXPORT_NAME_MAX 64 /* C identifier prefix given to the export */

typedef struct nml_io_info {
    char name[96]; /* tensor name (truncated) */
    int type;      /* nml_dtype */
    int rank;
    int32_t dims[NML_MAX_RANK];
    uint32_t bytes;
    float scale; /* 0 when not quantized; channel 0 when per-channel */
    int32_t zero_point;
    uint32_t n_q; /* quantization entries (1 per-tensor, > 1 per-channel) */
} nml_io_info;

typedef struct nml_model_info {
    size_t model_bytes;
    /* The runtime's plan for this model on the machine that ran the analysis. The tensor and
     * node tables in the arena hold pointers, so on a 32-bit MCU the need is a little smaller:
     * this figure is exact for the host and an upper bound for RV32 (the firmware measures
     * the exact RV32 figure). */
    size_t arena_bytes;
    size_t persistent_bytes, activation_bytes;
    uint32_t n_nodes;
    int32_t *node_builtin; /* n_nodes entries, execution order (owned) */
    uint64_t *node_macs;   /* n_nodes entries, or NULL when MACs cannot be counted (owned) */
    uint64_t total_macs;
    uint32_t n_ops;
    int32_t *ops; /* distinct builtin codes, ascending (owned) */
    uint32_t n_inputs, n_outputs;
    nml_io_info inputs[NML_EXPORT_MAX_IO], outputs[NML_EXPORT_MAX_IO];
    /* the kernels the analysis planned with and the export's resolver names:
     * NML_KERNELS_OPTIMIZED (nml_ops_all) or NML_KERNELS_REFERENCE (nml_ops_reference) */
    int kernels;
    /* NML_KERNELS_OPTIMIZED: per entry of ops, 0 for the optimized kernel, or v when every node
     * of that operator accepts its leaner variant nml_kernel_variant(op, v - 1), which the plan
     * above then used and the export's resolver names; else NULL (owned) */
    uint8_t *op_variants;
    /* tensors holding packed weights (docs/packed-weights.md): the export then links the
     * runtime's packed-weights code (src/runtime/packed.c), which it otherwise leaves out */
    uint32_t n_packed;
    /* The arena plan of the runtime on this host with exactly the export's resolver (what
     * `--plan-at-export` writes): plan_buffers entries as nml_arena_plan's buffers
     * (nanoml/arena_plan.h), offset then planned size in 16-byte units (offset 0xffff: no
     * place). Offsets
     * are relative to the activation region, so they hold on RV32 too (the scratch sizes
     * kernels request do not depend on the pointer width). NULL when the host could not plan
     * with that resolver (owned). */
    uint32_t *plan;
    uint32_t plan_tensors, plan_buffers, plan_activation_bytes, plan_min_bytes;
    uint32_t n_variables; /* variable (stateful) tensors */
    uint32_t n_int4;      /* int4 tensors (packed or not): none, and firmware has NML_NO_INT4 */
} nml_model_info;

typedef enum nml_kernel_set {
    NML_KERNELS_OPTIMIZED = 0, /* optimized int8 kernels where the runtime has them */
    NML_KERNELS_REFERENCE = 1  /* the reference kernels only */
} nml_kernel_set;

/* Verifies and plans the model with the runtime (every operator must have a kernel) and fills
 * *info. Free with nml_model_info_free(). */
nml_status nml_model_info_analyze(nml_model_info *info, const uint8_t *data, size_t size,
                                  nml_error *err);
/* The same with the given kernel set (nml_model_info_analyze uses NML_KERNELS_OPTIMIZED). The
 * kernels' persistent data differ, so the arena figure belongs to the set. */
nml_status nml_model_info_analyze_kernels(nml_model_info *info, const uint8_t *data, size_t size,
                                          int kernels, nml_error *err);
/* "optimized" / "reference" -> *kernels; NML_E_ARG otherwise. */
nml_status nml_kernel_set_parse(const char *name, int *kernels, nml_error *err);
void nml_model_info_free(nml_model_info *info);
/* 1 when an operator of the model has list or type builtin options (RESHAPE, SQUEEZE, CAST,
 * ARG_MAX, SHAPE): firmware for any other model compiles the runtime with NML_NO_OPTIONS_EXTRA
 * (src/runtime/options.c). */
int nml_model_info_has_options_extra(const nml_model_info *info);
/* 1 when an operator of the model is a custom one: firmware for any other model compiles the
 * runtime with NML_NO_CUSTOM_OPS (src/runtime/interpreter.c: no custom-name matching). */
int nml_model_info_has_custom_ops(const nml_model_info *info);

/* The kernel symbol for a builtin operator code: "nml_kernel_fully_connected". Writes at most
 * cap bytes (NUL-terminated); returns 0 when the code has no name. */
int nml_export_kernel_symbol(int32_t builtin, char *buf, size_t cap);
/* The same for a kernel set: with NML_KERNELS_OPTIMIZED the operators that have an optimized
 * kernel get its symbol ("nml_kernel_conv_2d_opt"). */
int nml_export_kernel_symbol_for(int32_t builtin, int kernels, char *buf, size_t cap);

/* A valid C identifier of at most NML_EXPORT_NAME_MAX - 1 characters? */
int nml_export_name_valid(const char *name);
/* Derives an identifier from a file name the way `xxd -i` does (every character that is not
 * a letter or digit becomes '_', a leading digit gets a '__' prefix). */
void nml_export_name_from_path(const char *path, char *buf, size_t cap);

typedef enum nml_export_format {
    NML_EXPORT_NANOML = 0, /* aligned const array + header with constants + op resolver */
    NML_EXPORT_XXD = 1     /* the .c file is exactly `xxd -i -n NAME` output */
} nml_export_format;

typedef struct nml_export_options {
    nml_export_format format;
    const char *source_name; /* shown in the generated comments (file name) */
    /* When > 0, written as NAME_ARENA_BYTES instead of info->arena_bytes (an exact figure
     * measured on the target). */
    size_t arena_bytes_override;
    const char *arena_note; /* comment on where the arena figure comes from (or NULL) */
    /* write info->plan into the sources (NAME_arena_plan, nanoml/arena_plan.h), for
     * nml_interpreter_init_planned(): firmware then needs no memory planner */
    int plan_at_export;
} nml_export_options;

/* Generates NAME_model.h and NAME_model.c (both malloc'd, NUL-terminated). info may be NULL
 * only for NML_EXPORT_XXD (the header then carries the length only). */
nml_status nml_export_sources(const nml_model_info *info, const uint8_t *data, size_t size,
                              const char *name, const nml_export_options *opts, char **header,
                              char **source, nml_error *err);

#ifdef __cplusplus
}
#endif
#endif
