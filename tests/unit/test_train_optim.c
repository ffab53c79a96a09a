/* Losses, optimizers and schedules against hand computations, and the compression hooks of
 * parameters (masks keep pruned weights at zero, transform hooks run around each pass). */
#include <math.h>
#include <string.h>

#include "nanoml/train_layers.h"
#include "nanoml/train_loss.h"
#include "nanoml/train_optim.h"
#include "test_util.h"
#include "train_check.h"

static void cross_entropy_by_hand(void **state) {
    (void)state;
    /* two samples: p = [0.7, 0.2, 0.1] label 0, p = [0.25, 0.25, 0.5] label 2
     * loss = (-ln 0.7 - ln 0.5) / 2; d/dp at the label = -1 / (2 p) */
    const float pred[6] = {0.7f, 0.2f, 0.1f, 0.25f, 0.25f, 0.5f};
    const float target[2] = {0, 2};
    float grad[6];
    double loss;
    nml_error err;
    assert_int_equal(nml_loss_eval(NML_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY, pred, target, 2, 3,
                                   &loss, grad, &err),
                     NML_OK);
    assert_true(fabs(loss - (-log(0.7) - log(0.5)) / 2) < 1e-7);
    const float want[6] = {-1 / 1.4f, 0, 0, 0, 0, -1.0f};
    for (int i = 0; i < 6; i++) assert_true(fabsf(grad[i] - want[i]) < 1e-6f);
    /* a probability of 0 is clipped to 1e-7: loss -ln(1e-7), no infinite gradient */
    const float zero[2] = {0.0f, 1.0f};
    assert_int_equal(nml_loss_eval(NML_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY, zero, target, 1, 2,
                                   &loss, grad, &err),
                     NML_OK);
    assert_true(fabs(loss - 16.118095651) < 1e-5);
    assert_true(grad[0] == 0.0f);
    /* labels outside the classes are errors naming the sample */
    const float bad[2] = {0, 3};
    assert_int_equal(nml_loss_eval(NML_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY, pred, bad, 2, 3,
                                   &loss, grad, &err),
                     NML_E_ARG);
    assert_non_null(strstr(err.msg, "sample 1"));
}

static void mse_by_hand(void **state) {
    (void)state;
    /* errors 1, -2, 0.5, 0: loss (1 + 4 + 0.25) / 4; grad 2 e / 4 */
    const float pred[4] = {1, 0, 2, 3}, target[4] = {0, 2, 1.5f, 3};
    float grad[4];
    double loss;
    assert_int_equal(nml_loss_eval(NML_LOSS_MSE, pred, target, 2, 2, &loss, grad, NULL), NML_OK);
    assert_true(fabs(loss - 5.25 / 4) < 1e-7);
    const float want[4] = {0.5f, -1.0f, 0.25f, 0};
    assert_memory_equal(grad, want, sizeof want);
}

/* One Dense(1) without bias on input [1]: L = w (output gradient 1), so every step sees g = 1
 * unless weight decay is on. */
static nml_net *one_weight(float w0) {
    nml_net *net = tc_single_layer_net(nml_shape_1d(1),
                                       nml_dense(&(nml_dense_opts){.units = 1, .no_bias = 1}));
    nml_net_param(net, 0)->value[0] = w0;
    return net;
}

static float step(nml_net *net, nml_optim *opt) {
    nml_error err;
    const float x = 1.0f, *in = &x;
    assert_int_equal(nml_net_forward(net, &in, 1, 1, &err), NML_OK);
    nml_net_output_grad(net, 0)[0] = 1.0f;
    assert_int_equal(nml_net_backward(net, &err), NML_OK);
    assert_int_equal(nml_optim_step(opt, &err), NML_OK);
    return nml_net_param(net, 0)->value[0];
}

static void sgd_momentum_by_hand(void **state) {
    (void)state;
    nml_net *net = one_weight(1.0f);
    nml_optim *opt;
    nml_error err;
    nml_optim_opts o = {.kind = NML_OPTIM_SGD, .lr = 0.1f, .momentum = 0.9f};
    assert_int_equal(nml_optim_create(&opt, net, &o, &err), NML_OK);
    /* v1 = -0.1, w = 0.9; v2 = 0.9 * -0.1 - 0.1 = -0.19, w = 0.71; v3 = -0.271, w = 0.439 */
    assert_true(fabsf(step(net, opt) - 0.9f) < 1e-6f);
    assert_true(fabsf(step(net, opt) - 0.71f) < 1e-6f);
    assert_true(fabsf(step(net, opt) - 0.439f) < 1e-6f);
    nml_optim_free(opt);
    nml_net_free(net);
}

