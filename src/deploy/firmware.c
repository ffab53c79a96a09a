/* Builds and runs the bare-metal firmware harness (firmware/) for RV32IMC: the runtime sources
 * and the generated model compiled with the cross compiler, linked with picolibc (memcpy,
 * memset, libm) against firmware/link.ld, then run on QEMU virt with exact instruction
 * counting (-icount shift=0 makes minstret deterministic). */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "nanoml/deploy.h"
#include "nanoml/file.h"
#include "paths.h"
#include "strbuf.h"

#ifndef NML_SOURCE_DIR
#define NML_SOURCE_DIR ""
#endif

extern char **environ;

#define MAX_SOURCES 512
#define PATH_CAP NML_PATH_CAP

static const char *const harness_sources[] = {"crt0.S", "fw_platform.c", "fw_printf.c", "main.c"};

static const char *env_or(const char *name, const char *fallback) {
    const char *v = getenv(name);
    return v && v[0] ? v : fallback;
}

void nml_fw_options_default(nml_fw_options *o) {
    memset(o, 0, sizeof *o);
    o->source_dir = env_or("NANOML_SOURCE_DIR", NML_SOURCE_DIR);
    o->prefix = env_or("NANOML_RISCV_PREFIX", "riscv64-unknown-elf-");
    o->qemu = env_or("NANOML_QEMU", "qemu-system-riscv32");
    o->opt = "-Os";
    o->jobs = 2;
    o->timeout_s = 120;
}

static nml_status join(char *out, const char *a, const char *b, nml_error *err) {
    return nml_path_join(out, PATH_CAP, a, b, err);
}

nml_status nml_fw_check_setup(const nml_fw_options *o, int need_qemu, nml_error *err) {
    char p[PATH_CAP], gcc[256];
    NML_TRY(join(p, o->source_dir, "firmware/main.c", err));
    if (!o->source_dir[0] || access(p, R_OK) != 0)
        return nml_fail(err, NML_E_IO,
                        "nanoml sources not found at '%s' (set NANOML_SOURCE_DIR to a nanoml "
                        "checkout: it needs include/, src/runtime/ and firmware/)",
                        o->source_dir);
    int n = snprintf(gcc, sizeof gcc, "%sgcc", o->prefix);
    if (n < 0 || (size_t)n >= sizeof gcc || !nml_program_exists(gcc))
        return nml_fail(err, NML_E_IO,
                        "%s not found: install gcc-riscv64-unknown-elf and "
                        "picolibc-riscv64-unknown-elf (scripts/setup.sh), or set "
                        "NANOML_RISCV_PREFIX",
                        gcc);
    if (need_qemu && !nml_program_exists(o->qemu))
        return nml_fail(err, NML_E_IO,
                        "%s not found: install qemu-system-misc (scripts/setup.sh), or set "
                        "NANOML_QEMU",
                        o->qemu);
    return NML_OK;
}

/* ------------------------------------------------------------------ fw_data.c */

static void byte_array(nml_sb *sb, const char *decl, const uint8_t *data, size_t n) {
    nml_sb_printf(sb, "%s = {", decl);
    for (size_t i = 0; i < n; i++)
        nml_sb_printf(sb, "%s%s0x%02x", i ? "," : "", i % 16 ? " " : "\n    ", data[i]);
    if (n == 0) nml_sb_puts(sb, "0");
    nml_sb_puts(sb, "\n};\n");
}

static size_t io_set_bytes(const nml_io_info *io, uint32_t n) {
    size_t total = 0;
    for (uint32_t i = 0; i < n; i++)
        total += io[i].bytes;
    return total;
}

static nml_status check_sets(const char *what, size_t size, size_t set_bytes, size_t *sets,
                             nml_error *err) {
    *sets = 0;
    if (size == 0) return NML_OK;
    if (set_bytes == 0 || size % set_bytes != 0)
        return nml_fail(err, NML_E_SHAPE,
                        "%s of %zu bytes is not a whole number of sets of %zu bytes "
                        "(the model's %s, concatenated)",
                        what, size, set_bytes, what[0] == 'i' ? "inputs" : "outputs");
    *sets = size / set_bytes;
    return NML_OK;
}

