/* Guard bytes around the arena (nanoml/guard.h and the host nml_guarded_arena): a stray byte
 * on either side is found and located, writes anywhere inside the arena are not, and the
 * runtime leaves the guards of an exactly-sized arena intact through init and invoke. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nanoml/guard.h"
#include "nanoml/runtime_host.h"
#include "test_util.h"

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif

#define ARENA 1000 /* deliberately not a multiple of 16 */

static void freestanding_guards(void **state) {
    (void)state;
    static uint8_t block[NML_GUARDED_BYTES(ARENA)] __attribute__((aligned(16)));
    long where = 0;
    uint8_t *arena = nml_guard_setup(block, ARENA);
    assert_ptr_equal(arena, block + NML_GUARD_BYTES);
    assert_int_equal((uintptr_t)arena % 16, 0);
    memset(arena, 0xee, ARENA); /* the whole arena is the runtime's */
    assert_true(nml_guard_intact(block, ARENA, &where));

    arena[-1] ^= 1; /* one byte before */
    assert_false(nml_guard_intact(block, ARENA, &where));
    assert_int_equal(where, -1);
    nml_guard_setup(block, ARENA);
    arena[-(long)NML_GUARD_BYTES] = 0; /* the far end of the guard */
    assert_false(nml_guard_intact(block, ARENA, &where));
    assert_int_equal(where, -(long)NML_GUARD_BYTES);
    nml_guard_setup(block, ARENA);
    arena[ARENA] ^= 0x80; /* one byte after */
    assert_false(nml_guard_intact(block, ARENA, &where));
    assert_int_equal(where, ARENA);
    nml_guard_setup(block, ARENA);
    arena[ARENA + 37] ^= 0x04;
    assert_false(nml_guard_intact(block, ARENA, &where));
    assert_int_equal(where, ARENA + 37);

    /* whole-guard overwrites with any constant, or the guard shifted by a byte */
    for (int c = 0; c < 256; c++) {
        nml_guard_setup(block, ARENA);
        memset(arena + ARENA, c, NML_GUARD_BYTES);
        assert_false(nml_guard_intact(block, ARENA, NULL));
    }
    nml_guard_setup(block, ARENA);
    memmove(block + 1, block, NML_GUARD_BYTES - 1);
    assert_false(nml_guard_intact(block, ARENA, NULL));

    /* the same pattern fills and checks any region (the unused tail of an arena) */
    nml_guard_fill(arena + 100, 900, 7);
    assert_int_equal(nml_guard_find_change(arena + 100, 900, 7), 900);
    arena[100 + 899] ^= 1;
    assert_int_equal(nml_guard_find_change(arena + 100, 900, 7), 899);
    assert_int_equal(nml_guard_find_change(arena + 100, 900, 8) < 900, 1); /* seeds differ */
}

static void host_guarded_arena(void **state) {
    (void)state;
    nml_guarded_arena g;
    nml_error err;
    assert_int_equal(nml_guarded_arena_alloc(&g, ARENA, &err), NML_OK);
    assert_int_equal((uintptr_t)g.arena % 16, 0);
    memset(g.arena, 0, ARENA);
    assert_int_equal(nml_guarded_arena_check(&g, &err), NML_OK);
#if !defined(UNDER_ASAN) /* under ASan the guards are poisoned: this write would stop the test */
    g.arena[ARENA + 2] ^= 1;
    assert_int_equal(nml_guarded_arena_check(&g, &err), NML_E_INTERNAL);
    assert_non_null(strstr(err.msg, "3 bytes past the end of the 1000-byte arena"));
    g.arena[ARENA + 2] ^= 1;
    g.arena[-5] ^= 1;
    assert_int_equal(nml_guarded_arena_check(&g, &err), NML_E_INTERNAL);
    assert_non_null(strstr(err.msg, "5 bytes before the arena"));
    g.arena[-5] ^= 1;
    assert_int_equal(nml_guarded_arena_check(&g, &err), NML_OK);
#endif
    nml_guarded_arena_free(&g);
    assert_null(g.block);
    assert_int_equal(nml_guarded_arena_alloc(&g, (size_t)NML_MAX_TENSOR_BYTES + 1, &err),
                     NML_E_LIMIT);
    assert_null(g.block);
}

/* Every shared TFLM model in an arena of exactly the size it needs: init and invoke leave the
 * guards alone, and a byte less is refused up front. */
static void runtime_keeps_inside_exact_arena(void **state) {
    (void)state;
    const char *models[] = {"hello_world_float", "hello_world_int8", "micro_speech_quantized",
                            "simple_add_model", "person_detect"};
    for (size_t k = 0; k < sizeof models / sizeof models[0]; k++) {
        char rel[128];
        snprintf(rel, sizeof rel, "models/tflm/%s.tflite", models[k]);
        uint8_t *data;
        size_t size, need;
        nml_model m;
        nml_error err;
        if (nml_load_model_file(nml_test_shared(rel), &data, &size, &m, &err) != NML_OK)
            fail_msg("%s", err.msg);
        assert_int_equal(nml_arena_size(&m, nml_ops_all(), &need, &err), NML_OK);
        nml_guarded_arena g;
        nml_interpreter it = {0};
        assert_int_equal(nml_guarded_arena_alloc(&g, need - 1, &err), NML_OK);
        assert_int_equal(nml_interpreter_init(&it, &m, nml_ops_all(), g.arena, g.bytes, &err),
                         NML_E_ARENA);
        assert_int_equal(nml_guarded_arena_check(&g, &err), NML_OK);
        nml_guarded_arena_free(&g);

        assert_int_equal(nml_guarded_arena_alloc(&g, need, &err), NML_OK);
        memset(g.arena, 0xa5, need);
        assert_int_equal(nml_interpreter_init(&it, &m, nml_ops_all(), g.arena, g.bytes, &err),
                         NML_OK);
        assert_int_equal(nml_guarded_arena_check(&g, &err), NML_OK);
        for (uint32_t i = 0; i < nml_input_count(&it); i++) {
            nml_tensor *t = nml_input(&it, i);
            memset(t->data, 0, t->bytes);
        }
        if (nml_invoke(&it, &err) != NML_OK) fail_msg("%s: %s", models[k], err.msg);
        if (nml_guarded_arena_check(&g, &err) != NML_OK) fail_msg("%s: %s", models[k], err.msg);
        nml_guarded_arena_free(&g);
        free(data);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(freestanding_guards),
        cmocka_unit_test(host_guarded_arena),
        cmocka_unit_test(runtime_keeps_inside_exact_arena),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
