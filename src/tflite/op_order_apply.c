/* Writing an operator order into a .tflite, and the whole search-rewrite-measure step the
 * export runs. The operators vector of subgraph 0 holds one 32-bit offset per operator,
 * relative to the slot it is stored in; permuting the operators means rewriting those offsets
 * and nothing else, so tensors, buffers, options and metadata keep their bytes. */
#include <stdlib.h>
#include <string.h>

#include "nanoml/op_order.h"
#include "nanoml/runtime_host.h"

static void put_u32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static nml_status check_permutation(const uint32_t *order, uint32_t n, nml_error *err) {
    uint8_t *seen = calloc(n ? n : 1, 1);
    if (!seen) return nml_fail(err, NML_E_NOMEM, "out of memory");
    nml_status st = NML_OK;
    for (uint32_t k = 0; k < n && st == NML_OK; k++) {
        if (order[k] >= n || seen[order[k]])
            st = nml_fail(err, NML_E_ARG, "order entry %u (%u) is not a new operator index",
                          (unsigned)k, (unsigned)order[k]);
        else
            seen[order[k]] = 1;
    }
    free(seen);
    return st;
}

/* Points slot k of the operators vector at operator order[k]'s table. */
static nml_status patch_slots(const nml_model *m, uint8_t *bytes, const uint32_t *order, uint32_t n,
                              nml_error *err) {
    for (uint32_t k = 0; k < n; k++) {
        nml_model_op op;
        NML_TRY(nml_model_operator(m, order[k], &op, err));
        uint64_t slot = (uint64_t)m->operators_vec + 4u * k;
        if (op.table <= slot)
            return nml_fail(err, NML_E_FORMAT,
                            "operator %u's table lies before the operators vector; cannot "
                            "reorder in place",
                            (unsigned)order[k]);
        put_u32(bytes + slot, (uint32_t)(op.table - slot));
    }
    return NML_OK;
}

nml_status nml_tflite_reorder(const uint8_t *data, size_t size, const uint32_t *order, uint32_t n,
                              uint8_t **out, nml_error *err) {
    *out = NULL;
    nml_model m;
    NML_TRY(nml_model_load(&m, data, size, err));
    if (n != m.n_operators)
        return nml_fail(err, NML_E_ARG, "order has %u operators, the model %u", (unsigned)n,
                        (unsigned)m.n_operators);
    NML_TRY(check_permutation(order, n, err));
    uint8_t *bytes = NULL;
    if (posix_memalign((void **)&bytes, 16, size ? size : 1) != 0)
        return nml_fail(err, NML_E_NOMEM, "out of memory copying a %zu-byte model", size);
    memcpy(bytes, data, size);
    nml_model check;
    nml_status st = patch_slots(&m, bytes, order, n, err);
    if (st == NML_OK) st = nml_model_load(&check, bytes, size, err);
    if (st != NML_OK) {
        free(bytes);
        return nml_error_prefix(err, "reordered model: ");
    }
    *out = bytes;
    return NML_OK;
}

/* ---- search, rewrite, measure ---- */

void nml_reorder_result_free(nml_reorder_result *r) {
    nml_op_order_free(&r->order);
    memset(r, 0, sizeof *r);
}

static nml_status measure(const uint8_t *data, size_t size, const nml_op_resolver *ops, size_t *act,
                          size_t *bound, size_t *arena_bytes, nml_error *err) {
    nml_model m;
    NML_TRY(nml_model_load(&m, data, size, err));
    nml_interpreter it = {0};
    uint8_t *arena = NULL;
    NML_TRY(nml_interpreter_init_alloc(&it, &m, ops, &arena, err));
    *act = it.activation_bytes;
    *bound = it.activation_min_bytes;
    *arena_bytes = it.arena_used;
    free(arena);
    return NML_OK;
}

static nml_status copy_model(const uint8_t *data, size_t size, uint8_t **out, nml_error *err) {
    if (posix_memalign((void **)out, 16, size ? size : 1) != 0) {
        *out = NULL;
        return nml_fail(err, NML_E_NOMEM, "out of memory copying a %zu-byte model", size);
    }
    memcpy(*out, data, size);
    return NML_OK;
}

nml_status nml_reorder_model(const uint8_t *data, size_t size, const nml_op_resolver *ops,
                             const nml_order_options *opts, uint8_t **out, size_t *out_size,
                             nml_reorder_result *r, nml_error *err) {
    memset(r, 0, sizeof *r);
    *out = NULL;
    *out_size = size;
    nml_model m;
    NML_TRY(nml_model_load(&m, data, size, err));
    NML_TRY(measure(data, size, ops, &r->original_activations, &r->original_bound,
                    &r->original_arena, err));
    r->chosen_activations = r->original_activations;
    r->chosen_bound = r->original_bound;
    r->chosen_arena = r->original_arena;
    nml_status st = nml_order_search(&m, ops, opts, &r->order, err);
    if (st == NML_OK && !nml_order_is_identity(&r->order)) {
        uint8_t *bytes = NULL;
        size_t act = 0, bound = 0, arena = 0;
        st = nml_tflite_reorder(data, size, r->order.order, r->order.n_ops, &bytes, err);
        if (st == NML_OK) st = measure(bytes, size, ops, &act, &bound, &arena, err);
        if (st == NML_OK && act < r->original_activations) {
            r->applied = 1;
            r->chosen_activations = act;
            r->chosen_bound = bound;
            r->chosen_arena = arena;
            *out = bytes;
            bytes = NULL;
        }
        free(bytes);
    }
    if (st == NML_OK && !*out) st = copy_model(data, size, out, err);
    if (st != NML_OK) nml_reorder_result_free(r);
    return st;
}
