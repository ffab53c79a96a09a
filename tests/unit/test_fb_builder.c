/* The flatbuffer builder against byte layouts worked out by hand from the FlatBuffers binary
 * format: uoffset_t root at byte 0 (target = its own position + value), optional 4-byte file
 * identifier at byte 4, a table starts with an int32 soffset (vtable = table - soffset), a
 * vtable is [vtable bytes, table bytes, field offsets...] as uint16, vectors/strings are a
 * uint32 length then the elements (strings NUL-terminated), everything aligned to its size.
 * Each expected buffer below is derived in the comment next to it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_util.h"
#include "tflite/fb_builder.h"

static void expect_bytes(const uint8_t *got, size_t got_n, const uint8_t *want, size_t want_n) {
    assert_int_equal(got_n, want_n);
    for (size_t i = 0; i < want_n; i++) {
        if (got[i] != want[i]) fail_msg("byte %zu: got 0x%02x, want 0x%02x", i, got[i], want[i]);
    }
}

static void finish_ok(nml_fbb *b, nml_fbb_ref root, const char *ident, uint8_t **out, size_t *n) {
    nml_error err;
    nml_status st = nml_fbb_finish(b, root, ident, out, n, &err);
    if (st != NML_OK) fail_msg("finish: %s", err.msg);
    assert_true(((uintptr_t)*out & 15) == 0);
}

/* table { a:int } with a = 7.
 * Built back to front: field 7 (4 bytes), soffset (4), vtable [6, 8, 4] (6 bytes) = 14 bytes;
 * the root offset needs 4 more and the size must stay a multiple of 4, so 2 bytes of padding:
 *   0: root = 12          4: pad pad            6: vtable 06 00 08 00 04 00
 *  12: soffset = 6 (vtable at 12 - 6 = 6)       16: a = 7 (table + 4) */
static void test_single_int_field(void **state) {
    (void)state;
    nml_fbb b;
    nml_fbb_init(&b);
    nml_fbb_start_table(&b);
    nml_fbb_add_i32(&b, 0, 7, 0);
    nml_fbb_ref t = nml_fbb_end_table(&b);
    uint8_t *out;
    size_t n;
    finish_ok(&b, t, NULL, &out, &n);
    const uint8_t want[] = {0x0c, 0, 0, 0, 0, 0, 6, 0, 8, 0, 4, 0, 6, 0, 0, 0, 7, 0, 0, 0};
    expect_bytes(out, n, want, sizeof want);
    free(out);
    nml_fbb_free(&b);
}

/* Field 0 equal to its default is omitted: vtable [8, 8, 0, 4]; field 1 = 5.
 *   0: root = 12   4: vtable 08 00 08 00 00 00 04 00   12: soffset 8   16: 5 */
static void test_default_omitted(void **state) {
    (void)state;
    nml_fbb b;
    nml_fbb_init(&b);
    nml_fbb_start_table(&b);
    nml_fbb_add_i32(&b, 0, 0, 0);
    nml_fbb_add_i32(&b, 1, 5, 0);
    nml_fbb_ref t = nml_fbb_end_table(&b);
    uint8_t *out;
    size_t n;
    finish_ok(&b, t, NULL, &out, &n);
    const uint8_t want[] = {12, 0, 0, 0, 8, 0, 8, 0, 0, 0, 4, 0, 8, 0, 0, 0, 5, 0, 0, 0};
    expect_bytes(out, n, want, sizeof want);
    free(out);
    nml_fbb_free(&b);
}

/* u8 field 0 = 1, i64 field 1 = 0x0102030405060708: the i64 needs 8-byte alignment, so 7 bytes
 * of padding separate it from the byte pushed before it; the finished size becomes a multiple
 * of 8. Back to front: u8 (size 1), pad 7 (8), i64 (16), soffset (20), vtable 8 bytes (28),
 * root (32). Addresses are 32 - position:
 *   0: root = 12        4: vtable 08 00 14 00 13 00 04 00   (table 20 bytes; u8 at +19, i64 +4)
 *  12: soffset = 8     16: i64 LE          24: 7 x pad      31: u8 = 1 */
