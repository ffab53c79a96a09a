/* The IDX reader on small files written here (gzip-compressed and plain): good files, and every
 * way a file can be wrong, each of which must give a clear error and no crash or leak. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "nanoml/idx.h"
#include "test_util.h"

static char dir[256];

static int setup(void **state) {
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/nml_test_idx_XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state) {
    (void)state;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static const char *path(const char *name) {
    static char buf[4][512];
    static int next;
    char *p = buf[next++ % 4];
    snprintf(p, 512, "%s/%s", dir, name);
    return p;
}

static void write_gz(const char *name, const void *data, size_t n) {
    gzFile f = gzopen(path(name), "wb");
    assert_non_null(f);
    if (n) assert_int_equal(gzwrite(f, data, (unsigned)n), (int)n);
    assert_int_equal(gzclose(f), Z_OK);
}

static void write_raw(const char *name, const void *data, size_t n) {
    FILE *f = fopen(path(name), "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, n, f), n);
    fclose(f);
}

/* header: 0, 0, type, rank, then big-endian dimensions */
static size_t header(uint8_t *out, uint8_t type, int rank, const uint32_t *dims) {
    out[0] = 0, out[1] = 0, out[2] = type, out[3] = (uint8_t)rank;
    for (int i = 0; i < rank; i++) {
        out[4 + 4 * i] = (uint8_t)(dims[i] >> 24);
        out[5 + 4 * i] = (uint8_t)(dims[i] >> 16);
        out[6 + 4 * i] = (uint8_t)(dims[i] >> 8);
        out[7 + 4 * i] = (uint8_t)dims[i];
    }
    return 4 + 4 * (size_t)rank;
}

/* 3 images of 2x2 and 3 labels */
static void write_dataset(const char *images, const char *labels, uint32_t n_labels) {
    uint8_t buf[64];
    size_t h = header(buf, 0x08, 3, (const uint32_t[]){3, 2, 2});
    for (int i = 0; i < 12; i++) buf[h + i] = (uint8_t)(i * 20);
    write_gz(images, buf, h + 12);
    h = header(buf, 0x08, 1, &n_labels);
    for (uint32_t i = 0; i < n_labels; i++) buf[h + i] = (uint8_t)(i % 10 == 1 ? 9 : i % 10);
    write_gz(labels, buf, h + n_labels);
}

static void reads_a_good_dataset(void **state) {
    (void)state;
    write_dataset("img.gz", "lab.gz", 3);
    nml_idx_dataset ds;
    nml_error err;
    assert_int_equal(nml_idx_load(path("img.gz"), path("lab.gz"), &ds, &err), NML_OK);
    assert_int_equal(ds.n, 3);
    assert_int_equal(ds.rows, 2);
    assert_int_equal(ds.cols, 2);
    assert_int_equal(ds.images[5], 100);
    assert_int_equal(ds.labels[1], 9);
    assert_int_equal(ds.n_classes, 10);
    nml_idx_dataset_free(&ds);
}

static void reads_uncompressed_files(void **state) {
    (void)state;
    uint8_t buf[16];
    size_t h = header(buf, 0x08, 1, (const uint32_t[]){4});
    memcpy(buf + h, "\x01\x02\x03\x04", 4);
    write_raw("plain.idx", buf, h + 4);
    nml_idx idx;
    nml_error err;
    assert_int_equal(nml_idx_read(path("plain.idx"), 0, &idx, &err), NML_OK);
    assert_int_equal(idx.rank, 1);
    assert_int_equal(idx.bytes, 4);
    assert_int_equal(idx.data[3], 4);
    nml_idx_free(&idx);
}

static void expect_error(const char *file, nml_status status, const char *part) {
    nml_idx idx;
    nml_error err;
    assert_int_equal(nml_idx_read(path(file), 0, &idx, &err), status);
    if (!strstr(err.msg, part)) fail_msg("'%s' lacks '%s'", err.msg, part);
    assert_null(idx.data);
}

static void missing_file(void **state) {
    (void)state;
    expect_error("nothing-here.gz", NML_E_IO, "No such file");
    expect_error("", NML_E_IO, "not a regular file"); /* the directory itself */
}

static void wrong_magic(void **state) {
    (void)state;
    write_gz("magic.gz", "\x1f\x8b\x08\x03\0\0\0\1\x05", 9);
    expect_error("magic.gz", NML_E_FORMAT, "not an IDX file");
    uint8_t buf[16];
    size_t h = header(buf, 0x0D, 1, (const uint32_t[]){1}); /* float elements */
    write_gz("float.gz", buf, h + 4);
    expect_error("float.gz", NML_E_UNSUPPORTED, "0x0d");
    h = header(buf, 0x08, 0, NULL);
    write_gz("rank0.gz", buf, h);
    expect_error("rank0.gz", NML_E_FORMAT, "rank 0");
    write_gz("empty.gz", "", 0);
    expect_error("empty.gz", NML_E_FORMAT, "too short");
}

