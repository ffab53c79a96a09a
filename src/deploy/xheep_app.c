/* An X-HEEP application folder: copy it to sw/applications/<app>/ of an X-HEEP checkout and
 * `make app PROJECT=<app>`. X-HEEP's build compiles every .c below the application folder and
 * puts every folder holding a header on the include path, so the runtime sources travel with
 * the application (nanoml/) and an umbrella header makes nanoml/include an include folder. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nanoml/deploy.h"
#include "nanoml/file.h"
#include "nanoml/ops.h"
#include "paths.h"
#include "strbuf.h"

#define PATH_CAP NML_PATH_CAP
#define MAX_HEADERS 64
#define FILE_LIMIT ((size_t)16 << 20)

static nml_status write_text(const char *dir, const char *file, const char *text, nml_error *err) {
    char p[PATH_CAP];
    NML_TRY(nml_path_join(p, sizeof p, dir, file, err));
    return nml_write_file(p, text, strlen(text), err);
}

static nml_status copy_file(const char *from, const char *to, nml_error *err) {
    uint8_t *data;
    size_t size;
    NML_TRY(nml_read_file(from, FILE_LIMIT, &data, &size, err));
    nml_status st = nml_write_file(to, data, size, err);
    free(data);
    return st;
}

static int has_suffix(const char *s, const char *suffix) {
    size_t n = strlen(s), m = strlen(suffix);
    return n > m && strcmp(s + n - m, suffix) == 0;
}

/* Copies the .c and .h files of one folder (not recursive). */
static nml_status copy_sources(const char *from, const char *to, nml_error *err) {
    DIR *d = opendir(from);
    if (!d) return nml_fail(err, NML_E_IO, "%s: cannot open the runtime sources", from);
    nml_status st = nml_make_dirs(to, err);
    struct dirent *e;
    while (st == NML_OK && (e = readdir(d)) != NULL) {
        if (!has_suffix(e->d_name, ".c") && !has_suffix(e->d_name, ".h")) continue;
        char a[PATH_CAP], b[PATH_CAP];
        st = nml_path_join(a, sizeof a, from, e->d_name, err);
        if (st == NML_OK) st = nml_path_join(b, sizeof b, to, e->d_name, err);
        if (st == NML_OK) st = copy_file(a, b, err);
    }
    closedir(d);
    return st;
}

typedef struct header_set {
    char names[MAX_HEADERS][64];
    int n;
} header_set;

static void add_header(header_set *h, const char *name, size_t len) {
    if (len == 0 || len >= sizeof h->names[0]) return;
    for (int i = 0; i < h->n; i++)
        if (strlen(h->names[i]) == len && strncmp(h->names[i], name, len) == 0) return;
    if (h->n < MAX_HEADERS) {
        memcpy(h->names[h->n], name, len);
        h->names[h->n][len] = '\0';
        h->n++;
    }
}

/* Public headers a text includes as "nanoml/X.h". */
static void scan_includes(header_set *h, const char *text) {
    static const char key[] = "#include \"nanoml/";
    for (const char *p = strstr(text, key); p; p = strstr(p + 1, key)) {
        const char *name = p + sizeof key - 1;
        const char *end = strchr(name, '"');
        if (end && !memchr(name, '\n', (size_t)(end - name)))
            add_header(h, name, (size_t)(end - name));
    }
}

static nml_status scan_dir(header_set *h, const char *dir, nml_error *err) {
    DIR *d = opendir(dir);
    if (!d) return NML_OK;
    nml_status st = NML_OK;
    struct dirent *e;
    while (st == NML_OK && (e = readdir(d)) != NULL) {
        if (!has_suffix(e->d_name, ".c") && !has_suffix(e->d_name, ".h")) continue;
        char p[PATH_CAP];
        uint8_t *text;
        size_t size;
        st = nml_path_join(p, sizeof p, dir, e->d_name, err);
        if (st == NML_OK) st = nml_read_file(p, FILE_LIMIT, &text, &size, err);
        if (st == NML_OK) scan_includes(h, (const char *)text);
        if (st == NML_OK) free(text);
    }
    closedir(d);
    return st;
}

