/* nanoml deploy: export + build + run on RV32 (QEMU), or an X-HEEP application folder. */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "cli_numbers.h"
#include "cli_order.h"
#include "nanoml/deploy.h"
#include "nanoml/export.h"
#include "nanoml/file.h"
#include "nanoml/ops.h"

#define DATA_LIMIT ((size_t)NML_MAX_MODEL_BYTES)

int cmd_deploy(int argc, char **argv);

static void usage(FILE *out) {
    fprintf(
        out,
        "usage: nanoml deploy MODEL.tflite --target rv32-qemu [options]\n"
        "       nanoml deploy MODEL.tflite --target xheep[-NNNk] --out DIR [options]\n\n"
        "rv32-qemu: exports the model, builds the bare-metal RV32IMC firmware harness\n"
        "(riscv64-unknown-elf-gcc + picolibc, -Os), runs it on qemu-system-riscv32 (virt) and\n"
        "prints the outputs, instructions per inference and per operator (minstret, exact\n"
        "under -icount shift=0), MACs, and the memory report with the X-HEEP configurations the\n"
        "firmware fits. Exit status 0 when it ran (and matched --expect), 1 otherwise.\n\n"
        "xheep, xheep-64k ... xheep-512k: writes an application folder (main.c, the model\n"
        "files, nanoml.mk, README.md and the runtime sources) to copy into an X-HEEP checkout as\n"
        "sw/applications/<app>/. When the cross compiler and QEMU are installed the firmware\n"
        "is first run under QEMU to measure the exact RV32 arena and the memory need, and a model\n"
        "that does not fit the target is refused (see docs/deploy.md).\n\n"
        "options:\n"
        "  --input FILE         raw input bytes: every model input, concatenated in input order;\n"
        "                       several such sets back to back run one after another\n"
        "                       (default: one all-zero input)\n"
        "  --expect FILE        expected raw outputs in the same layout; the firmware compares\n"
        "                       them (float32: within 1e-5 relative) and fails on a mismatch\n"
        "  --save-outputs FILE  write every output the firmware produced, raw, in that layout\n"
        "  --name NAME          C identifier for the exported model (default: from the file)\n"
        "  --out DIR            xheep: the application folder (required); rv32-qemu: keep the\n"
        "                       build there (default: a temporary folder, removed afterwards)\n"
        "  --linker MODE        X-HEEP LINKER mode for fit checks: on_chip (default),\n"
        "                       flash_load, flash_exec\n"
        "  --no-measure         xheep: do not run QEMU; use the host arena plan (upper bound)\n"
        "  --opt FLAG           firmware optimization (default -Os)\n"
        "  --kernels SET        optimized (default: the optimized int8 CONV_2D,\n"
        "                       DEPTHWISE_CONV_2D and FULLY_CONNECTED kernels) or reference\n"
        "                       (the reference kernels only, e.g. to compare)\n"
        "  --keep-order         keep the file's operator order (default: the operators run in\n"
        "                       the order that needs the fewest activation bytes when the\n"
        "                       runtime then plans fewer; outputs are bit-identical)\n"
        "  --lto                link-time optimization of the runtime and the model (smaller\n"
        "                       code; the build's map then no longer names each source file)\n"
        "  --compact-errors     smaller runtime code: an error keeps its status and where\n"
        "                       (\"operator 12: tensor 3: malformed input\"), not the detail\n"
        "                       text; every check still runs (xheep: nanoml.mk builds so)\n"
        "  --plan-at-export     write the host's arena plan (every buffer's offset and size)\n"
        "                       into the model sources and initialize with it: the firmware\n"
        "                       links no memory planner (smaller code); it still checks that\n"
        "                       every buffer fits its planned place (docs/deploy.md)\n"
        "  --jobs N             parallel compiles (default 2)\n"
        "  --timeout S          QEMU time limit in seconds (default 120)\n"
        "  --verbose            print every compiler and QEMU command\n\n"
        "environment: NANOML_SOURCE_DIR (nanoml sources; default: the tree nanoml was built\n"
        "from), NANOML_RISCV_PREFIX (riscv64-unknown-elf-), NANOML_QEMU (qemu-system-riscv32).\n");
}

