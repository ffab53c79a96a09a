#include "strbuf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void nml_sb_init(nml_sb *sb) {
    memset(sb, 0, sizeof *sb);
}

void nml_sb_free(nml_sb *sb) {
    free(sb->data);
    nml_sb_init(sb);
}

static int reserve(nml_sb *sb, size_t extra) {
    if (sb->failed) return 0;
    if (extra > (size_t)-1 / 2 - sb->len) {
        sb->failed = 1;
        return 0;
    }
    size_t need = sb->len + extra + 1;
    if (need <= sb->cap) return 1;
    size_t cap = sb->cap ? sb->cap : 256;
    while (cap < need)
        cap *= 2;
    char *p = realloc(sb->data, cap);
    if (!p) {
        sb->failed = 1;
        return 0;
    }
    sb->data = p;
    sb->cap = cap;
    return 1;
}

void nml_sb_append(nml_sb *sb, const char *text, size_t n) {
    if (!reserve(sb, n)) return;
    memcpy(sb->data + sb->len, text, n);
    sb->len += n;
    sb->data[sb->len] = '\0';
}

void nml_sb_puts(nml_sb *sb, const char *text) {
    nml_sb_append(sb, text, strlen(text));
}

void nml_sb_printf(nml_sb *sb, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
        sb->failed = 1;
        return;
    }
    if (!reserve(sb, (size_t)n)) return;
    va_start(ap, fmt);
    vsnprintf(sb->data + sb->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    sb->len += (size_t)n;
}

char *nml_sb_take(nml_sb *sb) {
    if (sb->failed) {
        nml_sb_free(sb);
        return NULL;
    }
    if (!reserve(sb, 0)) return NULL;
    char *text = sb->data;
    nml_sb_init(sb);
    return text;
}