static void test_alignment_of_wide_scalars(void **state) {
    (void)state;
    nml_fbb b;
    nml_fbb_init(&b);
    nml_fbb_start_table(&b);
    nml_fbb_add_u8(&b, 0, 1, 0);
    nml_fbb_add_i64(&b, 1, 0x0102030405060708LL, 0);
    nml_fbb_ref t = nml_fbb_end_table(&b);
    uint8_t *out;
    size_t n;
    finish_ok(&b, t, NULL, &out, &n);
    const uint8_t want[] = {12, 0, 0, 0, 8, 0, 20, 0, 19, 0, 4, 0, 8, 0, 0, 0,
                            8,  7, 6, 5, 4, 3, 2,  1, 0,  0, 0, 0, 0, 0, 0, 1};
    expect_bytes(out, n, want, sizeof want);
    free(out);
    nml_fbb_free(&b);
}

/* A string "hi", a ubyte vector {1,2,3} with force_align 16, and a table {0: string, 1: vector,
 * 2: ubyte 9}, finished with identifier "TEST". Positions (bytes from the end):
 *   string: pad 1 -> "hi\0" (4) -> length (8)                         ref 8
 *   vector: pad 1 (length alignment) + pad 4 (16-byte element alignment) -> {1,2,3} (16)
 *           -> length (20)                                            ref 20
 *   table:  field 0 offset (24, value 24 - 8 = 16), field 1 (28, value 28 - 20 = 8),
 *           u8 (29), pad 3 (32), soffset (36)                         ref 36, 16 bytes
 *   vtable: [10, 16, 12, 8, 7] (46), soffset = 46 - 36 = 10
 *   finish: the largest alignment is 16, so pad 10 (56), "TEST" (60), root (64) = 64 - 36 = 28.
 * The elements {1,2,3} land at address 64 - 16 = 48, a multiple of 16. */
static void test_string_vector_identifier(void **state) {
    (void)state;
    nml_fbb b;
    nml_fbb_init(&b);
    nml_fbb_ref s = nml_fbb_string(&b, "hi");
    const uint8_t elems[] = {1, 2, 3};
    nml_fbb_ref v = nml_fbb_vector_u8(&b, elems, 3, 16);
    nml_fbb_start_table(&b);
    nml_fbb_add_ref(&b, 0, s);
    nml_fbb_add_ref(&b, 1, v);
    nml_fbb_add_u8(&b, 2, 9, 0);
    nml_fbb_ref t = nml_fbb_end_table(&b);
    uint8_t *out;
    size_t n;
    finish_ok(&b, t, "TEST", &out, &n);
    const uint8_t want[] = {28, 0, 0,  0, 'T', 'E', 'S', 'T', 0,  0, 0, 0, 0,   0,   0, 0,
                            0,  0, 10, 0, 16,  0,   12,  0,   8,  0, 7, 0, 10,  0,   0, 0,
                            0,  0, 0,  9, 8,   0,   0,   0,   16, 0, 0, 0, 3,   0,   0, 0,
                            1,  2, 3,  0, 0,   0,   0,   0,   2,  0, 0, 0, 'h', 'i', 0, 0};
    expect_bytes(out, n, want, sizeof want);
    free(out);
    nml_fbb_free(&b);
}

/* Two tables with the same layout share one vtable; the second refers back to it with a
 * negative soffset. Root is a vector of both tables.
 *   A: fields 1, 2 (8) soffset (12) vtable [8, 12, 8, 4] (20); soffset A = 20 - 12 = 8
 *   B: fields 3, 4 (28) soffset (32), same vtable: soffset B = 20 - 32 = -12
 *   vector: B's offset (36, value 36 - 32 = 4), A's (40, value 40 - 12 = 28), length (44)
 *   root (48) = 48 - 44 = 4. Addresses = 48 - position. */
