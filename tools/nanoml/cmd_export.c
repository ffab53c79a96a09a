/* nanoml export: a .tflite model as C sources for firmware. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_order.h"
#include "nanoml/deploy.h"
#include "nanoml/export.h"
#include "nanoml/file.h"
#include "nanoml/ops.h"

#define MODEL_LIMIT ((size_t)NML_MAX_MODEL_BYTES)

int cmd_export(int argc, char **argv);

static void usage(FILE *out) {
    fprintf(
        out,
        "usage: nanoml export MODEL.tflite [--name NAME] [--out DIR] [--format nanoml|xxd]\n"
        "                     [--target TARGET] [--linker MODE] [--kernels SET]\n"
        "                     [--keep-order] [--save-tflite FILE] [--plan-at-export]\n\n"
        "Writes DIR/NAME_model.h and DIR/NAME_model.c for firmware: the model bytes as a 16-byte\n"
        "aligned const array, its length, the exact tensor arena\n"
        "size, the operators it uses with an op resolver (NAME_op_resolver) that links only\n"
        "their kernels, MACs per operator, and the input/output shapes, types, scales and zero\n"
        "points as constants.\n\n"
        "options:\n"
        "  --name NAME      C identifier prefix (default: the file name without extension)\n"
        "  --out DIR        output folder, created if needed (default: .)\n"
        "  --format F       nanoml (default) or xxd: NAME_model.c is exactly `xxd -i -n NAME`\n"
        "                   output and the header carries the constants (no resolver)\n"
        "  --target T       refuse a model that cannot fit T: xheep (= xheep-64k), xheep-96k,\n"
        "                   ..., xheep-512k (X-HEEP RAM in 32 KiB banks, 16 MiB flash)\n"
        "  --linker MODE    X-HEEP LINKER mode for that check: on_chip (default), flash_load,\n"
        "                   flash_exec (code and constants stay in flash)\n"
        "  --kernels SET    optimized (default): the resolver names the optimized int8\n"
        "                   CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED kernels; reference:\n"
        "                   only the reference kernels (the arena is planned for the set)\n"
        "  --keep-order     embed the operators in the file's order. By default (nanoml format)\n"
        "                   the operators are put in the order that needs the fewest\n"
        "                   activation bytes when the runtime then plans fewer (only the\n"
        "                   operators vector changes; outputs are bit-identical); the line\n"
        "                   \"activation peak: ...\" says what was chosen. xxd format: the\n"
        "                   file's bytes, always\n"
        "  --save-tflite F  also write the embedded model (reordered or not) to F\n"
        "  --plan-at-export also write the arena plan (NAME_arena_plan: every activation's and\n"
        "                   scratch's offset and size) for nml_interpreter_init_planned(), which\n"
        "                   checks it instead of planning: no memory planner linked\n"
        "                   (nanoml/arena_plan.h, docs/deploy.md)\n\n"
        "The target check counts the model and the arena; code, stack and buffers come on top\n"
        "(`nanoml deploy` measures them).\n");
}

typedef struct export_args {
    const char *model, *name, *out, *format, *target, *linker, *kernels_name, *save_tflite;
    int keep_order, plan_at_export;
    nml_target t; /* parsed --target/--linker */
    int kernels;  /* nml_kernel_set */
} export_args;

static int parse(int argc, char **argv, export_args *a) {
    memset(a, 0, sizeof *a);
    a->out = ".";
    a->format = "nanoml";
    for (int i = 1; i < argc; i++) {
        int r;
        if (cli_is_help(argv[i])) {
            usage(stdout);
            return 0;
        }
        if ((r = cli_take_value("export", argc, argv, &i, "--name", &a->name)) != 0 ||
            (r = cli_take_value("export", argc, argv, &i, "--out", &a->out)) != 0 ||
            (r = cli_take_value("export", argc, argv, &i, "--format", &a->format)) != 0 ||
            (r = cli_take_value("export", argc, argv, &i, "--target", &a->target)) != 0 ||
            (r = cli_take_value("export", argc, argv, &i, "--linker", &a->linker)) != 0 ||
            (r = cli_take_value("export", argc, argv, &i, "--kernels", &a->kernels_name)) != 0 ||
            (r = cli_take_value("export", argc, argv, &i, "--save-tflite", &a->save_tflite)) != 0) {
            if (r < 0) return 2;
            continue;
        }
        if (strcmp(argv[i], "--keep-order") == 0) {
            a->keep_order = 1;
            continue;
        }
        if (strcmp(argv[i], "--plan-at-export") == 0) {
            a->plan_at_export = 1;
            continue;
        }
        if (argv[i][0] == '-') return cli_usage_error("export", "unknown option '%s'", argv[i]);
        if (a->model) return cli_usage_error("export", "more than one model given");
        a->model = argv[i];
    }
    if (!a->model) return cli_usage_error("export", "no model given");
    if (strcmp(a->format, "nanoml") != 0 && strcmp(a->format, "xxd") != 0)
        return cli_usage_error("export", "unknown format '%s' (nanoml, xxd)", a->format);
    nml_error err;
    if (a->target && nml_target_parse(a->target, &a->t, &err) != NML_OK)
        return cli_usage_error("export", "%s", err.msg);
    if (a->linker && !a->target) return cli_usage_error("export", "--linker needs --target");
    if (a->linker && nml_xheep_linker_parse(a->linker, &a->t.linker, &err) != NML_OK)
        return cli_usage_error("export", "%s", err.msg);
    if (a->kernels_name && nml_kernel_set_parse(a->kernels_name, &a->kernels, &err) != NML_OK)
        return cli_usage_error("export", "%s", err.msg);
    return -1; /* go on */
}

