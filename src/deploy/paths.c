#include "paths.h"

#include <stdio.h>

nml_status nml_path_join(char *out, size_t cap, const char *a, const char *b, nml_error *err) {
    int n = snprintf(out, cap, "%s/%s", a, b);
    if (n < 0 || (size_t)n >= cap)
        return nml_fail(err, NML_E_LIMIT, "path '%s/%s' is longer than %zu bytes", a, b, cap - 1);
    return NML_OK;
}
