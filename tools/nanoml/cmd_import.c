/* nanoml import: ONNX -> .tflite (float32, NHWC). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "cli_numbers.h"
#include "nanoml/file.h"
#include "nanoml/ir.h"
#include "onnx/import.h"

int cmd_import(int argc, char **argv);

static const char *const CMD = "import";

static void usage(FILE *out) {
    fprintf(
        out,
        "usage: nanoml import MODEL.onnx --out MODEL.tflite [options]\n\n"
        "Converts an ONNX model (opsets 7-21 accepted; tested with 11, 13 and 17) to float32 "
        "TFLite.\n"
        "Batch norms and activations are fused, constant sub-graphs folded, and data-movement\n"
        "chains (Reshape/Transpose/Gather, e.g. channel shuffles) become single operators.\n\n"
        "Layout: rank-4 tensors become NHWC. A [N,C,H,W] input is fed as [N,H,W,C] (same\n"
        "values and scaling the ONNX model expects, e.g. FastestDet: BGR/255), and a rank-4\n"
        "output comes out as [N,H,W,C] unless --keep-nchw-output is given. Inputs and\n"
        "outputs of other ranks keep the ONNX axis order.\n\n"
        "options:\n"
        "  --out FILE             the .tflite file to write (required)\n"
        "  --input-shape NxCxHxW  re-target the input size (ONNX order), e.g. 1x3x86x128;\n"
        "                         shapes stored in the model for the export size are re-derived\n"
        "  --keep-nchw-output     end with a TRANSPOSE so rank-4 outputs are [N,C,H,W]\n"
        "  --quiet                print nothing but errors\n"
        "  -h, --help             show this help\n");
}

/* Shape inference, the part that grows with the model, reports per ONNX node. */
static void progress(void *user, size_t done, size_t total) {
    cli_bar_update(user, done, total, "shapes");
}

static void print_dims(const nml_ir_tensor *t) {
    printf("[");
    for (int i = 0; i < t->rank; i++)
        printf("%s%d", i ? "," : "", (int)t->dims[i]);
    printf("]");
}

static void print_summary(const char *path, const nml_onnx_model *m, const nml_ir *ir,
                          const nml_onnx_import_stats *st) {
    printf("%s: opset %lld, producer %s %s, %zu nodes\n", path,
           (long long)nml_onnx_opset_version(m), m->producer_name[0] ? m->producer_name : "?",
           m->producer_version, st->onnx_nodes);
    for (int i = 0; i < ir->n_inputs; i++) {
        printf("  input  %-12s ", ir->tensors[ir->inputs[i]].name);
        print_dims(&ir->tensors[ir->inputs[i]]);
        printf(" float32\n");
    }
    for (int i = 0; i < ir->n_outputs; i++) {
        printf("  output %-12s ", ir->tensors[ir->outputs[i]].name);
        print_dims(&ir->tensors[ir->outputs[i]]);
        printf(" float32\n");
    }
    printf("  nodes: %zu converted, %zu fused (batch norm, activations), %zu folded (constants),\n"
           "         %zu absorbed (data movement), %zu unused\n",
           st->converted, st->fused, st->folded, st->absorbed, st->dead);
    size_t removed =
        st->onnx_transposes > st->ir_transposes ? st->onnx_transposes - st->ir_transposes : 0;
    printf("  transposes: %zu in the ONNX graph, %zu in the result (%zu removed; %zu cancelled in "
           "pairs)\n",
           st->onnx_transposes, st->ir_transposes, removed, st->transposes_removed);
    printf("  operators: %zu:", st->ir_ops);
    int first = 1;
    for (int code = 0; code < 256; code++)
        if (st->op_hist[code]) {
            printf("%s %s %d", first ? "" : ",", nml_op_name(code), st->op_hist[code]);
            first = 0;
        }
    printf("\n  tensors: %zu; parameters: %llu float32 (%llu bytes of constants in all)\n",
           st->ir_tensors, (unsigned long long)st->params, (unsigned long long)st->param_bytes);
}

int cmd_import(int argc, char **argv) {
    const char *in_path = NULL, *out_path = NULL, *shape = NULL;
    int keep_nchw = 0, quiet = 0;
    for (int i = 1; i < argc; i++) {
        int r;
        if (cli_is_help(argv[i])) {
            usage(stdout);
            return 0;
        }
        if ((r = cli_take_value(CMD, argc, argv, &i, "--out", &out_path)) != 0) {
            if (r < 0) return 2;
        } else if ((r = cli_take_value(CMD, argc, argv, &i, "--input-shape", &shape)) != 0) {
            if (r < 0) return 2;
        } else if (!strcmp(argv[i], "--keep-nchw-output")) {
            keep_nchw = 1;
        } else if (!strcmp(argv[i], "--quiet")) {
            quiet = 1;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            return cli_usage_error(CMD, "unknown option '%s'", argv[i]);
        } else if (!in_path) {
            in_path = argv[i];
        } else {
            return cli_usage_error(CMD, "more than one model given ('%s')", argv[i]);
        }
    }
    if (!in_path) return cli_usage_error(CMD, "no ONNX model given");
    if (!out_path) return cli_usage_error(CMD, "--out FILE is required");

    nml_error err;
    nml_onnx_import_options opt;
    nml_onnx_import_options_default(&opt);
    opt.keep_nchw_output = keep_nchw;
    if (shape) {
        int32_t dims[NML_MAX_RANK];
        if (cli_shape(CMD, "--input-shape", shape, &opt.n_input_shape, dims)) return 2;
        for (int i = 0; i < opt.n_input_shape; i++)
            opt.input_shape[i] = dims[i];
    }
    /* a bar on a terminal only: imports take a second, logs need no ten lines of it */
    cli_bar bar;
    cli_bar_init(&bar, "node", quiet || !isatty(2));
    opt.progress = progress;
    opt.progress_user = &bar;

    uint8_t *data = NULL;
    size_t size = 0;
    if (nml_read_file(in_path, (size_t)1 << 31, &data, &size, &err) != NML_OK)
        return cli_error(CMD, &err);
    nml_onnx_model model;
    if (nml_onnx_parse(&model, data, size, &err) != NML_OK) {
        free(data);
        nml_error_prefix(&err, "%s: ", in_path);
        return cli_error(CMD, &err);
    }
    free(data);
    nml_ir ir;
    nml_ir_init(&ir);
    nml_onnx_import_stats st;
    int rc = 0;
    nml_status ist = nml_onnx_import_model(&model, &opt, &ir, &st, &err);
    cli_bar_end(&bar);
    if (ist != NML_OK) {
        nml_error_prefix(&err, "%s: ", in_path);
        rc = cli_error(CMD, &err);
    }
    if (!rc && !quiet) print_summary(in_path, &model, &ir, &st);
    uint8_t *flat = NULL;
    size_t flat_size = 0;
    fflush(stdout); /* the summary before any error line */
    if (!rc && (nml_ir_to_tflite(&ir, &flat, &flat_size, &err) != NML_OK ||
                nml_write_file(out_path, flat, flat_size, &err) != NML_OK))
        rc = cli_error(CMD, &err);
    if (!rc && !quiet) printf("wrote %s (%zu bytes)\n", out_path, flat_size);
    free(flat);
    nml_ir_free(&ir);
    nml_onnx_free(&model);
    return rc;
}