typedef struct deploy_args {
    const char *model, *target, *input, *expect, *save, *name, *out, *linker, *opt, *kernels_name;
    int jobs, timeout_s, verbose, no_measure, kernels, keep_order, lto, compact_errors;
    int plan_at_export;
} deploy_args;

static int take_all(int argc, char **argv, int *i, deploy_args *a, const char **jobs,
                    const char **timeout) {
    static const char *const names[] = {"--target", "--input",   "--expect", "--save-outputs",
                                        "--name",   "--out",     "--linker", "--opt",
                                        "--jobs",   "--timeout", "--kernels"};
    const char **slots[] = {&a->target, &a->input, &a->expect, &a->save, &a->name,        &a->out,
                            &a->linker, &a->opt,   jobs,       timeout,  &a->kernels_name};
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) {
        int r = cli_take_value("deploy", argc, argv, i, names[k], slots[k]);
        if (r) return r;
    }
    return 0;
}

static int parse(int argc, char **argv, deploy_args *a) {
    memset(a, 0, sizeof *a);
    a->jobs = 2;
    a->timeout_s = 120;
    const char *jobs = NULL, *timeout = NULL;
    for (int i = 1; i < argc; i++) {
        if (cli_is_help(argv[i])) {
            usage(stdout);
            return 0;
        }
        int r = take_all(argc, argv, &i, a, &jobs, &timeout);
        if (r < 0) return 2;
        if (r > 0) continue;
        if (strcmp(argv[i], "--verbose") == 0)
            a->verbose = 1;
        else if (strcmp(argv[i], "--no-measure") == 0)
            a->no_measure = 1;
        else if (strcmp(argv[i], "--keep-order") == 0)
            a->keep_order = 1;
        else if (strcmp(argv[i], "--lto") == 0)
            a->lto = 1;
        else if (strcmp(argv[i], "--compact-errors") == 0)
            a->compact_errors = 1;
        else if (strcmp(argv[i], "--plan-at-export") == 0)
            a->plan_at_export = 1;
        else if (argv[i][0] == '-')
            return cli_usage_error("deploy", "unknown option '%s'", argv[i]);
        else if (a->model)
            return cli_usage_error("deploy", "more than one model given");
        else
            a->model = argv[i];
    }
    if (!a->model) return cli_usage_error("deploy", "no model given");
    if (!a->target) return cli_usage_error("deploy", "no --target given (rv32-qemu or xheep)");
    int64_t n;
    if (jobs) {
        if (cli_int("deploy", "--jobs", jobs, &n)) return 2;
        a->jobs = (int)n;
    }
    if (timeout) {
        if (cli_int("deploy", "--timeout", timeout, &n)) return 2;
        a->timeout_s = (int)n;
    }
    if (a->name && !nml_export_name_valid(a->name))
        return cli_usage_error("deploy", "--name '%s' is not a C identifier", a->name);
    nml_error err;
    if (a->kernels_name && nml_kernel_set_parse(a->kernels_name, &a->kernels, &err) != NML_OK)
        return cli_usage_error("deploy", "%s", err.msg);
    return -1;
}

/* ------------------------------------------------------------------ temp folders */

/* Removes a folder this command created (files and subfolders), nothing outside it. */
static void remove_tree(const char *path) {
    DIR *d = opendir(path);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
            size_t n = strlen(path) + strlen(e->d_name) + 2;
            char *p = malloc(n);
            if (!p) continue;
            snprintf(p, n, "%s/%s", path, e->d_name);
            struct stat st;
            if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode))
                remove_tree(p);
            else
                unlink(p);
            free(p);
        }
        closedir(d);
    }
    rmdir(path);
}

