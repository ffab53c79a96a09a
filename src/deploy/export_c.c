/* C sources that embed a model in firmware: the bytes as a 16-byte aligned const array
 * (byte-identical to the .tflite file), its length, the arena size, the operators it uses with
 * a resolver that references only their kernels, and the input/output formats as constants.
 * The xxd format reproduces `xxd -i -n NAME` exactly. */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nanoml/arena_plan.h"
#include "nanoml/export.h"
#include "nanoml/runtime.h"
#include "nanoml/ops.h"
#include "strbuf.h"

#define XXD_BYTES_PER_LINE 12

int nml_export_name_valid(const char *name) {
    size_t n = name ? strlen(name) : 0;
    if (n == 0 || n >= NML_EXPORT_NAME_MAX) return 0;
    if (!(isalpha((unsigned char)name[0]) || name[0] == '_')) return 0;
    for (size_t i = 1; i < n; i++)
        if (!(isalnum((unsigned char)name[i]) || name[i] == '_')) return 0;
    return 1;
}

void nml_export_name_from_path(const char *path, char *buf, size_t cap) {
    if (cap == 0) return;
    size_t n = 0;
    if (isdigit((unsigned char)path[0]))
        for (int k = 0; k < 2 && n + 1 < cap; k++)
            buf[n++] = '_';
    for (const char *p = path; *p && n + 1 < cap; p++)
        buf[n++] = isalnum((unsigned char)*p) ? *p : '_';
    buf[n] = '\0';
}

int nml_export_kernel_symbol(int32_t builtin, char *buf, size_t cap) {
    const char *op = nml_op_name(builtin);
    if (strcmp(op, "UNKNOWN") == 0 || builtin == NML_OP_CUSTOM) return 0;
    static const char prefix[] = "nml_kernel_";
    if (cap < sizeof prefix + strlen(op)) return 0;
    memcpy(buf, prefix, sizeof prefix - 1);
    size_t n = sizeof prefix - 1;
    for (const char *p = op; *p; p++)
        buf[n++] = (char)tolower((unsigned char)*p);
    buf[n] = '\0';
    return 1;
}

int nml_export_kernel_symbol_for(int32_t builtin, int kernels, char *buf, size_t cap) {
    /* the operators with an optimized kernel (src/runtime/kernels/opt_*.c) */
    static const int32_t optimized[] = {NML_OP_CONV_2D, NML_OP_DEPTHWISE_CONV_2D,
                                        NML_OP_FULLY_CONNECTED, NML_OP_LOGISTIC, NML_OP_SOFTMAX,
                                        NML_OP_TANH,
                                        /* opt_gather.c .. opt_add.c */
                                        NML_OP_GATHER, NML_OP_QUANTIZE, NML_OP_PAD, NML_OP_PADV2,
                                        NML_OP_CONCATENATION, NML_OP_MAX_POOL_2D,
                                        NML_OP_AVERAGE_POOL_2D, NML_OP_ADD};
    if (!nml_export_kernel_symbol(builtin, buf, cap)) return 0;
    if (kernels != NML_KERNELS_OPTIMIZED) return 1;
    for (size_t i = 0; i < sizeof optimized / sizeof optimized[0]; i++) {
        if (optimized[i] != builtin) continue;
        size_t n = strlen(buf);
        if (n + 5 > cap) return 0;
        memcpy(buf + n, "_opt", 5);
    }
    return 1;
}

static void upper(const char *name, char *out, size_t cap) {
    size_t n = 0;
    for (; name[n] && n + 1 < cap; n++)
        out[n] = (char)toupper((unsigned char)name[n]);
    out[n] = '\0';
}

/* -------------------------------------------------------------------- xxd -i */

