/* nanoml quantize: post-training quantization of a float32 .tflite model. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_numbers.h"
#include "nanoml/file.h"
#include "nanoml/idx.h"
#include "nanoml/quantize.h"

#define CMD "quantize"
#define MODEL_MAX_BYTES ((size_t)1 << 31)

static void usage(FILE *out) {
    fprintf(
        out,
        "usage: nanoml quantize MODEL.tflite --out OUT.tflite [--mode MODE] [--calib SOURCE]\n"
        "                       [options]\n"
        "\n"
        "Post-training quantization of a float32 model, following the TFLite converter's\n"
        "conventions (the result runs in nanoml's runtime, TFLite Micro and LiteRT).\n"
        "\n"
        "modes:\n"
        "  int8     full integer (default): int8 weights per channel, int32 bias, int8\n"
        "           activations with ranges calibrated on real input samples (--calib)\n"
        "  int4     as int8, with int4 weights (two per byte) for CONV_2D,\n"
        "           DEPTHWISE_CONV_2D and FULLY_CONNECTED\n"
        "  dynamic  int8 weights for CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED, float\n"
        "           activations (hybrid kernels); needs no calibration data\n"
        "  float16  float16 constants expanded by DEQUANTIZE; needs no calibration data\n"
        "\n"
        "options:\n"
        "  --out FILE          write the quantized model here (required)\n"
        "  --mode MODE         int8 | int4 | dynamic | float16 (default int8)\n"
        "  --calib SOURCE      calibration samples (int8, int4), one per model inference:\n"
        "                        npy:DIR    a directory with one .npy per sample, taken in\n"
        "                                   file-name order (single-input models)\n"
        "                        npy:FILE   one .npy whose first dimension counts samples\n"
        "                        fashion-mnist[:N]  the first N (default 1000) Fashion-MNIST\n"
        "                                   training images, scaled to [0, 1] and zero-padded\n"
        "                                   to the input as `nanoml train` does\n"
        "                        images:DIR every .png/.jpg/.jpeg/.bmp in DIR (name order),\n"
        "                                   resized to the input, scaled to [0, 1]\n"
        "  --samples N         use at most N calibration samples (default: all)\n"
        "  --calibrator NAME   how ranges are chosen from the observed values:\n"
        "                        minmax      the extremes (default)\n"
        "                        percentile  clip to the P-th / (100-P)-th percentile\n"
        "                        mse         least squared quantization error\n"
        "  --percentile P      percentile calibrator: P in (50, 100], default 99.99\n"
        "  --io TYPE           int8/int4 models: type of inputs and outputs:\n"
        "                      float (default; QUANTIZE/DEQUANTIZE added), int8, uint8\n"
        "  --per-tensor        one weight scale per tensor instead of one per channel\n"
        "  --min-elements N    dynamic, float16: keep constants with fewer than N elements\n"
        "                      in float32 (the TFLite converter uses 1024; default 0)\n"
        "  --keep-names        keep every tensor's name in the file (default: only the\n"
        "                      inputs' and outputs'; the runtimes address tensors by\n"
        "                      index, and the names of an ONNX import are ~2%% of the file)\n"
        "  --verbose           print every activation's range and quantization\n"
        "  --quiet             no progress display\n"
        "  -h, --help          show this help\n"
        "\n"
        "example:\n"
        "  nanoml quantize model.tflite --out model_int8.tflite --calib npy:calib/ --io int8\n");
}

typedef struct quant_args {
    const char *model, *out, *calib;
    nml_quant_options o;
    int verbose, quiet, keep_names;
} quant_args;

static int parse_choice(const char *value, const char *const *names, int n, int *out) {
    for (int i = 0; i < n; i++)
        if (strcmp(value, names[i]) == 0) {
            *out = i;
            return 1;
        }
    return 0;
}

static const char *const MODES[] = {"int8", "dynamic", "float16", "int4"};
static const char *const CALIBRATORS[] = {"minmax", "percentile", "mse"};
static const char *const IO_TYPES[] = {"float", "int8", "uint8"};

static int parse_value(quant_args *a, const char *name, const char *value) {
    int choice;
    if (strcmp(name, "--out") == 0) {
        a->out = value;
    } else if (strcmp(name, "--calib") == 0) {
        a->calib = value;
    } else if (strcmp(name, "--mode") == 0) {
        if (!parse_choice(value, MODES, 4, &choice))
            return cli_usage_error(CMD, "unknown mode '%s' (int8, int4, dynamic, float16)", value);
        a->o.mode = (nml_quant_mode)choice;
    } else if (strcmp(name, "--calibrator") == 0) {
        if (!parse_choice(value, CALIBRATORS, 3, &choice))
            return cli_usage_error(CMD, "unknown calibrator '%s' (minmax, percentile, mse)", value);
        a->o.calibrator = (nml_calibrator)choice;
    } else if (strcmp(name, "--io") == 0) {
        if (!parse_choice(value, IO_TYPES, 3, &choice))
            return cli_usage_error(CMD, "unknown --io type '%s' (float, int8, uint8)", value);
        a->o.io = (nml_quant_io)choice;
    } else if (strcmp(name, "--samples") == 0) {
        int64_t n;
        if (cli_int(CMD, name, value, &n)) return 2;
        a->o.max_samples = (uint32_t)n;
    } else if (strcmp(name, "--min-elements") == 0) {
        int64_t n;
        if (cli_int(CMD, name, value, &n)) return 2;
        a->o.min_elements = (uint64_t)n;
    } else { /* --percentile */
        if (cli_real(CMD, name, value, &a->o.percentile)) return 2;
    }
    return 0;
}

