#include "compress_check.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nanoml/runtime_host.h"
#include "nanoml/train_export.h"
#include "test_util.h"

static size_t tensor_elems(const nml_ir *ir, int t) {
    return (size_t)nml_ir_tensor_count(&ir->tensors[t]);
}

size_t cc_input_count(const nml_ir *ir) {
    return tensor_elems(ir, ir->inputs[0]);
}
size_t cc_output_count(const nml_ir *ir) {
    return tensor_elems(ir, ir->outputs[0]);
}

static float out_value(const nml_tensor *t, size_t i) {
    switch (t->type) {
    case NML_FLOAT32:
        return ((const float *)t->data)[i];
    case NML_INT8:
        return t->scale * (float)(((const int8_t *)t->data)[i] - t->zero_point);
    default:
        return t->scale * (float)(((const uint8_t *)t->data)[i] - t->zero_point);
    }
}

void cc_run_ir(const nml_ir *ir, const float *x, int n, float *y) {
    nml_error err;
    uint8_t *bytes = NULL, *arena = NULL;
    size_t size = 0;
    nml_model m;
    nml_interpreter it;
    if (nml_ir_to_tflite(ir, &bytes, &size, &err) != NML_OK) fail_msg("write: %s", err.msg);
    if (nml_model_load(&m, bytes, size, &err) != NML_OK) fail_msg("load: %s", err.msg);
    if (nml_interpreter_init_alloc(&it, &m, nml_ops_all(), &arena, &err) != NML_OK)
        fail_msg("init: %s", err.msg);
    nml_tensor *in = nml_input(&it, 0), *out = nml_output(&it, 0);
    assert_int_equal(in->type, NML_FLOAT32);
    const size_t ni = nml_tensor_count(in), no = nml_tensor_count(out);
    for (int s = 0; s < n; s++) {
        memcpy(in->data, x + (size_t)s * ni, ni * sizeof(float));
        if (nml_invoke(&it, &err) != NML_OK) fail_msg("invoke: %s", err.msg);
        for (size_t i = 0; i < no; i++)
            y[(size_t)s * no + i] = out_value(out, i);
    }
    free(arena);
    free(bytes);
}

void cc_export(const nml_net *net, nml_ir *ir) {
    nml_error err;
    nml_ir_init(ir);
    if (nml_net_export(net, ir, &err) != NML_OK) fail_msg("export: %s", err.msg);
}

void cc_tflite_round_trip(const nml_ir *in, nml_ir *out) {
    nml_error err;
    uint8_t *bytes = NULL;
    size_t size = 0;
    if (nml_ir_to_tflite(in, &bytes, &size, &err) != NML_OK) fail_msg("write: %s", err.msg);
    if (nml_ir_from_tflite(out, bytes, size, &err) != NML_OK) fail_msg("read: %s", err.msg);
    free(bytes);
}

double cc_max_abs_diff(const float *a, const float *b, size_t n) {
    double m = 0.0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - (double)b[i]);
        if (!(d <= m)) m = d; /* NaN propagates as a failure */
    }
    return m;
}