static void xxd_array(nml_sb *sb, const uint8_t *data, size_t size, const char *indent) {
    for (size_t i = 0; i < size; i++) {
        if (i % XXD_BYTES_PER_LINE == 0) nml_sb_puts(sb, indent);
        nml_sb_printf(sb, "0x%02x", data[i]);
        if (i + 1 == size)
            nml_sb_puts(sb, "\n");
        else if ((i + 1) % XXD_BYTES_PER_LINE == 0)
            nml_sb_puts(sb, ",\n");
        else
            nml_sb_puts(sb, ", ");
    }
}

static void xxd_source(nml_sb *sb, const uint8_t *data, size_t size, const char *name) {
    nml_sb_printf(sb, "unsigned char %s[] = {\n", name);
    xxd_array(sb, data, size, "  ");
    nml_sb_printf(sb, "};\nunsigned int %s_len = %zu;\n", name, size);
}

/* -------------------------------------------------------------------- header */

static const char *dtype_enum(int type) {
    switch (type) {
    case NML_FLOAT32:
        return "NML_FLOAT32";
    case NML_FLOAT16:
        return "NML_FLOAT16";
    case NML_INT32:
        return "NML_INT32";
    case NML_UINT8:
        return "NML_UINT8";
    case NML_INT64:
        return "NML_INT64";
    case NML_BOOL:
        return "NML_BOOL";
    case NML_INT16:
        return "NML_INT16";
    case NML_INT8:
        return "NML_INT8";
    case NML_INT4:
        return "NML_INT4";
    default:
        return NULL;
    }
}

static void shape_text(nml_sb *sb, const nml_io_info *io, const char *sep) {
    if (io->rank == 0) nml_sb_puts(sb, sep[0] == 'x' ? "scalar" : "1");
    for (int d = 0; d < io->rank; d++)
        nml_sb_printf(sb, "%s%d", d ? sep : "", (int)io->dims[d]);
}

/* A comment must not end early: tensor names are arbitrary text. */
static void comment_safe(nml_sb *sb, const char *text) {
    for (const char *p = text; *p; p++) {
        char c = *p;
        if (c == '*' && p[1] == '/') c = '_';
        if ((unsigned char)c < 0x20 || (unsigned char)c >= 0x7f) c = '?';
        nml_sb_append(sb, &c, 1);
    }
}

/* A float constant that reads back to the same float: 9 significant digits, always with a
 * '.' or exponent so that "1" becomes "1.0f", not the invalid "1f". */
static void float_literal(nml_sb *sb, float v) {
    if (!isfinite(v)) {
        nml_sb_puts(sb, "0.0f /* not finite in the model */");
        return;
    }
    char text[48];
    snprintf(text, sizeof text, "%.9g", (double)v);
    nml_sb_puts(sb, text);
    if (!strpbrk(text, ".e")) nml_sb_puts(sb, ".0");
    nml_sb_puts(sb, "f");
}

static void io_constants(nml_sb *sb, const char *NAME, const char *kind, uint32_t i,
                         const nml_io_info *io) {
    const char *type = dtype_enum(io->type);
    const char *K = kind[0] == 'i' ? "INPUT" : "OUTPUT";
    nml_sb_printf(sb, "/* %s %u \"", kind, (unsigned)i);
    comment_safe(sb, io->name);
    nml_sb_printf(sb, "\": %s ", nml_dtype_name(io->type));
    shape_text(sb, io, "x");
    if (io->n_q > 1) nml_sb_printf(sb, ", per-channel (%u scales; channel 0 below)", io->n_q);
    nml_sb_puts(sb, " */\n");
    nml_sb_printf(sb, "#define %s_%s%u_TYPE %s\n", NAME, K, (unsigned)i, type ? type : "(-1)");
    nml_sb_printf(sb, "#define %s_%s%u_RANK %d\n", NAME, K, (unsigned)i, io->rank);
    nml_sb_printf(sb, "#define %s_%s%u_DIMS {", NAME, K, (unsigned)i);
    shape_text(sb, io, ", ");
    nml_sb_puts(sb, "}\n");
    nml_sb_printf(sb, "#define %s_%s%u_BYTES %uu\n", NAME, K, (unsigned)i, (unsigned)io->bytes);
    nml_sb_printf(sb, "#define %s_%s%u_SCALE ", NAME, K, (unsigned)i);
    float_literal(sb, io->scale);
    nml_sb_puts(sb, "\n");
    nml_sb_printf(sb, "#define %s_%s%u_ZERO_POINT (%d)\n", NAME, K, (unsigned)i,
                  (int)io->zero_point);
}

