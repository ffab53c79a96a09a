/* Tensor formatting shared by the model subcommands (inspect, run). */
#ifndef NANOML_CLI_TENSOR_H
#define NANOML_CLI_TENSOR_H

#include <stddef.h>
#include <stdio.h>

#include "nanoml/runtime.h"

/* "int8 1x28x28x1" */
void cli_tensor_desc(char *buf, size_t cap, const nml_tensor *t);
/* A JSON string literal with escapes. */
void cli_json_string(FILE *f, const char *s);
/* [1, 28, 28, 1] */
void cli_json_shape(FILE *f, const nml_tensor *t);
/* 1 when s ends with suffix (ASCII case-insensitive). */
int cli_ends_with(const char *s, const char *suffix);
/* Element i of a tensor's data as a double (0 for types without a numeric reading). */
double cli_tensor_value(const void *data, int type, size_t i);

#endif