static void test_vtable_sharing(void **state) {
    (void)state;
    nml_fbb b;
    nml_fbb_init(&b);
    nml_fbb_start_table(&b);
    nml_fbb_add_i32(&b, 0, 1, 0);
    nml_fbb_add_i32(&b, 1, 2, 0);
    nml_fbb_ref a = nml_fbb_end_table(&b);
    nml_fbb_start_table(&b);
    nml_fbb_add_i32(&b, 0, 3, 0);
    nml_fbb_add_i32(&b, 1, 4, 0);
    nml_fbb_ref c = nml_fbb_end_table(&b);
    nml_fbb_ref refs[2] = {a, c};
    nml_fbb_ref v = nml_fbb_vector_refs(&b, refs, 2);
    uint8_t *out;
    size_t n;
    finish_ok(&b, v, NULL, &out, &n);
    const uint8_t want[] = {4,    0,    0,    0,    2, 0, 0, 0, 28, 0, 0, 0, 4, 0, 0,  0,
                            0xf4, 0xff, 0xff, 0xff, 4, 0, 0, 0, 3,  0, 0, 0, 8, 0, 12, 0,
                            8,    0,    4,    0,    8, 0, 0, 0, 2,  0, 0, 0, 1, 0, 0,  0};
    expect_bytes(out, n, want, sizeof want);
    free(out);
    nml_fbb_free(&b);

    /* without sharing, B gets its own vtable: 8 bytes more */
    nml_fbb_init(&b);
    b.dedup_vtables = 0;
    nml_fbb_start_table(&b);
    nml_fbb_add_i32(&b, 0, 1, 0);
    nml_fbb_add_i32(&b, 1, 2, 0);
    a = nml_fbb_end_table(&b);
    nml_fbb_start_table(&b);
    nml_fbb_add_i32(&b, 0, 3, 0);
    nml_fbb_add_i32(&b, 1, 4, 0);
    c = nml_fbb_end_table(&b);
    refs[0] = a;
    refs[1] = c;
    v = nml_fbb_vector_refs(&b, refs, 2);
    finish_ok(&b, v, NULL, &out, &n);
    assert_int_equal(n, sizeof want + 8);
    free(out);
    nml_fbb_free(&b);
}

/* Follows table field `field` (a uoffset) of the table at `table` in a finished buffer. */
static size_t follow_field(const uint8_t *buf, size_t table, int field) {
    int32_t soff;
    memcpy(&soff, buf + table, 4);
    size_t vt = (size_t)((int64_t)table - soff);
    uint16_t at;
    memcpy(&at, buf + vt + 4 + 2 * field, 2);
    assert_true(at != 0);
    uint32_t rel;
    memcpy(&rel, buf + table + at, 4);
    return table + at + rel;
}

/* Shared vectors: a second vector with the same elements is the first one (both tables'
 * offsets land on one position); other elements, another element size with the same bytes, or
 * a larger alignment than the earlier vector had get their own copy. Root: a vector of five
 * tables, each with one vector field 0. */
static void test_vector_sharing(void **state) {
    (void)state;
    const int32_t v123[3] = {1, 2, 3}, v124[3] = {1, 2, 4}, zeros32[4] = {0, 0, 0, 0};
    const int64_t zeros64[2] = {0, 0};
    nml_fbb b;
    nml_fbb_init(&b);
    nml_fbb_ref vec[6] = {
        nml_fbb_vector_shared(&b, v123, 3, 4, 0),    nml_fbb_vector_shared(&b, v124, 3, 4, 0),
        nml_fbb_vector_shared(&b, v123, 3, 4, 0),    nml_fbb_vector_shared(&b, zeros64, 2, 8, 0),
        nml_fbb_vector_shared(&b, zeros32, 4, 4, 0), nml_fbb_vector_shared(&b, v123, 3, 4, 64)};
    assert_int_equal(vec[2], vec[0]);
    assert_true(vec[1] != vec[0] && vec[4] != vec[3] && vec[5] != vec[0]);
    nml_fbb_ref tables[6];
    for (int i = 0; i < 6; i++) {
        nml_fbb_start_table(&b);
        nml_fbb_add_ref(&b, 0, vec[i]);
        tables[i] = nml_fbb_end_table(&b);
    }
    nml_fbb_ref root = nml_fbb_vector_refs(&b, tables, 6);
    uint8_t *out;
    size_t n;
    finish_ok(&b, root, NULL, &out, &n);
    uint32_t r;
    memcpy(&r, out, 4);
    size_t pos[6];
    for (int i = 0; i < 6; i++) {
        uint32_t rel;
        memcpy(&rel, out + r + 4 + 4 * (size_t)i, 4);
        pos[i] = follow_field(out, r + 4 + 4 * (size_t)i + rel, 0);
    }
    assert_int_equal(pos[0], pos[2]);
    const int32_t *want[3] = {v123, v124, v123};
    for (int i = 0; i < 3; i++) {
        uint32_t len;
        int32_t e[3];
        memcpy(&len, out + pos[i], 4);
        memcpy(e, out + pos[i] + 4, sizeof e);
        assert_int_equal(len, 3);
        assert_memory_equal(e, want[i], sizeof e);
    }
    assert_int_equal((pos[5] + 4) % 64, 0); /* its own, 64-byte aligned copy */
    free(out);
    nml_fbb_free(&b);
}

