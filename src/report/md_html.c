/* Markdown blocks to HTML: headings, paragraphs, pipe tables, lists, fenced code, comments. The
 * text is split into lines once; each block function consumes the lines it owns. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "report_internal.h"

typedef struct line {
    const char *s;
    size_t n; /* without the line break (and a trailing '\r') */
} line;

typedef struct doc {
    line *lines;
    size_t count;
    rp_buf out;
    rp_ctx ctx;
} doc;

static const char *const style =
    "body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;"
    "line-height:1.45;color:#222}"
    "table{border-collapse:collapse;margin:1em 0;font-size:0.92em}"
    "th,td{border:1px solid #bbb;padding:0.25em 0.6em;vertical-align:top}"
    "th{background:#eee}img{max-width:100%;height:auto}"
    "code{background:#f3f3f3;padding:0 0.2em}"
    "pre{background:#f3f3f3;padding:0.8em;overflow-x:auto}pre code{padding:0}";

static nml_status split_lines(const char *md, size_t len, doc *d, nml_error *err) {
    size_t count = 1;
    for (size_t i = 0; i < len; i++)
        if (md[i] == '\n') count++;
    d->lines = calloc(count, sizeof *d->lines);
    if (!d->lines) return nml_fail(err, NML_E_NOMEM, "markdown: %zu lines: out of memory", count);
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && md[i] != '\n') continue;
        size_t n = i - start;
        if (n > 0 && md[start + n - 1] == '\r') n--;
        d->lines[d->count++] = (line){md + start, n};
        start = i + 1;
    }
    return NML_OK;
}

static int blank(line l) {
    for (size_t i = 0; i < l.n; i++)
        if (!isspace((unsigned char)l.s[i])) return 0;
    return 1;
}

static int starts(line l, const char *p) {
    const size_t m = strlen(p);
    return l.n >= m && memcmp(l.s, p, m) == 0;
}

static size_t indent(line l) {
    size_t i = 0;
    while (i < l.n && l.s[i] == ' ')
        i++;
    return i;
}

static int heading_level(line l) {
    int h = 0;
    while ((size_t)h < l.n && l.s[h] == '#')
        h++;
    return h >= 1 && h <= 6 && (size_t)h < l.n && l.s[h] == ' ' ? h : 0;
}

/* Length of a list marker ("- ", "* ", "12. ") at the start of l, or 0. */
static size_t list_marker(line l, int *ordered) {
    size_t i = indent(l);
    if (i + 1 < l.n && (l.s[i] == '-' || l.s[i] == '*') && l.s[i + 1] == ' ') {
        *ordered = 0;
        return i + 2;
    }
    size_t j = i;
    while (j < l.n && isdigit((unsigned char)l.s[j]))
        j++;
    if (j > i && j + 1 < l.n && l.s[j] == '.' && l.s[j + 1] == ' ') {
        *ordered = 1;
        return j + 2;
    }
    return 0;
}

static int is_table_row(line l) {
    size_t i = indent(l);
    return i < l.n && l.s[i] == '|';
}

/* A separator row: pipes, dashes, colons and spaces only, with at least one dash. */
static int is_separator(line l) {
    int dash = 0;
    if (!is_table_row(l)) return 0;
    for (size_t i = 0; i < l.n; i++) {
        if (l.s[i] == '-')
            dash = 1;
        else if (!strchr("|: \t", l.s[i]))
            return 0;
    }
    return dash;
}

/* Splits a table row into cells (trimmed spans); pipes inside `code` or after '\' stay. */
#define MAX_CELLS 64
static int cells(line l, size_t *c0, size_t *c1) {
    size_t i = indent(l) + 1, start = i;
    int n = 0, code = 0;
    for (; i <= l.n && n < MAX_CELLS; i++) {
        if (i < l.n && l.s[i] == '\\') {
            i++;
            continue;
        }
        if (i < l.n && l.s[i] == '`') code = !code;
        if (i < l.n && (l.s[i] != '|' || code)) continue;
        size_t a = start, b = i;
        while (a < b && isspace((unsigned char)l.s[a]))
            a++;
        while (b > a && isspace((unsigned char)l.s[b - 1]))
            b--;
        if (i < l.n || a < b) { /* the empty tail after a closing pipe is no cell */
            c0[n] = a;
            c1[n] = b;
            n++;
        }
        start = i + 1;
    }
    return n;
}