static void header_guard_open(nml_sb *sb, const char *NAME) {
    nml_sb_printf(sb, "#ifndef %s_MODEL_H\n#define %s_MODEL_H\n\n", NAME, NAME);
}

/* The export-time arena plan (nanoml/arena_plan.h) in the header: its figures as constants. */
static void plan_declaration(nml_sb *sb, const nml_model_info *info, const char *name,
                             const char *NAME) {
    nml_sb_printf(sb,
                  "\n/* The arena plan made at export (`--plan-at-export`): the offset of every\n"
                  " * activation and scratch buffer, for nml_interpreter_init_planned(), which\n"
                  " * checks that each buffer fits its place but does not plan (docs/deploy.md).\n"
                  " * Activation bytes, and the lower bound of any plan in this operator\n"
                  " * order: */\n"
                  "#define %s_PLAN_ACTIVATION_BYTES %uu\n"
                  "#define %s_PLAN_LOWER_BOUND %uu\n"
                  "#define %s_VARIABLE_TENSORS %uu\n"
                  "extern const nml_arena_plan %s_arena_plan;\n",
                  NAME, (unsigned)info->plan_activation_bytes, NAME,
                  (unsigned)info->plan_min_bytes, NAME, (unsigned)info->n_variables, name);
}

static void header_text(nml_sb *sb, const nml_model_info *info, const char *name, const char *NAME,
                        const nml_export_options *o, size_t size) {
    nml_sb_puts(sb, "/* Generated by `nanoml export` from ");
    comment_safe(sb, o->source_name ? o->source_name : "a model");
    nml_sb_puts(sb, ". Do not edit. */\n");
    header_guard_open(sb, NAME);
    nml_sb_puts(sb, "#include <stdint.h>\n\n");
    if (o->plan_at_export) nml_sb_puts(sb, "#include \"nanoml/arena_plan.h\"\n");
    nml_sb_puts(sb, "#include \"nanoml/runtime.h\"\n\n");
    nml_sb_printf(sb, "#define %s_MODEL_BYTES %zuu\n", NAME, size);
    size_t arena = o->arena_bytes_override ? o->arena_bytes_override : info->arena_bytes;
    nml_sb_puts(sb, "/* Tensor arena: ");
    if (o->arena_note)
        comment_safe(sb, o->arena_note);
    else
        nml_sb_puts(sb,
                    "the runtime's plan on the exporting (64-bit) host. Its tensor and node\n"
                    " * tables hold pointers, so a 32-bit MCU needs slightly less; the firmware\n"
                    " * prints the exact figure (\"nml: arena used\")");
    nml_sb_puts(sb, ". */\n");
    nml_sb_printf(sb, "#define %s_ARENA_BYTES %zuu\n", NAME, arena);
    nml_sb_printf(sb, "#define %s_NODE_COUNT %uu /* operators in execution order */\n", NAME,
                  (unsigned)info->n_nodes);
    nml_sb_printf(sb, "#define %s_OP_COUNT %uu   /* distinct operators: ", NAME,
                  (unsigned)info->n_ops);
    for (uint32_t i = 0; i < info->n_ops; i++)
        nml_sb_printf(sb, "%s%s", i ? ", " : "", nml_op_name(info->ops[i]));
    nml_sb_puts(sb, " */\n");
    nml_sb_printf(sb, "#define %s_OPS \"", NAME);
    for (uint32_t i = 0; i < info->n_ops; i++)
        nml_sb_printf(sb, "%s%s", i ? "," : "", nml_op_name(info->ops[i]));
    nml_sb_puts(sb, "\"\n");
    nml_sb_printf(sb, "#define %s_HAS_MACS %d\n", NAME, info->node_macs ? 1 : 0);
    if (info->node_macs)
        nml_sb_printf(sb, "#define %s_TOTAL_MACS %lluull\n", NAME,
                      (unsigned long long)info->total_macs);
    nml_sb_printf(sb, "#define %s_INPUT_COUNT %uu\n#define %s_OUTPUT_COUNT %uu\n\n", NAME,
                  (unsigned)info->n_inputs, NAME, (unsigned)info->n_outputs);
    for (uint32_t i = 0; i < info->n_inputs; i++)
        io_constants(sb, NAME, "input", i, &info->inputs[i]);
    for (uint32_t i = 0; i < info->n_outputs; i++)
        io_constants(sb, NAME, "output", i, &info->outputs[i]);
    nml_sb_puts(sb, "\n#ifdef __cplusplus\nextern \"C\" {\n#endif\n\n");
    if (o->format == NML_EXPORT_XXD) {
        /* the .c file is xxd's, byte for byte, so it holds nothing but the array */
        nml_sb_printf(sb,
                      "/* `xxd -i` layout: not aligned; the runtime needs the model 16-byte\n"
                      " * aligned, so copy it to an aligned buffer before loading. The op\n"
                      " * resolver is generated by the default format only. */\n"
                      "extern unsigned char %s[];\nextern unsigned int %s_len;\n",
                      name, name);
        nml_sb_printf(sb, "\n#ifdef __cplusplus\n}\n#endif\n#endif /* %s_MODEL_H */\n", NAME);
        return;
    }
    nml_sb_printf(sb,
                  "/* The .tflite file, byte for byte, 16-byte aligned. */\n"
                  "extern const uint8_t %s_model[%s_MODEL_BYTES];\n"
                  "extern const uint32_t %s_model_len;\n",
                  name, NAME, name);
    nml_sb_printf(sb,
                  "/* Resolves exactly the kernels this model uses, so only they are linked. */\n"
                  "extern const nml_op_resolver %s_op_resolver;\n"
                  "/* Builtin operator code of every operator, in execution order. */\n"
                  "extern const int32_t %s_node_builtin[%s_NODE_COUNT];\n",
                  name, name, NAME);
    if (info->node_macs)
        nml_sb_printf(sb,
                      "/* Multiply-accumulates of every operator, in execution order. */\n"
                      "extern const uint64_t %s_node_macs[%s_NODE_COUNT];\n",
                      name, NAME);
    if (o->plan_at_export) plan_declaration(sb, info, name, NAME);
    nml_sb_puts(sb, "\n#ifdef __cplusplus\n}\n#endif\n");
    nml_sb_printf(sb, "#endif /* %s_MODEL_H */\n", NAME);
}

