/* Host file helpers (not for the MCU runtime). */
#ifndef NANOML_FILE_H
#define NANOML_FILE_H

#include <stddef.h>
#include <stdint.h>

#include "nanoml/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Reads a whole regular file into a new 16-byte aligned buffer (free with free()); a NUL byte
 * follows the data (not counted in *size) so text parsers can rely on it. Directories, missing
 * files and files larger than max_bytes are errors naming the path. */
nml_status nml_read_file(const char *path, size_t max_bytes, uint8_t **data, size_t *size,
                         nml_error *err);

/* Writes size bytes to path (replacing it). */
nml_status nml_write_file(const char *path, const void *data, size_t size, nml_error *err);

/* Creates a directory and its parents (like mkdir -p). */
nml_status nml_make_dirs(const char *path, nml_error *err);

#ifdef __cplusplus
}
#endif
#endif
