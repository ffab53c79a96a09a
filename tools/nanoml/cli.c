#include "cli.h"

#include <stdarg.h>
#include <string.h>

int cli_error(const char *cmd, const nml_error *err) {
    fprintf(stderr, "nanoml %s: %s\n", cmd, err && err->msg[0] ? err->msg : "failed");
    return 1;
}

int cli_errorf(const char *cmd, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "nanoml %s: ", cmd);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return 1;
}

int cli_usage_error(const char *cmd, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "nanoml %s: ", cmd);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, " (see 'nanoml %s --help')\n", cmd);
    va_end(ap);
    return 2;
}

int cli_is_help(const char *arg) { return strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0; }

int cli_take_value(const char *cmd, int argc, char **argv, int *i, const char *name,
                   const char **value) {
    if (strcmp(argv[*i], name) != 0) return 0;
    if (*i + 1 >= argc) {
        cli_usage_error(cmd, "option %s needs a value", name);
        return -1;
    }
    *value = argv[++*i];
    return 1;
}

void cli_bar_init(cli_bar *b, const char *unit, int quiet) {
    memset(b, 0, sizeof *b);
    b->unit = unit;
    b->quiet = quiet;
}

void cli_bar_update(void *user, uint64_t done, uint64_t total, const char *what) {
    cli_bar *b = user;
    if (!what) what = "";
    if (b->started && (b->p.total != total || done < b->p.done ||
                       strncmp(b->what, what, sizeof b->what - 1) != 0))
        cli_bar_end(b); /* other work, or the same work again */
    if (!b->started) {
        snprintf(b->what, sizeof b->what, "%s", what);
        nml_progress_begin_ex(&b->p, what, total, b->unit, stderr,
                              b->quiet ? NML_PROGRESS_OFF : NML_PROGRESS_AUTO);
        b->started = 1;
    }
    nml_progress_set(&b->p, done);
}

void cli_bar_end(cli_bar *b) {
    if (b->started) nml_progress_end(&b->p);
    b->started = 0;
}
