/* nanoml preprocess: write images as a detection model's input tensors (.npy), exactly as
 * `nanoml detect` feeds them, e.g. as calibration samples for `nanoml quantize --calib npy:DIR`.
 * Thin over nml_detector_set_input: the model decides size, layout, colour order and type. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_detect.h"
#include "cli_tensor.h"
#include "nanoml/det_dataset.h"
#include "nanoml/file.h"
#include "nanoml/npy.h"
#include "nanoml/progress.h"

#define CMD "preprocess"

static void usage(FILE *out) {
    fprintf(out,
            "usage: nanoml preprocess MODEL.tflite --out DIR [IMG ...] [--dataset DIR]\n"
            "                         [--skip N] [--limit N] [--size WxH]\n"
            "                         [--decoder fastestdet|yolov8|auto] [--quiet]\n\n"
            "Writes each image as the model's input tensor, preprocessed exactly as\n"
            "`nanoml detect` does (FastestDet: bilinear stretch, BGR / 255; YOLOv8:\n"
            "letterbox, RGB / 255; quantized inputs quantized), one .npy per image named\n"
            "NNNNN_STEM.npy so that file-name order is the order given. With a float model\n"
            "the files are calibration samples for `nanoml quantize --calib npy:DIR`.\n\n"
            "options:\n"
            "  --out DIR          output folder, created if needed (required)\n"
            "  --dataset DIR      also take the images of a YOLO-layout dataset (DIR/images,\n"
            "                     sorted by file name, as `nanoml eval-detect` reads them)\n"
            "  --skip N           dataset: start at image N\n"
            "  --limit N          dataset: take at most N images\n"
            "  --size WxH         check that the model takes this input size\n"
            "  --decoder KIND     fastestdet, yolov8 or auto (default auto: from the output)\n"
            "  --quiet            no progress display\n"
            "  -h, --help         show this help\n\n"
            "example:\n"
            "  nanoml preprocess fastestdet.tflite --dataset coco128-val --limit 64 --out calib\n"
            "  nanoml quantize fastestdet.tflite --calib npy:calib --out fastestdet_int8.tflite\n");
}

typedef struct prep_args {
    cli_det_common c;
    const char *out, *dataset;
    size_t skip, limit;
    int quiet;
    const char **images; /* positional image paths (points into argv) */
    size_t n_images;
} prep_args;

static int take_option(int argc, char **argv, int *i, prep_args *a) {
    const char *v;
    int r;
    if (strcmp(argv[*i], "--quiet") == 0) {
        a->quiet = 1;
        return 1;
    }
    if ((r = cli_take_value(CMD, argc, argv, i, "--out", &v)) != 0) {
        a->out = v;
        return r < 0 ? 2 : 1;
    }
    if ((r = cli_take_value(CMD, argc, argv, i, "--dataset", &v)) != 0) {
        a->dataset = v;
        return r < 0 ? 2 : 1;
    }
    if ((r = cli_take_value(CMD, argc, argv, i, "--skip", &v)) != 0)
        return r < 0 || !cli_parse_count(CMD, "--skip", v, &a->skip) ? 2 : 1;
    if ((r = cli_take_value(CMD, argc, argv, i, "--limit", &v)) != 0)
        return r < 0 || !cli_parse_count(CMD, "--limit", v, &a->limit) ? 2 : 1;
    return cli_det_common_option(CMD, argc, argv, i, &a->c);
}

static int parse(int argc, char **argv, prep_args *a) {
    memset(a, 0, sizeof *a);
    a->images = (const char **)calloc((size_t)argc, sizeof *a->images);
    if (!a->images) return cli_errorf(CMD, "out of memory");
    for (int i = 1; i < argc; i++) {
        if (cli_is_help(argv[i])) {
            usage(stdout);
            return 0;
        }
        int r = take_option(argc, argv, &i, a);
        if (r == 2) return 2;
        if (r == 1) continue;
        if (argv[i][0] == '-' && argv[i][1])
            return cli_usage_error(CMD, "unknown option '%s'", argv[i]);
        if (!a->c.model)
            a->c.model = argv[i];
        else
            a->images[a->n_images++] = argv[i];
    }
    if (a->c.json) return cli_usage_error(CMD, "--json is not an option of preprocess");
    if (!a->c.model) return cli_usage_error(CMD, "no model given");
    if (!a->out) return cli_usage_error(CMD, "no --out folder given");
    if (!a->dataset && (a->skip || a->limit))
        return cli_usage_error(CMD, "--skip and --limit apply to --dataset, which is not given");
    if (!a->dataset && !a->n_images) return cli_usage_error(CMD, "no images given");
    return -1;
}