static void xxd_header_only(nml_sb *sb, const char *name, const char *NAME,
                            const nml_export_options *o, size_t size) {
    nml_sb_puts(sb, "/* Generated by `nanoml export --format xxd` from ");
    comment_safe(sb, o->source_name ? o->source_name : "a model");
    nml_sb_puts(sb, ". Do not edit. */\n");
    header_guard_open(sb, NAME);
    nml_sb_printf(sb, "#define %s_MODEL_BYTES %zuu\n\n", NAME, size);
    nml_sb_printf(sb,
                  "/* `xxd -i` layout: not aligned; the runtime needs the model 16-byte\n"
                  " * aligned, so copy it to an aligned buffer before loading. */\n"
                  "extern unsigned char %s[];\nextern unsigned int %s_len;\n\n"
                  "#endif /* %s_MODEL_H */\n",
                  name, name, NAME);
}

/* -------------------------------------------------------------------- source */

static nml_status resolver_text(nml_sb *sb, const nml_model_info *info, const char *name,
                                nml_error *err) {
    nml_sb_printf(sb, "static const nml_kernel *const %s_kernels[] = {\n", name);
    for (uint32_t i = 0; i < info->n_ops; i++) {
        char sym[96];
        if (!nml_export_kernel_symbol_for(info->ops[i], info->kernels, sym, sizeof sym))
            return nml_fail(err, NML_E_UNSUPPORTED,
                            "operator code %d has no kernel symbol to put in the resolver",
                            (int)info->ops[i]);
        const char *variant = NULL;
        if (info->op_variants && info->op_variants[i])
            nml_kernel_variant(info->ops[i], info->op_variants[i] - 1u, &variant);
        nml_sb_printf(sb, "    &%s,\n", variant ? variant : sym);
    }
    if (info->n_ops == 0) nml_sb_puts(sb, "    0,\n");
    nml_sb_printf(sb, "};\nconst nml_op_resolver %s_op_resolver = {%s_kernels, %uu};\n\n", name,
                  name, (unsigned)info->n_ops);
    return NML_OK;
}

