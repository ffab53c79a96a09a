/* ModelProto parsing: FastestDet against the facts in shared/README.md, and hand-built models
 * exercising every tensor data field and attribute type. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onnx/onnx_model.h"
#include "onnx_builder.h"
#include "test_util.h"

static int count_op(const nml_onnx_graph *g, const char *op) {
    int n = 0;
    for (size_t i = 0; i < g->n_nodes; i++)
        n += !strcmp(g->nodes[i].op_type, op);
    return n;
}

static void parses_fastestdet(void **state) {
    (void)state;
    size_t size;
    uint8_t *data = nml_test_read(nml_test_shared("models/fastestdet/FastestDet.onnx"), &size);
    assert_int_equal(size, 998169); /* README */
    nml_onnx_model m;
    nml_error err;
    assert_int_equal(nml_onnx_parse(&m, data, size, &err), NML_OK);
    const nml_onnx_graph *g = &m.graph;
    assert_int_equal(nml_onnx_opset_version(&m), 11);
    assert_string_equal(m.producer_name, "pytorch");
    /* input input.1 float32 [1,3,352,352]; output 758 [1,85,22,22] */
    assert_int_equal(g->n_inputs, 1);
    assert_string_equal(g->inputs[0].name, "input.1");
    assert_int_equal(g->inputs[0].elem_type, NML_ONNX_FLOAT);
    int64_t in_dims[4] = {1, 3, 352, 352}, out_dims[4] = {1, 85, 22, 22};
    assert_int_equal(g->inputs[0].rank, 4);
    assert_memory_equal(g->inputs[0].dims, in_dims, sizeof in_dims);
    assert_int_equal(g->n_outputs, 1);
    assert_string_equal(g->outputs[0].name, "758");
    assert_memory_equal(g->outputs[0].dims, out_dims, sizeof out_dims);
    /* 70 Conv, one nearest Resize, one MaxPool, one AveragePool, Sigmoid, Softmax */
    assert_int_equal(count_op(g, "Conv"), 70);
    assert_int_equal(count_op(g, "Resize"), 1);
    assert_int_equal(count_op(g, "MaxPool"), 1);
    assert_int_equal(count_op(g, "AveragePool"), 1);
    assert_int_equal(count_op(g, "Sigmoid"), 1);
    assert_int_equal(count_op(g, "Softmax"), 1);
    assert_true(count_op(g, "Relu") > 0 && count_op(g, "Concat") > 0);
    /* batch norm is folded: no BatchNormalization node */
    assert_int_equal(count_op(g, "BatchNormalization"), 0);
    /* channel shuffle as Reshape/Transpose/Gather: two Reshapes and two Gathers per Transpose
     * of rank 3 */
    int shuffles = 0;
    for (size_t i = 0; i < g->n_nodes; i++)
        if (!strcmp(g->nodes[i].op_type, "Transpose"))
            shuffles += nml_onnx_attr_find(&g->nodes[i], "perm")->n_ints == 3;
    assert_true(shuffles > 0);
    assert_int_equal(count_op(g, "Reshape"), 2 * shuffles);
    assert_int_equal(count_op(g, "Gather"), 2 * shuffles);
    for (size_t i = 0; i < g->n_nodes; i++) {
        const nml_onnx_node *n = &g->nodes[i];
        if (!strcmp(n->op_type, "Resize"))
            assert_string_equal(nml_onnx_attr_find(n, "mode")->s, "nearest");
    }
    /* 240,305 parameters: the float initializers */
    uint64_t params = 0;
    for (size_t i = 0; i < g->n_initializers; i++)
        if (g->initializers[i].dtype == NML_ONNX_FLOAT) params += g->initializers[i].count;
    assert_int_equal(params, 240305);
    /* the graph is closed: every node input comes from an initializer, the graph input or an
     * earlier node, and every initializer is read by some node */
    for (size_t i = 0; i < g->n_nodes; i++)
        for (size_t k = 0; k < g->nodes[i].n_inputs; k++) {
            const char *name = g->nodes[i].inputs[k];
            int found = !name[0] || !strcmp(name, "input.1");
            for (size_t j = 0; j < g->n_initializers && !found; j++)
                found = !strcmp(g->initializers[j].name, name);
            for (size_t j = 0; j < i && !found; j++)
                for (size_t o = 0; o < g->nodes[j].n_outputs && !found; o++)
                    found = !strcmp(g->nodes[j].outputs[o], name);
            if (!found) fail_msg("node %zu reads unknown tensor '%s'", i, name);
        }
    for (size_t j = 0; j < g->n_initializers; j++) {
        int used = 0;
        for (size_t i = 0; i < g->n_nodes && !used; i++)
            for (size_t k = 0; k < g->nodes[i].n_inputs && !used; k++)
                used = !strcmp(g->nodes[i].inputs[k], g->initializers[j].name);
        if (!used) fail_msg("initializer '%s' is never read", g->initializers[j].name);
    }
    printf("FastestDet: %zu nodes, %zu initializers, %zu value_info, %d shuffles\n", g->n_nodes,
           g->n_initializers, g->n_value_info, shuffles);
    nml_onnx_free(&m);
    free(data);
}

