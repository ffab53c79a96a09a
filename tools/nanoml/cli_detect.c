#include "cli_detect.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

int cli_parse_float(const char *cmd, const char *opt, const char *s, float lo, float hi, float *v) {
    char *end;
    errno = 0;
    double x = strtod(s, &end);
    if (end == s || *end || errno || !isfinite(x) || x < lo || x > hi) {
        cli_usage_error(cmd, "%s needs a number in [%g, %g], got '%s'", opt, (double)lo, (double)hi,
                        s);
        return 0;
    }
    *v = (float)x;
    return 1;
}

int cli_parse_count(const char *cmd, const char *opt, const char *s, size_t *v) {
    char *end;
    errno = 0;
    unsigned long long x = strtoull(s, &end, 10);
    if (end == s || *end || errno || s[0] == '-' || x > 100000000ull) {
        cli_usage_error(cmd, "%s needs a whole number, got '%s'", opt, s);
        return 0;
    }
    *v = (size_t)x;
    return 1;
}

static int parse_size(const char *s, int *w, int *h) {
    char *end;
    errno = 0;
    long a = strtol(s, &end, 10);
    if (end == s || (*end != 'x' && *end != 'X') || errno || a < 1 || a > NML_IMAGE_MAX_DIM)
        return 0;
    const char *p = end + 1;
    long b = strtol(p, &end, 10);
    if (end == p || *end || errno || b < 1 || b > NML_IMAGE_MAX_DIM) return 0;
    *w = (int)a;
    *h = (int)b;
    return 1;
}

int cli_det_common_option(const char *cmd, int argc, char **argv, int *i, cli_det_common *c) {
    const char *v;
    int r;
    if (strcmp(argv[*i], "--json") == 0) {
        c->json = 1;
        return 1;
    }
    if ((r = cli_take_value(cmd, argc, argv, i, "--size", &v)) != 0) {
        if (r < 0) return 2;
        int w, h;
        if (!parse_size(v, &w, &h)) {
            cli_usage_error(cmd, "--size needs WxH (e.g. 640x640), got '%s'", v);
            return 2;
        }
        c->size = v;
        return 1;
    }
    if ((r = cli_take_value(cmd, argc, argv, i, "--train-size", &v)) != 0) {
        if (r < 0) return 2;
        if (!parse_size(v, &c->train_w, &c->train_h)) {
            cli_usage_error(cmd, "--train-size needs WxH (e.g. 352x352), got '%s'", v);
            return 2;
        }
        return 1;
    }
    if ((r = cli_take_value(cmd, argc, argv, i, "--decoder", &v)) != 0) {
        if (r < 0) return 2;
        nml_error err;
        if (nml_det_kind_parse(v, &c->kind, &err) != NML_OK) {
            cli_usage_error(cmd, "%s", err.msg);
            return 2;
        }
        return 1;
    }
    if ((r = cli_take_value(cmd, argc, argv, i, "--names", &v)) != 0) {
        if (r < 0) return 2;
        c->names_path = v;
        return 1;
    }
    return 0;
}

nml_status cli_det_open(const cli_det_common *c, nml_class_names *names, nml_detector *d,
                        nml_error *err) {
    if (c->names_path)
        NML_TRY(nml_class_names_load(c->names_path, names, err));
    else
        *names = nml_class_names_coco();
    NML_TRY(nml_detector_open(d, c->model, c->kind, names->count, err));
    int w, h;
    if (c->size && parse_size(c->size, &w, &h)) {
        nml_status st = nml_detector_check_size(d, w, h, err);
        if (st != NML_OK) {
            nml_detector_close(d);
            return st;
        }
    }
    if (c->train_w > 0) {
        d->fastestdet.train_w = c->train_w;
        d->fastestdet.train_h = c->train_h;
    }
    return NML_OK;
}
