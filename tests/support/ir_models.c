#include "ir_models.h"

#include "test_util.h"

static void ok(nml_status st, const nml_error *err) {
    if (st != NML_OK) fail_msg("building test model: %s", err->msg);
}

static int tensor(nml_ir *ir, const char *name, int type, int rank, const int32_t *dims,
                  const void *data, size_t bytes) {
    nml_error err;
    int idx;
    ok(nml_ir_add_tensor(ir, name, type, rank, dims, data, bytes, &idx, &err), &err);
    return idx;
}

static void quant(nml_ir *ir, int t, uint32_t n, const float *s, const int64_t *z, int dim) {
    nml_error err;
    ok(nml_ir_set_quant(ir, t, n, s, z, dim, &err), &err);
}

static void op(nml_ir *ir, int32_t code, const nml_op_params *p, int n_in, const int32_t *in,
               int n_out, const int32_t *out) {
    nml_error err;
    ok(nml_ir_add_op(ir, code, p, n_in, in, n_out, out, NULL, &err), &err);
}

static void io(nml_ir *ir, int n_in, const int32_t *in, int n_out, const int32_t *out) {
    nml_error err;
    ok(nml_ir_set_io(ir, n_in, in, n_out, out, &err), &err);
}

void nml_test_model_fc_float(nml_ir *ir) {
    nml_ir_init(ir);
    const int32_t d_x[2] = {1, 3}, d_w[2] = {2, 3}, d_b[1] = {2}, d_y[2] = {1, 2};
    const float w[6] = {1.0f, 0.0f, -1.0f, 0.5f, 2.0f, 0.25f};
    const float b[2] = {0.5f, -1.0f};
    tensor(ir, "x", NML_FLOAT32, 2, d_x, NULL, 0);
    tensor(ir, "fc/weights", NML_FLOAT32, 2, d_w, w, sizeof w);
    tensor(ir, "fc/bias", NML_FLOAT32, 1, d_b, b, sizeof b);
    tensor(ir, "y", NML_FLOAT32, 2, d_y, NULL, 0);
    nml_op_params p;
    nml_op_params_default(&p);
    const int32_t in[3] = {0, 1, 2}, out[1] = {3};
    op(ir, NML_OP_FULLY_CONNECTED, &p, 3, in, 1, out);
    io(ir, 1, (const int32_t[]){0}, 1, (const int32_t[]){3});
}

void nml_test_model_conv_int8(nml_ir *ir) {
    nml_ir_init(ir);
    const int32_t d_x[4] = {1, 3, 3, 1}, d_w[4] = {2, 2, 2, 1}, d_b[1] = {2};
    const int32_t d_c[4] = {1, 2, 2, 2}, d_p[4] = {1, 1, 1, 2};
    const int8_t w[8] = {1, 2, 0, -1, 2, 0, -2, 4};
    const int32_t bias[2] = {4, -8};
    int x = tensor(ir, "input", NML_INT8, 4, d_x, NULL, 0);
    int f = tensor(ir, "conv/filter", NML_INT8, 4, d_w, w, sizeof w);
    int bt = tensor(ir, "conv/bias", NML_INT32, 1, d_b, bias, sizeof bias);
    int c = tensor(ir, "conv", NML_INT8, 4, d_c, NULL, 0);
    int r = tensor(ir, "relu", NML_INT8, 4, d_c, NULL, 0);
    int pl = tensor(ir, "pool", NML_INT8, 4, d_p, NULL, 0);
    const float s_x = 0.5f, s_w[2] = {0.5f, 0.25f}, s_b[2] = {0.25f, 0.125f}, s_o = 0.25f;
    const int64_t z_x = -1, z_w[2] = {0, 0}, z_o = 2;
    quant(ir, x, 1, &s_x, &z_x, 0);
    quant(ir, f, 2, s_w, z_w, 0);
    quant(ir, bt, 2, s_b, z_w, 0);
    quant(ir, c, 1, &s_o, &z_o, 0);
    quant(ir, r, 1, &s_o, &z_o, 0);
    quant(ir, pl, 1, &s_o, &z_o, 0);

    nml_op_params p;
    nml_op_params_default(&p);
    p.padding = NML_PAD_VALID;
    op(ir, NML_OP_CONV_2D, &p, 3, (const int32_t[]){x, f, bt}, 1, (const int32_t[]){c});
    nml_op_params_default(&p);
    op(ir, NML_OP_RELU, &p, 1, (const int32_t[]){c}, 1, (const int32_t[]){r});
    nml_op_params_default(&p);
    p.padding = NML_PAD_VALID;
    p.stride_w = p.stride_h = 2;
    p.filter_w = p.filter_h = 2;
    op(ir, NML_OP_AVERAGE_POOL_2D, &p, 1, (const int32_t[]){r}, 1, (const int32_t[]){pl});
    io(ir, 1, (const int32_t[]){x}, 1, (const int32_t[]){pl});
}

void nml_test_model_concat_softmax(nml_ir *ir) {
    nml_ir_init(ir);
    const int32_t d_in[2] = {1, 2}, d_cat[2] = {1, 4}, d_shape[1] = {2}, d_r[2] = {2, 2};
    const int32_t shape[2] = {2, 2};
    int a = tensor(ir, "a", NML_FLOAT32, 2, d_in, NULL, 0);
    int b = tensor(ir, "b", NML_FLOAT32, 2, d_in, NULL, 0);
    int cat = tensor(ir, "cat", NML_FLOAT32, 2, d_cat, NULL, 0);
    int sh = tensor(ir, "shape", NML_INT32, 1, d_shape, shape, sizeof shape);
    int r = tensor(ir, "reshaped", NML_FLOAT32, 2, d_r, NULL, 0);
    int s = tensor(ir, "probs", NML_FLOAT32, 2, d_r, NULL, 0);
    nml_op_params p;
    nml_op_params_default(&p);
    p.axis = 1;
    op(ir, NML_OP_CONCATENATION, &p, 2, (const int32_t[]){a, b}, 1, (const int32_t[]){cat});
    nml_op_params_default(&p);
    p.new_shape_len = 2;
    p.new_shape[0] = 2;
    p.new_shape[1] = 2;
    op(ir, NML_OP_RESHAPE, &p, 2, (const int32_t[]){cat, sh}, 1, (const int32_t[]){r});
    nml_op_params_default(&p);
    op(ir, NML_OP_SOFTMAX, &p, 1, (const int32_t[]){r}, 1, (const int32_t[]){s});
    io(ir, 2, (const int32_t[]){a, b}, 1, (const int32_t[]){s});
}