static char *make_temp_dir(void) {
    const char *tmp = getenv("TMPDIR");
    if (!tmp || !tmp[0]) tmp = "/tmp";
    size_t n = strlen(tmp) + 32;
    char *p = malloc(n);
    if (!p) return NULL;
    snprintf(p, n, "%s/nanoml-deploy-XXXXXX", tmp);
    if (!mkdtemp(p)) {
        free(p);
        return NULL;
    }
    return p;
}

/* ------------------------------------------------------------------ report */

static void print_values(const nml_io_info *io, const uint8_t *b) {
    uint32_t count = io->bytes, shown = 0;
    size_t es = nml_dtype_size(io->type);
    if (es) count = io->bytes / (uint32_t)es;
    for (uint32_t k = 0; k < count && shown < 16; k++, shown++) {
        if (io->type == NML_INT8) {
            int q = (int8_t)b[k];
            if (io->scale != 0.0f)
                printf(" %d (%.6g)", q, (double)((float)(q - io->zero_point) * io->scale));
            else
                printf(" %d", q);
        } else if (io->type == NML_UINT8) {
            printf(" %u", b[k]);
        } else if (io->type == NML_FLOAT32) {
            float v;
            memcpy(&v, b + 4 * k, 4);
            printf(" %.6g", (double)v);
        } else if (io->type == NML_INT32) {
            int32_t v;
            memcpy(&v, b + 4 * k, 4);
            printf(" %d", (int)v);
        } else {
            printf(" %02x", b[k]);
        }
    }
    if (shown < count) printf(" ... (%u values)", (unsigned)count);
    printf("\n");
}

static void print_outputs(const nml_model_info *info, const nml_fw_report *r) {
    size_t off = 0;
    for (uint32_t i = 0; i < info->n_outputs; i++) {
        const nml_io_info *io = &info->outputs[i];
        printf("  output %u %s ", (unsigned)i, nml_dtype_name(io->type));
        for (int d = 0; d < io->rank; d++)
            printf(d ? "x%d" : "%d", (int)io->dims[d]);
        printf(":");
        if (off + io->bytes > r->outputs_size) {
            printf(" (not printed by the firmware)\n");
            return;
        }
        print_values(io, r->outputs + off);
        off += io->bytes;
    }
}

static void print_runs(const nml_fw_report *r) {
    if (r->n_runs == 0) return;
    uint64_t lo = r->run_instret[0], hi = lo, sum = 0;
    for (uint32_t k = 0; k < r->n_runs; k++) {
        uint64_t v = r->run_instret[k];
        lo = v < lo ? v : lo;
        hi = v > hi ? v : hi;
        sum += v;
    }
    printf("instructions per inference: %llu (input set 0; minstret, QEMU -icount shift=0)\n",
           (unsigned long long)r->run_instret[0]);
    if (r->n_runs > 1)
        printf("  over %u input sets: min %llu, mean %.1f, max %llu\n", (unsigned)r->n_runs,
               (unsigned long long)lo, (double)sum / r->n_runs, (unsigned long long)hi);
    printf("setup (load + init): %llu instructions\n", (unsigned long long)r->setup_instret);
}

static void print_ops(const nml_fw_report *r) {
    if (r->n_ops == 0) return;
    printf("per operator (one hooked invoke of set 0; each count includes the interpreter's\n"
           "dispatch and up to %llu instructions of the profiling hook):\n",
           (unsigned long long)r->hook_overhead);
    printf("  %4s  %-24s %14s %12s %10s\n", "#", "operator", "instructions", "MACs", "instr/MAC");
    uint64_t sum = 0, macs = 0;
    int all_macs = 1;
    for (uint32_t i = 0; i < r->n_ops; i++) {
        const nml_fw_op *op = &r->ops[i];
        sum += op->instret;
        printf("  %4u  %-24s %14llu", (unsigned)i, op->name, (unsigned long long)op->instret);
        if (op->has_macs) {
            macs += op->macs;
            printf(" %12llu", (unsigned long long)op->macs);
            if (op->macs) printf(" %10.2f", (double)op->instret / (double)op->macs);
        } else {
            all_macs = 0;
            printf(" %12s", "n/a");
        }
        printf("\n");
    }
    printf("  %4s  %-24s %14llu", "", "total", (unsigned long long)sum);
    if (all_macs && macs)
        printf(" %12llu %10.2f", (unsigned long long)macs, (double)sum / (double)macs);
    printf("\n");
    if (!all_macs)
        printf("  (MACs unavailable: this nanoml was built without src/runtime/macs.c)\n");
}

