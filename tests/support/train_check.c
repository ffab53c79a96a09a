#include "train_check.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nanoml/train_param.h"
#include "nanoml/train_rng.h"
#include "test_util.h"

void tc_fill_uniform(float *v, size_t n, float lo, float hi, uint64_t seed) {
    nml_rng rng;
    nml_rng_seed(&rng, seed);
    for (size_t i = 0; i < n; i++) v[i] = nml_rng_range(&rng, lo, hi);
}

nml_net *tc_single_layer_net(nml_shape in, nml_layer *layer) {
    nml_net *net;
    nml_error err;
    int x, y;
    assert_int_equal(nml_net_create(&net, "check", 42, &err), NML_OK);
    nml_net_input(net, "x", in, &x, &err);
    nml_net_call1(net, layer, x, &y, &err);
    if (nml_net_build(net, 1, &y, &err) != NML_OK) fail_msg("build: %s", err.msg);
    return net;
}

typedef struct probe {
    nml_net *net;
    float *x;
    const float *r;
    int32_t batch;
    size_t out_count;
} probe;

/* L = sum(out * r) in double, after a training forward with a fixed dropout stream. */
static double loss_at(const probe *p) {
    nml_error err;
    nml_rng_seed(nml_net_rng(p->net), 777);
    const float *in = p->x;
    if (nml_net_forward(p->net, &in, p->batch, 1, &err) != NML_OK) fail_msg("forward: %s", err.msg);
    const float *out = nml_net_output(p->net, 0);
    double l = 0.0;
    for (size_t i = 0; i < p->out_count; i++) l += (double)out[i] * p->r[i];
    return l;
}

static void compare(const char *what, size_t i, double analytic, double numeric, double tol) {
    double scale = fabs(analytic) > fabs(numeric) ? fabs(analytic) : fabs(numeric);
    if (scale < 1.0) scale = 1.0;
    if (!(fabs(analytic - numeric) <= tol * scale))
        fail_msg("%s[%zu]: analytic gradient %.6g, finite difference %.6g", what, i, analytic,
                 numeric);
}

/* Central difference of L with respect to *v. */
static double numeric_grad(const probe *p, float *v, float h) {
    const float saved = *v;
    *v = saved + h;
    double up = loss_at(p);
    *v = saved - h;
    double down = loss_at(p);
    *v = saved;
    return (up - down) / (2.0 * (double)h);
}

void tc_check_gradients(nml_net *net, int32_t batch, const float *x, float h, double tol,
                        size_t max_checks) {
    nml_error err;
    nml_net_want_input_grad(net, 1);
    nml_shape is = nml_net_input_shape(net, 0), os = nml_net_output_shape(net, 0);
    const size_t in_count = (size_t)batch * nml_shape_count(&is);
    const size_t out_count = (size_t)batch * nml_shape_count(&os);
    probe p = {net, malloc(in_count * sizeof(float)), NULL, batch, out_count};
    float *r = malloc(out_count * sizeof(float));
    assert_non_null(p.x);
    assert_non_null(r);
    if (x)
        memcpy(p.x, x, in_count * sizeof(float));
    else
        tc_fill_uniform(p.x, in_count, -1.0f, 1.0f, 1234);
    tc_fill_uniform(r, out_count, -1.0f, 1.0f, 99);
    p.r = r;

    /* analytic */
    loss_at(&p);
    memcpy(nml_net_output_grad(net, 0), r, out_count * sizeof(float));
    if (nml_net_backward(net, &err) != NML_OK) fail_msg("backward: %s", err.msg);
    float *din = malloc(in_count * sizeof(float));
    assert_non_null(din);
    memcpy(din, nml_net_input_grad(net, 0), in_count * sizeof(float));
    const int n_params = nml_net_param_count(net);
    float **dparam = calloc((size_t)n_params + 1, sizeof *dparam);
    assert_non_null(dparam);
    for (int k = 0; k < n_params; k++) {
        nml_param *q = nml_net_param(net, k);
        if (!q->trainable) continue;
        dparam[k] = malloc(q->count * sizeof(float));
        assert_non_null(dparam[k]);
        memcpy(dparam[k], q->grad, q->count * sizeof(float));
    }

    /* numeric */
    size_t step = in_count > max_checks ? in_count / max_checks : 1;
    for (size_t i = 0; i < in_count; i += step)
        compare("input", i, din[i], numeric_grad(&p, &p.x[i], h), tol);
    for (int k = 0; k < n_params; k++) {
        nml_param *q = nml_net_param(net, k);
        if (!q->trainable) continue;
        step = q->count > max_checks ? q->count / max_checks : 1;
        for (size_t i = 0; i < q->count; i += step)
            compare(q->name, i, dparam[k][i], numeric_grad(&p, &q->value[i], h), tol);
        free(dparam[k]);
    }
    free(dparam);
    free(din);
    free(r);
    free(p.x);
}
