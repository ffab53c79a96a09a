/* Bounded path building for src/deploy: a path that would not fit is an error, never a
 * silently truncated (wrong) path. */
#ifndef NANOML_DEPLOY_PATHS_H
#define NANOML_DEPLOY_PATHS_H

#include <stddef.h>

#include "nanoml/status.h"

#define NML_PATH_CAP 4096

/* out = a + "/" + b */
nml_status nml_path_join(char *out, size_t cap, const char *a, const char *b, nml_error *err);

#endif
