/* The report's growing text buffer. An allocation failure is remembered and reported once at the
 * end, so the renderers need no error path per append. */
#include <stdlib.h>
#include <string.h>

#include "report_internal.h"

void rp_put(rp_buf *b, const char *s, size_t n) {
    if (b->failed || n == 0) return;
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->n + n + 1) {
            if (cap > ((size_t)-1) / 2) {
                b->failed = 1;
                return;
            }
            cap *= 2;
        }
        char *p = realloc(b->p, cap);
        if (!p) {
            b->failed = 1;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = '\0';
}

void rp_puts(rp_buf *b, const char *s) {
    rp_put(b, s, strlen(s));
}

void rp_escape(rp_buf *b, const char *s, size_t n) {
    size_t start = 0;
    for (size_t i = 0; i < n; i++) {
        const char *rep = s[i] == '&'   ? "&amp;"
                          : s[i] == '<' ? "&lt;"
                          : s[i] == '>' ? "&gt;"
                          : s[i] == '"' ? "&quot;"
                                        : NULL;
        if (!rep) continue;
        rp_put(b, s + start, i - start);
        rp_puts(b, rep);
        start = i + 1;
    }
    rp_put(b, s + start, n - start);
}