static void adam_by_hand(void **state) {
    (void)state;
    nml_net *net = one_weight(1.0f);
    nml_optim *opt;
    nml_error err;
    nml_optim_opts o = {.kind = NML_OPTIM_ADAM, .lr = 0.01f, .epsilon = 1e-8f};
    assert_int_equal(nml_optim_create(&opt, net, &o, &err), NML_OK);
    /* constant gradient 1: m_t = 1 - 0.9^t, v_t = 1 - 0.999^t, and the bias-corrected step
     * lr * (m_t / (1 - 0.9^t)) / sqrt(v_t / (1 - 0.999^t)) is exactly lr (up to epsilon) */
    double w = 1.0;
    for (int t = 1; t <= 3; t++) {
        double m = 1 - pow(0.9, t), v = 1 - pow(0.999, t);
        double lr_t = 0.01 * sqrt(1 - pow(0.999, t)) / (1 - pow(0.9, t));
        w -= lr_t * m / (sqrt(v) + 1e-8);
        assert_true(fabs(step(net, opt) - w) < 1e-6);
    }
    assert_true(fabs(w - 0.97) < 1e-6);
    nml_optim_free(opt);
    nml_net_free(net);
}

static void schedules(void **state) {
    (void)state;
    nml_schedule s = {.kind = NML_SCHEDULE_STEP, .step_epochs = 3, .gamma = 0.5f};
    assert_true(nml_schedule_lr(&s, 0.1f, 2, 10, 0.9) == 0.1f);
    assert_true(fabsf(nml_schedule_lr(&s, 0.1f, 3, 10, 0.0) - 0.05f) < 1e-8f);
    assert_true(fabsf(nml_schedule_lr(&s, 0.1f, 7, 10, 0.0) - 0.025f) < 1e-8f);
    s = (nml_schedule){.kind = NML_SCHEDULE_COSINE, .min_lr = 0.0f};
    assert_true(fabsf(nml_schedule_lr(&s, 0.2f, 0, 4, 0.0) - 0.2f) < 1e-7f);
    assert_true(fabsf(nml_schedule_lr(&s, 0.2f, 2, 4, 0.0) - 0.1f) < 1e-7f); /* half way */
    assert_true(fabsf(nml_schedule_lr(&s, 0.2f, 1, 4, 0.0) -
                      (float)(0.1 * (1 + cos(3.14159265358979 / 4)))) < 1e-7f);
    s = (nml_schedule){.kind = NML_SCHEDULE_CONSTANT};
    assert_true(nml_schedule_lr(&s, 0.3f, 9, 10, 0.5) == 0.3f);
    /* warm-up over 2 epochs, then cosine over the remaining 8: a quarter of the way up after
     * half an epoch, the full rate at epoch 2, half of it 4 epochs later */
    s = (nml_schedule){.kind = NML_SCHEDULE_COSINE, .warmup_epochs = 2.0f};
    assert_true(fabsf(nml_schedule_lr(&s, 0.4f, 0, 10, 0.5) - 0.4f * 0.501f / 2.001f) < 1e-7f);
    assert_true(fabsf(nml_schedule_lr(&s, 0.4f, 2, 10, 0.0) - 0.4f) < 1e-7f);
    assert_true(fabsf(nml_schedule_lr(&s, 0.4f, 6, 10, 0.0) - 0.2f) < 1e-7f);
}

static void per_parameter_learning_rate(void **state) {
    (void)state;
    nml_net *net = one_weight(1.0f);
    nml_net_param(net, 0)->lr_scale = 0.5f;
    nml_optim *opt;
    nml_error err;
    nml_optim_opts o = {.kind = NML_OPTIM_SGD, .lr = 0.1f};
    assert_int_equal(nml_optim_create(&opt, net, &o, &err), NML_OK);
    /* plain SGD, gradient 1, rate 0.1 * 0.5: w = 1 - 0.05 */
    assert_true(fabsf(step(net, opt) - 0.95f) < 1e-7f);
    nml_optim_free(opt);
    nml_net_free(net);
}

