/* Small helpers shared by the subcommands: uniform errors, option matching. */
#ifndef NANOML_CLI_H
#define NANOML_CLI_H

#include <stdint.h>
#include <stdio.h>

#include "nanoml/progress.h"
#include "nanoml/status.h"

/* Prints "nanoml CMD: message" to stderr (one line) and returns 1. */
int cli_error(const char *cmd, const nml_error *err);
int cli_errorf(const char *cmd, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* Prints the one line "nanoml CMD: <msg> (see 'nanoml CMD --help')" and returns 2. */
int cli_usage_error(const char *cmd, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* 1 if argv[i] is "-h" or "--help". */
int cli_is_help(const char *arg);
/* For "--name VALUE": if argv[*i] equals name, stores argv[*i+1] in *value, advances *i and
 * returns 1; returns -1 (after printing a usage error) when the value is missing; 0 otherwise. */
int cli_take_value(const char *cmd, int argc, char **argv, int *i, const char *name,
                   const char **value);

/* A progress bar on stderr (nanoml/progress.h) fed by a library's progress callback
 * (nml_progress_fn of quantize.h: done of total steps of the work named `what`). A change of
 * `what` or of the total, or a count going back, ends the current bar and starts the next. */
typedef struct cli_bar {
    nml_progress p;
    int started;
    int quiet;
    const char *unit;
    char what[40];
} cli_bar;

void cli_bar_init(cli_bar *b, const char *unit, int quiet);
/* Matches nml_progress_fn; user is a cli_bar. */
void cli_bar_update(void *user, uint64_t done, uint64_t total, const char *what);
/* Ends the current bar, if any. */
void cli_bar_end(cli_bar *b);

#endif
