#include "cli_tensor.h"

#include <ctype.h>
#include <string.h>

void cli_tensor_desc(char *buf, size_t cap, const nml_tensor *t) {
    char shape[96];
    nml_format_shape(shape, sizeof shape, t);
    snprintf(buf, cap, "%s %s", nml_dtype_name(t->type), shape);
}

void cli_json_string(FILE *f, const char *s) {
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; p && *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(f, "\\%c", *p);
        else if (*p < 0x20)
            fprintf(f, "\\u%04x", *p);
        else
            fputc(*p, f);
    }
    fputc('"', f);
}

void cli_json_shape(FILE *f, const nml_tensor *t) {
    fputc('[', f);
    for (uint32_t i = 0; i < t->rank; i++)
        fprintf(f, i ? ", %d" : "%d", (int)t->dims[i]);
    fputc(']', f);
}

int cli_ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), m = strlen(suffix);
    if (m > n) return 0;
    for (size_t i = 0; i < m; i++)
        if (tolower((unsigned char)s[n - m + i]) != tolower((unsigned char)suffix[i])) return 0;
    return 1;
}

double cli_tensor_value(const void *data, int type, size_t i) {
    const unsigned char *p = data;
    switch (type) {
    case NML_FLOAT32: {
        float v;
        memcpy(&v, p + 4 * i, 4);
        return v;
    }
    case NML_FLOAT64: {
        double v;
        memcpy(&v, p + 8 * i, 8);
        return v;
    }
    case NML_INT32: {
        int32_t v;
        memcpy(&v, p + 4 * i, 4);
        return v;
    }
    case NML_INT64: {
        int64_t v;
        memcpy(&v, p + 8 * i, 8);
        return (double)v;
    }
    case NML_INT16: {
        int16_t v;
        memcpy(&v, p + 2 * i, 2);
        return v;
    }
    case NML_INT8:
        return (int8_t)p[i];
    case NML_UINT8:
    case NML_BOOL:
        return p[i];
    default:
        return 0;
    }
}