static void truncated_data(void **state) {
    (void)state;
    uint8_t buf[64];
    size_t h = header(buf, 0x08, 3, (const uint32_t[]){10, 2, 2});
    memset(buf + h, 7, 30);
    write_gz("short.gz", buf, h + 30); /* 40 bytes declared, 30 present */
    expect_error("short.gz", NML_E_FORMAT, "truncated");
    write_gz("header.gz", buf, 6); /* cut inside the dimensions */
    expect_error("header.gz", NML_E_FORMAT, "truncated IDX header");
    h = header(buf, 0x08, 1, (const uint32_t[]){3});
    write_gz("long.gz", buf, h + 5); /* 3 declared, 5 present */
    expect_error("long.gz", NML_E_FORMAT, "continues past");
}

static void corrupt_gzip_stream(void **state) {
    (void)state;
    uint8_t buf[4096];
    size_t h = header(buf, 0x08, 1, (const uint32_t[]){2000});
    for (int i = 0; i < 2000; i++) buf[h + i] = (uint8_t)(i * 7);
    write_gz("good.gz", buf, h + 2000);
    size_t size;
    uint8_t *gz = nml_test_read(path("good.gz"), &size);
    write_raw("cut.gz", gz, size / 2); /* a gzip stream cut in the middle */
    nml_idx idx;
    nml_error err;
    assert_int_not_equal(nml_idx_read(path("cut.gz"), 0, &idx, &err), NML_OK);
    assert_null(idx.data);
    gz[size / 2] ^= 0x55; /* a flipped byte inside the deflate data */
    write_raw("flip.gz", gz, size);
    assert_int_not_equal(nml_idx_read(path("flip.gz"), 0, &idx, &err), NML_OK);
    free(gz);
}

static void huge_header_counts_are_bounded(void **state) {
    (void)state;
    uint8_t buf[32];
    /* claims 4 billion x 65535 x 65535 bytes: over the limit before anything is allocated */
    size_t h = header(buf, 0x08, 3, (const uint32_t[]){0xffffffffu, 0xffff, 0xffff});
    write_gz("huge.gz", buf, h + 8);
    expect_error("huge.gz", NML_E_LIMIT, "more than");
    /* within the limit but far beyond the file: a truncation error, not a giant allocation */
    h = header(buf, 0x08, 1, (const uint32_t[]){500000000u});
    write_gz("lying.gz", buf, h + 8);
    expect_error("lying.gz", NML_E_FORMAT, "truncated");
}

static void image_and_label_counts_must_match(void **state) {
    (void)state;
    write_dataset("img3.gz", "lab5.gz", 5);
    nml_idx_dataset ds;
    nml_error err;
    assert_int_equal(nml_idx_load(path("img3.gz"), path("lab5.gz"), &ds, &err), NML_E_FORMAT);
    if (!strstr(err.msg, "3 images") || !strstr(err.msg, "5 labels"))
        fail_msg("unexpected message: %s", err.msg);
    assert_null(ds.images);
    /* labels given where images are expected */
    assert_int_equal(nml_idx_load(path("lab5.gz"), path("lab5.gz"), &ds, &err), NML_E_FORMAT);
    assert_non_null(strstr(err.msg, "rank 3"));
}

/* The in-memory reader gives the file reader's result on every file above, gzip or plain. */
static void parse_from_memory_matches_files(void **state) {
    (void)state;
    write_dataset("mimg.gz", "mlab.gz", 3);
    uint8_t plain[16];
    size_t h = header(plain, 0x08, 2, (const uint32_t[]){2, 1});
    memcpy(plain + h, "\x05\x06", 2);
    write_raw("plain.idx", plain, h + 2);
    /* and a real file made by another gzip: Debian's Fashion-MNIST test labels */
    const char *names[] = {path("mimg.gz"), path("mlab.gz"), path("plain.idx"),
                           NML_FASHION_MNIST_DIR "/t10k-labels-idx1-ubyte.gz"};
    for (int k = 0; k < 4; k++) {
        size_t size;
        uint8_t *bytes = nml_test_read(names[k], &size);
        nml_idx a, b;
        nml_error err;
        assert_int_equal(nml_idx_read(names[k], 0, &a, &err), NML_OK);
        assert_int_equal(nml_idx_parse(bytes, size, names[k], 0, &b, &err), NML_OK);
        assert_int_equal(a.rank, b.rank);
        assert_memory_equal(a.dims, b.dims, sizeof a.dims);
        assert_int_equal(a.bytes, b.bytes);
        assert_memory_equal(a.data, b.data, a.bytes);
        nml_idx_free(&a);
        nml_idx_free(&b);
        free(bytes);
    }
}

