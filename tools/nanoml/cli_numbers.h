/* Every number, size and shape the nanoml commands accept on their command lines, with its
 * limits, in one table (cli_numbers.c), parsed strictly through nanoml/parse.h: "--epochs 1e3",
 * "--batch -1", "--samples 10x" and overflowing values are usage errors that name the option
 * and quote the value. One table so that `nanoml CMD --help`, the commands and the `cli` fuzz
 * target agree on what each option accepts. */
#ifndef NANOML_CLI_NUMBERS_H
#define NANOML_CLI_NUMBERS_H

#include <stdint.h>

#include "nanoml/status.h"
#include "nanoml/types.h"

typedef enum cli_num_kind {
    CLI_INT,   /* decimal integer in [min, max] */
    CLI_REAL,  /* decimal number in [lo, hi] (or (lo, hi] with lo_open) */
    CLI_SIZE,  /* byte size with an optional K/M/G suffix, in [min, max] */
    CLI_SHAPE, /* tensor shape NxCxHxW, at most NML_MAX_RANK positive dimensions */
    CLI_WXH    /* image size WIDTHxHEIGHT, each 1 to max (dims[0] width, dims[1] height) */
} cli_num_kind;

typedef struct cli_num_spec {
    const char *cmd, *option;
    cli_num_kind kind;
    int64_t min, max; /* CLI_INT, CLI_SIZE; max: CLI_WXH */
    double lo, hi;    /* CLI_REAL */
    int lo_open;      /* CLI_REAL: lo itself is excluded */
} cli_num_spec;

typedef struct cli_num_value {
    int64_t i; /* CLI_INT, CLI_SIZE */
    double d;  /* CLI_REAL */
    int rank;  /* CLI_SHAPE; 2 for CLI_WXH */
    int32_t dims[NML_MAX_RANK];
} cli_num_value;

/* The table, terminated by an entry with cmd == NULL. */
extern const cli_num_spec cli_numbers[];

/* The spec of cmd's option, NULL when it takes no number. */
const cli_num_spec *cli_num_find(const char *cmd, const char *option);

/* Parses text by spec. Errors start with the option: "--epochs: '1e3' is not an integer". */
nml_status cli_num_parse(const cli_num_spec *spec, const char *text, cli_num_value *out,
                         nml_error *err);

/* For the commands: parse cmd's option value; on error print the usage error (one line) and
 * return 2, else 0. */
int cli_int(const char *cmd, const char *option, const char *text, int64_t *out);
int cli_real(const char *cmd, const char *option, const char *text, double *out);
int cli_size(const char *cmd, const char *option, const char *text, uint64_t *out);
int cli_shape(const char *cmd, const char *option, const char *text, int *rank, int32_t *dims);
int cli_wxh(const char *cmd, const char *option, const char *text, int *width, int *height);

#endif
