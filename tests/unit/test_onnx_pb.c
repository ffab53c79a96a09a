/* The protobuf wire-format reader on hand-encoded bytes (encodings worked out by hand from the
 * protobuf encoding spec: varint = 7 bits per byte, least significant first, top bit =
 * continuation; tag = field << 3 | wire type). */
#include <stdlib.h>
#include <string.h>

#include "onnx/pb.h"
#include "test_util.h"

static nml_status varint(const uint8_t *b, size_t n, uint64_t *v, size_t *pos, nml_error *err) {
    *pos = 0;
    return nml_pb_varint(b, n, pos, 0, v, err);
}

static void decodes_varints(void **state) {
    (void)state;
    nml_error err;
    uint64_t v;
    size_t pos;
    const uint8_t zero[] = {0x00}, one[] = {0x01}, v150[] = {0x96, 0x01}, v300[] = {0xac, 0x02};
    assert_int_equal(varint(zero, 1, &v, &pos, &err), NML_OK);
    assert_int_equal(v, 0);
    assert_int_equal(varint(one, 1, &v, &pos, &err), NML_OK);
    assert_int_equal(v, 1);
    assert_int_equal(varint(v150, 2, &v, &pos, &err), NML_OK); /* 0x16 + (1 << 7) = 150 */
    assert_int_equal(v, 150);
    assert_int_equal(pos, 2);
    assert_int_equal(varint(v300, 2, &v, &pos, &err), NML_OK); /* 0x2c + (2 << 7) = 300 */
    assert_int_equal(v, 300);
    /* 2^64 - 1: nine bytes of 7 ones, then bit 63 alone */
    const uint8_t max[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01};
    assert_int_equal(varint(max, 10, &v, &pos, &err), NML_OK);
    assert_true(v == UINT64_MAX);
    /* -1 as int64 is encoded the same way (two's complement, 10 bytes) */
    assert_int_equal((int64_t)v, -1);
    /* a redundant zero continuation is still a valid encoding of 5 */
    const uint8_t padded[] = {0x85, 0x00};
    assert_int_equal(varint(padded, 2, &v, &pos, &err), NML_OK);
    assert_int_equal(v, 5);
}

static void rejects_bad_varints(void **state) {
    (void)state;
    nml_error err;
    uint64_t v;
    size_t pos;
    const uint8_t truncated[] = {0x96};
    assert_int_equal(varint(truncated, 1, &v, &pos, &err), NML_E_FORMAT);
    assert_string_equal(err.msg, "protobuf: truncated varint at byte 0");
    assert_int_equal(varint(truncated, 0, &v, &pos, &err), NML_E_FORMAT);
    const uint8_t eleven[] = {0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01};
    assert_int_equal(varint(eleven, 11, &v, &pos, &err), NML_E_FORMAT);
    assert_non_null(strstr(err.msg, "longer than 10 bytes"));
    /* the 10th byte may only carry bit 63: 0x02 there would be bit 64 */
    const uint8_t overflow[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02};
    assert_int_equal(varint(overflow, 10, &v, &pos, &err), NML_E_FORMAT);
    assert_non_null(strstr(err.msg, "overflows 64 bits"));
    /* the offset in the message is absolute: the reader's base is added */
    size_t p = 1;
    const uint8_t late[] = {0x00, 0x80};
    assert_int_equal(nml_pb_varint(late, 2, &p, 1000, &v, &err), NML_E_FORMAT);
    assert_string_equal(err.msg, "protobuf: truncated varint at byte 1001");
}