static int parse(int argc, char **argv, quant_args *a) {
    static const char *const valued[] = {"--out", "--calib",   "--mode",       "--calibrator",
                                         "--io",  "--samples", "--percentile", "--min-elements"};
    memset(a, 0, sizeof *a);
    nml_quant_options_default(&a->o);
    for (int i = 1; i < argc; i++) {
        int matched = 0;
        for (size_t k = 0; k < sizeof valued / sizeof valued[0] && !matched; k++) {
            const char *value;
            int r = cli_take_value(CMD, argc, argv, &i, valued[k], &value);
            if (r < 0) return 2;
            if (r > 0) {
                matched = 1;
                if (parse_value(a, valued[k], value)) return 2;
            }
        }
        if (matched) continue;
        if (strcmp(argv[i], "--per-tensor") == 0)
            a->o.per_channel = 0;
        else if (strcmp(argv[i], "--verbose") == 0)
            a->verbose = 1;
        else if (strcmp(argv[i], "--keep-names") == 0)
            a->keep_names = 1;
        else if (strcmp(argv[i], "--quiet") == 0)
            a->quiet = 1;
        else if (argv[i][0] == '-')
            return cli_usage_error(CMD, "unknown option '%s'", argv[i]);
        else if (!a->model)
            a->model = argv[i];
        else
            return cli_usage_error(CMD, "more than one model given ('%s')", argv[i]);
    }
    if (!a->model) return cli_usage_error(CMD, "no model given");
    if (!a->out) return cli_usage_error(CMD, "--out is required");
    const int full = a->o.mode == NML_QUANT_INT8 || a->o.mode == NML_QUANT_INT4;
    if (full && !a->calib)
        return cli_usage_error(CMD,
                               "--mode %s needs calibration data: --calib npy:DIR, "
                               "fashion-mnist or images:DIR (real input samples of the model)",
                               MODES[a->o.mode]);
    if (!full && a->calib)
        return cli_usage_error(CMD, "--mode %s uses no calibration data; drop --calib",
                               MODES[a->o.mode]);
    return 0;
}

static nml_status open_calib(const char *spec, const nml_ir *model, nml_calib_source *src,
                             nml_error *err) {
    return nml_calib_open_spec(src, spec, model, NML_FASHION_MNIST_DIR, err);
}

static const char *mode_summary(const nml_quant_options *o) {
    switch (o->mode) {
    case NML_QUANT_DYNAMIC:
        return "dynamic range: int8 weights, float32 activations";
    case NML_QUANT_FLOAT16:
        return "float16 constants, float32 compute";
    case NML_QUANT_INT4:
        return "int4 weights, int8 activations, int32 bias";
    default:
        return "int8 weights and activations, int32 bias";
    }
}

