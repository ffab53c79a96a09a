/* The bounds-checked flatbuffer primitives: every field kind reads back what the builder wrote
 * (values written out below), absent fields give defaults, and each kind of corruption is an
 * NML_E_FORMAT error with a message instead of an out-of-bounds read. */
#include <stdlib.h>
#include <string.h>

#include "fb.h"
#include "nanoml/types.h"
#include "test_util.h"
#include "tfl_builder.h"

typedef struct sample {
    uint8_t *data;
    size_t size;
} sample;

/* Root table fields: 0 u8 200, 1 i8 -5, 2 i32 -123456, 3 u32 4000000000, 4 u64 2^40 + 7,
 * 5 f32 1.5, 6 string "hello", 7 [int] {1, -2, 3}, 8 table {0: i32 42}, 9/10 union type 3
 * -> table {0: i32 42}, 11 absent, 12 [long] {-1, 2^33}. */
static sample build_sample(const char *ident) {
    fbb b;
    fbb_init(&b);
    int64_t longs[2] = {-1, (int64_t)1 << 33};
    uint32_t lv = fbb_vector(&b, longs, 2, 8, 0);
    int32_t ints[3] = {1, -2, 3};
    uint32_t iv = fbb_vector(&b, ints, 3, 4, 0);
    uint32_t str = fbb_string(&b, "hello");
    fbb_field inner_f[1] = {{0, 4, 0, 42}};
    uint32_t inner = fbb_table(&b, inner_f, 1);
    uint32_t f15 = 0x3fc00000u; /* 1.5f */
    fbb_field f[] = {
        {0, 1, 0, 200},
        {1, 1, 0, (uint8_t)-5},
        {2, 4, 0, (uint32_t)-123456},
        {3, 4, 0, 4000000000u},
        {4, 8, 0, ((uint64_t)1 << 40) + 7},
        {5, 4, 0, f15},
        {6, 4, 1, str},
        {7, 4, 1, iv},
        {8, 4, 1, inner},
        {9, 1, 0, 3},
        {10, 4, 1, inner},
        {12, 4, 1, lv},
    };
    uint32_t root = fbb_table(&b, f, (int)(sizeof f / sizeof f[0]));
    sample s;
    s.data = fbb_finish(&b, root, ident, &s.size);
    fbb_free(&b);
    return s;
}

static void reads_every_field_kind(void **state) {
    (void)state;
    sample s = build_sample("TEST");
    nml_fb fb;
    nml_fb_table root, inner, uval;
    nml_error err;
    assert_int_equal(nml_fb_init(&fb, s.data, s.size, &err), NML_OK);
    assert_int_equal(nml_fb_root(&fb, "TEST", &root, &err), NML_OK);
    uint8_t u8;
    int8_t i8;
    int32_t i32;
    uint32_t u32;
    uint64_t u64;
    float f32;
    assert_int_equal(nml_fb_u8(&fb, &root, 0, 0, &u8, &err), NML_OK);
    assert_int_equal(u8, 200);
    assert_int_equal(nml_fb_i8(&fb, &root, 1, 0, &i8, &err), NML_OK);
    assert_int_equal(i8, -5);
    assert_int_equal(nml_fb_i32(&fb, &root, 2, 0, &i32, &err), NML_OK);
    assert_int_equal(i32, -123456);
    assert_int_equal(nml_fb_u32(&fb, &root, 3, 0, &u32, &err), NML_OK);
    assert_true(u32 == 4000000000u);
    assert_int_equal(nml_fb_u64(&fb, &root, 4, 0, &u64, &err), NML_OK);
    assert_true(u64 == ((uint64_t)1 << 40) + 7);
    assert_int_equal(nml_fb_f32(&fb, &root, 5, 0, &f32, &err), NML_OK);
    assert_true(f32 == 1.5f);

    const char *str;
    uint32_t len;
    assert_int_equal(nml_fb_str_field(&fb, &root, 6, &str, &len, &err), NML_OK);
    assert_int_equal(len, 5);
    assert_string_equal(str, "hello");

    nml_fb_vec v;
    assert_int_equal(nml_fb_vec_field(&fb, &root, 7, 4, &v, &err), NML_OK);
    assert_int_equal(v.len, 3);
    assert_int_equal(nml_fb_vec_i32(&fb, v, 0), 1);
    assert_int_equal(nml_fb_vec_i32(&fb, v, 1), -2);
    assert_int_equal(nml_fb_vec_i32(&fb, v, 2), 3);
    assert_int_equal(nml_fb_vec_i32(&fb, v, 3), 0); /* out of range reads give 0 */
    assert_int_equal(nml_fb_vec_field(&fb, &root, 12, 8, &v, &err), NML_OK);
    assert_true(nml_fb_vec_i64(&fb, v, 0) == -1);
    assert_true(nml_fb_vec_i64(&fb, v, 1) == (int64_t)1 << 33);

    int present;
    assert_int_equal(nml_fb_table_field(&fb, &root, 8, &inner, &present, &err), NML_OK);
    assert_int_equal(present, 1);
    assert_int_equal(nml_fb_i32(&fb, &inner, 0, 0, &i32, &err), NML_OK);
    assert_int_equal(i32, 42);

    assert_int_equal(nml_fb_union_field(&fb, &root, 9, &u8, &uval, &err), NML_OK);
    assert_int_equal(u8, 3);
    assert_int_equal(nml_fb_i32(&fb, &uval, 0, 0, &i32, &err), NML_OK);
    assert_int_equal(i32, 42);

    /* absent fields: defaults, empty vectors, NULL strings, absent tables */
    assert_int_equal(nml_fb_has(&fb, &root, 11), 0);
    assert_int_equal(nml_fb_i32(&fb, &root, 11, 77, &i32, &err), NML_OK);
    assert_int_equal(i32, 77);
    assert_int_equal(nml_fb_f32(&fb, &root, 40, 2.5f, &f32, &err), NML_OK);
    assert_true(f32 == 2.5f);
    assert_int_equal(nml_fb_vec_field(&fb, &root, 11, 4, &v, &err), NML_OK);
    assert_int_equal(v.len, 0);
    assert_int_equal(nml_fb_str_field(&fb, &root, 11, &str, &len, &err), NML_OK);
    assert_null(str);
    assert_int_equal(nml_fb_table_field(&fb, &root, 11, &inner, &present, &err), NML_OK);
    assert_int_equal(present, 0);
    assert_int_equal(nml_fb_i32(&fb, &inner, 0, -9, &i32, &err), NML_OK);
    assert_int_equal(i32, -9);
    free(s.data);
}