/* Empty table: vtable [4, 4], no fields. int32 and float vectors are little-endian, floats are
 * compared bitwise with their default (so -0.0 is written when the default is 0.0), booleans
 * are one byte, and a union writes its type at field k and the value offset at k + 1. */
static void test_vectors_floats_unions(void **state) {
    (void)state;
    nml_fbb b;
    nml_fbb_init(&b);
    nml_fbb_start_table(&b);
    nml_fbb_ref empty = nml_fbb_end_table(&b);
    const int32_t iv[2] = {-2, 0x01020304};
    nml_fbb_ref ivec = nml_fbb_vector_i32(&b, iv, 2);
    nml_fbb_start_table(&b);
    nml_fbb_add_f32(&b, 0, -0.0f, 0.0f);
    nml_fbb_add_f32(&b, 1, 1.0f, 1.0f); /* equals default: absent */
    nml_fbb_add_bool(&b, 2, 1, 0);
    nml_fbb_add_union(&b, 3, 7, empty);
    nml_fbb_add_ref(&b, 5, ivec);
    nml_fbb_ref t = nml_fbb_end_table(&b);
    uint8_t *out;
    size_t n;
    finish_ok(&b, t, NULL, &out, &n);

    /* walk it by the format rules */
    uint32_t root;
    memcpy(&root, out, 4);
    int32_t soff;
    memcpy(&soff, out + root, 4);
    const uint8_t *vt = out + root - soff;
    uint16_t vt_bytes = (uint16_t)(vt[0] | vt[1] << 8);
    assert_int_equal(vt_bytes, 4 + 2 * 6); /* fields 0..5 */
    uint16_t off[6];
    for (int i = 0; i < 6; i++)
        off[i] = (uint16_t)(vt[4 + 2 * i] | vt[5 + 2 * i] << 8);
    assert_int_not_equal(off[0], 0);
    assert_int_equal(off[1], 0);
    const uint8_t negzero[4] = {0, 0, 0, 0x80};
    assert_memory_equal(out + root + off[0], negzero, 4);
    assert_int_equal(out[root + off[2]], 1);
    assert_int_equal(out[root + off[3]], 7);
    uint32_t rel;
    memcpy(&rel, out + root + off[4], 4);
    size_t union_table = root + off[4] + rel;
    memcpy(&soff, out + union_table, 4);
    const uint8_t *uvt = out + union_table - soff;
    assert_int_equal(uvt[0], 4); /* empty vtable: 4 bytes, table of 4 bytes (only soffset) */
    assert_int_equal(uvt[2], 4);
    memcpy(&rel, out + root + off[5], 4);
    size_t vec = root + off[5] + rel;
    const uint8_t want_vec[] = {2, 0, 0, 0, 0xfe, 0xff, 0xff, 0xff, 4, 3, 2, 1};
    assert_memory_equal(out + vec, want_vec, sizeof want_vec);
    assert_int_equal(vec % 4, 0);
    free(out);
    nml_fbb_free(&b);
}

static void expect_finish_error(nml_fbb *b, nml_fbb_ref root, nml_status want,
                                const char *msg_part) {
    uint8_t *out = (uint8_t *)1;
    size_t n = 1;
    nml_error err;
    assert_int_equal(nml_fbb_finish(b, root, NULL, &out, &n, &err), want);
    assert_null(out);
    assert_int_equal(n, 0);
    if (!strstr(err.msg, msg_part)) fail_msg("message '%s' lacks '%s'", err.msg, msg_part);
}