static void node_tables(nml_sb *sb, const nml_model_info *info, const char *name,
                        const char *NAME) {
    nml_sb_printf(sb, "const int32_t %s_node_builtin[%s_NODE_COUNT] = {", name, NAME);
    for (uint32_t i = 0; i < info->n_nodes; i++)
        nml_sb_printf(sb, "%s%s%d", i ? "," : "", i % 16 ? " " : "\n    ",
                      (int)info->node_builtin[i]);
    if (info->n_nodes == 0) nml_sb_puts(sb, "0");
    nml_sb_puts(sb, "\n};\n");
    if (!info->node_macs) return;
    nml_sb_printf(sb, "const uint64_t %s_node_macs[%s_NODE_COUNT] = {", name, NAME);
    for (uint32_t i = 0; i < info->n_nodes; i++)
        nml_sb_printf(sb, "%s%s%lluu", i ? "," : "", i % 8 ? " " : "\n    ",
                      (unsigned long long)info->node_macs[i]);
    if (info->n_nodes == 0) nml_sb_puts(sb, "0");
    nml_sb_puts(sb, "\n};\n");
}

static void plan_entry(nml_sb *sb, const uint32_t *entry, uint32_t i) {
    nml_sb_puts(sb, i % 8 ? " " : "\n    ");
    if (entry[0] == NML_PLAN_NONE)
        nml_sb_printf(sb, "{NML_PLAN_NONE, %uu},", (unsigned)entry[1]);
    else
        nml_sb_printf(sb, "{%uu, %uu},", (unsigned)entry[0], (unsigned)entry[1]);
}

/* The plan's table: {offset, planned size} of every activation tensor, then of every scratch
 * request. Variable support is linked only when the model has variable tensors. */
static void plan_definition(nml_sb *sb, const nml_model_info *info, const char *name) {
    uint32_t n = info->plan_buffers;
    nml_sb_puts(sb, "\n/* {offset, size} in 16-byte units: the activation tensors in tensor\n"
                    " * order, then the scratch requests in operator order */\n");
    nml_sb_printf(sb, "static const nml_plan_buffer %s_plan_buffers[%u] = {", name,
                  (unsigned)(n ? n : 1));
    for (uint32_t i = 0; i < n; i++)
        plan_entry(sb, &info->plan[2 * i], i);
    if (n == 0) nml_sb_puts(sb, "{NML_PLAN_NONE, 0}");
    nml_sb_puts(sb, "\n};\n");
    nml_sb_printf(sb,
                  "const nml_arena_plan %s_arena_plan = {\n"
                  "    .n_tensors = %uu, .n_nodes = %uu, .activation_bytes = %uu,\n"
                  "    .activation_min_bytes = %uu, .n_buffers = %uu, .buffers = %s_plan_buffers,\n"
                  "    .variables = %s};\n",
                  name, (unsigned)info->plan_tensors, (unsigned)info->n_nodes,
                  (unsigned)info->plan_activation_bytes, (unsigned)info->plan_min_bytes,
                  (unsigned)n, name,
                  info->n_variables ? "&nml_plan_variables" : "0 /* no variable tensors */");
}