/* The public headers the runtime needs, followed through their own includes. */
static nml_status copy_public_headers(const char *src, const char *app_dir, nml_error *err) {
    header_set *h = calloc(1, sizeof *h);
    if (!h) return nml_fail(err, NML_E_NOMEM, "out of memory");
    char p[PATH_CAP], q[PATH_CAP], in_dir[PATH_CAP], out_dir[PATH_CAP];
    nml_status st = nml_path_join(p, sizeof p, src, "src/runtime", err);
    if (st == NML_OK) st = scan_dir(h, p, err);
    if (st == NML_OK) st = nml_path_join(p, sizeof p, src, "src/runtime/kernels", err);
    if (st == NML_OK) st = scan_dir(h, p, err);
    if (st == NML_OK) st = nml_path_join(in_dir, sizeof in_dir, src, "include/nanoml", err);
    if (st == NML_OK)
        st = nml_path_join(out_dir, sizeof out_dir, app_dir, "nanoml/include/nanoml", err);
    if (st == NML_OK) st = nml_make_dirs(out_dir, err);
    for (int i = 0; st == NML_OK && i < h->n; i++) { /* h->n grows while scanning */
        st = nml_path_join(p, sizeof p, in_dir, h->names[i], err);
        if (st == NML_OK) st = nml_path_join(q, sizeof q, out_dir, h->names[i], err);
        uint8_t *text;
        size_t size;
        if (st == NML_OK) st = nml_read_file(p, FILE_LIMIT, &text, &size, err);
        if (st != NML_OK) break;
        scan_includes(h, (const char *)text);
        st = nml_write_file(q, text, size, err);
        free(text);
    }
    free(h);
    return st;
}

static nml_status copy_runtime(const char *src, const char *app_dir, nml_error *err) {
    static const char *const dirs[][2] = {{"src/runtime", "nanoml/src/runtime"},
                                          {"src/runtime/kernels", "nanoml/src/runtime/kernels"}};
    char a[PATH_CAP], b[PATH_CAP];
    for (size_t i = 0; i < 2; i++) {
        NML_TRY(nml_path_join(a, sizeof a, src, dirs[i][0], err));
        NML_TRY(nml_path_join(b, sizeof b, app_dir, dirs[i][1], err));
        NML_TRY(copy_sources(a, b, err));
    }
    NML_TRY(copy_public_headers(src, app_dir, err));
    NML_TRY(nml_path_join(b, sizeof b, app_dir, "nanoml/include", err));
    return write_text(b, "nanoml.h",
                      "/* The nanoml runtime API. This header also puts its folder on X-HEEP's\n"
                      " * include path (the build adds every folder that holds a header), so\n"
                      " * \"nanoml/runtime.h\" resolves. */\n"
                      "#ifndef NANOML_H\n#define NANOML_H\n#include \"nanoml/runtime.h\"\n#endif\n",
                      err);
}

