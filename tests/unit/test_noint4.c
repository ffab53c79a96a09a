/* int4 tensors in the loader, and the same compiled with NML_NO_INT4 (test_noint4_switch:
 * model.c and types.c compiled as `nanoml deploy` compiles them for a model without int4
 * tensors): there an int4 tensor is refused at load with a status and where, and int8 models
 * load as before. */
#include <stdlib.h>
#include <string.h>

#include "nanoml/runtime.h"
#include "test_util.h"
#include "tfl_builder.h"

/* ADD(in0, in1) -> out, int8 1x4, and an unused tensor of `type` and n elements */
static nml_status load_with(int type, int32_t n, nml_model *model, uint8_t **data, nml_error *err) {
    tb_model *m = tb_new_add_int8();
    tb_add_tensor(m, type, 1, &n, 0, "extra");
    size_t size;
    *data = tb_build(m, &size); /* 16-byte aligned, exactly size bytes */
    free(m);
    assert_non_null(*data);
    nml_error_clear(err);
    return nml_model_load(model, *data, size, err);
}

static void int8_loads(void **state) {
    (void)state;
    nml_model model;
    nml_error err;
    uint8_t *data;
    assert_int_equal(load_with(NML_INT8, 5, &model, &data, &err), NML_OK);
    nml_tensor t;
    assert_int_equal(nml_model_tensor(&model, 3, &t, &err), NML_OK);
    assert_int_equal(t.bytes, 5);
    free(data);
}

static void int4_tensor(void **state) {
    (void)state;
    nml_model model;
    nml_error err;
    uint8_t *data;
    nml_status st = load_with(NML_INT4, 5, &model, &data, &err);
    int ok = -1;
    size_t bytes = nml_dtype_bytes_for(NML_INT4, 5, &ok);
#ifdef NML_NO_INT4
    assert_int_equal(st, NML_E_UNSUPPORTED);
    assert_non_null(strstr(err.msg, "tensor 3: int4 tensor, but this runtime was compiled"));
    assert_int_equal(ok, 0); /* nothing sizes int4 */
    assert_int_equal(bytes, 0);
#else
    assert_int_equal(st, NML_OK);
    nml_tensor t;
    assert_int_equal(nml_model_tensor(&model, 3, &t, &err), NML_OK);
    assert_int_equal(t.bytes, 3); /* five nibbles: two bytes and a half, rounded up */
    assert_int_equal(ok, 1);
    assert_int_equal(bytes, 3);
#endif
    free(data);
}

/* the schema's element sizes; 0 (no fixed size) for string and int4, which nml_elem_size
 * relies on to refuse them */
static void element_sizes(void **state) {
    (void)state;
    assert_int_equal(nml_dtype_size(NML_INT8), 1);
    assert_int_equal(nml_dtype_size(NML_INT16), 2);
    assert_int_equal(nml_dtype_size(NML_FLOAT32), 4);
    assert_int_equal(nml_dtype_size(NML_FLOAT64), 8);
    assert_int_equal(nml_dtype_size(NML_STRING), 0);
    assert_int_equal(nml_dtype_size(NML_INT4), 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(element_sizes),
        cmocka_unit_test(int8_loads),
        cmocka_unit_test(int4_tensor),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