static nml_status source_text(nml_sb *sb, const nml_model_info *info, const uint8_t *data,
                              size_t size, const char *name, const char *NAME,
                              const nml_export_options *o, nml_error *err) {
    if (o->format == NML_EXPORT_XXD) {
        xxd_source(sb, data, size, name);
        return NML_OK;
    }
    nml_sb_puts(sb, "/* Generated by `nanoml export` from ");
    comment_safe(sb, o->source_name ? o->source_name : "a model");
    nml_sb_puts(sb, ". Do not edit. */\n");
    nml_sb_printf(sb, "#include \"%s_model.h\"\n\n#include \"kernels/kernels.h\"\n\n", name);
    nml_sb_printf(sb, "_Alignas(16) const uint8_t %s_model[%s_MODEL_BYTES] = {\n", name, NAME);
    xxd_array(sb, data, size, "    ");
    nml_sb_printf(sb, "};\nconst uint32_t %s_model_len = %s_MODEL_BYTES;\n\n", name, NAME);
    NML_TRY(resolver_text(sb, info, name, err));
    if (info->n_packed)
        nml_sb_printf(sb,
                      "/* %lu tensors hold packed weights: link the runtime's packed-weights code\n"
                      " * (a runtime without it refuses them at load). */\n"
                      "#include \"packed.h\"\nNML_LINK_PACKED_WEIGHTS(%s_packed_weights);\n\n",
                      (unsigned long)info->n_packed, name);
    node_tables(sb, info, name, NAME);
    if (o->plan_at_export) plan_definition(sb, info, name);
    return NML_OK;
}

nml_status nml_export_sources(const nml_model_info *info, const uint8_t *data, size_t size,
                              const char *name, const nml_export_options *opts, char **header,
                              char **source, nml_error *err) {
    *header = *source = NULL;
    nml_export_options defaults = {0};
    const nml_export_options *o = opts ? opts : &defaults;
    if (!nml_export_name_valid(name))
        return nml_fail(err, NML_E_ARG, "name '%s' is not a C identifier of at most %d characters",
                        name ? name : "", NML_EXPORT_NAME_MAX - 1);
    if (!info && o->format != NML_EXPORT_XXD)
        return nml_fail(err, NML_E_ARG, "the nanoml format needs the model analysis");
    if (size == 0) return nml_fail(err, NML_E_ARG, "the model is empty");
    if (o->plan_at_export && (o->format == NML_EXPORT_XXD || !info->plan))
        return nml_fail(err, NML_E_UNSUPPORTED,
                        o->format == NML_EXPORT_XXD
                            ? "the xxd format has no arena plan (use the nanoml format)"
                            : "no arena plan: the host could not plan the model with the "
                              "export's kernels, or a buffer lies beyond the 1 MiB a plan "
                              "reaches");
    char NAME[NML_EXPORT_NAME_MAX];
    upper(name, NAME, sizeof NAME);

    nml_sb h, c;
    nml_sb_init(&h);
    nml_sb_init(&c);
    if (info)
        header_text(&h, info, name, NAME, o, size);
    else
        xxd_header_only(&h, name, NAME, o, size);
    nml_status st = source_text(&c, info, data, size, name, NAME, o, err);
    if (st != NML_OK) {
        nml_sb_free(&h);
        nml_sb_free(&c);
        return st;
    }
    *header = nml_sb_take(&h);
    *source = nml_sb_take(&c);
    if (!*header || !*source) {
        free(*header);
        free(*source);
        *header = *source = NULL;
        return nml_fail(err, NML_E_NOMEM, "out of memory generating %zu bytes of C", size * 6);
    }
    return NML_OK;
}