nml_status nml_fw_data_source(const nml_model_info *info, const char *name, size_t arena_bytes,
                              const uint8_t *inputs, size_t inputs_size, const uint8_t *expected,
                              size_t expected_size, char **source, nml_error *err) {
    *source = NULL;
    size_t in_set = io_set_bytes(info->inputs, info->n_inputs);
    size_t out_set = io_set_bytes(info->outputs, info->n_outputs);
    size_t in_sets, out_sets;
    NML_TRY(check_sets("input", inputs_size, in_set, &in_sets, err));
    NML_TRY(check_sets("expected output", expected_size, out_set, &out_sets, err));
    if (out_sets && out_sets != (in_sets ? in_sets : 1))
        return nml_fail(err, NML_E_SHAPE, "%zu expected output sets for %zu input sets", out_sets,
                        in_sets ? in_sets : 1);
    if (in_sets > 0xffffffffu || arena_bytes == 0 || arena_bytes > 0x7fffffffu)
        return nml_fail(err, NML_E_LIMIT, "arena of %zu bytes or %zu input sets out of range",
                        arena_bytes, in_sets);
    char NAME[NML_EXPORT_NAME_MAX]; /* the export's macro prefix */
    size_t n = 0;
    for (; name[n] && n + 1 < sizeof NAME; n++)
        NAME[n] = (char)toupper((unsigned char)name[n]);
    NAME[n] = '\0';
    nml_sb sb;
    nml_sb_init(&sb);
    nml_sb_printf(&sb,
                  "/* Generated by `nanoml deploy`: what the harness runs. Do not edit. */\n"
                  "#include \"fw_app.h\"\n#include \"%s_model.h\"\n\n",
                  name);
    nml_sb_printf(&sb, "const char fw_model_name[] = \"%s\";\n", name);
    nml_sb_printf(&sb, "const uint8_t *const fw_model_data = %s_model;\n", name);
    nml_sb_printf(&sb, "const uint32_t fw_model_size = sizeof %s_model;\n", name);
    nml_sb_printf(&sb, "const nml_op_resolver *const fw_resolver = &%s_op_resolver;\n\n", name);
    nml_sb_printf(&sb,
                  "/* the arena between guard bytes (nanoml/guard.h) */\n"
                  "_Alignas(16) uint8_t fw_arena_block[NML_GUARDED_BYTES(%zuu)]\n"
                  "    __attribute__((section(\".nml_arena\")));\n"
                  "uint8_t *const fw_arena = fw_arena_block + NML_GUARD_BYTES;\n"
                  "const uint32_t fw_arena_size = %zuu;\n\n",
                  arena_bytes, arena_bytes);
    nml_sb_printf(&sb,
                  "/* the export's arena plan when it wrote one (--plan-at-export): then the\n"
                  " * memory planner is not linked */\n"
                  "nml_status fw_interpreter_init(nml_interpreter *it, const nml_model *model,\n"
                  "                               nml_error *err) {\n"
                  "#ifdef %s_PLAN_ACTIVATION_BYTES\n"
                  "    return nml_interpreter_init_planned(it, model, fw_resolver, "
                  "&%s_arena_plan, fw_arena,\n"
                  "                                        fw_arena_size, err);\n"
                  "#else\n"
                  "    return nml_interpreter_init(it, model, fw_resolver, fw_arena, "
                  "fw_arena_size, err);\n"
                  "#endif\n}\n\n",
                  NAME, name);
    byte_array(&sb,
               "_Alignas(16) const uint8_t fw_inputs[] __attribute__((section(\".nml_testdata\")))",
               inputs, in_sets ? inputs_size : 0);
    nml_sb_printf(&sb, "const uint32_t fw_input_sets = %zuu, fw_input_set_bytes = %zuu;\n\n",
                  in_sets, in_set);
    byte_array(&sb, "const uint8_t fw_expected[] __attribute__((section(\".nml_testdata\")))",
               expected, out_sets ? expected_size : 0);
    nml_sb_printf(&sb, "const uint32_t fw_expected_sets = %zuu, fw_expected_set_bytes = %zuu;\n\n",
                  out_sets, out_set);
    if (info->node_macs)
        nml_sb_printf(&sb, "const uint64_t *const fw_node_macs = %s_node_macs;\n", name);
    else
        nml_sb_puts(&sb, "const uint64_t *const fw_node_macs = 0;\n");
    nml_sb_printf(&sb, "const uint32_t fw_node_count = %uu;\nuint64_t fw_node_instret[%u];\n",
                  (unsigned)info->n_nodes, (unsigned)(info->n_nodes ? info->n_nodes : 1));
    *source = nml_sb_take(&sb);
    if (!*source) return nml_fail(err, NML_E_NOMEM, "out of memory generating fw_data.c");
    return NML_OK;
}

