/* Strict parsing of the numbers, sizes and shapes users type on the command line (and that
 * text files such as label lists contain). Unlike atoi/strtol, nothing is silently accepted:
 * no leading or trailing spaces, no trailing garbage, no wrap-around, no locale. Every failure
 * is NML_E_ARG (bad syntax) or NML_E_LIMIT (out of range) with a message that quotes the text
 * (shortened when long) and gives the allowed range, e.g.
 *   "'12a' is not an integer"
 *   "'70000' is out of range (1 to 65535)"
 *   "shape '1x3x0': dimension 2 is 0 (dimensions are 1 to 2147483647)"
 * Callers add the option name: nml_error_prefix(err, "--epochs: "). Host only. */
#ifndef NANOML_PARSE_H
#define NANOML_PARSE_H

#include <stddef.h>
#include <stdint.h>

#include "nanoml/status.h"
#include "nanoml/types.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Decimal integer with an optional sign: "-12", "+7", "0". min <= value <= max. */
nml_status nml_parse_i64(const char *s, int64_t min, int64_t max, int64_t *out, nml_error *err);
nml_status nml_parse_int(const char *s, int min, int max, int *out, nml_error *err);

/* Decimal number: "0.5", "-3", "1e-3", ".25", "2." (no hex, no inf/nan). The value must be
 * finite and min <= value <= max; a value too small to represent becomes 0 only when it is
 * written as zero ("0.0", "0e5"): "1e-400" is out of range. */
nml_status nml_parse_double(const char *s, double min, double max, double *out, nml_error *err);
nml_status nml_parse_float(const char *s, float min, float max, float *out, nml_error *err);

/* Byte size: decimal digits with an optional binary suffix K, M, G (also KB/KiB, MB/MiB,
 * GB/GiB; case-insensitive; 1K = 1024 as in linker scripts): "4096", "256K", "1.5M" is not
 * accepted (whole numbers only). value <= max. */
nml_status nml_parse_size(const char *s, uint64_t max, uint64_t *out, nml_error *err);

/* Tensor shape: 1 to NML_MAX_RANK positive dimensions separated by 'x' or ','
 * ("1x3x86x128", "1,96,96,1"). The element count must not exceed NML_MAX_TENSOR_BYTES. */
nml_status nml_parse_shape(const char *s, int *rank, int32_t dims[NML_MAX_RANK], nml_error *err);

/* Image size WIDTHxHEIGHT ("128x86"), each 1 to max. */
nml_status nml_parse_wxh(const char *s, int32_t max, int32_t *width, int32_t *height,
                         nml_error *err);

#ifdef __cplusplus
}
#endif
#endif
