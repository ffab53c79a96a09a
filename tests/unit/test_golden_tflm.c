/* End to end against TensorFlow Lite Micro: every shared TFLM model runs on every golden input
 * in ../shared/golden/tflm-reference and must reproduce TFLM's reference-kernel output byte for
 * byte (float outputs within 1e-5), using nml_ops_all(). Each model runs in an arena of exactly
 * the size it needs between guard bytes, checked after init and after every invoke. */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nanoml/runtime_host.h"
#include "test_util.h"

#define TWO_PI 6.283185307179586

typedef struct session {
    uint8_t *data;
    nml_guarded_arena arena;
    size_t size;
    nml_model model;
    nml_interpreter it;
} session;

/* Loads the model and initializes it with every kernel. */
static int open_session(session *s, const char *name) {
    char rel[256];
    nml_error err;
    memset(s, 0, sizeof *s);
    snprintf(rel, sizeof rel, "models/tflm/%s.tflite", name);
    if (nml_load_model_file(nml_test_shared(rel), &s->data, &s->size, &s->model, &err) != NML_OK)
        fail_msg("%s", err.msg);
    size_t need;
    if (nml_arena_size(&s->model, nml_ops_all(), &need, &err) != NML_OK ||
        nml_guarded_arena_alloc(&s->arena, need, &err) != NML_OK ||
        nml_interpreter_init(&s->it, &s->model, nml_ops_all(), s->arena.arena, need, &err) !=
            NML_OK ||
        nml_guarded_arena_check(&s->arena, &err) != NML_OK)
        fail_msg("%s: %s", name, err.msg);
    return 1;
}

/* Nothing outside the arena was written (checked after every invoke). */
static void check_guards(const session *s, const char *what) {
    nml_error err;
    if (nml_guarded_arena_check(&s->arena, &err) != NML_OK) fail_msg("%s: %s", what, err.msg);
}

static void close_session(session *s) {
    check_guards(s, "close");
    nml_guarded_arena_free(&s->arena);
    free(s->data);
}

static uint8_t *read_golden(const char *model, const char *file, size_t *size) {
    char rel[512];
    snprintf(rel, sizeof rel, "golden/tflm-reference/%s/%s", model, file);
    return nml_test_read(nml_test_shared(rel), size);
}

static void compare(const char *model, const char *file, const nml_tensor *out, const uint8_t *want,
                    size_t want_size) {
    if (want_size != out->bytes)
        fail_msg("%s %s: golden has %zu bytes, output %u", model, file, want_size,
                 (unsigned)out->bytes);
    if (out->type != NML_FLOAT32) {
        if (memcmp(out->data, want, want_size) != 0) {
            size_t i = 0;
            while (((const uint8_t *)out->data)[i] == want[i])
                i++;
            fail_msg("%s %s: byte %zu is %u, TFLM has %u", model, file, i,
                     ((const uint8_t *)out->data)[i], want[i]);
        }
        return;
    }
    for (size_t i = 0; i < want_size / 4; i++) {
        float a, b;
        memcpy(&a, (const uint8_t *)out->data + 4 * i, 4);
        memcpy(&b, want + 4 * i, 4);
        if (!(fabsf(a - b) <= 1e-5f))
            fail_msg("%s %s: element %zu is %.9g, TFLM has %.9g", model, file, i, a, b);
    }
}

/* Runs every out_SUFFIX.bin of the model's golden folder with in_SUFFIX.bin (one input) or
 * in0_SUFFIX.bin, in1_SUFFIX.bin, ... (several inputs). */
static void run_goldens(const char *model) {
    session s;
    if (!open_session(&s, model)) skip();
    char rel[256];
    snprintf(rel, sizeof rel, "golden/tflm-reference/%s", model);
    DIR *dir = opendir(nml_test_shared(rel));
    assert_non_null(dir);
    int cases = 0;
    struct dirent *e;
    nml_error err;
    while ((e = readdir(dir)) != NULL) {
        if (strncmp(e->d_name, "out_", 4) != 0) continue;
        const char *suffix = e->d_name + 4;
        for (uint32_t k = 0; k < nml_input_count(&s.it); k++) {
            char name[300];
            if (nml_input_count(&s.it) == 1)
                snprintf(name, sizeof name, "in_%s", suffix);
            else
                snprintf(name, sizeof name, "in%u_%s", (unsigned)k, suffix);
            size_t size;
            uint8_t *in = read_golden(model, name, &size);
            nml_tensor *t = nml_input(&s.it, k);
            if (size != t->bytes)
                fail_msg("%s %s: %zu bytes for a %u-byte input", model, name, size,
                         (unsigned)t->bytes);
            memcpy(t->data, in, size);
            free(in);
        }
        if (nml_invoke(&s.it, &err) != NML_OK) fail_msg("%s %s: %s", model, suffix, err.msg);
        check_guards(&s, suffix);
        size_t size;
        uint8_t *want = read_golden(model, e->d_name, &size);
        compare(model, e->d_name, nml_output(&s.it, 0), want, size);
        free(want);
        cases++;
    }
    closedir(dir);
    assert_true(cases > 0);
    print_message("%s: %d golden cases match TFLM\n", model, cases);
    close_session(&s);
}

static void hello_world_float(void **state) {
    (void)state;
    run_goldens("hello_world_float");
}
static void hello_world_int8(void **state) {
    (void)state;
    run_goldens("hello_world_int8");
}
static void micro_speech(void **state) {
    (void)state;
    run_goldens("micro_speech_quantized");
}
static void person_detect(void **state) {
    (void)state;
    run_goldens("person_detect");
}
static void simple_add(void **state) {
    (void)state;
    run_goldens("simple_add_model");
}

/* hello_world approximates sin(x) on [0, 2pi]. Its accuracy, measured on TFLM's own golden
 * outputs: at most 0.042 from sin(x) for the float model (64 inputs) and 0.118 for the int8
 * model (all 256 inputs, dequantized). The bounds below leave room for points between the
 * float goldens (the network is piecewise linear). */
static void hello_world_follows_sine(void **state) {
    (void)state;
    session s;
    nml_error err;
    if (!open_session(&s, "hello_world_float")) skip();
    for (int i = 0; i <= 200; i++) {
        float x = (float)(TWO_PI * i / 200), y;
        memcpy(nml_input(&s.it, 0)->data, &x, 4);
        assert_int_equal(nml_invoke(&s.it, &err), NML_OK);
        memcpy(&y, nml_output(&s.it, 0)->data, 4);
        if (fabs(y - sin(x)) > 0.1) fail_msg("float: x %.4f gives %.4f, sin %.4f", x, y, sin(x));
    }
    close_session(&s);

    if (!open_session(&s, "hello_world_int8")) skip();
    nml_tensor *in = nml_input(&s.it, 0), *out = nml_output(&s.it, 0);
    for (int q = -128; q <= 127; q++) {
        double x = in->scale * (q - in->zero_point);
        if (x > TWO_PI) break;
        *(int8_t *)in->data = (int8_t)q;
        assert_int_equal(nml_invoke(&s.it, &err), NML_OK);
        double y = out->scale * (*(int8_t *)out->data - out->zero_point);
        if (fabs(y - sin(x)) > 0.15) fail_msg("int8: x %.4f gives %.4f, sin %.4f", x, y, sin(x));
    }
    close_session(&s);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(hello_world_float), cmocka_unit_test(hello_world_int8),
        cmocka_unit_test(micro_speech),      cmocka_unit_test(person_detect),
        cmocka_unit_test(simple_add),        cmocka_unit_test(hello_world_follows_sine),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
