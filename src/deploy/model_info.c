/* What firmware needs to know about a model, found by loading and planning it with the
 * runtime itself (one engine: whatever the firmware will accept, this accepts). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nanoml/arena_plan.h"
#include "nanoml/export.h"
#include "nanoml/macs.h"
#include "nanoml/runtime.h"

void nml_model_info_free(nml_model_info *info) {
    free(info->node_builtin);
    free(info->node_macs);
    free(info->ops);
    free(info->op_variants);
    free(info->plan);
    memset(info, 0, sizeof *info);
}

#define ARENA_FIRST_TRY ((size_t)64 << 10)
#define ARENA_LIMIT ((size_t)1 << 30)

int nml_model_info_has_options_extra(const nml_model_info *info) {
    static const int32_t ops[] = {NML_OP_RESHAPE, NML_OP_SQUEEZE, NML_OP_CAST, NML_OP_ARG_MAX,
                                  NML_OP_SHAPE};
    for (uint32_t i = 0; i < info->n_ops; i++)
        for (size_t k = 0; k < sizeof ops / sizeof ops[0]; k++)
            if (info->ops[i] == ops[k]) return 1;
    return 0;
}

int nml_model_info_has_custom_ops(const nml_model_info *info) {
    for (uint32_t i = 0; i < info->n_ops; i++)
        if (info->ops[i] == NML_OP_CUSTOM) return 1;
    return 0;
}

static void copy_io(nml_io_info *io, const nml_tensor *t) {
    memset(io, 0, sizeof *io);
    snprintf(io->name, sizeof io->name, "%s", t->name ? t->name : "");
    io->type = t->type;
    io->rank = t->rank;
    for (int d = 0; d < t->rank && d < NML_MAX_RANK; d++)
        io->dims[d] = t->dims[d];
    io->bytes = t->bytes;
    io->scale = t->scale;
    io->zero_point = t->zero_point;
    io->n_q = t->n_q;
}

static int cmp_i32(const void *a, const void *b) {
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

static nml_status collect_macs(nml_model_info *info, const nml_model *model, nml_error *err) {
    uint32_t n = info->n_nodes;
    info->node_macs = calloc(n ? n : 1, sizeof *info->node_macs);
    if (!info->node_macs) return nml_fail(err, NML_E_NOMEM, "out of memory counting MACs");
    for (uint32_t i = 0; i < n; i++) {
        NML_TRY(nml_model_op_macs(model, i, &info->node_macs[i], err));
        info->total_macs += info->node_macs[i];
    }
    return NML_OK;
}

static nml_status collect_nodes(nml_model_info *info, const nml_interpreter *it, nml_error *err) {
    uint32_t n = it->n_nodes;
    info->n_nodes = n;
    info->node_builtin = calloc(n ? n : 1, sizeof *info->node_builtin);
    info->ops = calloc(n ? n : 1, sizeof *info->ops);
    if (!info->node_builtin || !info->ops)
        return nml_fail(err, NML_E_NOMEM, "out of memory listing %u operators", (unsigned)n);
    for (uint32_t i = 0; i < n; i++)
        info->node_builtin[i] = nml_node_builtin(it, i);
    memcpy(info->ops, info->node_builtin, n * sizeof *info->ops);
    qsort(info->ops, n, sizeof *info->ops, cmp_i32);
    uint32_t distinct = 0;
    for (uint32_t i = 0; i < n; i++)
        if (distinct == 0 || info->ops[distinct - 1] != info->ops[i])
            info->ops[distinct++] = info->ops[i];
    info->n_ops = distinct;
    return NML_OK;
}

static nml_status collect_io(nml_model_info *info, nml_interpreter *it, nml_error *err) {
    info->n_inputs = nml_input_count(it);
    info->n_outputs = nml_output_count(it);
    if (info->n_inputs > NML_EXPORT_MAX_IO || info->n_outputs > NML_EXPORT_MAX_IO)
        return nml_fail(err, NML_E_LIMIT, "model has %u inputs and %u outputs; export handles %d",
                        (unsigned)info->n_inputs, (unsigned)info->n_outputs, NML_EXPORT_MAX_IO);
    for (uint32_t i = 0; i < info->n_inputs; i++)
        copy_io(&info->inputs[i], nml_input(it, i));
    for (uint32_t i = 0; i < info->n_outputs; i++)
        copy_io(&info->outputs[i], nml_output(it, i));
    return NML_OK;
}

/* Plans the model with ops in ever larger host arenas until it fits, then reads the exact need
 * (and, with collect, everything else the export needs). *size: the arena that worked. */
