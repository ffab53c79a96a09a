/* nanoml report: a Markdown report as one self-contained HTML page (pictures inlined). */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "nanoml/file.h"
#include "nanoml/report.h"

#define CMD "report"
#define MD_LIMIT ((size_t)64 << 20)

int cmd_report(int argc, char **argv);

static void usage(FILE *f) {
    fprintf(f, "usage: nanoml report DIR [--md FILE] [--out FILE] [--title TEXT]\n\n"
               "Converts DIR/index.md into DIR/index.html: one self-contained page with every\n"
               "picture (PNG, JPEG) inlined as a data: URI, so it opens anywhere without other\n"
               "files or a network. Links stay as written (relative to DIR). The Markdown subset:\n"
               "headings, paragraphs, pipe tables, lists, fenced code, HTML comments (dropped),\n"
               "`code`, **strong**, *emphasis*, [links](x), ![pictures](x.png) and <br>.\n\n"
               "options:\n"
               "  --md FILE      the Markdown file (default DIR/index.md); pictures are read\n"
               "                 relative to its folder\n"
               "  --out FILE     the HTML page (default DIR/index.html)\n"
               "  --title TEXT   page title (default: the first heading)\n"
               "  -h, --help     show this help\n");
}

typedef struct report_args {
    const char *dir, *md, *out, *title;
} report_args;

static int parse(int argc, char **argv, report_args *a) {
    memset(a, 0, sizeof *a);
    for (int i = 1; i < argc; i++) {
        int r;
        if (cli_is_help(argv[i])) {
            usage(stdout);
            return -1;
        }
        if ((r = cli_take_value(CMD, argc, argv, &i, "--md", &a->md)) != 0 ||
            (r = cli_take_value(CMD, argc, argv, &i, "--out", &a->out)) != 0 ||
            (r = cli_take_value(CMD, argc, argv, &i, "--title", &a->title)) != 0) {
            if (r < 0) return 2;
            continue;
        }
        if (argv[i][0] == '-') return cli_usage_error(CMD, "unknown option '%s'", argv[i]);
        if (a->dir) return cli_usage_error(CMD, "more than one folder ('%s')", argv[i]);
        a->dir = argv[i];
    }
    if (!a->dir) return cli_usage_error(CMD, "no report folder given");
    return 0;
}

/* The folder part of a path ("." when there is none), in a new string. */
static char *folder_of(const char *path) {
    const char *slash = strrchr(path, '/');
    if (!slash) return strdup(".");
    size_t n = slash == path ? 1 : (size_t)(slash - path);
    char *s = malloc(n + 1);
    if (s) {
        memcpy(s, path, n);
        s[n] = '\0';
    }
    return s;
}

static char *join(const char *dir, const char *name) {
    size_t n = strlen(dir) + strlen(name) + 2;
    char *s = malloc(n);
    if (s) snprintf(s, n, "%s/%s", dir, name);
    return s;
}

static int run(const report_args *a, const char *md_path, const char *out_path) {
    nml_error err;
    nml_error_clear(&err);
    uint8_t *md = NULL;
    size_t md_size = 0;
    if (nml_read_file(md_path, MD_LIMIT, &md, &md_size, &err) != NML_OK)
        return cli_error(CMD, &err);
    char *base = folder_of(md_path);
    if (!base) {
        free(md);
        return cli_errorf(CMD, "out of memory");
    }
    nml_report_options o = {base, md_path, a->title};
    char *html = NULL;
    size_t html_len = 0;
    nml_status st = nml_report_html((const char *)md, md_size, &o, &html, &html_len, &err);
    free(md);
    free(base);
    if (st == NML_OK) st = nml_write_file(out_path, html, html_len, &err);
    free(html);
    if (st != NML_OK) return cli_error(CMD, &err);
    printf("wrote %s (%zu bytes)\n", out_path, html_len);
    return 0;
}

int cmd_report(int argc, char **argv) {
    report_args a;
    int r = parse(argc, argv, &a);
    if (r) return r < 0 ? 0 : r;
    char *md = a.md ? strdup(a.md) : join(a.dir, "index.md");
    char *out = a.out ? strdup(a.out) : join(a.dir, "index.html");
    r = md && out ? run(&a, md, out) : cli_errorf(CMD, "out of memory");
    free(md);
    free(out);
    return r;
}
