/* Add: elementwise sum of inputs of one shape (TFLite ADD, chained for more than two). */
#include <string.h>

#include "layer_util.h"
#include "nanoml/train_layers.h"

static nml_status add_shape(nml_layer *l, int n_in, const nml_shape *in, nml_shape *out,
                            nml_error *err) {
    (void)l;
    char a[64], b[64];
    for (int i = 1; i < n_in; i++)
        if (!nml_shape_equal(&in[0], &in[i]))
            return nml_fail(err, NML_E_SHAPE, "input shapes %s (input 0) and %s (input %d) differ",
                            nml_shape_str(&in[0], a, sizeof a), nml_shape_str(&in[i], b, sizeof b),
                            i);
    *out = in[0];
    return NML_OK;
}

static nml_status add_forward(nml_layer *l, const nml_fwd *f, nml_error *err) {
    (void)l, (void)err;
    const size_t n = nml_ftensor_count(f->out);
    float *y = f->out->data;
    memcpy(y, f->in[0].data, n * sizeof(float));
    for (int i = 1; i < f->n_in; i++) {
        const float *x = f->in[i].data;
        for (size_t k = 0; k < n; k++) y[k] += x[k];
    }
    return NML_OK;
}

static nml_status add_backward(nml_layer *l, const nml_bwd *b, nml_error *err) {
    (void)l, (void)err;
    const size_t n = nml_ftensor_count(b->out);
    for (int i = 0; i < b->n_in; i++)
        if (b->din[i]) memcpy(b->din[i], b->dout, n * sizeof(float));
    return NML_OK;
}

static nml_status add_export(nml_layer *l, nml_export_ctx *x, nml_error *err) {
    int32_t acc = x->in[0];
    for (int i = 1; i < x->n_in; i++) {
        int32_t out;
        char name[NML_LAYER_NAME_MAX + 32];
        if (i == x->n_in - 1)
            snprintf(name, sizeof name, "%s", l->name);
        else
            snprintf(name, sizeof name, "%s/partial_%d", l->name, i);
        NML_TRY(nml_export_activation(x, name, &x->out_shape, &out, err));
        nml_op_params p;
        nml_op_params_default(&p);
        if (i == x->n_in - 1) p.activation = x->fused_activation;
        const int32_t ins[2] = {acc, x->in[i]};
        NML_TRY(nml_export_op(x, l, NML_OP_ADD, &p, 2, ins, out, err));
        acc = out;
    }
    x->out = acc;
    return NML_OK;
}

static const nml_layer_ops add_ops = {"Add", 2, 0, NML_LAYER_FUSES_ACTIVATION, add_shape, NULL,
                                      add_forward, add_backward, add_export, NULL};

nml_layer *nml_add(const char *name) { return nml_layer_create(&add_ops, name, NULL); }