static nml_status plan_with(nml_model_info *info, const nml_model *model,
                            const nml_op_resolver *ops, int collect, size_t *size_out,
                            nml_error *err) {
    for (size_t size = ARENA_FIRST_TRY; size <= ARENA_LIMIT; size *= 2) {
        uint8_t *arena = aligned_alloc(16, size);
        if (!arena) return nml_fail(err, NML_E_NOMEM, "out of memory for a %zu byte arena", size);
        nml_interpreter it;
        memset(&it, 0, sizeof it);
        nml_status st = nml_interpreter_init(&it, model, ops, arena, size, err);
        if (st == NML_OK) {
            *size_out = size;
            info->arena_bytes = it.arena_used;
            info->persistent_bytes = it.persistent_bytes;
            info->activation_bytes = it.activation_bytes;
            if (collect) st = collect_nodes(info, &it, err);
            if (collect && st == NML_OK) st = collect_macs(info, model, err);
            if (collect && st == NML_OK) st = collect_io(info, &it, err);
        }
        free(arena);
        if (st != NML_E_ARENA) return st;
    }
    return nml_fail(err, NML_E_LIMIT, "model needs an arena larger than %zu bytes", ARENA_LIMIT);
}

/* Chooses for every optimized operator the leanest variant that all its nodes accept (tried
 * one operator and variant at a time on top of the ones already chosen; the variants reject at
 * prepare what they cannot evaluate), then plans again with the final resolver: the firmware
 * links exactly these kernels, and its arena is this plan's. */
static nml_status choose_variants(nml_model_info *info, const nml_model *model, size_t size,
                                  nml_error *err) {
    const nml_op_resolver *all = nml_ops_all();
    const struct nml_kernel **table = calloc(info->n_ops + all->count, sizeof *table);
    info->op_variants = calloc(info->n_ops ? info->n_ops : 1, 1);
    uint8_t *arena = aligned_alloc(16, size);
    nml_status st = table && info->op_variants && arena
                        ? NML_OK
                        : nml_fail(err, NML_E_NOMEM, "out of memory choosing kernels");
    uint32_t chosen = 0;
    for (uint32_t i = 0; st == NML_OK && i < info->n_ops; i++) {
        const struct nml_kernel *v;
        for (uint32_t k = 0; k < 255 && (v = nml_kernel_variant(info->ops[i], k, NULL)); k++) {
            table[chosen] = v;
            for (uint32_t a = 0; a < all->count; a++)
                table[chosen + 1 + a] = all->kernels[a];
            nml_op_resolver trial = {table, chosen + 1 + all->count};
            nml_interpreter it;
            memset(&it, 0, sizeof it);
            if (nml_interpreter_init(&it, model, &trial, arena, size, NULL) == NML_OK) {
                info->op_variants[i] = (uint8_t)(k + 1);
                chosen++;
                break;
            }
        }
    }
    free(arena);
    if (st == NML_OK && chosen > 0) {
        for (uint32_t a = 0; a < all->count; a++)
            table[chosen + a] = all->kernels[a];
        nml_op_resolver final_ops = {table, chosen + all->count};
        size_t ignore;
        st = plan_with(info, model, &final_ops, 0, &ignore, err);
    }
    free(table);
    return st;
}

static nml_status plan(nml_model_info *info, const nml_model *model, nml_error *err) {
    const nml_op_resolver *ops =
        info->kernels == NML_KERNELS_REFERENCE ? nml_ops_reference() : nml_ops_all();
    size_t size = 0;
    NML_TRY(plan_with(info, model, ops, 1, &size, err));
    if (info->kernels != NML_KERNELS_OPTIMIZED) return NML_OK;
    return choose_variants(info, model, size, err);
}

/* The resolver the export writes: every distinct operator's kernel, its chosen variant where
 * there is one (resolver_text in export_c.c names the same kernels). */