static void expect_parse_error(const uint8_t *bytes, size_t size, size_t max_bytes,
                               nml_status status, const char *part) {
    nml_idx idx;
    nml_error err;
    assert_int_equal(nml_idx_parse(bytes, size, "mem", max_bytes, &idx, &err), status);
    if (!strstr(err.msg, part)) fail_msg("'%s' lacks '%s'", err.msg, part);
    assert_null(idx.data);
}

/* Two gzip members back to back (`cat a.gz b.gz`) read as one stream; a truncated member, a
 * flipped byte, bytes after the last member and a decompressed size over the limit are errors
 * that say so. */
static void parse_from_memory_gzip_members_and_errors(void **state) {
    (void)state;
    uint8_t buf[32];
    size_t h = header(buf, 0x08, 1, (const uint32_t[]){6});
    memcpy(buf + h, "abcdef", 6);
    write_gz("part1.gz", buf, h + 2);
    write_gz("part2.gz", buf + h + 2, 4);
    size_t n1, n2;
    uint8_t *p1 = nml_test_read(path("part1.gz"), &n1), *p2 = nml_test_read(path("part2.gz"), &n2);
    uint8_t *both = malloc(n1 + n2 + 3);
    assert_non_null(both);
    memcpy(both, p1, n1);
    memcpy(both + n1, p2, n2);
    nml_idx idx;
    nml_error err;
    assert_int_equal(nml_idx_parse(both, n1 + n2, "cat", 0, &idx, &err), NML_OK);
    assert_int_equal(idx.bytes, 6);
    assert_memory_equal(idx.data, "abcdef", 6);
    nml_idx_free(&idx);
    memcpy(both + n1 + n2, "xyz", 3);
    expect_parse_error(both, n1 + n2 + 3, 0, NML_E_FORMAT, "3 bytes after the gzip data");
    expect_parse_error(both, n1 + n2 - 5, 0, NML_E_FORMAT, "truncated gzip data");
    expect_parse_error(p1, n1 - 1, 0, NML_E_FORMAT, "truncated gzip data");
    both[n1 + n2 - 8] ^= 0x01; /* the second member's CRC-32 */
    expect_parse_error(both, n1 + n2, 0, NML_E_FORMAT, "corrupt gzip data");
    expect_parse_error(buf, h + 6, 5, NML_E_LIMIT, "more than 5 bytes");
    expect_parse_error(buf, h + 5, 0, NML_E_FORMAT, "truncated");
    expect_parse_error(buf, 3, 0, NML_E_FORMAT, "too short");
    expect_parse_error((const uint8_t *)"", 0, 0, NML_E_FORMAT, "too short");
    free(both);
    free(p1);
    free(p2);
}

static void fashion_mnist_from_debian(void **state) {
    (void)state;
    nml_idx_dataset ds;
    nml_error err;
    if (nml_idx_load_split(NML_FASHION_MNIST_DIR, "t10k", &ds, &err) != NML_OK)
        fail_msg("%s (install dataset-fashion-mnist: scripts/setup.sh)", err.msg);
    /* the published test split: 10,000 28x28 images, 10 classes, 1,000 of each */
    assert_int_equal(ds.n, 10000);
    assert_int_equal(ds.rows, 28);
    assert_int_equal(ds.cols, 28);
    assert_int_equal(ds.n_classes, 10);
    int count[10] = {0};
    for (int i = 0; i < ds.n; i++) count[ds.labels[i]]++;
    for (int c = 0; c < 10; c++) assert_int_equal(count[c], 1000);
    nml_idx_dataset_free(&ds);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(reads_a_good_dataset),
        cmocka_unit_test(reads_uncompressed_files),
        cmocka_unit_test(missing_file),
        cmocka_unit_test(wrong_magic),
        cmocka_unit_test(truncated_data),
        cmocka_unit_test(corrupt_gzip_stream),
        cmocka_unit_test(huge_header_counts_are_bounded),
        cmocka_unit_test(image_and_label_counts_must_match),
        cmocka_unit_test(parse_from_memory_matches_files),
        cmocka_unit_test(parse_from_memory_gzip_members_and_errors),
        cmocka_unit_test(fashion_mnist_from_debian),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