static char *main_source(const char *name, const char *NAME, const char *model_file) {
    nml_sb sb;
    nml_sb_init(&sb);
    nml_sb_printf(
        &sb,
        "/* nanoml on X-HEEP: runs %s once on the embedded input (input.c) and prints the\n"
        " * outputs, the instructions and cycles per inference and per operator. Generated by\n"
        " * `nanoml deploy --target xheep`; edit freely. */\n"
        "#include <stdint.h>\n#include <stdio.h>\n#include <string.h>\n\n"
        "#include \"nanoml.h\"\n#include \"%s_model.h\"\n\n",
        model_file, name);
    nml_sb_printf(&sb,
                  "extern const uint8_t nanoml_app_input[];\n"
                  "extern const uint32_t nanoml_app_input_size;\n\n"
                  "_Alignas(16) static uint8_t arena[%s_ARENA_BYTES];\n"
                  "static uint32_t node_instret[%s_NODE_COUNT ? %s_NODE_COUNT : 1];\n"
                  "static uint32_t last_instret;\n\n",
                  NAME, NAME, NAME);
    nml_sb_puts(&sb, "/* 32-bit counters keep printf to %lu, which newlib-nano supports. */\n"
                     "static inline uint32_t read_instret(void) {\n"
                     "    uint32_t v;\n    __asm__ volatile(\"csrr %0, minstret\" : \"=r\"(v));\n  "
                     "  return v;\n}\n\n"
                     "static inline uint32_t read_cycles(void) {\n"
                     "    uint32_t v;\n    __asm__ volatile(\"csrr %0, mcycle\" : \"=r\"(v));\n    "
                     "return v;\n}\n\n"
                     "static void on_node_done(void *user, uint32_t node) {\n"
                     "    (void)user;\n    uint32_t now = read_instret();\n"
                     "    if (node < sizeof node_instret / sizeof node_instret[0])\n"
                     "        node_instret[node] = now - last_instret;\n"
                     "    last_instret = read_instret();\n}\n\n");
    nml_sb_puts(&sb, "static void print_outputs(nml_interpreter *it) {\n"
                     "    for (uint32_t i = 0; i < nml_output_count(it); i++) {\n"
                     "        const nml_tensor *t = nml_output(it, i);\n"
                     "        const uint8_t *b = (const uint8_t *)t->data;\n"
                     "        printf(\"output %lu (%s, %lu bytes):\", (unsigned long)i, "
                     "nml_dtype_name(t->type),\n"
                     "               (unsigned long)t->bytes);\n"
                     "        for (uint32_t k = 0; k < t->bytes && k < 64; k++) {\n"
                     "            if (t->type == NML_INT8) printf(\" %d\", (int)(int8_t)b[k]);\n"
                     "            else printf(\" %02x\", b[k]);\n"
                     "        }\n"
                     "        printf(t->bytes > 64 ? \" ...\\n\" : \"\\n\");\n"
                     "    }\n}\n\n");
    nml_sb_printf(
        &sb,
        "int main(void) {\n"
        "    static nml_model model;\n    static nml_interpreter it;\n    static nml_error err;\n"
        "    /* the counters may start inhibited (mcountinhibit) */\n"
        "    __asm__ volatile(\"csrw 0x320, zero\");\n"
        "    if (nml_model_load(&model, %s_model, %s_MODEL_BYTES, &err) != NML_OK ||\n"
        "#ifdef %s_PLAN_ACTIVATION_BYTES /* the export's arena plan: no planner linked */\n"
        "        nml_interpreter_init_planned(&it, &model, &%s_op_resolver, &%s_arena_plan, "
        "arena,\n"
        "                                     sizeof arena, &err) != NML_OK) {\n"
        "#else\n"
        "        nml_interpreter_init(&it, &model, &%s_op_resolver, arena, sizeof arena, &err) != "
        "NML_OK) {\n"
        "#endif\n"
        "        printf(\"nanoml: %%s\\n\", err.msg);\n        return 1;\n    }\n"
        "    printf(\"nanoml: %s, %%lu operators, arena %%lu of %%lu bytes\\n\",\n"
        "           (unsigned long)it.n_nodes, (unsigned long)it.arena_used, (unsigned long)sizeof "
        "arena);\n",
        name, NAME, NAME, name, name, name, name);
    nml_sb_puts(
        &sb,
        "    const uint8_t *src = nanoml_app_input;\n"
        "    uint32_t left = nanoml_app_input_size;\n"
        "    for (uint32_t i = 0; i < nml_input_count(&it); i++) {\n"
        "        nml_tensor *t = nml_input(&it, i);\n"
        "        uint32_t n = t->bytes < left ? t->bytes : left;\n"
        "        memset(t->data, 0, t->bytes);\n"
        "        memcpy(t->data, src, n);\n"
        "        src += n;\n        left -= n;\n    }\n"
        "    uint32_t c0 = read_cycles(), i0 = read_instret();\n"
        "    nml_status st = nml_invoke(&it, &err);\n"
        "    uint32_t i1 = read_instret(), c1 = read_cycles();\n"
        "    if (st != NML_OK) {\n        printf(\"nanoml: %s\\n\", err.msg);\n        return 1;\n "
        "   }\n"
        "    print_outputs(&it);\n"
        "    printf(\"inference: %lu instructions, %lu cycles\\n\", (unsigned long)(i1 - i0),\n"
        "           (unsigned long)(c1 - c0));\n"
        "    it.on_node_done = on_node_done;\n"
        "    last_instret = read_instret();\n"
        "    if (nml_invoke(&it, &err) != NML_OK) return 1;\n"
        "    for (uint32_t i = 0; i < it.n_nodes && i < sizeof node_instret / sizeof "
        "node_instret[0]; i++)\n"
        "        printf(\"op %lu %s: %lu instructions\\n\", (unsigned long)i,\n"
        "               nml_op_name(nml_node_builtin(&it, i)), (unsigned long)node_instret[i]);\n"
        "    return 0;\n}\n");
    return nml_sb_take(&sb);
}

