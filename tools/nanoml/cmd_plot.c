/* nanoml plot bars: a horizontal bar chart (PNG) from "VALUE LABEL" lines. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_numbers.h"
#include "nanoml/bars.h"
#include "nanoml/file.h"

#define CMD "plot"
#define DATA_LIMIT ((size_t)4 << 20)

int cmd_plot(int argc, char **argv);

static void usage(FILE *f) {
    fprintf(f, "usage: nanoml plot bars DATA --out CHART.png [--title TEXT] [--x-label TEXT]\n"
               "                        [--width N] [--bar-height N]\n\n"
               "Draws a horizontal bar chart with nanoml's own image and font code. DATA (a file,\n"
               "or - for standard input) has one bar per line: a value (a number >= 0), then the\n"
               "label (the rest of the line). Empty lines and lines starting with # are skipped.\n"
               "Bars keep the file's order. Example (instructions per operator):\n\n"
               "  123456 0 CONV_2D\n"
               "  7890 1 MAX_POOL_2D\n\n"
               "options:\n"
               "  --out FILE       the PNG to write (required)\n"
               "  --title TEXT     title above the chart\n"
               "  --x-label TEXT   label under the value axis\n"
               "  --width N        picture width in pixels, 200 to 8192 (default 900)\n"
               "  --bar-height N   pixels per bar, 4 to 256 (default 18)\n"
               "  -h, --help       show this help\n");
}

typedef struct plot_args {
    const char *data, *out, *title, *x_label;
    nml_bars_options o;
} plot_args;

static int parse_int(const char *opt, const char *v, int *out) {
    int64_t n;
    if (cli_int(CMD, opt, v, &n)) return 2;
    *out = (int)n;
    return 0;
}

static int parse(int argc, char **argv, plot_args *a) {
    memset(a, 0, sizeof *a);
    nml_bars_options_default(&a->o);
    if (argc < 2 || cli_is_help(argv[1])) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : -1;
    }
    if (strcmp(argv[1], "bars") != 0)
        return cli_usage_error(CMD, "unknown chart '%s' (bars)", argv[1]);
    for (int i = 2; i < argc; i++) {
        int r;
        const char *v;
        if (cli_is_help(argv[i])) {
            usage(stdout);
            return -1;
        }
        if ((r = cli_take_value(CMD, argc, argv, &i, "--out", &a->out)) != 0 ||
            (r = cli_take_value(CMD, argc, argv, &i, "--title", &a->title)) != 0 ||
            (r = cli_take_value(CMD, argc, argv, &i, "--x-label", &a->x_label)) != 0) {
            if (r < 0) return 2;
            continue;
        }
        if ((r = cli_take_value(CMD, argc, argv, &i, "--width", &v)) != 0) {
            if (r < 0 || parse_int("--width", v, &a->o.width)) return 2;
            continue;
        }
        if ((r = cli_take_value(CMD, argc, argv, &i, "--bar-height", &v)) != 0) {
            if (r < 0 || parse_int("--bar-height", v, &a->o.bar_height)) return 2;
            continue;
        }
        if (argv[i][0] == '-' && argv[i][1] != '\0')
            return cli_usage_error(CMD, "unknown option '%s'", argv[i]);
        if (a->data) return cli_usage_error(CMD, "more than one data file ('%s')", argv[i]);
        a->data = argv[i];
    }
    if (!a->data) return cli_usage_error(CMD, "no data file given");
    if (!a->out) return cli_usage_error(CMD, "--out CHART.png is required");
    a->o.title = a->title;
    a->o.x_label = a->x_label;
    return 0;
}

static int read_data(const char *path, char **text) {
    if (strcmp(path, "-") != 0) {
        nml_error err;
        uint8_t *data = NULL;
        size_t size = 0;
        if (nml_read_file(path, DATA_LIMIT, &data, &size, &err) != NML_OK)
            return cli_error(CMD, &err);
        *text = (char *)data;
        return 0;
    }
    size_t n = 0, cap = 4096;
    char *s = malloc(cap + 1);
    while (s) {
        size_t got = fread(s + n, 1, cap - n, stdin);
        n += got;
        if (got == 0) break;
        if (n == cap) {
            if (cap >= DATA_LIMIT) {
                free(s);
                return cli_errorf(CMD, "standard input: more than %zu bytes", DATA_LIMIT);
            }
            char *t = realloc(s, 2 * cap + 1);
            if (!t) free(s);
            s = t;
            cap *= 2;
        }
    }
    if (!s) return cli_errorf(CMD, "out of memory");
    s[n] = '\0';
    *text = s;
    return 0;
}

/* Splits the text in place into bars; line numbers in errors are 1-based. */
static int parse_bars(const char *name, char *text, nml_bar *bars, int *n) {
    int line = 0;
    *n = 0;
    for (char *s = text; s && *s;) {
        char *next = strchr(s, '\n');
        if (next) *next++ = '\0';
        line++;
        while (*s == ' ' || *s == '\t')
            s++;
        size_t len = strlen(s);
        while (len && (s[len - 1] == '\r' || s[len - 1] == ' '))
            s[--len] = '\0';
        if (*s && *s != '#') {
            char *end;
            errno = 0;
            double v = strtod(s, &end);
            if (end == s || errno || !isfinite(v) || v < 0.0 ||
                (*end && *end != ' ' && *end != '\t'))
                return cli_errorf(CMD, "%s:%d: '%s' does not start with a number >= 0", name, line,
                                  s);
            if (*n >= NML_BARS_MAX)
                return cli_errorf(CMD, "%s:%d: more than %d bars", name, line, NML_BARS_MAX);
            while (*end == ' ' || *end == '\t')
                end++;
            bars[*n].value = v;
            bars[*n].label = end;
            (*n)++;
        }
        s = next;
    }
    if (*n == 0) return cli_errorf(CMD, "%s: no bars (lines 'VALUE LABEL')", name);
    return 0;
}

int cmd_plot(int argc, char **argv) {
    plot_args a;
    int r = parse(argc, argv, &a);
    if (r) return r < 0 ? 0 : r;
    char *text = NULL;
    if ((r = read_data(a.data, &text)) != 0) return r;
    static nml_bar bars[NML_BARS_MAX];
    int n = 0;
    if ((r = parse_bars(a.data, text, bars, &n)) == 0) {
        nml_error err;
        nml_image img = {0, 0, 0, NULL};
        if (nml_plot_bars(bars, n, &a.o, &img, NULL, &err) != NML_OK ||
            nml_image_write_png(a.out, &img, &err) != NML_OK)
            r = cli_error(CMD, &err);
        else
            printf("wrote %s (%d bars, %dx%d)\n", a.out, n, img.w, img.h);
        nml_image_free(&img);
    }
    free(text);
    return r;
}