/* A TensorProto with explicit fields. */
static void tensor_fields(ob_buf *graph, const char *name, int dtype, int64_t n, ob_buf *payload) {
    ob_buf t = {0};
    ob_int(&t, 1, n);
    ob_int(&t, 2, dtype);
    ob_str(&t, 8, name);
    ob_raw(&t, payload->d, payload->n);
    ob_free(payload);
    ob_msg(graph, 5, &t);
}

static void decodes_every_data_field(void **state) {
    (void)state;
    ob_buf g = {0}, p = {0}, model = {0};
    /* float_data, packed: 1.5, -2 */
    float fl[2] = {1.5f, -2.0f};
    ob_bytes(&p, 4, fl, sizeof fl); /* little-endian host */
    tensor_fields(&g, "f", NML_ONNX_FLOAT, 2, &p);
    /* int64_data, unpacked: 7, -3 */
    ob_int(&p, 7, 7);
    ob_int(&p, 7, -3);
    tensor_fields(&g, "i64", NML_ONNX_INT64, 2, &p);
    /* int8 values travel in int32_data: -5, 100 */
    ob_int(&p, 5, -5);
    ob_int(&p, 5, 100);
    tensor_fields(&g, "i8", NML_ONNX_INT8, 2, &p);
    /* double_data, packed */
    double dv[1] = {0.25};
    ob_bytes(&p, 10, dv, sizeof dv);
    tensor_fields(&g, "d", NML_ONNX_DOUBLE, 1, &p);
    /* raw_data int32 */
    int32_t rv[3] = {1, -2, 3};
    ob_bytes(&p, 9, rv, sizeof rv);
    tensor_fields(&g, "raw", NML_ONNX_INT32, 3, &p);
    /* a node with attributes of every kind, plus fields nobody knows */
    ob_buf attrs = {0}, a = {0}, t = {0}, sub = {0};
    ob_attr_int(&attrs, "i", -42);
    ob_attr_float(&attrs, "f", 0.5f);
    ob_attr_str(&attrs, "s", "hello");
    int64_t iv[3] = {1, -1, 300};
    ob_attr_ints(&attrs, "ints", iv, 3);
    ob_str(&a, 1, "floats");
    ob_int(&a, 20, 6);
    ob_fixed32(&a, 7, 1.0f); /* unpacked floats */
    ob_fixed32(&a, 7, 2.0f);
    ob_msg(&attrs, 5, &a);
    ob_str(&a, 1, "t");
    ob_int(&a, 20, 4);
    ob_int(&t, 2, NML_ONNX_FLOAT);
    float one = 1.0f;
    ob_bytes(&t, 9, &one, 4);
    ob_msg(&a, 5, &t);
    ob_msg(&attrs, 5, &a);
    ob_str(&a, 1, "g");
    ob_int(&a, 20, 5);
    ob_str(&sub, 2, "body"); /* sub-graph: skipped, only noted */
    ob_msg(&a, 6, &sub);
    ob_msg(&attrs, 5, &a);
    ob_int(&attrs, 99, 1);          /* unknown varint field in NodeProto */
    ob_str(&attrs, 100, "ignored"); /* unknown bytes field */
    const char *ins[] = {"f", NULL}, *outs[] = {"y", NULL};
    ob_node(&g, "Custom", "n0", ins, outs, &attrs);
    ob_io(&g, 1, "y", 1, (int64_t[]){2});
    ob_model(&model, 13, &g);
    ob_int(&model, 77, 5); /* unknown field in ModelProto */

    nml_onnx_model m;
    nml_error err;
    assert_int_equal(nml_onnx_parse(&m, model.d, model.n, &err), NML_OK);
    const nml_onnx_graph *gr = &m.graph;
    assert_int_equal(gr->n_initializers, 5);
    const float *f = (const float *)gr->initializers[0].data;
    assert_true(f[0] == 1.5f && f[1] == -2.0f);
    const int64_t *i64 = (const int64_t *)gr->initializers[1].data;
    assert_true(i64[0] == 7 && i64[1] == -3);
    const int8_t *i8 = (const int8_t *)gr->initializers[2].data;
    assert_true(i8[0] == -5 && i8[1] == 100);
    assert_int_equal(gr->initializers[2].bytes, 2);
    double d;
    memcpy(&d, gr->initializers[3].data, 8);
    assert_true(d == 0.25);
    const int32_t *r32 = (const int32_t *)gr->initializers[4].data;
    assert_true(r32[0] == 1 && r32[1] == -2 && r32[2] == 3);
    const nml_onnx_node *n = &gr->nodes[0];
    assert_string_equal(n->op_type, "Custom");
    assert_int_equal(nml_onnx_attr_find(n, "i")->i, -42);
    assert_true(nml_onnx_attr_find(n, "f")->f == 0.5f);
    assert_string_equal(nml_onnx_attr_find(n, "s")->s, "hello");
    const nml_onnx_attr *ai = nml_onnx_attr_find(n, "ints");
    assert_int_equal(ai->n_ints, 3);
    assert_true(ai->ints[1] == -1 && ai->ints[2] == 300);
    const nml_onnx_attr *af = nml_onnx_attr_find(n, "floats");
    assert_int_equal(af->type, NML_ONNX_ATTR_FLOATS);
    assert_true(af->n_floats == 2 && af->floats[1] == 2.0f);
    const nml_onnx_attr *at = nml_onnx_attr_find(n, "t");
    assert_non_null(at->t);
    assert_true(at->t->rank == 0 && at->t->count == 1);
    assert_int_equal(nml_onnx_attr_find(n, "g")->type, NML_ONNX_ATTR_GRAPH);
    assert_int_equal(nml_onnx_opset_version(&m), 13);
    nml_onnx_free(&m);
    ob_free(&model);
}