/* ------------------------------------------------------------------ build */

typedef struct src_list {
    char *paths[MAX_SOURCES];
    int n;
} src_list;

static void src_list_free(src_list *l) {
    for (int i = 0; i < l->n; i++)
        free(l->paths[i]);
    l->n = 0;
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static nml_status add_path(src_list *l, const char *path, nml_error *err) {
    if (l->n >= MAX_SOURCES) return nml_fail(err, NML_E_LIMIT, "more than %d sources", MAX_SOURCES);
    l->paths[l->n] = strdup(path);
    if (!l->paths[l->n]) return nml_fail(err, NML_E_NOMEM, "out of memory");
    l->n++;
    return NML_OK;
}

/* every *.c directly inside dir, sorted (a missing dir is empty) */
static nml_status add_c_files(src_list *l, const char *dir, nml_error *err) {
    DIR *d = opendir(dir);
    if (!d) return NML_OK;
    int first = l->n;
    nml_status st = NML_OK;
    struct dirent *e;
    while (st == NML_OK && (e = readdir(d)) != NULL) {
        size_t n = strlen(e->d_name);
        if (n < 3 || strcmp(e->d_name + n - 2, ".c") != 0) continue;
        char p[PATH_CAP];
        st = join(p, dir, e->d_name, err);
        if (st == NML_OK) st = add_path(l, p, err);
    }
    closedir(d);
    qsort(l->paths + first, (size_t)(l->n - first), sizeof l->paths[0], cmp_str);
    return st;
}

static nml_status collect_sources(const nml_fw_options *o, src_list *l, nml_error *err) {
    char p[PATH_CAP], h[PATH_CAP];
    NML_TRY(join(p, o->source_dir, "src/runtime", err));
    NML_TRY(add_c_files(l, p, err));
    NML_TRY(join(p, o->source_dir, "src/runtime/kernels", err));
    NML_TRY(add_c_files(l, p, err));
    NML_TRY(join(p, o->source_dir, "firmware", err));
    for (size_t i = 0; i < sizeof harness_sources / sizeof harness_sources[0]; i++) {
        NML_TRY(join(h, p, harness_sources[i], err));
        NML_TRY(add_path(l, h, err));
    }
    NML_TRY(join(p, o->work_dir, "gen", err));
    return add_c_files(l, p, err);
}

/* object name: the source path below source_dir (or work_dir) with '/' -> '_', + ".o" */
static nml_status object_path(const nml_fw_options *o, const char *src, char *out, nml_error *err) {
    const char *rel = src;
    size_t ls = strlen(o->source_dir), lw = strlen(o->work_dir);
    if (strncmp(src, o->source_dir, ls) == 0 && src[ls] == '/')
        rel = src + ls + 1;
    else if (strncmp(src, o->work_dir, lw) == 0 && src[lw] == '/')
        rel = src + lw + 1;
    char flat[PATH_CAP], obj_dir[PATH_CAP];
    size_t n = strlen(rel);
    if (n + 3 > sizeof flat) return nml_fail(err, NML_E_LIMIT, "source path too long: %s", src);
    for (size_t i = 0; i < n; i++)
        flat[i] = rel[i] == '/' ? '_' : rel[i];
    memcpy(flat + n, ".o", 3);
    NML_TRY(join(obj_dir, o->work_dir, "obj", err));
    return join(out, obj_dir, flat, err);
}

typedef struct argv_buf {
    char *argv[MAX_SOURCES + 40];
    char store[MAX_SOURCES + 40][PATH_CAP];
    int n;
    int truncated;
} argv_buf;

/* Appends one argument; an argument that does not fit marks the list
 * truncated, which the caller reports instead of running a wrong command. */
#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static void
arg(argv_buf *a, const char *fmt, ...) {
    if (a->n >= (int)(sizeof a->argv / sizeof a->argv[0]) - 1) {
        a->truncated = 1;
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(a->store[a->n], sizeof a->store[a->n], fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof a->store[a->n]) a->truncated = 1;
    a->argv[a->n] = a->store[a->n];
    a->n++;
    a->argv[a->n] = NULL;
}

/* 1 when src's file name (without its folder) is one of names. */
static int named(const char *src, const char *const *names, size_t n) {
    const char *base = strrchr(src, '/');
    base = base ? base + 1 : src;
    for (size_t i = 0; i < n; i++)
        if (strcmp(base, names[i]) == 0) return 1;
    return 0;
}

/* Everything but the inner loops of the optimized kernels and the helpers they call per element
 * or per row runs once per operator or per invoke: there, register saves and restores become
 * calls to libgcc's shared routines (-msave-restore), about 12% less runtime code for a few
 * instructions per call, which the inner loops do not pay. The optimized kernels not listed
 * call their helpers per tensor or per row at most (FastestDet, measured: 0.7 KB less code,
 * +0.01% instructions per inference). PAD's row recursion and the fixed-point helpers (softmax,
 * logistic: per row or per table entry in the optimized kernels) are cold as well: FastestDet
 * 148 B less code for +3,190 instructions per inference (+0.008%). */
static int cold_code(const char *src) {
    static const char *const hot[] = {"opt_conv_2d.c", "opt_depthwise_conv_2d.c",
                                      "opt_fully_connected.c", "opt_max_pool_2d.c",
                                      "opt_copy.c", "qmath.c", "opt_dot.c"};
    return !named(src, hot, sizeof hot / sizeof hot[0]);
}

/* Cold sources whose per-element loops (CONCATENATION's copies, SOFTMAX's rows and the
 * reference's exp per element, the interpreter's dispatch, the fixed-point exp) run slower
 * without loop-invariant motion, and those whose per-channel loops at prepare would then cost
 * the setup most (requantization tables, QUANTIZE): they keep it. */
static int warm_code(const char *src) {
    static const char *const warm[] = {"opt_concatenation.c", "opt_softmax.c", "softmax.c",
                                       "interpreter.c",       "fixedpoint.c",  "opt_common.c",
                                       "conv_setup.c",        "opt_quantize.c"};
    return named(src, warm, sizeof warm / sizeof warm[0]);
}

/* Cold sources that gcc's priority register allocator (-fira-algorithm=priority) makes smaller
 * than its default one, measured file by file on FastestDet (--lto --compact-errors
 * --plan-at-export): the loader 30 B, GATHER's and ADD's prepares, the pools' shared prepare and
 * RESIZE_NEAREST_NEIGHBOR, together 60 B less (4 B by default) with the same instructions per
 * inference in every bench model. Elsewhere it made the code larger (68 B for all cold code). */
static int priority_code(const char *src) {
    static const char *const prio[] = {"model.c", "opt_gather.c", "opt_add.c", "pool_common.c",
                                       "resize_nearest_neighbor.c"};
    return named(src, prio, sizeof prio / sizeof prio[0]);
}

/* 1 for the harness's own sources (firmware/). */
static int harness_source(const nml_fw_options *o, const char *src) {
    size_t n = strlen(o->source_dir);
    return strncmp(src, o->source_dir, n) == 0 && strncmp(src + n, "/firmware/", 10) == 0;
}

static void compile_args(const nml_fw_options *o, const char *src, const char *obj, argv_buf *a) {
    char gen[PATH_CAP];
    a->n = 0;
    a->truncated = join(gen, o->work_dir, "gen", NULL) != NML_OK;
    arg(a, "%sgcc", o->prefix);
    static const char *const fixed[] = {
        "--specs=picolibc.specs", "-march=rv32imc_zicsr", "-mabi=ilp32", "-std=c11",
        "-ffunction-sections",    "-fdata-sections",      "-Wall",       "-Wextra",
        "-Wno-missing-field-initializers"}; /* kernel tables leave trailing flags out */
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        arg(a, "%s", fixed[i]);
    arg(a, "%s", o->opt);
    /* cold code also tuned for size (fewer, shorter instructions; no if-conversion, which
     * trades branches for longer straight-line code): FastestDet, measured: 0.26 KB less, no
     * instructions per inference more. Not -fno-caller-saves: 90 B less for FastestDet (40 B
     * with --lto), but the reference kernels, cold code beside the optimized ones and hot in a
     * --kernels reference build, lost 9% on micro_speech's DEPTHWISE_CONV_2D (the window walk
     * is a call per output pixel), which would flatter the optimized kernels' speed-up. */
    if (cold_code(src)) {
        arg(a, "%s", "-msave-restore");
        arg(a, "%s", "-mtune=size");
        arg(a, "%s", "-fno-if-conversion");
        /* gcc's coalescing of SSA names into one variable made longer live ranges and more
         * saved registers there (measured, FastestDet: 98 B less by default, 104 B with --lto
         * --compact-errors --plan-at-export, a few thousand instructions per inference less) */
        arg(a, "%s", "-fno-tree-coalesce-vars");
        if (priority_code(src)) arg(a, "%s", "-fira-algorithm=priority");
        /* with --lto also no conditional-store elimination and loop-aware register pressure:
         * measured, 18 B less in each bench model's smallest build (FastestDet 4,600
         * instructions per inference less); without LTO they cost 10-14 B */
        if (o->lto) {
            arg(a, "%s", "-fno-tree-cselim");
            arg(a, "%s", "-fira-loop-pressure");
            /* and, in the runtime (not the harness, whose guard checks run in the setup), no
             * (RTL) loop-invariant motion nor final-value replacement of induction variables
             * (scev-cprop), except in the warm sources: measured, FastestDet 90 B and 360
             * instructions per inference less, LeNet-5 245 and person_detect 10 less,
             * micro_speech equal, FastestDet's setup (load + init) 0.1% more; in the warm ones
             * they cost 7,700 instructions per inference (FastestDet), and without LTO 25,000 */
            if (!warm_code(src) && !harness_source(o, src)) {
                arg(a, "%s", "-fno-move-loop-invariants");
                arg(a, "%s", "-fno-tree-scev-cprop");
            }
        }
    }
    if (o->compact_errors) arg(a, "%s", "-DNML_COMPACT_ERRORS");
    const char *trims[NML_FW_TRIMS];
    for (size_t i = 0, n = nml_fw_trim_defines(o, trims); i < n; i++) arg(a, "%s", trims[i]);
    /* option readers linked by the kernels that need them (src/runtime/options_extra.h) */
    arg(a, "%s", "-DNML_OPTIONS_BY_KERNELS");
    /* the harness's inline assembly needs zicsr, which an LTO link would not pass on */
    if (o->lto && !harness_source(o, src)) arg(a, "%s", "-flto");
    arg(a, "-I%s/include", o->source_dir);
    arg(a, "-I%s/src/runtime", o->source_dir);
    arg(a, "-I%s/firmware", o->source_dir);
    arg(a, "-I%s", gen);
    arg(a, "%s", "-c");
    arg(a, "%s", src);
    arg(a, "%s", "-o");
    arg(a, "%s", obj);
}

static void print_command(const nml_fw_options *o, char *const argv[]) {
    if (!o->verbose) return;
    for (int i = 0; argv[i]; i++)
        fprintf(stderr, "%s%s", i ? " " : "", argv[i]);
    fputc('\n', stderr);
}

typedef struct job {
    pid_t pid;
    char log[PATH_CAP];
    char src[PATH_CAP];
} job;

static nml_status start_job(const nml_fw_options *o, argv_buf *a, job *j, nml_error *err) {
    if (a->truncated) return nml_fail(err, NML_E_LIMIT, "compile command too long for %s", j->src);
    print_command(o, a->argv);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, j->log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    int rc = posix_spawnp(&j->pid, a->argv[0], &fa, NULL, a->argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) return nml_fail(err, NML_E_IO, "cannot run %s: %s", a->argv[0], strerror(rc));
    return NML_OK;
}

/* The start of a tool's output for a one-line error: newlines become "; ", at most cap - 1
 * characters (nml_fail's formatter has no precision). */
static void excerpt(char *buf, size_t cap, const char *text) {
    size_t n = 0;
    for (const char *p = text; *p && n + 3 < cap; p++) {
        if (*p == '\n') {
            if (p[1]) {
                buf[n++] = ';';
                buf[n++] = ' ';
            }
        } else {
            buf[n++] = *p;
        }
    }
    buf[n] = '\0';
}

/* The first lines of a failed compile's log, as the error message. */
static nml_status job_failed(const job *j, nml_error *err) {
    uint8_t *text = NULL;
    size_t size = 0;
    nml_error ignore;
    if (nml_read_file(j->log, 1 << 20, &text, &size, &ignore) != NML_OK) text = NULL;
    const char *msg = text ? (const char *)text : "(no output)";
    const char *slash = strrchr(j->src, '/');
    char short_msg[180];
    excerpt(short_msg, sizeof short_msg, msg);
    nml_status st =
        nml_fail(err, NML_E_IO, "compiling %s failed: %s", slash ? slash + 1 : j->src, short_msg);
    free(text);
    return st;
}

/* Waits for the oldest running job (by its pid: other children of the process are left
 * alone) and removes it from the list. */
static nml_status wait_job(job *jobs, int *running, nml_error *err) {
    int status;
    job done = jobs[0];
    while (waitpid(done.pid, &status, 0) < 0) {
        if (errno != EINTR) return nml_fail(err, NML_E_IO, "waitpid: %s", strerror(errno));
    }
    memmove(jobs, jobs + 1, (size_t)(*running - 1) * sizeof *jobs);
    (*running)--;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return job_failed(&done, err);
    return NML_OK;
}

static nml_status compile_all(const nml_fw_options *o, const src_list *l, src_list *objs,
                              nml_error *err) {
    job jobs[16];
    int running = 0, max = o->jobs < 1 ? 1 : (o->jobs > 16 ? 16 : o->jobs);
    nml_status st = NML_OK;
    argv_buf *a = malloc(sizeof *a);
    if (!a) return nml_fail(err, NML_E_NOMEM, "out of memory");
    for (int i = 0; i < l->n && st == NML_OK; i++) {
        char obj[PATH_CAP];
        st = object_path(o, l->paths[i], obj, err);
        if (st == NML_OK) st = add_path(objs, obj, err);
        if (st == NML_OK && running == max) st = wait_job(jobs, &running, err);
        if (st != NML_OK) break;
        job *j = &jobs[running];
        size_t on = strlen(obj), sn = strlen(l->paths[i]);
        if (on + 5 > sizeof j->log || sn + 1 > sizeof j->src) {
            st = nml_fail(err, NML_E_LIMIT, "path too long: %s", obj);
            break;
        }
        memcpy(j->log, obj, on);
        memcpy(j->log + on, ".log", 5);
        memcpy(j->src, l->paths[i], sn + 1);
        compile_args(o, l->paths[i], obj, a);
        st = start_job(o, a, j, err);
        if (st == NML_OK) running++;
    }
    while (running > 0) {
        nml_status s2 = wait_job(jobs, &running, st == NML_OK ? err : NULL);
        if (st == NML_OK) st = s2;
    }
    free(a);
    return st;
}

/* 1 for the objects of src/runtime (named src_runtime_*.o by object_path). */
static int runtime_object(const char *obj) {
    const char *base = strrchr(obj, '/');
    base = base ? base + 1 : obj;
    return strncmp(base, "src_runtime_", 12) == 0;
}

/* Runs one tool; its output becomes the error message when it fails. */
static nml_status run_tool(const nml_fw_options *o, argv_buf *a, const char *what,
                           nml_error *err) {
    if (a->truncated) return nml_fail(err, NML_E_LIMIT, "%s: command too long", what);
    print_command(o, a->argv);
    nml_proc_result r;
    NML_TRY(nml_run_process(a->argv, 0, &r, err));
    nml_status st = NML_OK;
    if (r.exit_code != 0 || r.signaled) {
        char short_msg[200];
        excerpt(short_msg, sizeof short_msg, r.output ? r.output : "");
        st = nml_fail(err, NML_E_IO, "%s failed: %s", what, short_msg);
    }
    nml_proc_result_free(&r);
    return st;
}

/* The runtime's objects go into an archive, as a library build of the runtime would: the linker
 * then takes only the members something references, and a weak reference takes none (the
 * loader's references to the packed-weights code, src/runtime/model.c). */
static nml_status archive_runtime(const nml_fw_options *o, const src_list *objs, nml_error *err) {
    char lib[PATH_CAP];
    NML_TRY(join(lib, o->work_dir, "libnanoml_runtime.a", err));
    if (remove(lib) != 0 && errno != ENOENT)
        return nml_fail(err, NML_E_IO, "cannot remove %s: %s", lib, strerror(errno));
    argv_buf *a = malloc(sizeof *a);
    if (!a) return nml_fail(err, NML_E_NOMEM, "out of memory");
    a->n = 0;
    a->truncated = 0;
    arg(a, o->lto ? "%sgcc-ar" : "%sar", o->prefix); /* gcc-ar indexes LTO objects */
    arg(a, "%s", "rcs");
    arg(a, "%s", lib);
    for (int i = 0; i < objs->n; i++)
        if (runtime_object(objs->paths[i])) arg(a, "%s", objs->paths[i]);
    nml_status st = run_tool(o, a, "archiving the runtime", err);
    free(a);
    return st;
}

static nml_status link_elf(const nml_fw_options *o, const src_list *objs, nml_error *err) {
    argv_buf *a = malloc(sizeof *a);
    if (!a) return nml_fail(err, NML_E_NOMEM, "out of memory");
    a->n = 0;
    a->truncated = 0;
    arg(a, "%sgcc", o->prefix);
    static const char *const fixed[] = {"--specs=picolibc.specs", "-march=rv32imc", "-mabi=ilp32",
                                        "-nostartfiles", "-Wl,--gc-sections"};
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        arg(a, "%s", fixed[i]);
    if (o->lto) {
        arg(a, "%s", "-flto");
        arg(a, "%s", o->opt);
        /* whole-program points-to analysis (an IPA pass: it runs at the LTO link): fewer
         * reloads through pointers the runtime never aliases (measured, FastestDet with
         * --compact-errors --plan-at-export: 54 B less, 6,500 instructions per inference less) */
        arg(a, "%s", "-fipa-pta");
    }
    arg(a, "-T%s/firmware/link.ld", o->source_dir);
    arg(a, "-Wl,-Map=%s/firmware.map", o->work_dir);
    for (int i = 0; i < objs->n; i++)
        if (!runtime_object(objs->paths[i])) arg(a, "%s", objs->paths[i]);
    arg(a, "%s/libnanoml_runtime.a", o->work_dir);
    arg(a, "%s", "-lm");
    arg(a, "%s", "-o");
    arg(a, "%s/firmware.elf", o->work_dir);
    nml_status st = run_tool(o, a, "linking the firmware", err);
    free(a);
    return st;
}

nml_status nml_fw_build(const nml_fw_options *o, nml_error *err) {
    char p[PATH_CAP];
    NML_TRY(join(p, o->work_dir, "obj", err));
    NML_TRY(nml_make_dirs(p, err));
    src_list *l = calloc(1, sizeof *l), *objs = calloc(1, sizeof *objs);
    nml_status st = l && objs ? NML_OK : nml_fail(err, NML_E_NOMEM, "out of memory");
    if (st == NML_OK) st = collect_sources(o, l, err);
    if (st == NML_OK) st = compile_all(o, l, objs, err);
    if (st == NML_OK) st = archive_runtime(o, objs, err);
    if (st == NML_OK) st = link_elf(o, objs, err);
    if (l) src_list_free(l);
    if (objs) src_list_free(objs);
    free(l);
    free(objs);
    return st;
}

nml_status nml_fw_run(const nml_fw_options *o, nml_proc_result *result, nml_error *err) {
    char elf[PATH_CAP];
    memset(result, 0, sizeof *result);
    NML_TRY(join(elf, o->work_dir, "firmware.elf", err));
    char *argv[] = {(char *)o->qemu, "-machine", "virt",    "-bios",   "none",  "-m",
                    "32M",           "-display", "none",    "-serial", "stdio", "-monitor",
                    "none",          "-icount",  "shift=0", "-kernel", elf,     NULL};
    print_command(o, argv);
    nml_status st = nml_run_process(argv, o->timeout_s, result, err);
    if (st == NML_OK && result->timed_out)
        st = nml_fail(err, NML_E_IO, "the firmware did not finish within %d s under %s",
                      o->timeout_s, o->qemu);
    return st;
}