static nml_status table(doc *d, size_t *i, nml_error *err) {
    size_t c0[MAX_CELLS], c1[MAX_CELLS];
    char align[MAX_CELLS];
    line sep = d->lines[*i + 1];
    int ns = cells(sep, c0, c1);
    for (int k = 0; k < ns; k++) {
        int left = c1[k] > c0[k] && sep.s[c0[k]] == ':';
        int right = c1[k] > c0[k] && sep.s[c1[k] - 1] == ':';
        align[k] = right && left ? 'c' : right ? 'r' : 'l';
    }
    const size_t head = *i;
    rp_puts(&d->out, "<table>\n");
    for (size_t r = head; r < d->count && is_table_row(d->lines[r]); r++) {
        *i = r + 1;
        if (r == head + 1) continue;
        line l = d->lines[r];
        int n = cells(l, c0, c1);
        const char *tag = r == head ? "th" : "td";
        rp_puts(&d->out, "<tr>");
        for (int k = 0; k < n; k++) {
            rp_puts(&d->out, "<");
            rp_puts(&d->out, tag);
            if (k < ns && align[k] != 'l')
                rp_puts(&d->out, align[k] == 'r' ? " style=\"text-align:right\""
                                                 : " style=\"text-align:center\"");
            rp_puts(&d->out, ">");
            d->ctx.line = (int)r + 1;
            NML_TRY(rp_inline(&d->out, l.s + c0[k], c1[k] - c0[k], &d->ctx, err));
            rp_puts(&d->out, "</");
            rp_puts(&d->out, tag);
            rp_puts(&d->out, ">");
        }
        rp_puts(&d->out, "</tr>\n");
    }
    rp_puts(&d->out, "</table>\n");
    return NML_OK;
}

static nml_status code_block(doc *d, size_t *i) {
    rp_puts(&d->out, "<pre><code>");
    size_t r = *i + 1;
    for (; r < d->count && !starts(d->lines[r], "```"); r++) {
        rp_escape(&d->out, d->lines[r].s, d->lines[r].n);
        rp_puts(&d->out, "\n");
    }
    rp_puts(&d->out, "</code></pre>\n");
    *i = r < d->count ? r + 1 : r;
    return NML_OK;
}

static void comment(doc *d, size_t *i) {
    size_t r = *i;
    while (r < d->count) {
        line l = d->lines[r++];
        int closed = 0;
        for (size_t k = 0; k + 3 <= l.n; k++)
            if (memcmp(l.s + k, "-->", 3) == 0) closed = 1;
        if (closed) break;
    }
    *i = r;
}

static nml_status heading(doc *d, size_t *i, nml_error *err) {
    line l = d->lines[*i];
    int h = heading_level(l);
    char tag[8] = {'<', 'h', (char)('0' + h), '>', 0};
    rp_puts(&d->out, tag);
    d->ctx.line = (int)*i + 1;
    size_t a = (size_t)h + 1, b = l.n;
    while (b > a && (l.s[b - 1] == '#' || l.s[b - 1] == ' '))
        b--;
    NML_TRY(rp_inline(&d->out, l.s + a, b - a, &d->ctx, err));
    tag[0] = '/';
    rp_puts(&d->out, "<");
    rp_puts(&d->out, tag);
    rp_puts(&d->out, "\n");
    (*i)++;
    return NML_OK;
}

/* A block that ends a paragraph or list item when it starts on the next line. */
static int block_start(const doc *d, size_t r) {
    line l = d->lines[r];
    int ordered;
    return blank(l) || heading_level(l) || starts(l, "```") || starts(l, "<!--") ||
           (is_table_row(l) && r + 1 < d->count && is_separator(d->lines[r + 1])) ||
           list_marker(l, &ordered);
}