static nml_status parse_one_tensor(ob_buf *payload, int dtype, int64_t n, nml_error *err) {
    ob_buf g = {0}, model = {0};
    tensor_fields(&g, "t", dtype, n, payload);
    ob_model(&model, 13, &g);
    nml_onnx_model m;
    nml_status s = nml_onnx_parse(&m, model.d, model.n, err);
    if (s == NML_OK) nml_onnx_free(&m);
    ob_free(&model);
    return s;
}

static void rejects_inconsistent_tensors(void **state) {
    (void)state;
    nml_error err;
    ob_buf p = {0};
    float three[3] = {1, 2, 3};
    ob_bytes(&p, 9, three, 12); /* 3 floats for 2 elements */
    assert_int_equal(parse_one_tensor(&p, NML_ONNX_FLOAT, 2, &err), NML_E_FORMAT);
    assert_string_equal(err.msg, "graph: initializer 0: tensor 't' at byte 25: raw_data has 12 "
                                 "bytes, shape needs 8");
    ob_int(&p, 7, 1); /* one int64 for two elements */
    assert_int_equal(parse_one_tensor(&p, NML_ONNX_INT64, 2, &err), NML_E_FORMAT);
    assert_non_null(strstr(err.msg, "1 values for 2 elements"));
    assert_int_equal(parse_one_tensor(&p, NML_ONNX_FLOAT, 2, &err), NML_E_FORMAT); /* no data */
    assert_non_null(strstr(err.msg, "2 elements but no data"));
    ob_bytes(&p, 9, three, 8);
    ob_int(&p, 7, 1);
    assert_int_equal(parse_one_tensor(&p, NML_ONNX_FLOAT, 2, &err), NML_E_FORMAT);
    assert_non_null(strstr(err.msg, "two fields"));
    ob_int(&p, 14, 1); /* data_location = EXTERNAL */
    assert_int_equal(parse_one_tensor(&p, NML_ONNX_FLOAT, 0, &err), NML_E_UNSUPPORTED);
    assert_non_null(strstr(err.msg, "external data"));
    ob_bytes(&p, 9, three, 4);
    assert_int_equal(parse_one_tensor(&p, NML_ONNX_FLOAT, -1, &err), NML_E_FORMAT);
    assert_non_null(strstr(err.msg, "negative dimension"));
    ob_bytes(&p, 9, three, 4);
    assert_int_equal(parse_one_tensor(&p, 99, 1, &err), NML_E_UNSUPPORTED);
}