static double ratio(size_t after, size_t before) {
    return before ? 100.0 * (double)after / (double)before : 0.0;
}

static void print_summary(const quant_args *a, const nml_quant_report *r, size_t in_bytes,
                          size_t out_bytes, const char *source) {
    printf("quantized   %s -> %s\n", a->model, a->out);
    printf("mode        %s (%s)\n", MODES[a->o.mode], mode_summary(&a->o));
    if (a->o.mode == NML_QUANT_INT8 || a->o.mode == NML_QUANT_INT4) {
        printf("weights     %s\n", a->o.per_channel ? "per channel" : "per tensor");
        printf("calibration %u samples from %s, %s", (unsigned)r->samples, source,
               CALIBRATORS[a->o.calibrator]);
        if (a->o.calibrator == NML_CALIB_PERCENTILE) printf(" %g", a->o.percentile);
        printf("\ninputs and outputs %s\n", IO_TYPES[a->o.io]);
    }
    printf("file        %zu -> %zu bytes (%.1f%%)\n", in_bytes, out_bytes,
           ratio(out_bytes, in_bytes));
    printf("constants   %zu -> %zu bytes (%.1f%%)\n", r->const_bytes_before, r->const_bytes_after,
           ratio(r->const_bytes_after, r->const_bytes_before));
    printf("converted   %d constant tensors", r->weights_quantized);
    if (r->requantize_ops) printf(", %d requantize operators added", r->requantize_ops);
    printf("\n");
    if (!a->verbose || r->n_ranges == 0) return;
    printf("\n%-12s %-12s %-12s %-12s %-13s %5s  %s\n", "min", "max", "clip lo", "clip hi", "scale",
           "zp", "activation");
    for (int i = 0; i < r->n_ranges; i++) {
        const nml_quant_range *e = &r->ranges[i];
        printf("%-12.6g %-12.6g %-12.6g %-12.6g %-13.7g %5d  %s\n", e->min, e->max, e->lo, e->hi,
               e->scale, (int)e->zero_point, e->name);
    }
}

static int quantize(const quant_args *a) {
    nml_error err;
    uint8_t *bytes = NULL, *out = NULL;
    size_t size = 0, out_size = 0;
    nml_ir in, q;
    nml_calib_source src;
    nml_quant_report report;
    memset(&src, 0, sizeof src);
    memset(&report, 0, sizeof report);
    nml_ir_init(&in);
    nml_ir_init(&q);
    nml_status st = nml_read_file(a->model, MODEL_MAX_BYTES, &bytes, &size, &err);
    if (st == NML_OK && (st = nml_ir_from_tflite(&in, bytes, size, &err)) != NML_OK)
        nml_error_prefix(&err, "%s: ", a->model);
    if (st == NML_OK && a->calib) st = open_calib(a->calib, &in, &src, &err);
    cli_bar bar;
    cli_bar_init(&bar, "sample", a->quiet);
    nml_quant_options o = a->o;
    o.progress = cli_bar_update;
    o.progress_user = &bar;
    if (st == NML_OK) st = nml_quantize(&in, &q, &o, a->calib ? &src : NULL, &report, &err);
    cli_bar_end(&bar);
    /* the quantized model is the one that goes to flash; names are for debugging */
    if (st == NML_OK && !a->keep_names) nml_ir_drop_tensor_names(&q);
    if (st == NML_OK) st = nml_ir_to_tflite(&q, &out, &out_size, &err);
    if (st == NML_OK) st = nml_write_file(a->out, out, out_size, &err);
    if (st == NML_OK) print_summary(a, &report, size, out_size, src.name ? src.name : "");
    nml_calib_close(&src);
    nml_quant_report_free(&report);
    nml_ir_free(&in);
    nml_ir_free(&q);
    free(bytes);
    free(out);
    return st == NML_OK ? 0 : cli_error(CMD, &err);
}

int cmd_quantize(int argc, char **argv);
int cmd_quantize(int argc, char **argv) {
    for (int i = 1; i < argc; i++)
        if (cli_is_help(argv[i])) {
            usage(stdout);
            return 0;
        }
    quant_args a;
    int rc = parse(argc, argv, &a);
    if (rc) return rc;
    return quantize(&a);
}
