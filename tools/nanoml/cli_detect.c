#include "cli_detect.h"

#include <stdint.h>
#include <string.h>

#include "cli.h"
#include "cli_numbers.h"

/* The detection commands' numbers: limits in cli_numbers.c. */
int cli_parse_float(const char *cmd, const char *opt, const char *s, float *v) {
    double d;
    if (cli_real(cmd, opt, s, &d) != 0) return 0;
    *v = (float)d;
    return 1;
}

int cli_parse_count(const char *cmd, const char *opt, const char *s, size_t *v) {
    int64_t n;
    if (cli_int(cmd, opt, s, &n) != 0) return 0;
    *v = (size_t)n;
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
        if (r < 0 || cli_wxh(cmd, "--size", v, &c->width, &c->height) != 0) return 2;
        c->size = v;
        return 1;
    }
    if ((r = cli_take_value(cmd, argc, argv, i, "--train-size", &v)) != 0) {
        if (r < 0 || cli_wxh(cmd, "--train-size", v, &c->train_w, &c->train_h) != 0) return 2;
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
    *names = (nml_class_names){NULL, 0, 0};
    if (c->names_path)
        NML_TRY(nml_class_names_load(c->names_path, names, err));
    else
        *names = nml_class_names_coco();
    nml_status st = nml_detector_open(d, c->model, c->kind, names->count, err);
    if (st != NML_OK) {
        nml_class_names_free(names);
        return st;
    }
    if (c->size && (st = nml_detector_check_size(d, c->width, c->height, err)) != NML_OK) {
        cli_det_close(names, d);
        return st;
    }
    if (c->train_w > 0) {
        d->fastestdet.train_w = c->train_w;
        d->fastestdet.train_h = c->train_h;
    }
    return NML_OK;
}

void cli_det_close(nml_class_names *names, nml_detector *d) {
    nml_detector_close(d);
    nml_class_names_free(names);
}
