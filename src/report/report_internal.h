/* Shared by the Markdown-to-HTML files: a growing text buffer and the inline renderer. */
#ifndef NANOML_REPORT_INTERNAL_H
#define NANOML_REPORT_INTERNAL_H

#include <stddef.h>

#include "nanoml/report.h"

typedef struct rp_buf {
    char *p;
    size_t n, cap;
    int failed; /* an allocation failed: later appends do nothing */
} rp_buf;

void rp_put(rp_buf *b, const char *s, size_t n);
void rp_puts(rp_buf *b, const char *s);
/* Appends s with &, <, >, " escaped. */
void rp_escape(rp_buf *b, const char *s, size_t n);

typedef struct rp_ctx {
    const nml_report_options *opt;
    int line; /* 1-based line of the block being rendered, for errors */
} rp_ctx;

/* Renders inline Markdown (code, strong, emphasis, links, pictures, <br>, escapes). */
nml_status rp_inline(rp_buf *b, const char *s, size_t n, const rp_ctx *ctx, nml_error *err);

#endif
