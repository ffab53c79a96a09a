/* The generic parts of a layer: creation, parameters, scratch buffers. */
#include "nanoml/train_layer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

nml_layer *nml_layer_create(const nml_layer_ops *ops, const char *name, void *state) {
    nml_layer *l = calloc(1, sizeof *l);
    if (!l) return NULL;
    l->ops = ops;
    l->state = state;
    if (name) snprintf(l->name, sizeof l->name, "%s", name);
    return l;
}

nml_layer *nml_layer_set_activation(nml_layer *l, nml_afn act) {
    if (l) l->act = act;
    return l;
}

void nml_layer_free(nml_layer *l) {
    if (!l) return;
    if (l->ops && l->ops->destroy) l->ops->destroy(l);
    for (int i = 0; i < l->n_params; i++) nml_param_free(l->params[i]);
    free(l->params);
    for (int i = 0; i < NML_LAYER_SCRATCH_SLOTS; i++) free(l->scratch[i]);
    free(l);
}

nml_status nml_layer_add_param(nml_layer *l, const char *name, const nml_shape *shape,
                               nml_init init, int32_t fan_in, int32_t fan_out, int trainable,
                               nml_param **out, nml_error *err) {
    if (out) *out = NULL;
    if (l->n_params == l->cap_params) {
        int cap = l->cap_params ? 2 * l->cap_params : 4;
        nml_param **grown = realloc(l->params, (size_t)cap * sizeof *grown);
        if (!grown) return nml_fail(err, NML_E_NOMEM, "out of memory");
        l->params = grown;
        l->cap_params = cap;
    }
    char full[NML_PARAM_NAME_MAX];
    snprintf(full, sizeof full, "%s/%s", l->name, name);
    nml_param *p;
    NML_TRY(nml_param_create(&p, full, shape, init, fan_in, fan_out, trainable, err));
    l->params[l->n_params++] = p;
    if (out) *out = p;
    return NML_OK;
}

int nml_layer_param_count(const nml_layer *l) { return l->n_params; }

nml_param *nml_layer_param(const nml_layer *l, int i) {
    return i >= 0 && i < l->n_params ? l->params[i] : NULL;
}

nml_param *nml_layer_find_param(const nml_layer *l, const char *short_name) {
    size_t prefix = strlen(l->name) + 1;
    for (int i = 0; i < l->n_params; i++) {
        const char *n = l->params[i]->name;
        if (strlen(n) > prefix && strcmp(n + prefix, short_name) == 0) return l->params[i];
    }
    return NULL;
}

size_t nml_layer_weight_count(const nml_layer *l) {
    size_t n = 0;
    for (int i = 0; i < l->n_params; i++) n += l->params[i]->count;
    return n;
}

void *nml_layer_scratch(nml_layer *l, int slot, size_t bytes, nml_error *err) {
    if (slot < 0 || slot >= NML_LAYER_SCRATCH_SLOTS) {
        nml_fail(err, NML_E_INTERNAL, "%s: scratch slot %d out of range", l->name, slot);
        return NULL;
    }
    if (bytes == 0) bytes = 1;
    if (bytes > l->scratch_bytes[slot]) {
        void *grown = realloc(l->scratch[slot], bytes);
        if (!grown) {
            nml_fail(err, NML_E_NOMEM, "%s: cannot allocate %zu bytes of scratch", l->name, bytes);
            return NULL;
        }
        l->scratch[slot] = grown;
        l->scratch_bytes[slot] = bytes;
    }
    return l->scratch[slot];
}
