/* Deployment to an X-HEEP-class RISC-V MCU: memory targets, the bare-metal firmware harness
 * (built with the RV32 cross compiler, run under QEMU), its report, and X-HEEP application
 * folders. Host only. See docs/deploy.md. */
#ifndef NANOML_DEPLOY_H
#define NANOML_DEPLOY_H

#include <stddef.h>
#include <stdint.h>

#include "nanoml/export.h"
#include "nanoml/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- X-HEEP memory configurations ----
 * X-HEEP's on-chip RAM is made of 32 KiB banks (`make mcu-gen MEMORY_BANKS=n`, 2 by default,
 * 16 at most, i.e. 64..512 KiB); the linker script splits them into a code and a data
 * section. Off-chip SPI flash is mapped at 0x40000000 (a 16 MiB window). The LINKER modes:
 *   on_chip     everything lives in RAM (loaded by the debugger or the testbench),
 *   flash_load  the image is copied from flash to RAM at boot (RAM need as on_chip),
 *   flash_exec  code and constants stay in flash; RAM holds data, bss, arena and stack. */
#define NML_XHEEP_BANK_BYTES 32768u
#define NML_XHEEP_MIN_BANKS 2u
#define NML_XHEEP_MAX_BANKS 16u
#define NML_XHEEP_FLASH_BYTES (16u << 20)

typedef enum nml_xheep_linker {
    NML_LINK_ON_CHIP = 0,
    NML_LINK_FLASH_LOAD = 1,
    NML_LINK_FLASH_EXEC = 2
} nml_xheep_linker;

typedef struct nml_target {
    char name[32];
    int is_qemu;    /* "rv32-qemu": the harness under QEMU, generous memory */
    uint32_t banks; /* X-HEEP RAM banks (0: no fixed size) */
    uint64_t ram_bytes, flash_bytes;
    nml_xheep_linker linker;
} nml_target;

/* "rv32-qemu", "xheep" (= xheep-64k, the default configuration) or "xheep-<N>k" with N a
 * multiple of 32 from 64 to 512. */
nml_status nml_target_parse(const char *name, nml_target *target, nml_error *err);
nml_status nml_xheep_linker_parse(const char *name, nml_xheep_linker *linker, nml_error *err);
const char *nml_xheep_linker_name(nml_xheep_linker linker);

/* Bytes a program occupies, by kind. */
typedef struct nml_mem_need {
    uint64_t text, rodata, data, bss, arena, stack;
} nml_mem_need;

/* RAM and flash the program needs under an X-HEEP linker mode. */
void nml_xheep_need(const nml_mem_need *m, nml_xheep_linker linker, uint64_t *ram, uint64_t *flash);
/* Smallest X-HEEP bank count whose RAM holds ram bytes and whose flash holds flash bytes;
 * 0 when no configuration does. */
uint32_t nml_xheep_min_banks(uint64_t ram, uint64_t flash);
/* NML_OK when m fits target (X-HEEP targets only); otherwise NML_E_LIMIT with the numbers. */
nml_status nml_target_check(const nml_target *target, const nml_mem_need *m, nml_error *err);

/* ---- ELF32 section sizes (of the linked firmware) ---- */
typedef struct nml_elf_section {
    char name[32];
    uint64_t addr, size;
} nml_elf_section;

/* Reads the section headers of a little-endian ELF32 file; *sections is malloc'd. */
nml_status nml_elf32_sections(const uint8_t *data, size_t size, nml_elf_section **sections,
                              uint32_t *count, nml_error *err);

/* ---- Child processes ---- */
typedef struct nml_proc_result {
    int exit_code; /* valid when !signaled && !timed_out */
    int signaled;
    int timed_out;
    char *output; /* stdout and stderr, NUL-terminated (malloc'd) */
    size_t output_len;
} nml_proc_result;

/* Runs argv (PATH lookup), stdin from /dev/null, capturing stdout+stderr; kills the child
 * after timeout_s seconds (0 = no limit). Output beyond 64 MiB is dropped. */