static char *input_source(const uint8_t *input, size_t size) {
    nml_sb sb;
    nml_sb_init(&sb);
    nml_sb_puts(&sb,
                "/* The input main.c runs: the model inputs' raw bytes, concatenated in input\n"
                " * order (zeros when deploy got no --input). Generated by nanoml deploy. */\n"
                "#include <stdint.h>\n\n_Alignas(16) const uint8_t nanoml_app_input[] = {");
    for (size_t i = 0; i < size; i++)
        nml_sb_printf(&sb, "%s%s0x%02x", i ? "," : "", i % 12 ? " " : "\n    ", input[i]);
    if (size == 0) nml_sb_puts(&sb, "0");
    nml_sb_printf(&sb, "\n};\nconst uint32_t nanoml_app_input_size = %zuu;\n", size);
    return nml_sb_take(&sb);
}

static char *make_fragment(const char *name, const nml_model_info *info, size_t arena,
                           int compact_errors) {
    nml_sb sb;
    nml_sb_init(&sb);
    nml_sb_printf(
        &sb,
        "# nanoml runtime and model for this application (generated by nanoml deploy).\n"
        "# X-HEEP's own build (make app PROJECT=<app>) finds these files by itself; include this\n"
        "# fragment from other Makefile-based builds:  include path/to/<app>/nanoml.mk\n"
        "NANOML_APP_DIR := $(dir $(lastword $(MAKEFILE_LIST)))\n"
        "NANOML_MODEL := %s\n"
        "NANOML_MODEL_BYTES := %zu\n"
        "NANOML_ARENA_BYTES := %zu\n"
        "NANOML_OPS := ",
        name, info->model_bytes, arena);
    for (uint32_t i = 0; i < info->n_ops; i++)
        nml_sb_printf(&sb, "%s%s", i ? " " : "", nml_op_name(info->ops[i]));
    nml_sb_printf(
        &sb,
        "\nNANOML_SRCS := $(wildcard $(NANOML_APP_DIR)nanoml/src/runtime/*.c) \\\n"
        "    $(wildcard $(NANOML_APP_DIR)nanoml/src/runtime/kernels/*.c) \\\n"
        "    $(NANOML_APP_DIR)%s_model.c $(NANOML_APP_DIR)input.c\n"
        "NANOML_INCLUDES := -I$(NANOML_APP_DIR) -I$(NANOML_APP_DIR)nanoml/include \\\n"
        "    -I$(NANOML_APP_DIR)nanoml/src/runtime\n"
        "NANOML_CFLAGS := -std=c11 -Os -ffunction-sections -fdata-sections "
        "-DNML_OPTIONS_BY_KERNELS%s",
        name, compact_errors ? " -DNML_COMPACT_ERRORS" : "");
    /* the same trims nanoml deploy compiles its firmware with */
    nml_fw_options trim = {0};
    nml_fw_options_trim_for(&trim, info);
    const char *trims[NML_FW_TRIMS];
    for (size_t i = 0, n = nml_fw_trim_defines(&trim, trims); i < n; i++)
        nml_sb_printf(&sb, " %s", trims[i]);
    nml_sb_printf(&sb, " $(NANOML_INCLUDES)\n"
                       "NANOML_LDFLAGS := -Wl,--gc-sections\n"
                       "NANOML_LDLIBS := -lm\n");
    return nml_sb_take(&sb);
}