/* "dir/sub/000139.jpg" -> "000139" (at most cap-1 characters). */
static void file_stem(const char *path, char *stem, size_t cap) {
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    size_t n = strlen(base);
    const char *dot = strrchr(base, '.');
    if (dot && dot != base) n = (size_t)(dot - base);
    if (n >= cap) n = cap - 1;
    memcpy(stem, base, n);
    stem[n] = '\0';
}

static nml_status write_one(nml_detector *d, const char *image, const char *out_dir, size_t index,
                            nml_error *err) {
    nml_image img = {0, 0, 0, NULL};
    nml_status st = nml_image_load(image, 3, &img, err);
    if (st == NML_OK) st = nml_detector_set_input(d, &img, NULL, err);
    nml_image_free(&img);
    if (st != NML_OK) return st;
    char stem[128], path[4096];
    file_stem(image, stem, sizeof stem);
    int n = snprintf(path, sizeof path, "%s/%05zu_%s.npy", out_dir, index, stem);
    if (n < 0 || (size_t)n >= sizeof path)
        return nml_fail(err, NML_E_ARG, "%s: output path too long", out_dir);
    const nml_tensor *t = nml_input(&d->it, 0);
    return nml_npy_write(path, t->type, t->rank, t->dims, t->data, err);
}

static nml_status run(const prep_args *a, nml_detector *d, size_t *written, nml_error *err) {
    nml_det_dataset ds = {NULL, 0, NULL, NULL};
    if (a->dataset) NML_TRY(nml_det_dataset_open(a->dataset, d->num_classes, &ds, err));
    size_t first = a->skip < ds.count ? a->skip : ds.count;
    size_t from_ds = ds.count - first;
    if (a->limit && a->limit < from_ds) from_ds = a->limit;
    size_t total = a->n_images + from_ds;
    nml_status st = nml_make_dirs(a->out, err);
    nml_progress bar;
    nml_progress_begin_ex(&bar, "preprocess", total, "img", stderr,
                          a->quiet ? NML_PROGRESS_OFF : NML_PROGRESS_AUTO);
    for (size_t i = 0; st == NML_OK && i < total; i++) {
        const char *image =
            i < a->n_images ? a->images[i] : ds.samples[first + i - a->n_images].image_path;
        st = write_one(d, image, a->out, i, err);
        if (st == NML_OK) nml_progress_set(&bar, i + 1);
        *written = i + (st == NML_OK);
    }
    nml_progress_end(&bar);
    nml_det_dataset_free(&ds);
    return st;
}

int cmd_preprocess(int argc, char **argv);
int cmd_preprocess(int argc, char **argv) {
    prep_args a;
    int rc = parse(argc, argv, &a);
    if (rc >= 0) {
        free(a.images);
        return rc;
    }
    nml_error err;
    nml_error_clear(&err);
    nml_class_names names;
    nml_detector d;
    if (cli_det_open(&a.c, &names, &d, &err) != NML_OK) {
        free(a.images);
        return cli_error(CMD, &err);
    }
    size_t written = 0;
    rc = run(&a, &d, &written, &err) == NML_OK ? 0 : cli_error(CMD, &err);
    if (rc == 0) {
        char desc[112];
        cli_tensor_desc(desc, sizeof desc, nml_input(&d.it, 0));
        printf("wrote %zu tensor%s (%s, %s preprocessing) to %s\n", written,
               written == 1 ? "" : "s", desc, nml_det_kind_name(d.kind), a.out);
    }
    cli_det_close(&names, &d);
    free(a.images);
    return rc;
}