static void reads_all_wire_types(void **state) {
    (void)state;
    const uint8_t msg[] = {
        0x08, 0x96, 0x01,                                     /* field 1, varint 150 */
        0x12, 0x03, 'a',  'b',  'c',                          /* field 2, bytes "abc" */
        0x1d, 0x00, 0x00, 0xc0, 0x3f,                         /* field 3, fixed32 1.5f */
        0x21, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, /* field 4, fixed64 */
        0xa0, 0x01, 0x07, /* field 20 (two-byte tag), varint 7 */
    };
    nml_pb_reader r;
    nml_pb_field f;
    int more;
    nml_error err;
    nml_pb_init(&r, msg, sizeof msg);
    assert_int_equal(nml_pb_next(&r, &f, &more, &err), NML_OK);
    assert_true(more && f.number == 1 && f.wire == NML_PB_VARINT && f.value == 150);
    assert_int_equal(nml_pb_next(&r, &f, &more, &err), NML_OK);
    assert_true(more && f.number == 2 && f.wire == NML_PB_LEN && f.len == 3);
    assert_memory_equal(f.data, "abc", 3);
    assert_int_equal(f.offset, 3);
    assert_int_equal(f.data_offset, 5);
    assert_int_equal(nml_pb_next(&r, &f, &more, &err), NML_OK);
    float x;
    assert_int_equal(nml_pb_as_float(&f, "f", &x, &err), NML_OK);
    assert_true(x == 1.5f);
    assert_int_equal(nml_pb_next(&r, &f, &more, &err), NML_OK);
    assert_true(f.number == 4 && f.wire == NML_PB_FIXED64 && f.value == 0x0807060504030201ull);
    assert_int_equal(nml_pb_next(&r, &f, &more, &err), NML_OK);
    assert_true(f.number == 20 && f.value == 7);
    assert_int_equal(nml_pb_next(&r, &f, &more, &err), NML_OK);
    assert_false(more);
    /* type checks name the field */
    int64_t i64;
    nml_pb_init(&r, msg + 3, 5);
    assert_int_equal(nml_pb_next(&r, &f, &more, &err), NML_OK);
    assert_int_equal(nml_pb_as_int64(&f, "count", &i64, &err), NML_E_FORMAT);
    assert_string_equal(err.msg, "count (field 2 at byte 0): expected a varint, got wire type 2");
}

static void rejects_malformed_fields(void **state) {
    (void)state;
    nml_pb_reader r;
    nml_pb_field f;
    int more;
    nml_error err;
    const uint8_t past_end[] = {0x08, 0x01, 0x12, 0x05, 'a', 'b'}; /* says 5 bytes, has 2 */
    nml_pb_init(&r, past_end, sizeof past_end);
    assert_int_equal(nml_pb_next(&r, &f, &more, &err), NML_OK);
    assert_int_equal(nml_pb_next(&r, &f, &more, &err), NML_E_FORMAT);
    assert_string_equal(err.msg,
                        "protobuf: field 2 at byte 2: length 5 runs past the end (2 bytes left)");
    const uint8_t huge_len[] = {0x12, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f};
    nml_pb_init(&r, huge_len, sizeof huge_len);
    assert_int_equal(nml_pb_next(&r, &f, &more, &err), NML_E_FORMAT);
    const uint8_t short_fixed[] = {0x1d, 0x00, 0x00};
    nml_pb_init(&r, short_fixed, sizeof short_fixed);
    assert_int_equal(nml_pb_next(&r, &f, &more, &err), NML_E_FORMAT);
    assert_non_null(strstr(err.msg, "4-byte value runs past the end"));
    const uint8_t group[] = {0x0b}; /* field 1, wire type 3 (start group) */
    nml_pb_init(&r, group, 1);
    assert_int_equal(nml_pb_next(&r, &f, &more, &err), NML_E_FORMAT);
    assert_non_null(strstr(err.msg, "groups are not supported"));
    const uint8_t wire7[] = {0x0f};
    nml_pb_init(&r, wire7, 1);
    assert_int_equal(nml_pb_next(&r, &f, &more, &err), NML_E_FORMAT);
    assert_non_null(strstr(err.msg, "wire type 7 (invalid)"));
    const uint8_t field0[] = {0x00, 0x01};
    nml_pb_init(&r, field0, 2);
    assert_int_equal(nml_pb_next(&r, &f, &more, &err), NML_E_FORMAT);
    assert_string_equal(err.msg, "protobuf: field number 0 at byte 0");
    /* a tag wider than 32 bits */
    const uint8_t wide_tag[] = {0x80, 0x80, 0x80, 0x80, 0x80, 0x01, 0x00};
    nml_pb_init(&r, wide_tag, sizeof wide_tag);
    assert_int_equal(nml_pb_next(&r, &f, &more, &err), NML_E_FORMAT);
    assert_non_null(strstr(err.msg, "out of range"));
}