static char *readme_text(const nml_xheep_app *app, const nml_model_info *info, size_t arena,
                         int plan) {
    const char *base = strrchr(app->dir, '/');
    base = base && base[1] ? base + 1 : app->dir;
    nml_sb sb;
    nml_sb_init(&sb);
    nml_sb_printf(&sb,
                  "# %s: nanoml on X-HEEP\n\n"
                  "Generated by `nanoml deploy --target %s` from `%s`.\n\n"
                  "| | |\n|---|---|\n"
                  "| model | %zu bytes, %u operators (%u kinds) |\n"
                  "| tensor arena | %zu bytes |\n"
                  "| inputs / outputs | %u / %u |\n\n",
                  base, app->target->name, app->model_file, info->model_bytes,
                  (unsigned)info->n_nodes, (unsigned)info->n_ops, arena, (unsigned)info->n_inputs,
                  (unsigned)info->n_outputs);
    if (app->measured) {
        const nml_mem_need *m = app->measured;
        nml_sb_printf(
            &sb,
            "Measured on RV32IMC in the nanoml harness under QEMU (-Os; X-HEEP's printf and\n"
            "startup code differ a little): code %llu B, constants %llu B (model included),\n"
            "data %llu B, bss %llu B, arena %llu B, stack %llu B (peak rounded up to 1 KiB).\n"
            "The linker script's code section must hold the code: with LINKER=on_chip set\n"
            "`linker_sections` in the MCU configuration so that `code` is at least %llu bytes\n"
            "and `data` holds the rest (X-HEEP "
            "docs/source/Configuration/LinkerConfiguration.md).\n\n",
            (unsigned long long)m->text, (unsigned long long)m->rodata, (unsigned long long)m->data,
            (unsigned long long)m->bss, (unsigned long long)m->arena, (unsigned long long)m->stack,
            (unsigned long long)m->text);
    }
    nml_sb_printf(
        &sb,
        "## Run it\n\n"
        "```sh\n"
        "cp -r %s <x-heep>/sw/applications/%s\n"
        "cd <x-heep>\n"
        "make mcu-gen MEMORY_BANKS=%u            # %s: %u banks of 32 KiB\n"
        "make app PROJECT=%s LINKER=on_chip      # or flash_load / flash_exec for large models\n"
        "```\n\n"
        "then run `sw/build/main.elf` the usual way (Verilator/Questa simulation, or the FPGA\n"
        "through OpenOCD). `main.c` prints the outputs, the instructions and cycles of one\n"
        "inference and the instructions per operator over the UART; it returns 0 on success.\n\n",
        app->dir, base, (unsigned)app->target->banks, app->target->name,
        (unsigned)app->target->banks, base);
    if (app->compact_errors)
        nml_sb_puts(&sb, "Compact errors (`--compact-errors`): compile the runtime with\n"
                         "`-DNML_COMPACT_ERRORS` (`nanoml.mk` does; in X-HEEP's own build add it to\n"
                         "the application's compiler flags). Errors then keep their status and\n"
                         "where (\"operator 12: malformed input\") without the detail text.\n\n");
    if (plan)
        nml_sb_puts(&sb, "Arena plan (`--plan-at-export`): the model sources hold the memory plan\n"
                         "made on the host and `main.c` initializes with it\n"
                         "(`nml_interpreter_init_planned`), which checks that every buffer fits\n"
                         "but does not plan, so the memory planner is not linked. The plan belongs\n"
                         "to this model: export again after changing it.\n\n");
    nml_sb_puts(
        &sb,
        "## Files\n\n"
        "- `main.c`: the application (edit freely).\n"
        "- `*_model.h`, `*_model.c`: the model as a 16-byte aligned const array (byte-identical "
        "to\n"
        "  the .tflite file), its arena size, input/output formats and an operator resolver that\n"
        "  links only the kernels this model uses.\n"
        "- `input.c`: the input `main.c` runs.\n"
        "- `nanoml/`: the nanoml runtime sources (freestanding C11, no malloc, no stdio).\n"
        "- `nanoml.mk`: source and flag lists for other Makefile-based builds.\n\n"
        "X-HEEP's build compiles every `.c` file below this folder and adds every folder holding\n"
        "a header to the include path, so nothing needs configuring. The runtime needs\n"
        "`memcpy`/`memset`/`memmove` and, for float operators, libm; X-HEEP links `-lc -lm`.\n");
    return nml_sb_take(&sb);
}