nml_status nml_run_process(char *const argv[], int timeout_s, nml_proc_result *result,
                           nml_error *err);
void nml_proc_result_free(nml_proc_result *result);
/* 1 when program is an executable path or found on PATH. */
int nml_program_exists(const char *program);

/* ---- Firmware harness ---- */
typedef struct nml_fw_options {
    const char *source_dir; /* nanoml sources: include/, src/runtime/, firmware/ */
    const char *work_dir;   /* generated sources, objects and the ELF go here */
    const char *prefix;     /* cross tools prefix, "riscv64-unknown-elf-" */
    const char *qemu;       /* "qemu-system-riscv32" */
    const char *opt;        /* optimization flag, "-Os" */
    int jobs;               /* parallel compiles */
    int timeout_s;          /* QEMU run limit */
    int verbose;            /* print every command to stderr */
    /* link-time optimization (-flto) of the runtime and the model sources (the harness is
     * compiled as usual): smaller code, but the map no longer attributes it to source files */
    int lto;
    /* compile with NML_COMPACT_ERRORS (include/nanoml/status.h): errors keep their status and
     * where, not the detail text; smaller code */
    int compact_errors;
    /* write the host's arena plan into the model sources (nanoml/arena_plan.h) and init with
     * it: the firmware links no memory planner */
    int plan_at_export;
    /* compile with NML_NO_PACKED_WEIGHTS (src/runtime/packed_weak.h): the model has no packed
     * tensors, so the runtime carries no code to reach the packed-weights code and refuses such
     * tensors at load; nml_deploy_qemu sets it from the model */
    int no_packed_weights;
    /* compile with NML_NO_OPTIONS_EXTRA (src/runtime/options.c): no operator of the model has
     * list or type options (RESHAPE, SQUEEZE, CAST, ARG_MAX, SHAPE), so the options decoder has
     * no code for them and refuses them; nml_deploy_qemu sets it from the model */
    int no_options_extra;
    /* compile with NML_NO_CUSTOM_OPS (src/runtime/interpreter.c): the model has no custom
     * operator, so the kernel lookup has no code to match custom names and refuses custom
     * operators as unsupported; nml_deploy_qemu sets it from the model */
    int no_custom_ops;
    /* compile with NML_NO_VARIABLES (src/runtime/model.c, interpreter.c): the model has no
     * variable tensor, so the interpreter has no code to place or reset them and the loader
     * refuses them; nml_deploy_qemu sets it from the model */
    int no_variables;
    /* compile with NML_NO_INT4 (src/runtime/model.c, types.c, kernels/conv_setup.c): the model
     * has no int4 tensor, so nothing sizes or reads int4 and the loader refuses such tensors;
     * nml_deploy_qemu sets it from the model */
    int no_int4;
} nml_fw_options;

/* Sets o's no_* trims to every one the model allows (no packed, int4 or variable tensor, no
 * custom operator, no list or type options). */
void nml_fw_options_trim_for(nml_fw_options *o, const nml_model_info *info);
/* The -D flags of o's trims, into out; returns how many. */
#define NML_FW_TRIMS 5
size_t nml_fw_trim_defines(const nml_fw_options *o, const char *out[NML_FW_TRIMS]);

/* Fills defaults: NANOML_SOURCE_DIR or the compiled-in source dir, NANOML_RISCV_PREFIX,
 * NANOML_QEMU, -Os, 2 jobs, 120 s. */
void nml_fw_options_default(nml_fw_options *o);
/* Checks the sources and the tools are there, with an error that says how to get them. */
nml_status nml_fw_check_setup(const nml_fw_options *o, int need_qemu, nml_error *err);

/* fw_data.c for the harness (see firmware/fw_app.h): inputs (n_sets concatenated sets, or
 * none: zeros), expected outputs (0 or n_sets sets) and the arena, for the model exported as
 * `name`. */
nml_status nml_fw_data_source(const nml_model_info *info, const char *name, size_t arena_bytes,
                              const uint8_t *inputs, size_t inputs_size, const uint8_t *expected,
                              size_t expected_size, char **source, nml_error *err);

