/* Parameters: storage, initializers, pruning masks and transform hooks. */
#include "nanoml/train_param.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

nml_status nml_param_create(nml_param **out, const char *name, const nml_shape *shape,
                            nml_init init, int32_t fan_in, int32_t fan_out, int trainable,
                            nml_error *err) {
    *out = NULL;
    NML_TRY(nml_shape_check(shape, err));
    nml_param *p = calloc(1, sizeof *p);
    if (!p) return nml_fail(err, NML_E_NOMEM, "%s: out of memory", name);
    size_t len = strlen(name);
    if (len >= sizeof p->name) len = sizeof p->name - 1;
    memcpy(p->name, name, len);
    p->shape = *shape;
    p->count = nml_shape_count(shape);
    p->init = init;
    p->fan_in = fan_in;
    p->fan_out = fan_out;
    p->trainable = trainable;
    p->lr_scale = 1.0f;
    p->value = calloc(p->count, sizeof(float));
    p->grad = trainable ? calloc(p->count, sizeof(float)) : NULL;
    if (!p->value || (trainable && !p->grad)) {
        size_t count = p->count;
        nml_param_free(p);
        return nml_fail(err, NML_E_NOMEM, "%s: cannot allocate %zu weights", name, count);
    }
    p->effective = p->value;
    *out = p;
    return NML_OK;
}

void nml_param_free(nml_param *p) {
    if (!p) return;
    if (p->hook.destroy) p->hook.destroy(p->hook.user);
    if (p->effective != p->value) free(p->effective);
    free(p->value);
    free(p->grad);
    free(p->mask);
    free(p);
}

static void apply_mask(nml_param *p) {
    if (!p->mask) return;
    for (size_t i = 0; i < p->count; i++)
        if (!p->mask[i]) p->value[i] = 0.0f;
}

nml_status nml_param_initialize(nml_param *p, nml_rng *rng, nml_error *err) {
    float limit = 0.0f;
    switch (p->init) {
    case NML_INIT_DEFAULT:
    case NML_INIT_ZEROS: memset(p->value, 0, p->count * sizeof(float)); break;
    case NML_INIT_ONES:
        for (size_t i = 0; i < p->count; i++) p->value[i] = 1.0f;
        break;
    case NML_INIT_GLOROT_UNIFORM:
    case NML_INIT_HE_UNIFORM: {
        double fans = p->init == NML_INIT_HE_UNIFORM ? (double)p->fan_in
                                                      : (double)p->fan_in + (double)p->fan_out;
        if (fans <= 0.0)
            return nml_fail(err, NML_E_ARG, "%s: initializer needs positive fans", p->name);
        limit = (float)sqrt(6.0 / fans);
        for (size_t i = 0; i < p->count; i++) p->value[i] = nml_rng_range(rng, -limit, limit);
        break;
    }
    default: return nml_fail(err, NML_E_ARG, "%s: unknown initializer %d", p->name, (int)p->init);
    }
    apply_mask(p);
    return NML_OK;
}

nml_status nml_param_center_rows(nml_param *p, float gain, nml_error *err) {
    if (p->mask)
        return nml_fail(err, NML_E_UNSUPPORTED, "%s: centering would move the pruned zeros",
                        p->name);
    if (p->shape.rank < 1 || p->shape.dims[0] < 1 || p->count == 0)
        return nml_fail(err, NML_E_SHAPE, "%s: no rows to center", p->name);
    const size_t rows = (size_t)p->shape.dims[0], per = p->count / rows;
    for (size_t r = 0; r < rows; r++) {
        float *w = p->value + r * per;
        double sum = 0.0;
        for (size_t i = 0; i < per; i++) sum += w[i];
        const float mean = (float)(sum / (double)per);
        for (size_t i = 0; i < per; i++) w[i] = (w[i] - mean) * gain;
    }
    return NML_OK;
}

nml_status nml_param_set_mask(nml_param *p, const uint8_t *mask, nml_error *err) {
    if (!mask) {
        free(p->mask);
        p->mask = NULL;
        return NML_OK;
    }
    if (!p->mask) {
        p->mask = malloc(p->count);
        if (!p->mask) return nml_fail(err, NML_E_NOMEM, "%s: cannot allocate a mask", p->name);
    }
    memcpy(p->mask, mask, p->count);
    apply_mask(p);
    return NML_OK;
}

nml_status nml_param_set_hook(nml_param *p, const nml_param_hook *hook, nml_error *err) {
    if (p->hook.destroy) p->hook.destroy(p->hook.user);
    memset(&p->hook, 0, sizeof p->hook);
    if (!hook || !hook->forward) {
        if (p->effective != p->value) free(p->effective);
        p->effective = p->value;
        return NML_OK;
    }
    if (p->effective == p->value) {
        p->effective = malloc(p->count * sizeof(float));
        if (!p->effective) {
            p->effective = p->value;
            return nml_fail(err, NML_E_NOMEM, "%s: cannot allocate hook weights", p->name);
        }
    }
    p->hook = *hook;
    nml_param_before_forward(p);
    return NML_OK;
}

void nml_param_before_forward(nml_param *p) {
    if (p->hook.forward) p->hook.forward(p, p->hook.user);
}

void nml_param_after_backward(nml_param *p) {
    if (p->hook.backward) p->hook.backward(p, p->hook.user);
    if (p->mask && p->grad)
        for (size_t i = 0; i < p->count; i++)
            if (!p->mask[i]) p->grad[i] = 0.0f;
}