static nml_status write_owned(const char *dir, const char *file, char *text, nml_error *err) {
    if (!text) return nml_fail(err, NML_E_NOMEM, "out of memory generating %s", file);
    nml_status st = write_text(dir, file, text, err);
    free(text);
    return st;
}

nml_status nml_xheep_write_app(const nml_xheep_app *app, const nml_model_info *info,
                               const uint8_t *model, size_t model_size,
                               const nml_export_options *export_opts, nml_error *err) {
    char NAME[NML_EXPORT_NAME_MAX], file_h[NML_EXPORT_NAME_MAX + 16],
        file_c[NML_EXPORT_NAME_MAX + 16];
    if (!nml_export_name_valid(app->name))
        return nml_fail(err, NML_E_ARG, "name '%s' is not a C identifier", app->name);
    size_t n = 0;
    for (; app->name[n] && n + 1 < sizeof NAME; n++)
        NAME[n] =
            (char)(app->name[n] >= 'a' && app->name[n] <= 'z' ? app->name[n] - 32 : app->name[n]);
    NAME[n] = '\0';
    size_t arena = export_opts && export_opts->arena_bytes_override
                       ? export_opts->arena_bytes_override
                       : info->arena_bytes;
    char *h = NULL, *c = NULL;
    NML_TRY(nml_export_sources(info, model, model_size, app->name, export_opts, &h, &c, err));
    nml_status st = nml_make_dirs(app->dir, err);
    memcpy(file_h, app->name, n);
    memcpy(file_h + n, "_model.h", 9);
    memcpy(file_c, app->name, n);
    memcpy(file_c + n, "_model.c", 9);
    if (st == NML_OK) st = write_text(app->dir, file_h, h, err);
    if (st == NML_OK) st = write_text(app->dir, file_c, c, err);
    free(h);
    free(c);
    if (st == NML_OK)
        st = write_owned(app->dir, "main.c", main_source(app->name, NAME, app->model_file), err);
    if (st == NML_OK)
        st = write_owned(app->dir, "input.c",
                         input_source(app->input, app->input ? app->input_size : 0), err);
    if (st == NML_OK)
        st = write_owned(app->dir, "nanoml.mk", make_fragment(app->name, info, arena, app->compact_errors), err);
    if (st == NML_OK) st = write_owned(app->dir, "README.md", readme_text(app, info, arena, export_opts && export_opts->plan_at_export),
                         err);
    if (st == NML_OK) st = copy_runtime(app->source_dir, app->dir, err);
    return st;
}