static void rejects_non_models(void **state) {
    (void)state;
    nml_onnx_model m;
    nml_error err;
    const uint8_t text[] = "hello, world";
    assert_int_equal(nml_onnx_parse(&m, text, sizeof text - 1, &err), NML_E_FORMAT);
    assert_int_equal(nml_onnx_parse(&m, text, 0, &err), NML_E_FORMAT);
    assert_string_equal(err.msg, "not an ONNX model: no graph");
    /* a graph but no ir_version */
    ob_buf b = {0}, g = {0};
    ob_str(&g, 2, "g");
    ob_msg(&b, 7, &g);
    assert_int_equal(nml_onnx_parse(&m, b.d, b.n, &err), NML_E_FORMAT);
    assert_string_equal(err.msg, "not an ONNX model: ir_version 0");
    ob_free(&b);
}

/* A ModelProto around graph (consumed). */
static nml_status parse_graph_bytes(ob_buf *graph, nml_error *err) {
    ob_buf b = {0};
    ob_int(&b, 1, 7);
    ob_msg(&b, 7, graph);
    nml_onnx_model m;
    nml_status st = nml_onnx_parse(&m, b.d, b.n, err);
    if (st == NML_OK) nml_onnx_free(&m);
    ob_free(&b);
    return st;
}

/* A graph of `nodes` nodes (op_type only) plus one node with `outputs` outputs and `attrs`
 * attributes, and `inputs` graph inputs. */
static nml_status parse_counts(int nodes, int outputs, int attrs, int inputs, nml_error *err) {
    ob_buf g = {0}, big = {0};
    for (int i = 0; i < nodes; i++) {
        ob_buf n = {0};
        ob_str(&n, 4, "Relu");
        ob_msg(&g, 1, &n);
    }
    ob_str(&big, 4, "Split");
    for (int i = 0; i < outputs; i++)
        ob_str(&big, 2, "o");
    for (int i = 0; i < attrs; i++) {
        ob_buf a = {0};
        ob_str(&a, 1, "a");
        ob_int(&a, 3, i);
        ob_msg(&big, 5, &a);
    }
    ob_msg(&g, 1, &big);
    for (int i = 0; i < inputs; i++) {
        ob_buf vi = {0};
        ob_str(&vi, 1, "x");
        ob_msg(&g, 11, &vi);
    }
    return parse_graph_bytes(&g, err);
}

/* The per-graph counts (onnx_model.h) at their limits and one past them. */
static void count_limits(void **state) {
    (void)state;
    nml_error err;
    assert_int_equal(parse_counts(NML_ONNX_MAX_NODES - 1, 1, 0, 0, &err), NML_OK);
    assert_int_equal(parse_counts(NML_ONNX_MAX_NODES, 1, 0, 0, &err), NML_E_LIMIT);
    assert_non_null(strstr(err.msg, "graph: more than 65536 nodes at byte"));
    assert_int_equal(parse_counts(0, NML_ONNX_MAX_VALUES, 0, 0, &err), NML_OK);
    assert_int_equal(parse_counts(0, NML_ONNX_MAX_VALUES + 1, 0, 0, &err), NML_E_LIMIT);
    assert_non_null(strstr(err.msg, "graph: node 0: more than 65536 outputs of one node at byte"));
    assert_int_equal(parse_counts(0, NML_ONNX_MAX_VALUES - 10, 0, 10, &err), NML_OK);
    assert_int_equal(parse_counts(0, NML_ONNX_MAX_VALUES - 10, 0, 11, &err), NML_E_LIMIT);
    assert_non_null(strstr(err.msg, "more than 65536 values (initializers, inputs, node outputs)"));
    assert_int_equal(parse_counts(0, 1, NML_ONNX_MAX_ATTRIBUTES, 0, &err), NML_OK);
    assert_int_equal(parse_counts(0, 1, NML_ONNX_MAX_ATTRIBUTES + 1, 0, &err), NML_E_LIMIT);
    assert_non_null(strstr(err.msg, "more than 1024 attributes of one node"));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parses_fastestdet),
        cmocka_unit_test(decodes_every_data_field),
        cmocka_unit_test(rejects_inconsistent_tensors),
        cmocka_unit_test(rejects_non_models),
        cmocka_unit_test(count_limits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
