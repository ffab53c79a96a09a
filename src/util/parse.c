/* Strict number, size and shape parsing. Integers are converted by hand (no strtol: it skips
 * spaces, accepts "0x", and depends on errno); decimals are checked against a strict grammar
 * before strtod converts them. */
#include "nanoml/parse.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define QUOTE_MAX 40

/* The text as it will appear in a message: non-printable bytes as '?', shortened with "...". */
static const char *quoted(char buf[QUOTE_MAX + 4], const char *s, size_t len) {
    size_t n = len < QUOTE_MAX ? len : QUOTE_MAX;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        buf[i] = c >= 0x20 && c < 0x7f ? (char)c : '?';
    }
    if (len > QUOTE_MAX) memcpy(buf + n, "...", 3), n += 3;
    buf[n] = '\0';
    return buf;
}

static int is_digit(char c) {
    return c >= '0' && c <= '9';
}

static char lower(char c) {
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* Unsigned decimal digits s[0, len) into *v; 0 when a character is not a digit, 2 when the
 * value exceeds limit (the digits are still all checked first, so syntax errors win). */
static int digits_value(const char *s, size_t len, uint64_t limit, uint64_t *v) {
    if (len == 0) return 0;
    for (size_t i = 0; i < len; i++)
        if (!is_digit(s[i])) return 0;
    uint64_t x = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned d = (unsigned)(s[i] - '0');
        if (x > (limit - d) / 10) return 2;
        x = x * 10 + d;
    }
    *v = x;
    return 1;
}

static nml_status range_error_i64(const char *s, size_t len, int64_t min, int64_t max,
                                  nml_error *err) {
    char q[QUOTE_MAX + 4];
    return nml_fail(err, NML_E_LIMIT, "'%s' is out of range (%lld to %lld)", quoted(q, s, len),
                    (long long)min, (long long)max);
}

static nml_status parse_i64_span(const char *s, size_t len, int64_t min, int64_t max, int64_t *out,
                                 nml_error *err) {
    char q[QUOTE_MAX + 4];
    size_t i = 0;
    int negative = 0;
    if (len && (s[0] == '-' || s[0] == '+')) negative = s[0] == '-', i = 1;
    uint64_t magnitude = 0, limit = negative ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    int r = digits_value(s + i, len - i, limit, &magnitude);
    if (r == 0) return nml_fail(err, NML_E_ARG, "'%s' is not an integer", quoted(q, s, len));
    if (r == 2) return range_error_i64(s, len, min, max, err);
    int64_t v = negative ? (magnitude == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)magnitude)
                         : (int64_t)magnitude;
    if (v < min || v > max) return range_error_i64(s, len, min, max, err);
    *out = v;
    return NML_OK;
}

nml_status nml_parse_i64(const char *s, int64_t min, int64_t max, int64_t *out, nml_error *err) {
    if (!s) return nml_fail(err, NML_E_ARG, "no number given");
    return parse_i64_span(s, strlen(s), min, max, out, err);
}

nml_status nml_parse_int(const char *s, int min, int max, int *out, nml_error *err) {
    int64_t v;
    NML_TRY(nml_parse_i64(s, min, max, &v, err));
    *out = (int)v;
    return NML_OK;
}

/* [+-]? (D+ ('.' D*)? | '.' D+) ([eE] [+-]? D+)?; *nonzero tells whether a mantissa digit is
 * not 0 (to tell "0e9" from an underflow). */
static int decimal_syntax(const char *s, int *nonzero) {
    size_t i = 0, mantissa = 0;
    *nonzero = 0;
    if (s[i] == '+' || s[i] == '-') i++;
    for (; is_digit(s[i]); i++, mantissa++)
        *nonzero |= s[i] != '0';
    if (s[i] == '.')
        for (i++; is_digit(s[i]); i++, mantissa++)
            *nonzero |= s[i] != '0';
    if (mantissa == 0) return 0;
    if (s[i] == 'e' || s[i] == 'E') {
        size_t exp_digits = 0;
        i++;
        if (s[i] == '+' || s[i] == '-') i++;
        for (; is_digit(s[i]); i++)
            exp_digits++;
        if (exp_digits == 0) return 0;
    }
    return s[i] == '\0';
}

nml_status nml_parse_double(const char *s, double min, double max, double *out, nml_error *err) {
    char q[QUOTE_MAX + 4];
    int nonzero;
    if (!s) return nml_fail(err, NML_E_ARG, "no number given");
    size_t len = strlen(s);
    if (!decimal_syntax(s, &nonzero))
        return nml_fail(err, NML_E_ARG, "'%s' is not a number", quoted(q, s, len));
    double v = strtod(s, NULL);
    if (!isfinite(v) || (v == 0.0 && nonzero) || v < min || v > max) {
        char range[64]; /* nml_fail has no %g (it is freestanding) */
        snprintf(range, sizeof range, "%.9g to %.9g", min, max);
        return nml_fail(err, NML_E_LIMIT, "'%s' is out of range (%s)", quoted(q, s, len), range);
    }
    *out = v;
    return NML_OK;
}

nml_status nml_parse_float(const char *s, float min, float max, float *out, nml_error *err) {
    double v;
    char q[QUOTE_MAX + 4];
    NML_TRY(nml_parse_double(s, min, max, &v, err));
    float f = (float)v;
    if (!isfinite(f) || (f == 0.0f && v != 0.0))
        return nml_fail(err, NML_E_LIMIT, "'%s' does not fit in a 32-bit float",
                        quoted(q, s, strlen(s)));
    *out = f;
    return NML_OK;
}