static void mask_keeps_pruned_weights_at_zero(void **state) {
    (void)state;
    nml_net *net = tc_single_layer_net(nml_shape_1d(4), nml_dense(&(nml_dense_opts){.units = 3}));
    nml_param *k = nml_layer_find_param(nml_net_layer(net, 0), "kernel");
    uint8_t mask[12] = {1, 0, 1, 0, 1, 1, 0, 1, 1, 1, 1, 0};
    nml_error err;
    assert_int_equal(nml_param_set_mask(k, mask, &err), NML_OK);
    nml_optim *opt;
    nml_optim_opts o = {.kind = NML_OPTIM_ADAM, .lr = 0.1f};
    assert_int_equal(nml_optim_create(&opt, net, &o, &err), NML_OK);
    float x[8];
    tc_fill_uniform(x, 8, -1, 1, 3);
    for (int it = 0; it < 5; it++) {
        const float *in = x;
        assert_int_equal(nml_net_forward(net, &in, 2, 1, &err), NML_OK);
        float *g = nml_net_output_grad(net, 0);
        for (int i = 0; i < 6; i++) g[i] = 1.0f;
        assert_int_equal(nml_net_backward(net, &err), NML_OK);
        for (int i = 0; i < 12; i++)
            if (!mask[i]) assert_true(k->grad[i] == 0.0f);
        assert_int_equal(nml_optim_step(opt, &err), NML_OK);
    }
    for (int i = 0; i < 12; i++) {
        if (!mask[i])
            assert_true(k->value[i] == 0.0f);
        else
            assert_true(k->value[i] != 0.0f);
    }
    nml_optim_free(opt);
    nml_net_free(net);
}

/* A fake-quantization hook: forward rounds weights to multiples of 0.5, backward is the
 * straight-through estimator (gradient unchanged) but counts its calls. */
static int hook_backward_calls;
static void round_half(nml_param *p, void *user) {
    (void)user;
    for (size_t i = 0; i < p->count; i++) p->effective[i] = roundf(p->value[i] * 2.0f) / 2.0f;
}
static void straight_through(nml_param *p, void *user) {
    (void)p, (void)user;
    hook_backward_calls++;
}

static void transform_hook_is_used_by_forward(void **state) {
    (void)state;
    nml_net *net = tc_single_layer_net(nml_shape_1d(2),
                                       nml_dense(&(nml_dense_opts){.units = 1, .no_bias = 1}));
    nml_param *k = nml_net_param(net, 0);
    k->value[0] = 0.3f, k->value[1] = 1.2f;
    nml_param_hook hook = {round_half, straight_through, NULL, NULL};
    nml_error err;
    assert_int_equal(nml_param_set_hook(k, &hook, &err), NML_OK);
    const float x[2] = {1, 1}, *in = x;
    assert_int_equal(nml_net_forward(net, &in, 1, 1, &err), NML_OK);
    /* effective weights 0.5 and 1.0 (not 0.3 and 1.2) */
    assert_true(nml_net_output(net, 0)[0] == 1.5f);
    nml_net_output_grad(net, 0)[0] = 1.0f;
    hook_backward_calls = 0;
    assert_int_equal(nml_net_backward(net, &err), NML_OK);
    assert_int_equal(hook_backward_calls, 1);
    assert_true(k->grad[0] == 1.0f && k->grad[1] == 1.0f);
    assert_int_equal(nml_param_set_hook(k, NULL, &err), NML_OK);
    assert_true(nml_param_data(k) == k->value);
    nml_net_free(net);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(cross_entropy_by_hand),
        cmocka_unit_test(mse_by_hand),
        cmocka_unit_test(sgd_momentum_by_hand),
        cmocka_unit_test(adam_by_hand),
        cmocka_unit_test(schedules),
        cmocka_unit_test(per_parameter_learning_rate),
        cmocka_unit_test(mask_keeps_pruned_weights_at_zero),
        cmocka_unit_test(transform_hook_is_used_by_forward),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