static void reads_packed_and_unpacked_repeated(void **state) {
    (void)state;
    nml_pb_reader r;
    nml_pb_field f;
    int more;
    nml_error err;
    int64_t *v = NULL;
    size_t n = 0, cap = 0;
    /* field 8: packed [1, 2, 150], then two unpacked elements 3 and -1 (10-byte varint) */
    const uint8_t msg[] = {0x42, 0x04, 0x01, 0x02, 0x96, 0x01, 0x40, 0x03, 0x40, 0xff,
                           0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01};
    nml_pb_init(&r, msg, sizeof msg);
    while (nml_pb_next(&r, &f, &more, &err) == NML_OK && more)
        assert_int_equal(nml_pb_append_int64s(&f, "ints", &v, &n, &cap, &err), NML_OK);
    assert_int_equal(n, 5);
    assert_int_equal(v[0], 1);
    assert_int_equal(v[1], 2);
    assert_int_equal(v[2], 150);
    assert_int_equal(v[3], 3);
    assert_int_equal(v[4], -1);
    free(v);
    /* packed varints cut in the middle */
    const uint8_t cut[] = {0x42, 0x02, 0x01, 0x96};
    v = NULL;
    n = cap = 0;
    nml_pb_init(&r, cut, sizeof cut);
    assert_int_equal(nml_pb_next(&r, &f, &more, &err), NML_OK);
    assert_int_equal(nml_pb_append_int64s(&f, "dims", &v, &n, &cap, &err), NML_E_FORMAT);
    assert_string_equal(err.msg, "dims: protobuf: truncated varint at byte 3");
    free(v);
    /* packed floats: 1.0f and -2.0f; then 5 bytes, not a whole number of floats */
    const uint8_t floats[] = {0x3a, 0x08, 0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x00,
                              0xc0, 0x3a, 0x05, 0,    0,    0,    0,    0};
    float *fv = NULL;
    n = cap = 0;
    nml_pb_init(&r, floats, sizeof floats);
    assert_int_equal(nml_pb_next(&r, &f, &more, &err), NML_OK);
    assert_int_equal(nml_pb_append_floats(&f, "floats", &fv, &n, &cap, &err), NML_OK);
    assert_int_equal(n, 2);
    assert_true(fv[0] == 1.0f && fv[1] == -2.0f);
    assert_int_equal(nml_pb_next(&r, &f, &more, &err), NML_OK);
    assert_int_equal(nml_pb_append_floats(&f, "floats", &fv, &n, &cap, &err), NML_E_FORMAT);
    assert_non_null(strstr(err.msg, "not a multiple of 4"));
    free(fv);
}

/* Each level is field 1 holding the next level: 0x0a, length, ... */
static size_t nest(uint8_t *buf, int levels) {
    size_t n = 0;
    buf[n++] = 0x08; /* innermost: field 1 = 0 */
    buf[n++] = 0x00;
    for (int i = 0; i < levels; i++) {
        memmove(buf + 2, buf, n);
        buf[0] = 0x0a;
        buf[1] = (uint8_t)n;
        n += 2;
    }
    return n;
}

static void limits_nesting_depth(void **state) {
    (void)state;
    uint8_t buf[256];
    size_t n = nest(buf, 40);
    nml_pb_reader r, sub;
    nml_pb_field f;
    int more, depth = 0;
    nml_error err;
    nml_status s = NML_OK;
    nml_pb_init(&r, buf, n);
    for (;;) {
        assert_int_equal(nml_pb_next(&r, &f, &more, &err), NML_OK);
        assert_true(more);
        if (f.wire != NML_PB_LEN) break;
        s = nml_pb_sub(&r, &f, &sub, &err);
        if (s != NML_OK) break;
        r = sub;
        depth++;
    }
    assert_int_equal(s, NML_E_LIMIT);
    assert_int_equal(depth, NML_PB_MAX_DEPTH);
    assert_non_null(strstr(err.msg, "nested deeper than 32 levels"));
    /* 20 levels are fine and the innermost field is found */
    n = nest(buf, 20);
    nml_pb_init(&r, buf, n);
    for (depth = 0;; depth++) {
        assert_int_equal(nml_pb_next(&r, &f, &more, &err), NML_OK);
        if (f.wire != NML_PB_LEN) break;
        assert_int_equal(nml_pb_sub(&r, &f, &sub, &err), NML_OK);
        r = sub;
    }
    assert_int_equal(depth, 20);
    assert_int_equal(f.value, 0);
    /* sub-message offsets stay absolute */
    assert_int_equal(f.offset, 40);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(decodes_varints),
        cmocka_unit_test(rejects_bad_varints),
        cmocka_unit_test(reads_all_wire_types),
        cmocka_unit_test(rejects_malformed_fields),
        cmocka_unit_test(reads_packed_and_unpacked_repeated),
        cmocka_unit_test(limits_nesting_depth),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