static void print_fit(const nml_mem_need *m) {
    printf("X-HEEP fit (RAM in 32 KiB banks, 2..16; flash window 16 MiB; stack = peak rounded up\n"
           "to 1 KiB; the harness's code stands in for an application's):\n");
    for (int mode = 0; mode < 3; mode++) {
        uint64_t ram, flash;
        nml_xheep_need(m, (nml_xheep_linker)mode, &ram, &flash);
        uint32_t banks = nml_xheep_min_banks(ram, flash);
        printf("  LINKER=%-10s RAM %8llu B  flash %8llu B  -> ",
               nml_xheep_linker_name((nml_xheep_linker)mode), (unsigned long long)ram,
               (unsigned long long)flash);
        if (banks)
            printf("xheep-%uk (MEMORY_BANKS=%u)\n", (unsigned)(banks * 32), (unsigned)banks);
        else
            printf("does not fit any X-HEEP configuration\n");
    }
}

static void print_memory(const nml_deploy_result *res) {
    const nml_mem_need *m = &res->measured;
    const nml_fw_report *r = &res->report;
    printf("memory (RV32IMC firmware harness, %s):\n", "picolibc, -Os");
    printf("  .text   %8llu B  code RAM\n", (unsigned long long)m->text);
    printf("  .rodata %8llu B  flash (model %llu B)\n", (unsigned long long)m->rodata,
           (unsigned long long)res->model_bytes);
    if (res->test_data)
        printf("  test    %8llu B  flash: embedded inputs/expected outputs (not counted below)\n",
               (unsigned long long)res->test_data);
    printf("  .data   %8llu B  data RAM (load image in flash)\n", (unsigned long long)m->data);
    printf("  .bss    %8llu B  data RAM\n", (unsigned long long)m->bss);
    printf("  arena   %8llu B  used on RV32 (exact; %llu reserved; persistent %llu + activations "
           "%llu)\n",
           (unsigned long long)r->arena_used, (unsigned long long)res->arena_reserved,
           (unsigned long long)r->persistent_bytes, (unsigned long long)r->activation_bytes);
    if (r->activation_min_bytes)
        printf("          activations lower bound %llu B (the most bytes live while one operator "
               "runs)\n",
               (unsigned long long)r->activation_min_bytes);
    printf("  stack   %8llu B  peak (painted; %llu reserved)\n", (unsigned long long)r->stack_peak,
           (unsigned long long)r->stack_reserved);
    print_fit(m);
}

/* ------------------------------------------------------------------ flows */

typedef struct loaded {
    uint8_t *model, *input, *expect;
    size_t model_size, input_size, expect_size;
    nml_model_info info;
    int have_info;
    char name[NML_EXPORT_NAME_MAX];
    const char *model_file;
} loaded;

static void loaded_free(loaded *l) {
    free(l->model);
    free(l->input);
    free(l->expect);
    if (l->have_info) nml_model_info_free(&l->info);
}

static void default_name(const char *path, char *buf, size_t cap) {
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    char stem[NML_EXPORT_NAME_MAX];
    size_t n = strcspn(base, ".");
    if (n >= sizeof stem) n = sizeof stem - 1;
    memcpy(stem, base, n);
    stem[n] = '\0';
    nml_export_name_from_path(n ? stem : "model", buf, cap);
}

