/* Inline Markdown: code spans, strong/emphasis, links, pictures (inlined as data: URIs), <br>
 * and backslash escapes. An opener without its closer is plain text. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nanoml/file.h"
#include "report_internal.h"

#define PATH_MAX_LEN 4096

static const char *find(const char *s, size_t n, size_t from, const char *pat) {
    const size_t m = strlen(pat);
    for (size_t i = from; i + m <= n; i++)
        if (memcmp(s + i, pat, m) == 0) return s + i;
    return NULL;
}

/* "[text](target)" starting at s[i] == '['. Fills the text and target spans and returns the
 * length of the whole construct, or 0 when it is not one. Brackets nest one level deep so a
 * picture can sit inside a link text. */
static size_t bracket_target(const char *s, size_t n, size_t i, size_t *t0, size_t *t1, size_t *h0,
                             size_t *h1) {
    size_t j = i + 1;
    int depth = 0;
    for (; j < n; j++) {
        if (s[j] == '\\' && j + 1 < n) {
            j++;
            continue;
        }
        if (s[j] == '[') depth++;
        if (s[j] == ']' && depth-- == 0) break;
    }
    if (j + 1 >= n || s[j] != ']' || s[j + 1] != '(') return 0;
    size_t k = j + 2;
    while (k < n && s[k] != ')' && s[k] != ' ')
        k++;
    size_t end = k;
    if (k < n && s[k] == ' ') { /* an optional "title" is skipped */
        while (end < n && s[end] != ')')
            end++;
    }
    if (end >= n || s[end] != ')') return 0;
    *t0 = i + 1;
    *t1 = j;
    *h0 = j + 2;
    *h1 = k;
    return end + 1 - i;
}

static int is_remote(const char *s, size_t n) {
    return (n >= 5 && memcmp(s, "http:", 5) == 0) || (n >= 6 && memcmp(s, "https:", 6) == 0) ||
           (n >= 2 && memcmp(s, "//", 2) == 0);
}

static nml_status inline_picture(rp_buf *b, const char *alt, size_t alt_n, const char *src,
                                 size_t src_n, const rp_ctx *ctx, nml_error *err) {
    const char *name = ctx->opt->name ? ctx->opt->name : "markdown";
    if (src_n >= 5 && memcmp(src, "data:", 5) == 0) { /* already inline */
        rp_puts(b, "<img src=\"");
        rp_escape(b, src, src_n);
    } else {
        if (is_remote(src, src_n) || src_n == 0 || src_n >= PATH_MAX_LEN) {
            char shown[160]; /* nml_fail has no %.*s */
            snprintf(shown, sizeof shown, "%.*s", (int)src_n, src);
            return nml_fail(err, NML_E_ARG, "%s:%d: picture '%s' is not a local file", name,
                            ctx->line, shown);
        }
        char path[2 * PATH_MAX_LEN + 2];
        const char *dir = ctx->opt->base_dir ? ctx->opt->base_dir : ".";
        if (src[0] == '/')
            snprintf(path, sizeof path, "%.*s", (int)src_n, src);
        else
            snprintf(path, sizeof path, "%.4096s/%.*s", dir, (int)src_n, src);
        uint8_t *data = NULL;
        size_t size = 0;
        if (nml_read_file(path, NML_REPORT_MAX_IMAGE_BYTES, &data, &size, err) != NML_OK)
            return nml_error_prefix(err, "%s:%d: picture: ", name, ctx->line);
        const char *mime = nml_picture_mime(data, size);
        if (!mime) {
            free(data);
            return nml_fail(err, NML_E_FORMAT, "%s:%d: picture %s is neither PNG nor JPEG", name,
                            ctx->line, path);
        }
        char *text = malloc(4 * ((size + 2) / 3) + 1);
        if (!text) {
            free(data);
            return nml_fail(err, NML_E_NOMEM, "%s:%d: picture %s: out of memory", name, ctx->line,
                            path);
        }
        size_t tn = nml_base64_encode(data, size, text);
        free(data);
        rp_puts(b, "<img src=\"data:");
        rp_puts(b, mime);
        rp_puts(b, ";base64,");
        rp_put(b, text, tn);
        free(text);
    }
    rp_puts(b, "\" alt=\"");
    rp_escape(b, alt, alt_n);
    rp_puts(b, "\">");
    return NML_OK;
}

/* `code`, **strong** or *emphasis* at s[i]; returns the characters consumed or 0. */
static size_t span(rp_buf *b, const char *s, size_t n, size_t i, const rp_ctx *ctx, nml_error *err,
                   nml_status *st) {
    if (s[i] == '`') {
        const char *end = find(s, n, i + 1, "`");
        if (!end) return 0;
        rp_puts(b, "<code>");
        rp_escape(b, s + i + 1, (size_t)(end - s) - i - 1);
        rp_puts(b, "</code>");
        return (size_t)(end - s) + 1 - i;
    }
    const int strong = i + 1 < n && s[i + 1] == '*';
    const char *mark = strong ? "**" : "*";
    const size_t m = strong ? 2 : 1;
    const char *end = find(s, n, i + m, mark);
    if (!end || end == s + i + m) return 0;
    rp_puts(b, strong ? "<strong>" : "<em>");
    *st = rp_inline(b, s + i + m, (size_t)(end - s) - i - m, ctx, err);
    rp_puts(b, strong ? "</strong>" : "</em>");
    return (size_t)(end - s) + m - i;
}

nml_status rp_inline(rp_buf *b, const char *s, size_t n, const rp_ctx *ctx, nml_error *err) {
    size_t i = 0;
    while (i < n) {
        const char c = s[i];
        size_t used = 0, t0, t1, h0, h1;
        nml_status st = NML_OK;
        if (c == '\\' && i + 1 < n && strchr("\\`*_[]()#|!<>-", s[i + 1])) {
            rp_escape(b, s + i + 1, 1);
            used = 2;
        } else if (c == '`' || c == '*') {
            used = span(b, s, n, i, ctx, err, &st);
        } else if (c == '!' && i + 1 < n && s[i + 1] == '[' &&
                   (used = bracket_target(s, n, i + 1, &t0, &t1, &h0, &h1)) != 0) {
            st = inline_picture(b, s + t0, t1 - t0, s + h0, h1 - h0, ctx, err);
            used += 1;
        } else if (c == '[' && (used = bracket_target(s, n, i, &t0, &t1, &h0, &h1)) != 0) {
            rp_puts(b, "<a href=\"");
            rp_escape(b, s + h0, h1 - h0);
            rp_puts(b, "\">");
            st = rp_inline(b, s + t0, t1 - t0, ctx, err);
            rp_puts(b, "</a>");
        } else if (c == '<' && n - i >= 4 && memcmp(s + i, "<br>", 4) == 0) {
            rp_puts(b, "<br>");
            used = 4;
        }
        if (st != NML_OK) return st;
        if (used == 0) {
            rp_escape(b, s + i, 1);
            used = 1;
        }
        i += used;
    }
    return NML_OK;
}
