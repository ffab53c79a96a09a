#include "cli_numbers.h"

#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "nanoml/image.h"
#include "nanoml/parse.h"

#define INT(cmd, opt, lo, hi)                                                                      \
    { cmd, opt, CLI_INT, lo, hi, 0, 0, 0 }
#define REAL(cmd, opt, lo, hi, open)                                                               \
    { cmd, opt, CLI_REAL, 0, 0, lo, hi, open }
#define SIZE(cmd, opt, lo, hi)                                                                     \
    { cmd, opt, CLI_SIZE, lo, hi, 0, 0, 0 }
#define SHAPE(cmd, opt)                                                                            \
    { cmd, opt, CLI_SHAPE, 0, 0, 0, 0, 0 }
#define WXH(cmd, opt, hi)                                                                          \
    { cmd, opt, CLI_WXH, 1, hi, 0, 0, 0 }

const cli_num_spec cli_numbers[] = {
    /* nanoml train */
    INT("train", "--epochs", 1, 100000),
    INT("train", "--batch", 1, 65536),
    INT("train", "--limit", 1, INT32_MAX),
    INT("train", "--seed", 0, INT64_MAX),
    INT("train", "--shift", 0, 16),
    REAL("train", "--lr", 1e-9, 100.0, 0),
    REAL("train", "--momentum", 0.0, 0.999999, 0),
    REAL("train", "--warmup", 0.0, 1000.0, 0),
    REAL("train", "--val-split", 0.0, 0.99, 0),
    INT("train", "--test-limit", 1, INT32_MAX),
    REAL("train", "--beta1", 0.0, 0.999999, 0),
    REAL("train", "--beta2", 0.5, 0.9999999, 0),
    REAL("train", "--eps", 1e-12, 1.0, 0),
    REAL("train", "--weight-decay", 0.0, 1.0, 0),
    /* nanoml eval */
    INT("eval", "--limit", 1, INT32_MAX),
    SIZE("eval", "--arena-max", 1024, NML_MAX_TENSOR_BYTES),
    /* nanoml quantize */
    INT("quantize", "--samples", 1, UINT32_MAX),
    INT("quantize", "--min-elements", 0, INT64_MAX),
    REAL("quantize", "--percentile", 50.0, 100.0, 1),
    /* nanoml run */
    SIZE("run", "--arena", 0, NML_MAX_TENSOR_BYTES),
    /* nanoml deploy */
    INT("deploy", "--jobs", 1, 16),
    INT("deploy", "--timeout", 1, 86400),
    /* nanoml import */
    SHAPE("import", "--input-shape"),
    /* nanoml detect, eval-detect, preprocess (appended: the cli fuzz seeds index the table) */
    REAL("detect", "--score", 0.0, 1.0, 0),
    REAL("detect", "--iou", 0.0, 1.0, 0),
    INT("detect", "--max-det", 0, 100000000),
    WXH("detect", "--size", NML_IMAGE_MAX_DIM),
    REAL("eval-detect", "--conf", 0.0, 1.0, 0),
    REAL("eval-detect", "--iou", 0.0, 1.0, 0),
    INT("eval-detect", "--max-det", 0, 100000000),
    INT("eval-detect", "--limit", 0, 100000000),
    INT("eval-detect", "--skip", 0, 100000000),
    WXH("eval-detect", "--size", NML_IMAGE_MAX_DIM),
    INT("preprocess", "--skip", 0, 100000000),
    INT("preprocess", "--limit", 0, 100000000),
    WXH("preprocess", "--size", NML_IMAGE_MAX_DIM),
    /* nanoml compare, pack */
    INT("compare", "--limit", 1, INT32_MAX),
    SIZE("compare", "--arena-max", 1024, NML_MAX_TENSOR_BYTES),
    INT("pack", "--min-elements", 0, UINT32_MAX),
    /* nanoml plot bars (the limits of nanoml/bars.h) */
    INT("plot", "--width", 200, 8192),
    INT("plot", "--bar-height", 4, 256),
    /* FastestDet training size (detect, eval-detect) */
    WXH("detect", "--train-size", NML_IMAGE_MAX_DIM),
    WXH("eval-detect", "--train-size", NML_IMAGE_MAX_DIM),
    {NULL, NULL, CLI_INT, 0, 0, 0, 0, 0},
};

const cli_num_spec *cli_num_find(const char *cmd, const char *option) {
    for (const cli_num_spec *s = cli_numbers; s->cmd; s++)
        if (strcmp(s->cmd, cmd) == 0 && strcmp(s->option, option) == 0) return s;
    return NULL;
}