static const struct nml_kernel **export_kernels(const nml_model_info *info) {
    const nml_op_resolver *set =
        info->kernels == NML_KERNELS_REFERENCE ? nml_ops_reference() : nml_ops_all();
    const struct nml_kernel **table = calloc(info->n_ops ? info->n_ops : 1, sizeof *table);
    for (uint32_t i = 0; table && i < info->n_ops; i++) {
        uint8_t v = info->op_variants ? info->op_variants[i] : 0;
        table[i] = v ? nml_kernel_variant(info->ops[i], v - 1u, NULL)
                     : nml_resolver_find(set, info->ops[i], NULL);
    }
    return table;
}

/* The host plan with the export's resolver, as nml_arena_plan_read gives it. A model the host
 * cannot plan so (a CUSTOM operator: the export has no kernel for it) or with a buffer beyond
 * what a plan's 16-bit units reach (1 MiB) gets no plan; only the export asks for one. */
static nml_status record_plan(nml_model_info *info, const nml_model *model, nml_error *err) {
    size_t size = info->arena_bytes;
    uint32_t n = model->n_tensors + model->n_operators;
    const struct nml_kernel **table = export_kernels(info);
    uint8_t *arena = aligned_alloc(16, (size + 15) & ~(size_t)15);
    info->plan = calloc(2 * (size_t)n + 2, sizeof *info->plan);
    nml_plan_buffer *buffers = calloc(n + 1, sizeof *buffers);
    nml_status st = table && arena && info->plan && buffers
                        ? NML_OK
                        : nml_fail(err, NML_E_NOMEM, "out of memory recording the arena plan");
    nml_op_resolver ops = {table, info->n_ops};
    nml_interpreter it;
    nml_arena_plan plan;
    memset(&it, 0, sizeof it);
    if (st == NML_OK && (nml_interpreter_init(&it, model, &ops, arena, size, NULL) != NML_OK ||
                         nml_arena_plan_read(&it, &plan, buffers, n, NULL) != NML_OK))
        st = NML_E_UNSUPPORTED; /* no plan; not an error of the analysis */
    for (uint32_t i = 0; st == NML_OK && i < plan.n_buffers; i++) {
        info->plan[2 * i] = buffers[i].offset;
        info->plan[2 * i + 1] = buffers[i].size;
    }
    if (st == NML_OK) {
        info->plan_tensors = plan.n_tensors;
        info->plan_buffers = plan.n_buffers;
        info->plan_activation_bytes = plan.activation_bytes;
        info->plan_min_bytes = plan.activation_min_bytes;
    } else {
        free(info->plan);
        info->plan = NULL;
    }
    free(buffers);
    free(arena);
    free(table);
    return st == NML_E_UNSUPPORTED ? NML_OK : st;
}

nml_status nml_kernel_set_parse(const char *name, int *kernels, nml_error *err) {
    if (name && strcmp(name, "optimized") == 0)
        *kernels = NML_KERNELS_OPTIMIZED;
    else if (name && strcmp(name, "reference") == 0)
        *kernels = NML_KERNELS_REFERENCE;
    else
        return nml_fail(err, NML_E_ARG, "kernels '%s' is not 'optimized' or 'reference'",
                        name ? name : "");
    return NML_OK;
}

nml_status nml_model_info_analyze(nml_model_info *info, const uint8_t *data, size_t size,
                                  nml_error *err) {
    return nml_model_info_analyze_kernels(info, data, size, NML_KERNELS_OPTIMIZED, err);
}

nml_status nml_model_info_analyze_kernels(nml_model_info *info, const uint8_t *data, size_t size,
                                          int kernels, nml_error *err) {
    memset(info, 0, sizeof *info);
    info->model_bytes = size;
    info->kernels = kernels;
    nml_model model;
    nml_status st = nml_model_load(&model, data, size, err);
    for (uint32_t i = 0; st == NML_OK && i < model.n_tensors; i++) {
        nml_tensor t;
        st = nml_model_tensor(&model, i, &t, err);
        if (st == NML_OK && t.pack) info->n_packed++;
        if (st == NML_OK && t.alloc == NML_ALLOC_PERSIST) info->n_variables++;
        if (st == NML_OK && t.type == NML_INT4) info->n_int4++;
    }
    if (st == NML_OK) st = plan(info, &model, err);
    if (st == NML_OK) st = record_plan(info, &model, err);
    if (st != NML_OK) nml_model_info_free(info);
    return st;
}
