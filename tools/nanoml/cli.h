/* Small helpers shared by the subcommands: uniform errors, option matching. */
#ifndef NANOML_CLI_H
#define NANOML_CLI_H

#include <stdio.h>

#include "nanoml/status.h"

/* Prints "nanoml CMD: message" to stderr (one line) and returns 1. */
int cli_error(const char *cmd, const nml_error *err);
int cli_errorf(const char *cmd, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* Prints "nanoml CMD: <msg>\nTry 'nanoml CMD --help'." and returns 2. */
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

#endif