static int load_all(const deploy_args *a, loaded *l) {
    memset(l, 0, sizeof *l);
    nml_error err;
    if (nml_read_file(a->model, DATA_LIMIT, &l->model, &l->model_size, &err) != NML_OK ||
        (a->input &&
         nml_read_file(a->input, DATA_LIMIT, &l->input, &l->input_size, &err) != NML_OK) ||
        (a->expect &&
         nml_read_file(a->expect, DATA_LIMIT, &l->expect, &l->expect_size, &err) != NML_OK))
        return cli_error("deploy", &err);
    if (a->input && l->input_size == 0) return cli_errorf("deploy", "%s is empty", a->input);
    if (!a->keep_order &&
        cli_reorder("deploy", a->model, a->kernels, &l->model, &l->model_size) != 0)
        return 1;
    if (nml_model_info_analyze_kernels(&l->info, l->model, l->model_size, a->kernels, &err) !=
        NML_OK)
        return cli_errorf("deploy", "%s: %s", a->model, err.msg);
    l->have_info = 1;
    const char *slash = strrchr(a->model, '/');
    l->model_file = slash ? slash + 1 : a->model;
    if (a->name)
        snprintf(l->name, sizeof l->name, "%s", a->name);
    else
        default_name(a->model, l->name, sizeof l->name);
    return 0;
}

static void fw_options(const deploy_args *a, const char *work, nml_fw_options *o) {
    nml_fw_options_default(o);
    o->work_dir = work;
    o->jobs = a->jobs;
    o->timeout_s = a->timeout_s;
    o->verbose = a->verbose;
    o->lto = a->lto;
    o->compact_errors = a->compact_errors;
    o->plan_at_export = a->plan_at_export;
    if (a->opt) o->opt = a->opt;
}

/* Runs the QEMU flow in a.out or a temporary folder (removed unless it was given). */
static int run_qemu(const deploy_args *a, const loaded *l, const char *out,
                    nml_deploy_result *res) {
    char *tmp = NULL;
    const char *work = out;
    if (!work) {
        tmp = make_temp_dir();
        if (!tmp)
            return cli_errorf("deploy", "cannot create a temporary folder: %s", strerror(errno));
        work = tmp;
    }
    nml_fw_options o;
    fw_options(a, work, &o);
    nml_error err;
    fprintf(stderr, "nanoml deploy: building the RV32 firmware and running it on QEMU...\n");
    nml_status st = nml_deploy_qemu(&o, &l->info, l->name, l->model_file, l->model, l->model_size,
                                    l->input, l->input_size, l->expect, l->expect_size, res, &err);
    int rc = 0;
    if (st != NML_OK) {
        if (res->uart && res->uart[0]) fprintf(stderr, "%s", res->uart);
        rc = cli_error("deploy", &err);
    }
    if (tmp) {
        remove_tree(tmp);
        free(tmp);
    } else if (!rc) {
        printf("build folder: %s (firmware.elf, firmware.map, gen/)\n", work);
    }
    return rc;
}

static int save_outputs(const deploy_args *a, const nml_fw_report *r) {
    if (!a->save) return 0;
    nml_error err;
    if (nml_write_file(a->save, r->outputs ? (const void *)r->outputs : "", r->outputs_size,
                       &err) != NML_OK)
        return cli_error("deploy", &err);
    printf("wrote %zu output bytes to %s\n", r->outputs_size, a->save);
    return 0;
}

static int deploy_qemu(const deploy_args *a, const loaded *l) {
    nml_deploy_result res;
    int rc = run_qemu(a, l, a->out, &res);
    if (rc) {
        nml_deploy_result_free(&res);
        return rc;
    }
    const nml_fw_report *r = &res.report;
    printf("model %s: %zu bytes, %u operators on rv32-qemu (RV32IMC, QEMU virt)\n", l->model_file,
           l->model_size, (unsigned)l->info.n_nodes);
    printf("kernels: %s\n", a->kernels == NML_KERNELS_REFERENCE ? "reference" : "optimized");
    if (r->n_runs) {
        printf("outputs (input set 0):\n");
        print_outputs(&l->info, r);
    }
    print_runs(r);
    print_ops(r);
    print_memory(&res);
    rc = save_outputs(a, r);
    if (res.qemu_exit != 0 || !r->passed) {
        if (r->error[0]) fprintf(stderr, "firmware: %s\n", r->error);
        if (r->mismatches)
            rc = cli_errorf("deploy", "%u outputs differ from %s", (unsigned)r->mismatches,
                            a->expect);
        else
            rc = cli_errorf("deploy", "the firmware failed (exit code %d)", res.qemu_exit);
    } else {
        printf("result: PASS%s\n", l->expect ? " (every output matches --expect)" : "");
    }
    nml_deploy_result_free(&res);
    return rc;
}