static void test_misuse_is_reported(void **state) {
    (void)state;
    nml_fbb b;

    nml_fbb_init(&b); /* a vector inside an open table */
    nml_fbb_start_table(&b);
    const int32_t v[1] = {1};
    assert_int_equal(nml_fbb_vector_i32(&b, v, 1), 0);
    expect_finish_error(&b, 4, NML_E_INTERNAL, "table is open");
    nml_fbb_free(&b);

    nml_fbb_init(&b); /* nested table */
    nml_fbb_start_table(&b);
    nml_fbb_start_table(&b);
    expect_finish_error(&b, 4, NML_E_INTERNAL, "inside an open table");
    nml_fbb_free(&b);

    nml_fbb_init(&b); /* field id out of range, then the first error is kept */
    nml_fbb_start_table(&b);
    nml_fbb_add_i32(&b, NML_FBB_MAX_FIELDS, 1, 0);
    nml_fbb_add_i32(&b, 0, 1, 0);
    nml_fbb_add_i32(&b, 0, 2, 0);
    expect_finish_error(&b, 4, NML_E_INTERNAL, "field id 64");
    nml_fbb_free(&b);

    nml_fbb_init(&b); /* the same field twice */
    nml_fbb_start_table(&b);
    nml_fbb_add_i32(&b, 2, 1, 0);
    nml_fbb_add_i32(&b, 2, 2, 0);
    expect_finish_error(&b, 4, NML_E_INTERNAL, "field 2 added twice");
    nml_fbb_free(&b);

    nml_fbb_init(&b); /* a root that was never built */
    expect_finish_error(&b, 40, NML_E_INTERNAL, "root");
    nml_fbb_free(&b);

    nml_fbb_init(&b); /* union with a type but no value */
    nml_fbb_start_table(&b);
    nml_fbb_add_union(&b, 3, 2, 0);
    expect_finish_error(&b, 4, NML_E_INTERNAL, "no value");
    nml_fbb_free(&b);

    nml_fbb_init(&b); /* size limit */
    b.limit = 64;
    uint8_t big[100] = {0};
    assert_int_equal(nml_fbb_vector_u8(&b, big, sizeof big, 0), 0);
    expect_finish_error(&b, 4, NML_E_LIMIT, "64 bytes");
    nml_fbb_free(&b);
}

/* Growth: many objects force several reallocations; every string must still be intact and
 * reachable through the vector of offsets. */
static void test_growth(void **state) {
    (void)state;
    enum { N = 3000 };
    nml_fbb b;
    nml_fbb_init(&b);
    nml_fbb_ref *refs = malloc(N * sizeof *refs);
    char name[32];
    for (int i = 0; i < N; i++) {
        snprintf(name, sizeof name, "tensor_%d", i);
        refs[i] = nml_fbb_string(&b, name);
    }
    nml_fbb_ref v = nml_fbb_vector_refs(&b, refs, N);
    uint8_t *out;
    size_t n;
    finish_ok(&b, v, NULL, &out, &n);
    uint32_t root, len;
    memcpy(&root, out, 4);
    memcpy(&len, out + root, 4);
    assert_int_equal(len, N);
    for (int i = 0; i < N; i += 997) {
        uint32_t rel, slen;
        size_t at = root + 4 + 4 * (size_t)i;
        memcpy(&rel, out + at, 4);
        memcpy(&slen, out + at + rel, 4);
        snprintf(name, sizeof name, "tensor_%d", i);
        assert_int_equal(slen, strlen(name));
        assert_string_equal((const char *)out + at + rel + 4, name);
    }
    free(out);
    free(refs);
    nml_fbb_free(&b);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_single_int_field),
        cmocka_unit_test(test_default_omitted),
        cmocka_unit_test(test_alignment_of_wide_scalars),
        cmocka_unit_test(test_string_vector_identifier),
        cmocka_unit_test(test_vtable_sharing),
        cmocka_unit_test(test_vector_sharing),
        cmocka_unit_test(test_vectors_floats_unions),
        cmocka_unit_test(test_misuse_is_reported),
        cmocka_unit_test(test_growth),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
