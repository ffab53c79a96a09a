/* A growable text buffer for the code generators (internal to src/deploy). An allocation
 * failure is remembered and reported once, when the text is taken. */
#ifndef NANOML_DEPLOY_STRBUF_H
#define NANOML_DEPLOY_STRBUF_H

#include <stddef.h>

typedef struct nml_sb {
    char *data;
    size_t len, cap;
    int failed;
} nml_sb;

void nml_sb_init(nml_sb *sb);
void nml_sb_free(nml_sb *sb);
void nml_sb_append(nml_sb *sb, const char *text, size_t n);
void nml_sb_puts(nml_sb *sb, const char *text);
void nml_sb_printf(nml_sb *sb, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* Returns the NUL-terminated text (caller frees) and resets sb; NULL if any allocation failed. */
char *nml_sb_take(nml_sb *sb);

#endif
