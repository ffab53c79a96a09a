#include "pack_models.h"

#include <stdlib.h>
#include <string.h>

#include "test_util.h"

static uint32_t state;
static int32_t rnd(int32_t lo, int32_t hi) {
    state = state * 1664525u + 1013904223u;
    return lo + (int32_t)((state >> 8) % (uint32_t)(hi - lo + 1));
}

static void ok(nml_status st, const nml_error *err) {
    if (st != NML_OK) fail_msg("building test model: %s", err->msg);
}

/* n weights in row order along `rows` output channels (row_axis 0 or last), stored densely. */
static void weights(int8_t *w, int32_t n, int32_t rows, int last_axis, int sparsity, int k,
                    int row_tables) {
    const int32_t len = n / rows;
    int8_t table[16] = {0};
    for (int32_t r = 0; r < rows; r++) {
        if (k && (r == 0 || row_tables))
            for (int i = 0; i < k; i++)
                table[i] = (int8_t)(rnd(0, 1) ? rnd(1, 127) : -rnd(1, 127));
        for (int32_t j = 0; j < len; j++) {
            int8_t v = k ? table[rnd(0, k - 1)] : (int8_t)rnd(-127, 127);
            if (rnd(0, 99) < sparsity) v = 0;
            w[last_axis ? j * rows + r : r * len + j] = v;
        }
    }
}

static int add(nml_ir *ir, const char *name, int type, int rank, const int32_t *dims,
               const void *data, size_t bytes) {
    nml_error err;
    int idx;
    ok(nml_ir_add_tensor(ir, name, type, rank, dims, data, bytes, &idx, &err), &err);
    return idx;
}

static void quant(nml_ir *ir, int t, float scale, int64_t zp) {
    nml_error err;
    ok(nml_ir_set_quant(ir, t, 1, &scale, &zp, 0, &err), &err);
}

static void per_channel(nml_ir *ir, int t, int32_t n, int32_t dim) {
    float s[16];
    nml_error err;
    for (int32_t i = 0; i < n; i++)
        s[i] = 0.005f + 0.0005f * (float)rnd(0, 20);
    ok(nml_ir_set_quant(ir, t, (uint32_t)n, s, NULL, dim, &err), &err);
}

static int bias(nml_ir *ir, const char *name, int32_t n, float in_scale, const nml_ir_tensor *w) {
    int32_t b[16];
    float s[16];
    for (int32_t i = 0; i < n; i++) {
        b[i] = rnd(-2000, 2000);
        s[i] = in_scale * w->scales[i];
    }
    int t = add(ir, name, NML_INT32, 1, (const int32_t[]){n}, b, (size_t)n * sizeof *b);
    nml_error err;
    ok(nml_ir_set_quant(ir, t, (uint32_t)n, s, NULL, 0, &err), &err);
    return t;
}

static void op(nml_ir *ir, int32_t code, const nml_op_params *p, int32_t a, int32_t b, int32_t c,
               int32_t out) {
    nml_error err;
    const int32_t in[3] = {a, b, c};
    ok(nml_ir_add_op(ir, code, p, 3, in, 1, &out, NULL, &err), &err);
}

void nml_test_model_cnn_int8(nml_ir *ir, uint32_t seed, int sparsity_pct, int k, int row_tables) {
    state = seed;
    nml_ir_init(ir);
    int8_t wc[144], wd[144], *wf = malloc(5760);
    weights(wc, 144, 8, 0, sparsity_pct, k, row_tables);
    weights(wd, 144, 16, 1, sparsity_pct, k, row_tables);
    weights(wf, 5760, 10, 0, sparsity_pct, k, row_tables);
    int x = add(ir, "input", NML_INT8, 4, (const int32_t[]){1, 10, 10, 2}, NULL, 0);
    quant(ir, x, 0.05f, -3);
    int fc1 = add(ir, "conv/filter", NML_INT8, 4, (const int32_t[]){8, 3, 3, 2}, wc, 144);
    per_channel(ir, fc1, 8, 0);
    int bc = bias(ir, "conv/bias", 8, 0.05f, &ir->tensors[fc1]);
    int c = add(ir, "conv", NML_INT8, 4, (const int32_t[]){1, 8, 8, 8}, NULL, 0);
    quant(ir, c, 0.2f, -128);
    int fd = add(ir, "dw/filter", NML_INT8, 4, (const int32_t[]){1, 3, 3, 16}, wd, 144);
    per_channel(ir, fd, 16, 3);
    int bd = bias(ir, "dw/bias", 16, 0.2f, &ir->tensors[fd]);
    int d = add(ir, "dw", NML_INT8, 4, (const int32_t[]){1, 6, 6, 16}, NULL, 0);
    quant(ir, d, 0.5f, 2);
    int ff = add(ir, "fc/weights", NML_INT8, 2, (const int32_t[]){10, 576}, wf, 5760);
    per_channel(ir, ff, 10, 0);
    int bf = bias(ir, "fc/bias", 10, 0.5f, &ir->tensors[ff]);
    int y = add(ir, "output", NML_INT8, 2, (const int32_t[]){1, 10}, NULL, 0);
    quant(ir, y, 8.0f, 0);
    free(wf);

    nml_op_params p;
    nml_op_params_default(&p);
    p.padding = NML_PAD_VALID;
    p.activation = NML_ACT_RELU;
    op(ir, NML_OP_CONV_2D, &p, x, fc1, bc, c);
    p.activation = NML_ACT_NONE;
    p.depth_multiplier = 2;
    op(ir, NML_OP_DEPTHWISE_CONV_2D, &p, c, fd, bd, d);
    nml_op_params_default(&p);
    op(ir, NML_OP_FULLY_CONNECTED, &p, d, ff, bf, y);
    nml_error err;
    ok(nml_ir_set_io(ir, 1, &x, 1, &y, &err), &err);
}