static int deploy_xheep(const deploy_args *a, const loaded *l, nml_target *t) {
    if (!a->out) return cli_usage_error("deploy", "--target %s needs --out DIR", a->target);
    nml_error err;
    nml_export_options eo = {0};
    eo.source_name = l->model_file;
    eo.plan_at_export = a->plan_at_export;
    char note[200];
    nml_fw_options o;
    fw_options(a, "", &o);
    nml_mem_need measured = {0};
    int measure = !a->no_measure && nml_fw_check_setup(&o, 1, &err) == NML_OK;
    if (!a->no_measure && !measure)
        fprintf(stderr, "nanoml deploy: cannot measure on RV32 (%s); using the host plan\n",
                err.msg);
    if (measure) {
        nml_deploy_result res;
        int rc = run_qemu(a, l, NULL, &res);
        if (rc) {
            nml_deploy_result_free(&res);
            return rc;
        }
        if (res.qemu_exit != 0) {
            int code = res.qemu_exit;
            nml_deploy_result_free(&res);
            return cli_errorf("deploy", "the firmware failed under QEMU (exit code %d)", code);
        }
        nml_mem_need m = res.measured;
        measured = m;
        eo.arena_bytes_override = res.report.arena_used;
        snprintf(note, sizeof note,
                 "exact for RV32, measured by running the model in the "
                 "nanoml harness under QEMU (the 64-bit host plan is %zu)",
                 l->info.arena_bytes);
        eo.arena_note = note;
        print_memory(&res);
        nml_deploy_result_free(&res);
        if (nml_target_check(t, &m, &err) != NML_OK)
            return cli_errorf("deploy", "%s %s", l->model_file, err.msg);
    } else {
        nml_mem_need m = {0};
        m.rodata = l->model_size;
        m.arena = l->info.arena_bytes;
        if (nml_target_check(t, &m, &err) != NML_OK)
            return cli_errorf("deploy", "%s %s (model and arena alone)", l->model_file, err.msg);
    }
    nml_xheep_app app = {.dir = a->out,
                         .name = l->name,
                         .source_dir = o.source_dir,
                         .model_file = l->model_file,
                         .input = l->input,
                         .input_size = l->input_size,
                         .target = t,
                         .measured = measure ? &measured : NULL,
                         .compact_errors = a->compact_errors};
    if (nml_xheep_write_app(&app, &l->info, l->model, l->model_size, &eo, &err) != NML_OK)
        return cli_error("deploy", &err);
    printf("wrote the X-HEEP application %s for %s (LINKER=%s); see %s/README.md\n", a->out,
           t->name, nml_xheep_linker_name(t->linker), a->out);
    return 0;
}

int cmd_deploy(int argc, char **argv) {
    deploy_args a;
    int rc = parse(argc, argv, &a);
    if (rc >= 0) return rc;
    nml_target t;
    nml_error err;
    if (nml_target_parse(a.target, &t, &err) != NML_OK)
        return cli_usage_error("deploy", "%s", err.msg);
    if (a.linker && nml_xheep_linker_parse(a.linker, &t.linker, &err) != NML_OK)
        return cli_usage_error("deploy", "%s", err.msg);
    if (t.is_qemu) { /* a missing toolchain is said before any work is done */
        nml_fw_options o;
        fw_options(&a, "", &o);
        if (nml_fw_check_setup(&o, 1, &err) != NML_OK) return cli_error("deploy", &err);
    }
    loaded l;
    rc = load_all(&a, &l);
    if (!rc) rc = t.is_qemu ? deploy_qemu(&a, &l) : deploy_xheep(&a, &l, &t);
    loaded_free(&l);
    return rc;
}