/* Lines r0.. joined with spaces until a block starts; renders them inline. */
static nml_status run_of_text(doc *d, size_t *i, size_t skip_first, nml_error *err) {
    size_t r = *i;
    do {
        line l = d->lines[r];
        size_t a = r == *i ? skip_first : indent(l);
        if (r > *i) rp_puts(&d->out, "\n");
        d->ctx.line = (int)r + 1;
        NML_TRY(rp_inline(&d->out, l.s + a, l.n - a, &d->ctx, err));
        r++;
    } while (r < d->count && !block_start(d, r));
    *i = r;
    return NML_OK;
}

static nml_status list(doc *d, size_t *i, nml_error *err) {
    int ordered = 0, kind;
    list_marker(d->lines[*i], &ordered);
    rp_puts(&d->out, ordered ? "<ol>\n" : "<ul>\n");
    size_t m;
    while (*i < d->count && (m = list_marker(d->lines[*i], &kind)) != 0 && kind == ordered) {
        rp_puts(&d->out, "<li>");
        NML_TRY(run_of_text(d, i, m, err));
        rp_puts(&d->out, "</li>\n");
    }
    rp_puts(&d->out, ordered ? "</ol>\n" : "</ul>\n");
    return NML_OK;
}

static nml_status blocks(doc *d, nml_error *err) {
    size_t i = 0;
    int ordered;
    while (i < d->count) {
        line l = d->lines[i];
        if (blank(l)) {
            i++;
        } else if (starts(l, "<!--")) {
            comment(d, &i);
        } else if (starts(l, "```")) {
            NML_TRY(code_block(d, &i));
        } else if (heading_level(l)) {
            NML_TRY(heading(d, &i, err));
        } else if (is_table_row(l) && i + 1 < d->count && is_separator(d->lines[i + 1])) {
            NML_TRY(table(d, &i, err));
        } else if (list_marker(l, &ordered)) {
            NML_TRY(list(d, &i, err));
        } else {
            rp_puts(&d->out, "<p>");
            NML_TRY(run_of_text(d, &i, indent(l), err));
            rp_puts(&d->out, "</p>\n");
        }
    }
    return NML_OK;
}

/* The first heading's text, for <title>. */
static void default_title(const doc *d, rp_buf *b) {
    for (size_t i = 0; i < d->count; i++) {
        int h = heading_level(d->lines[i]);
        if (h) {
            rp_escape(b, d->lines[i].s + h + 1, d->lines[i].n - (size_t)h - 1);
            return;
        }
    }
    rp_puts(b, "report");
}

nml_status nml_report_html(const char *md, size_t len, const nml_report_options *o, char **html,
                           size_t *html_len, nml_error *err) {
    static const nml_report_options defaults = {NULL, NULL, NULL};
    if (!md || !html) return nml_fail(err, NML_E_ARG, "report: no markdown or no output");
    *html = NULL;
    if (html_len) *html_len = 0;
    doc d;
    memset(&d, 0, sizeof d);
    d.ctx.opt = o ? o : &defaults;
    NML_TRY(split_lines(md, len, &d, err));
    rp_puts(&d.out, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                    "<title>");
    if (d.ctx.opt->title)
        rp_escape(&d.out, d.ctx.opt->title, strlen(d.ctx.opt->title));
    else
        default_title(&d, &d.out);
    rp_puts(&d.out, "</title>\n<style>");
    rp_puts(&d.out, style);
    rp_puts(&d.out, "</style>\n</head>\n<body>\n");
    nml_status st = blocks(&d, err);
    rp_puts(&d.out, "</body>\n</html>\n");
    free(d.lines);
    if (st == NML_OK && d.out.failed)
        st = nml_fail(err, NML_E_NOMEM, "report: out of memory after %zu bytes of HTML", d.out.n);
    if (st != NML_OK) {
        free(d.out.p);
        return st;
    }
    *html = d.out.p;
    if (html_len) *html_len = d.out.n;
    return NML_OK;
}