/* The value as quoted in a message: at most 40 characters (nml_fail has no precision). */
static const char *shortened(char buf[48], const char *text) {
    size_t n = strlen(text);
    if (n <= 40) return text;
    memcpy(buf, text, 40);
    memcpy(buf + 40, "...", 4);
    return buf;
}

static nml_status parse_real(const cli_num_spec *s, const char *text, double *out, nml_error *err) {
    nml_status st = nml_parse_double(text, s->lo, s->hi, out, err);
    if (!s->lo_open || st == NML_E_ARG || (st == NML_OK && *out != s->lo)) return st;
    /* an open range: say so, whether the value was below it or on its excluded end */
    char range[64], q[48]; /* nml_fail has no %g */
    snprintf(range, sizeof range, "above %.9g, at most %.9g", s->lo, s->hi);
    return nml_fail(err, NML_E_LIMIT, "'%s' is out of range (%s)", shortened(q, text), range);
}

static nml_status parse_size(const cli_num_spec *s, const char *text, int64_t *out,
                             nml_error *err) {
    uint64_t v;
    NML_TRY(nml_parse_size(text, (uint64_t)s->max, &v, err));
    if (v < (uint64_t)s->min) {
        char q[48];
        return nml_fail(err, NML_E_LIMIT, "'%s' is out of range (%lld to %lld bytes)",
                        shortened(q, text), (long long)s->min, (long long)s->max);
    }
    *out = (int64_t)v;
    return NML_OK;
}

nml_status cli_num_parse(const cli_num_spec *s, const char *text, cli_num_value *out,
                         nml_error *err) {
    nml_status st;
    memset(out, 0, sizeof *out);
    switch (s->kind) {
    case CLI_INT:
        st = nml_parse_i64(text, s->min, s->max, &out->i, err);
        break;
    case CLI_REAL:
        st = parse_real(s, text, &out->d, err);
        break;
    case CLI_SIZE:
        st = parse_size(s, text, &out->i, err);
        break;
    case CLI_WXH:
        st = nml_parse_wxh(text, (int32_t)s->max, &out->dims[0], &out->dims[1], err);
        if (st == NML_OK) out->rank = 2;
        break;
    default:
        st = nml_parse_shape(text, &out->rank, out->dims, err);
        break;
    }
    if (st != NML_OK) nml_error_prefix(err, "%s: ", s->option);
    return st;
}

/* Looks the option up and parses; 2 after printing the error. */
static int parse(const char *cmd, const char *option, cli_num_kind kind, const char *text,
                 cli_num_value *v) {
    const cli_num_spec *s = cli_num_find(cmd, option);
    if (!s || s->kind != kind) /* a command and the table disagree: a bug, caught by tests */
        return cli_usage_error(cmd, "%s: no number specification (internal error)", option);
    nml_error err;
    if (cli_num_parse(s, text, v, &err) != NML_OK) return cli_usage_error(cmd, "%s", err.msg);
    return 0;
}

int cli_int(const char *cmd, const char *option, const char *text, int64_t *out) {
    cli_num_value v;
    int rc = parse(cmd, option, CLI_INT, text, &v);
    if (!rc) *out = v.i;
    return rc;
}

int cli_real(const char *cmd, const char *option, const char *text, double *out) {
    cli_num_value v;
    int rc = parse(cmd, option, CLI_REAL, text, &v);
    if (!rc) *out = v.d;
    return rc;
}

int cli_size(const char *cmd, const char *option, const char *text, uint64_t *out) {
    cli_num_value v;
    int rc = parse(cmd, option, CLI_SIZE, text, &v);
    if (!rc) *out = (uint64_t)v.i;
    return rc;
}

int cli_shape(const char *cmd, const char *option, const char *text, int *rank, int32_t *dims) {
    cli_num_value v;
    int rc = parse(cmd, option, CLI_SHAPE, text, &v);
    if (!rc) {
        *rank = v.rank;
        memcpy(dims, v.dims, sizeof v.dims[0] * (size_t)v.rank);
    }
    return rc;
}

int cli_wxh(const char *cmd, const char *option, const char *text, int *width, int *height) {
    cli_num_value v;
    int rc = parse(cmd, option, CLI_WXH, text, &v);
    if (!rc) {
        *width = v.dims[0];
        *height = v.dims[1];
    }
    return rc;
}