/* Compiles the runtime, the harness and the generated sources in work_dir/gen into
 * work_dir/firmware.elf. */
nml_status nml_fw_build(const nml_fw_options *o, nml_error *err);
/* Runs work_dir/firmware.elf under QEMU (deterministic instruction counting). */
nml_status nml_fw_run(const nml_fw_options *o, nml_proc_result *result, nml_error *err);

/* What the harness printed ("nml: ..." lines). */
typedef struct nml_fw_op {
    char name[40];
    uint64_t instret, macs;
    int has_macs;
} nml_fw_op;

typedef struct nml_fw_report {
    int finished; /* a "result" line was seen */
    int passed;
    uint32_t mismatches;
    char error[256]; /* "nml: error ..." text, if any */
    uint64_t arena_used, arena_reserved, persistent_bytes, activation_bytes;
    uint64_t activation_min_bytes; /* no plan of this operator order needs fewer */
    uint64_t stack_peak, stack_reserved;
    uint64_t setup_instret, hook_overhead;
    uint32_t n_runs;
    uint64_t *run_instret, *run_cycles; /* n_runs entries (owned) */
    uint32_t n_ops;
    nml_fw_op *ops;   /* owned */
    uint8_t *outputs; /* every output of every run, concatenated (owned) */
    size_t outputs_size;
} nml_fw_report;

nml_status nml_fw_parse_report(const char *text, nml_fw_report *report, nml_error *err);
void nml_fw_report_free(nml_fw_report *report);

/* ---- The whole QEMU flow: export, build, run, measure ---- */
typedef struct nml_deploy_result {
    nml_fw_report report; /* what the harness printed */
    char *uart;           /* its raw UART text (owned) */
    int qemu_exit;        /* 0 pass; otherwise the harness's failure code */
    /* sections of the linked firmware; arena = bytes the runtime used on RV32 (exact),
     * stack = measured peak */
    nml_mem_need measured;
    uint64_t arena_reserved; /* the arena array linked into the firmware */
    uint64_t test_data;      /* embedded inputs and expected outputs (flash, not in rodata) */
    uint64_t model_bytes;    /* part of rodata */
} nml_deploy_result;

/* Writes work_dir/gen (the exported model as `name` and fw_data.c), builds the firmware, runs
 * it and reads back the report. A firmware that runs but fails (mismatch, runtime error) is
 * still NML_OK: look at qemu_exit and report. */
nml_status nml_deploy_qemu(const nml_fw_options *o, const nml_model_info *info, const char *name,
                           const char *model_file, const uint8_t *model, size_t model_size,
                           const uint8_t *inputs, size_t inputs_size, const uint8_t *expected,
                           size_t expected_size, nml_deploy_result *result, nml_error *err);
void nml_deploy_result_free(nml_deploy_result *result);

/* ---- X-HEEP application folder ---- */
typedef struct nml_xheep_app {
    const char *dir;        /* written here (created) */
    const char *name;       /* model export name */
    const char *source_dir; /* nanoml sources to copy the runtime from */
    const char *model_file; /* for comments */
    const uint8_t *input;   /* one input set or NULL (zeros) */
    size_t input_size;
    const nml_target *target;
    const nml_mem_need *measured; /* sizes measured in the QEMU harness, or NULL */
    int compact_errors;           /* nanoml.mk compiles with -DNML_COMPACT_ERRORS */
} nml_xheep_app;
/* With export_opts->plan_at_export, main.c initializes with the exported arena plan
 * (nml_interpreter_init_planned). */

/* Writes main.c, NAME_model.h/.c, input.c, nanoml.mk, README.md and nanoml/ (the runtime
 * sources) into app->dir, laid out like X-HEEP's sw/applications/<app>/. */
nml_status nml_xheep_write_app(const nml_xheep_app *app, const nml_model_info *info,
                               const uint8_t *model, size_t model_size,
                               const nml_export_options *export_opts, nml_error *err);

#ifdef __cplusplus
}
#endif
#endif
