/* Option handling shared by the detection subcommands (detect, eval-detect). */
#ifndef NANOML_CLI_DETECT_H
#define NANOML_CLI_DETECT_H

#include <stddef.h>

#include "nanoml/class_names.h"
#include "nanoml/detector.h"

/* Options both commands take. */
typedef struct cli_det_common {
    const char *model;
    const char *names_path; /* NULL: built-in COCO names */
    const char *size;       /* "WxH" or NULL */
    int width, height;      /* --size, parsed */
    int train_w, train_h;   /* --train-size (FastestDet); 0: the decoder's default */
    nml_det_kind kind;
    int json;
} cli_det_common;

/* Handles --size, --train-size, --decoder, --names and --json at argv[*i]. Returns 1 when consumed,
 * 0 when not one of them, 2 after printing a usage error. */
int cli_det_common_option(const char *cmd, int argc, char **argv, int *i, cli_det_common *c);

/* Strict number parsing for option values through cli_numbers.c (which holds each option's
 * limits); print a usage error and return 0 on failure. */
int cli_parse_float(const char *cmd, const char *opt, const char *s, float *v);
int cli_parse_count(const char *cmd, const char *opt, const char *s, size_t *v);

/* Loads the names, opens the detector with their count, checks --size against the model and
 * applies --train-size. On failure nothing is left open; on success cli_det_close releases
 * both. */
nml_status cli_det_open(const cli_det_common *c, nml_class_names *names, nml_detector *d,
                        nml_error *err);
void cli_det_close(nml_class_names *names, nml_detector *d);

#endif
