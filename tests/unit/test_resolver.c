/* nml_resolver_find: builtin operators by code, custom operators by code and name; and the same
 * lookup compiled with NML_NO_CUSTOM_OPS (test_resolver_nocustom: interpreter.c compiled as
 * `nanoml deploy` compiles it for a model without custom operators), which finds the builtins
 * and no custom kernel at all. nml_model_info_has_custom_ops decides which build firmware gets. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "kernel.h"
#include "nanoml/export.h"
#include "nanoml/runtime.h"

static const nml_kernel add_k = {NML_OP_ADD, "ADD", NULL, NULL};
static const nml_kernel conv_k = {NML_OP_CONV_2D, "CONV_2D", NULL, NULL};
static const nml_kernel foo_k = {NML_OP_CUSTOM, "Foo", NULL, NULL};
static const nml_kernel foobar_k = {NML_OP_CUSTOM, "FooBar", NULL, NULL};
static const nml_kernel *const table[] = {&add_k, NULL, &foo_k, &foobar_k, &conv_k};
static const nml_op_resolver ops = {table, 5};

static void builtins_by_code(void **state) {
    (void)state;
    assert_ptr_equal(nml_resolver_find(&ops, NML_OP_ADD, NULL), &add_k);
    assert_ptr_equal(nml_resolver_find(&ops, NML_OP_CONV_2D, NULL), &conv_k); /* past a NULL */
    assert_null(nml_resolver_find(&ops, NML_OP_SOFTMAX, NULL));
    assert_null(nml_resolver_find(NULL, NML_OP_ADD, NULL));
}

static void custom_by_name(void **state) {
    (void)state;
#ifdef NML_NO_CUSTOM_OPS
    /* compiled without custom operators: none is found, whatever the resolver holds */
    assert_null(nml_resolver_find(&ops, NML_OP_CUSTOM, "Foo"));
    assert_null(nml_resolver_find(&ops, NML_OP_CUSTOM, "FooBar"));
#else
    /* the whole name must match: "Foo" is a prefix of "FooBar" and the other way round */
    assert_ptr_equal(nml_resolver_find(&ops, NML_OP_CUSTOM, "Foo"), &foo_k);
    assert_ptr_equal(nml_resolver_find(&ops, NML_OP_CUSTOM, "FooBar"), &foobar_k);
    assert_null(nml_resolver_find(&ops, NML_OP_CUSTOM, "Fo"));
    assert_null(nml_resolver_find(&ops, NML_OP_CUSTOM, "FooBarBaz"));
    assert_null(nml_resolver_find(&ops, NML_OP_CUSTOM, NULL));
#endif
    assert_null(nml_resolver_find(&ops, NML_OP_CUSTOM, "Bar"));
}

static void custom_ops_in_model_info(void **state) {
    (void)state;
    int32_t codes[3] = {NML_OP_CONV_2D, NML_OP_ADD, NML_OP_SOFTMAX};
    nml_model_info info = {0};
    info.ops = codes;
    info.n_ops = 3;
    assert_int_equal(nml_model_info_has_custom_ops(&info), 0);
    codes[2] = NML_OP_CUSTOM; /* the last one counts too */
    assert_int_equal(nml_model_info_has_custom_ops(&info), 1);
    info.n_ops = 2;
    assert_int_equal(nml_model_info_has_custom_ops(&info), 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(builtins_by_code),
        cmocka_unit_test(custom_by_name),
        cmocka_unit_test(custom_ops_in_model_info),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