/* Multiplier of a size suffix, 0 when the suffix is not one. */
static uint64_t size_unit(const char *suffix) {
    static const struct {
        const char *name;
        uint64_t unit;
    } units[] = {{"", 1},          {"k", 1u << 10},  {"kb", 1u << 10},  {"kib", 1u << 10},
                 {"m", 1u << 20},  {"mb", 1u << 20}, {"mib", 1u << 20}, {"g", 1u << 30},
                 {"gb", 1u << 30}, {"gib", 1u << 30}};
    char low[4] = {0, 0, 0, 0};
    size_t n = strlen(suffix);
    if (n > 3) return 0;
    for (size_t i = 0; i < n; i++)
        low[i] = lower(suffix[i]);
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        if (strcmp(low, units[i].name) == 0) return units[i].unit;
    return 0;
}

nml_status nml_parse_size(const char *s, uint64_t max, uint64_t *out, nml_error *err) {
    char q[QUOTE_MAX + 4];
    if (!s) return nml_fail(err, NML_E_ARG, "no size given");
    size_t len = strlen(s), n = 0;
    while (is_digit(s[n]))
        n++;
    uint64_t unit = size_unit(s + n), v = 0;
    if (n == 0 || unit == 0)
        return nml_fail(err, NML_E_ARG,
                        "'%s' is not a size (bytes, optionally with a suffix K, M or G)",
                        quoted(q, s, len));
    int r = digits_value(s, n, UINT64_MAX, &v);
    if (r == 2 || v > max / unit)
        return nml_fail(err, NML_E_LIMIT, "'%s' is out of range (at most %llu bytes)",
                        quoted(q, s, len), (unsigned long long)max);
    *out = v * unit;
    return NML_OK;
}

/* Splits s at sep into at most max_fields dimensions, each 1 to max_dim. */
static nml_status parse_dims(const char *what, const char *s, char sep, int max_fields,
                             int64_t max_dim, int *n_out, int32_t *dims, nml_error *err) {
    char q[QUOTE_MAX + 4];
    size_t len = strlen(s);
    int n = 0;
    const char *p = s;
    for (;;) {
        const char *end = strchr(p, sep);
        size_t flen = end ? (size_t)(end - p) : strlen(p);
        if (n == max_fields)
            return nml_fail(err, NML_E_LIMIT, "%s '%s' has more than %d dimensions", what,
                            quoted(q, s, len), max_fields);
        uint64_t v = 0;
        int r = digits_value(p, flen, UINT64_MAX, &v);
        if (r == 0) {
            char f[QUOTE_MAX + 4];
            return nml_fail(err, NML_E_ARG,
                            "%s '%s': dimension %d ('%s') is not a positive integer", what,
                            quoted(q, s, len), n, quoted(f, p, flen));
        }
        if (r == 2 || v == 0 || v > (uint64_t)max_dim)
            return nml_fail(
                err, NML_E_LIMIT, "%s '%s': dimension %d is %s (dimensions are 1 to %lld)", what,
                quoted(q, s, len), n, v == 0 && r == 1 ? "0" : "too large", (long long)max_dim);
        dims[n++] = (int32_t)v;
        if (!end) break;
        p = end + 1;
    }
    *n_out = n;
    return NML_OK;
}

/* The separator of a shape: the first byte that is not a digit ('x' when there is none). */
static char shape_separator(const char *s) {
    while (is_digit(*s))
        s++;
    return *s == 'X' ? 'X' : *s == ',' ? ',' : 'x';
}

nml_status nml_parse_shape(const char *s, int *rank, int32_t dims[NML_MAX_RANK], nml_error *err) {
    char q[QUOTE_MAX + 4];
    if (!s || !*s) return nml_fail(err, NML_E_ARG, "empty shape");
    int n = 0;
    NML_TRY(parse_dims("shape", s, shape_separator(s), NML_MAX_RANK, NML_MAX_DIM, &n, dims, err));
    uint64_t count = 1;
    for (int i = 0; i < n; i++) {
        count *= (uint64_t)dims[i]; /* <= 2^31 * 2^31: no overflow before the check below */
        if (count > NML_MAX_TENSOR_BYTES)
            return nml_fail(err, NML_E_LIMIT,
                            "shape '%s' has more than %lu elements (the tensor size limit)",
                            quoted(q, s, strlen(s)), (unsigned long)NML_MAX_TENSOR_BYTES);
    }
    *rank = n;
    return NML_OK;
}

nml_status nml_parse_wxh(const char *s, int32_t max, int32_t *width, int32_t *height,
                         nml_error *err) {
    char q[QUOTE_MAX + 4];
    int32_t d[2];
    int n;
    if (!s || !*s) return nml_fail(err, NML_E_ARG, "empty size (expected WIDTHxHEIGHT)");
    if (max < 1) return nml_fail(err, NML_E_ARG, "bad limit %d", (int)max);
    char sep = shape_separator(s) == 'X' ? 'X' : 'x';
    const char *first = strchr(s, sep);
    if (!first || strchr(first + 1, sep))
        return nml_fail(err, NML_E_ARG, "size '%s' is not WIDTHxHEIGHT", quoted(q, s, strlen(s)));
    NML_TRY(parse_dims("size", s, sep, 2, max, &n, d, err));
    *width = d[0];
    *height = d[1];
    return NML_OK;
}