/* Expects a FORMAT (or given) error with a non-empty message. */
static void expect_fail(nml_status st, nml_status want, const nml_error *err) {
    assert_int_equal(st, want);
    assert_true(err->msg[0] != '\0');
}

static uint32_t field_position(const nml_fb *fb, const nml_fb_table *t, unsigned id) {
    return t->pos + nml_fb_load_u16(fb->data + t->vtable + 4 + 2 * id);
}

static void put32(uint8_t *p, uint32_t v) {
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void rejects_bad_roots(void **state) {
    (void)state;
    sample s = build_sample("TEST");
    nml_fb fb;
    nml_fb_table root;
    nml_error err;
    nml_fb_init(&fb, s.data, s.size, &err);
    expect_fail(nml_fb_root(&fb, "TFL3", &root, &err), NML_E_FORMAT, &err);
    assert_non_null(strstr(err.msg, "identifier is 'TEST'"));

    nml_fb_init(&fb, s.data, 7, &err);
    expect_fail(nml_fb_root(&fb, NULL, &root, &err), NML_E_FORMAT, &err);

    uint8_t *copy = malloc(s.size);
    memcpy(copy, s.data, s.size);
    nml_fb_init(&fb, copy, s.size, &err);
    put32(copy, (uint32_t)s.size); /* root past the end */
    expect_fail(nml_fb_root(&fb, NULL, &root, &err), NML_E_FORMAT, &err);
    put32(copy, 0); /* zero offset */
    expect_fail(nml_fb_root(&fb, NULL, &root, &err), NML_E_FORMAT, &err);
    put32(copy, 0x80000000u); /* negative as signed */
    expect_fail(nml_fb_root(&fb, NULL, &root, &err), NML_E_FORMAT, &err);
    memcpy(copy, s.data, 4);
    put32(copy, nml_fb_load_u32(copy) + 2); /* misaligned table */
    expect_fail(nml_fb_root(&fb, NULL, &root, &err), NML_E_FORMAT, &err);
    free(copy);

    assert_int_equal(nml_fb_init(&fb, s.data, (size_t)NML_MAX_MODEL_BYTES + 1, &err), NML_E_LIMIT);
    /* the reader loads aligned fields with single loads: data off a 16-byte boundary is refused */
    assert_int_equal((uintptr_t)s.data % 16, 0);
    expect_fail(nml_fb_init(&fb, s.data + 4, s.size - 4, &err), NML_E_ARG, &err);
    assert_non_null(strstr(err.msg, "not 16-byte aligned"));
    free(s.data);
}

static void rejects_bad_tables(void **state) {
    (void)state;
    sample s = build_sample("TEST");
    uint8_t *copy = malloc(s.size);
    nml_fb fb;
    nml_fb_table root, t;
    nml_error err;
    int32_t i32;
    nml_fb_init(&fb, copy, s.size, &err);

    memcpy(copy, s.data, s.size);
    nml_fb_root(&fb, NULL, &root, &err);
    put32(copy + root.pos, 0x7ffffff0u); /* vtable far before the start */
    expect_fail(nml_fb_table_at(&fb, root.pos, &t, &err), NML_E_FORMAT, &err);
    put32(copy + root.pos, (uint32_t) - (int32_t)s.size); /* vtable past the end */
    expect_fail(nml_fb_table_at(&fb, root.pos, &t, &err), NML_E_FORMAT, &err);

    memcpy(copy, s.data, s.size);
    nml_fb_root(&fb, NULL, &root, &err);
    copy[root.vtable] = 3; /* odd vtable size */
    expect_fail(nml_fb_table_at(&fb, root.pos, &t, &err), NML_E_FORMAT, &err);
    copy[root.vtable] = 0xfe; /* vtable of 65534 bytes runs past the end */
    copy[root.vtable + 1] = 0xff;
    expect_fail(nml_fb_table_at(&fb, root.pos, &t, &err), NML_E_FORMAT, &err);

    memcpy(copy, s.data, s.size);
    nml_fb_root(&fb, NULL, &root, &err);
    copy[root.vtable + 2] = 0xff; /* table size runs past the end */
    copy[root.vtable + 3] = 0xff;
    expect_fail(nml_fb_table_at(&fb, root.pos, &t, &err), NML_E_FORMAT, &err);

    memcpy(copy, s.data, s.size);
    nml_fb_root(&fb, NULL, &root, &err);
    copy[root.vtable + 4 + 2 * 2] = (uint8_t)(root.size); /* field 2 outside the table */
    copy[root.vtable + 4 + 2 * 2 + 1] = 0;
    expect_fail(nml_fb_i32(&fb, &root, 2, 0, &i32, &err), NML_E_FORMAT, &err);
    copy[root.vtable + 4 + 2 * 2] = 2; /* field 2 overlapping the soffset, misaligned */
    expect_fail(nml_fb_i32(&fb, &root, 2, 0, &i32, &err), NML_E_FORMAT, &err);
    free(copy);
    free(s.data);
}

static void rejects_bad_vectors_strings_unions(void **state) {
    (void)state;
    sample s = build_sample("TEST");
    uint8_t *copy = malloc(s.size);
    nml_fb fb;
    nml_fb_table root, t;
    nml_fb_vec v;
    nml_error err;
    const char *str;
    uint32_t len;
    uint8_t type;
    nml_fb_init(&fb, copy, s.size, &err);

    memcpy(copy, s.data, s.size);
    nml_fb_root(&fb, NULL, &root, &err);
    nml_fb_vec_field(&fb, &root, 7, 4, &v, &err);
    uint32_t len_at = v.pos - 4;
    put32(copy + len_at, 0x40000000u); /* 2^30 ints = 2^32 bytes: must not wrap around */
    expect_fail(nml_fb_vec_field(&fb, &root, 7, 4, &v, &err), NML_E_FORMAT, &err);
    put32(copy + len_at, 0xffffffffu);
    expect_fail(nml_fb_vec_field(&fb, &root, 7, 8, &v, &err), NML_E_FORMAT, &err);

    memcpy(copy, s.data, s.size);
    nml_fb_vec_field(&fb, &root, 6, 1, &v, &err);
    copy[v.pos + v.len] = 'x'; /* string without its NUL */
    expect_fail(nml_fb_str_field(&fb, &root, 6, &str, &len, &err), NML_E_FORMAT, &err);

    memcpy(copy, s.data, s.size);
    uint32_t p = field_position(&fb, &root, 7);
    put32(copy + p, nml_fb_load_u32(copy + p) + 1); /* vector offset off by one: misaligned */
    expect_fail(nml_fb_vec_field(&fb, &root, 7, 4, &v, &err), NML_E_FORMAT, &err);

    memcpy(copy, s.data, s.size);
    p = field_position(&fb, &root, 12);
    put32(copy + p, nml_fb_load_u32(copy + p) + 4); /* int64 elements at 4 mod 8 */
    expect_fail(nml_fb_vec_field(&fb, &root, 12, 8, &v, &err), NML_E_FORMAT, &err);

    memcpy(copy, s.data, s.size);
    copy[root.vtable + 4 + 2 * 10] = 0; /* union value absent, type 3 present */
    copy[root.vtable + 4 + 2 * 10 + 1] = 0;
    expect_fail(nml_fb_union_field(&fb, &root, 9, &type, &t, &err), NML_E_FORMAT, &err);
    assert_non_null(strstr(err.msg, "union"));
    free(copy);
    free(s.data);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(reads_every_field_kind),
        cmocka_unit_test(rejects_bad_roots),
        cmocka_unit_test(rejects_bad_tables),
        cmocka_unit_test(rejects_bad_vectors_strings_unions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