/* NAME from the file name: basename without extension, made an identifier. */
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

static int check_target(const export_args *a, const nml_model_info *info) {
    const nml_target t = a->t;
    nml_error err;
    nml_mem_need m = {0};
    m.rodata = info->model_bytes;
    m.arena = info->arena_bytes;
    if (nml_target_check(&t, &m, &err) != NML_OK)
        return cli_errorf("export", "%s %s (model %zu + arena %zu bytes, before code and stack)",
                          a->model, err.msg, info->model_bytes, info->arena_bytes);
    if (!t.is_qemu) {
        uint64_t ram, flash;
        nml_xheep_need(&m, t.linker, &ram, &flash);
        printf("fits %s (LINKER=%s): at least %llu of %llu bytes of RAM and %llu of %llu bytes "
               "of flash (model and arena; code and stack come on top)\n",
               t.name, nml_xheep_linker_name(t.linker), (unsigned long long)ram,
               (unsigned long long)t.ram_bytes, (unsigned long long)flash,
               (unsigned long long)t.flash_bytes);
    }
    return 0;
}

static int write_pair(const export_args *a, const char *name, const char *h, const char *c) {
    nml_error err;
    char *ph = NULL, *pc = NULL;
    size_t n = strlen(a->out) + strlen(name) + 16;
    ph = malloc(n);
    pc = malloc(n);
    int rc = 0;
    if (!ph || !pc) rc = cli_errorf("export", "out of memory");
    if (!rc && nml_make_dirs(a->out, &err) != NML_OK) rc = cli_error("export", &err);
    if (!rc) {
        snprintf(ph, n, "%s/%s_model.h", a->out, name);
        snprintf(pc, n, "%s/%s_model.c", a->out, name);
        if (nml_write_file(ph, h, strlen(h), &err) != NML_OK ||
            nml_write_file(pc, c, strlen(c), &err) != NML_OK)
            rc = cli_error("export", &err);
    }
    if (!rc) printf("wrote %s and %s\n", ph, pc);
    free(ph);
    free(pc);
    return rc;
}

static void print_summary(const nml_model_info *info) {
    printf("model %zu bytes, %u operators, arena %zu bytes (64-bit host plan; RV32 needs a "
           "little less)\noperators:",
           info->model_bytes, (unsigned)info->n_nodes, info->arena_bytes);
    for (uint32_t i = 0; i < info->n_ops; i++)
        printf(" %s", nml_op_name(info->ops[i]));
    if (info->node_macs) printf("\nMACs: %llu", (unsigned long long)info->total_macs);
    printf("\n");
}

int cmd_export(int argc, char **argv) {
    export_args a;
    int rc = parse(argc, argv, &a);
    if (rc >= 0) return rc;
    char name[NML_EXPORT_NAME_MAX];
    if (a.name) {
        if (!nml_export_name_valid(a.name))
            return cli_usage_error("export",
                                   "--name '%s' is not a C identifier (at most %d "
                                   "characters)",
                                   a.name, NML_EXPORT_NAME_MAX - 1);
        snprintf(name, sizeof name, "%s", a.name);
    } else {
        default_name(a.model, name, sizeof name);
    }
    int xxd = strcmp(a.format, "xxd") == 0;
    nml_error err;
    uint8_t *data;
    size_t size;
    if (nml_read_file(a.model, MODEL_LIMIT, &data, &size, &err) != NML_OK)
        return cli_error("export", &err);
    nml_model_info info;
    int have_info = 0;
    rc = xxd || a.keep_order ? 0 : cli_reorder("export", a.model, a.kernels, &data, &size);
    if (!rc && a.save_tflite && nml_write_file(a.save_tflite, data, size, &err) != NML_OK)
        rc = cli_error("export", &err);
    if (!rc && (!xxd || a.target)) { /* xxd output is the bytes alone */
        if (nml_model_info_analyze_kernels(&info, data, size, a.kernels, &err) != NML_OK)
            rc = cli_errorf("export", "%s: %s", a.model, err.msg);
        else
            have_info = 1;
    }
    if (!rc && a.target) rc = check_target(&a, &info);
    char *h = NULL, *c = NULL;
    nml_export_options eo = {0};
    eo.format = xxd ? NML_EXPORT_XXD : NML_EXPORT_NANOML;
    const char *slash = strrchr(a.model, '/');
    eo.source_name = slash ? slash + 1 : a.model;
    eo.plan_at_export = a.plan_at_export;
    if (!rc &&
        nml_export_sources(have_info ? &info : NULL, data, size, name, &eo, &h, &c, &err) != NML_OK)
        rc = cli_error("export", &err);
    if (!rc) rc = write_pair(&a, name, h, c);
    if (!rc && have_info) print_summary(&info);
    free(h);
    free(c);
    if (have_info) nml_model_info_free(&info);
    free(data);
    return rc;
}
