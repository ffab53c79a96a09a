/* The numbers, sizes and shapes of every nanoml command option (tools/nanoml/cli_numbers.c:
 * --epochs, --lr, --arena, --input-shape, --size, ...). The first byte picks the option, the rest
 * is the text typed after it. Whatever the CLI accepts must lie inside that option's limits and
 * print back to text that parses to the same value; every refusal names the option. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_numbers.h"
#include "fuzz_target.h"

static size_t option_count(void) {
    size_t n = 0;
    while (cli_numbers[n].cmd)
        n++;
    return n;
}

static void check_value(const cli_num_spec *s, const cli_num_value *v) {
    char text[NML_MAX_RANK * 12 + 40];
    cli_num_value again;
    switch (s->kind) {
    case CLI_INT:
    case CLI_SIZE:
        nml_fuzz_check(v->i >= s->min && v->i <= s->max, "integer within the option's limits");
        snprintf(text, sizeof text, "%lld", (long long)v->i);
        break;
    case CLI_REAL:
        nml_fuzz_check(isfinite(v->d) && v->d <= s->hi &&
                           (s->lo_open ? v->d > s->lo : v->d >= s->lo),
                       "number within the option's limits");
        snprintf(text, sizeof text, "%.17g", v->d);
        break;
    case CLI_WXH:
        nml_fuzz_check(v->rank == 2 && v->dims[0] >= 1 && v->dims[0] <= s->max && v->dims[1] >= 1 &&
                           v->dims[1] <= s->max,
                       "image size within the option's limits");
        snprintf(text, sizeof text, "%dx%d", (int)v->dims[0], (int)v->dims[1]);
        break;
    default: {
        nml_fuzz_check(v->rank >= 1 && v->rank <= NML_MAX_RANK, "rank within the limit");
        uint64_t count = 1;
        size_t n = 0;
        for (int i = 0; i < v->rank; i++) {
            nml_fuzz_check(v->dims[i] >= 1, "positive dimension");
            count *= (uint64_t)v->dims[i];
            n += (size_t)snprintf(text + n, sizeof text - n, i ? "x%d" : "%d", (int)v->dims[i]);
        }
        nml_fuzz_check(count <= NML_MAX_TENSOR_BYTES, "element count within the limit");
        break;
    }
    }
    nml_error err;
    nml_fuzz_check(cli_num_parse(s, text, &again, &err) == NML_OK &&
                       memcmp(&again, v, sizeof again) == 0,
                   "value round trip");
}

static nml_status one(const uint8_t *data, size_t size, nml_error *err) {
    if (size == 0) return NML_OK;
    const cli_num_spec *s = &cli_numbers[data[0] % option_count()];
    char *text = malloc(size); /* the rest, NUL-terminated: argv strings are */
    if (!text) return NML_OK;
    memcpy(text, data + 1, size - 1);
    text[size - 1] = '\0';
    cli_num_value v;
    nml_status st = cli_num_parse(s, text, &v, err);
    if (st == NML_OK)
        check_value(s, &v);
    else
        nml_fuzz_check(strncmp(err->msg, s->option, strlen(s->option)) == 0 &&
                           err->msg[strlen(s->option)] == ':',
                       "the error names the option");
    free(text);
    return st;
}

NML_FUZZ_TARGET(one, 256)
