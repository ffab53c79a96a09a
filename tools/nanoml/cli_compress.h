/* What `nanoml prune`, `cluster`, `qat` and `compress` share: model and data loading, running
 * the steps, packing, writing, and the summary. Each command is a recipe: `nanoml prune
 * --sparsity 0.8` runs the one-step recipe `prune sparsity=0.8`. */
#ifndef NANOML_CLI_COMPRESS_H
#define NANOML_CLI_COMPRESS_H

#include <stdio.h>

typedef struct cli_compress_cmd {
    const char *name; /* "prune"; also the step kind (NULL step: compress) */
    const char *step; /* step every --key value belongs to, or NULL (compress) */
    void (*usage)(FILE *out);
    int allow_quantize; /* --quantize MODE appends a quantize step */
} cli_compress_cmd;

/* Parses the options, runs, prints; returns the exit code. */
int cli_compress_main(const cli_compress_cmd *cmd, int argc, char **argv);

/* The options every compression command takes, for the usage texts. */
extern const char CLI_COMPRESS_COMMON_HELP[];

#endif
