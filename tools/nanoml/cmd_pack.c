/* nanoml pack: re-encode a quantized model's pruned/clustered weights in the runtime's compact
 * formats (or back to plain tensors with --unpack). */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_numbers.h"
#include "nanoml/file.h"
#include "nanoml/ir.h"
#include "nanoml/pack.h"

#define CMD "pack"

typedef struct pack_args {
    const char *in, *out;
    int unpack, quiet;
    nml_pack_options o;
} pack_args;

static void usage(FILE *f) {
    fprintf(f,
            "usage: nanoml pack MODEL.tflite --out PACKED.tflite [options]\n\n"
            "Stores the int8/int4 filters of CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED in\n"
            "the smallest encoding the nanoml runtime executes directly: sparse (a bitmask or\n"
            "gaps between the non-zero weights), clustered (indices into a table of at most 16\n"
            "values per layer or per output channel), or both; a tensor stays plain when no\n"
            "encoding saves bytes. Outputs are bit-identical. The result is a valid .tflite\n"
            "whose packed tensors only nanoml runs (docs/packed-weights.md); --unpack restores the\n"
            "plain model byte for byte.\n\n"
            "options:\n"
            "  --out FILE          where to write the result (required)\n"
            "  --unpack            turn packed tensors back into plain ones\n"
            "  --no-sparse         do not use the sparse encodings\n"
            "  --no-clusters       do not use cluster tables\n"
            "  --min-elements N    leave tensors with fewer elements plain (default 256)\n"
            "  --quiet             print nothing on success\n"
            "  -h, --help          show this help\n");
}

static int parse_args(int argc, char **argv, pack_args *a) {
    memset(a, 0, sizeof *a);
    nml_pack_options_default(&a->o);
    for (int i = 1; i < argc; i++) {
        const char *v;
        int r;
        if ((r = cli_take_value(CMD, argc, argv, &i, "--out", &v))) {
            if (r < 0) return 2;
            a->out = v;
        } else if ((r = cli_take_value(CMD, argc, argv, &i, "--min-elements", &v))) {
            int64_t n; /* limits in cli_numbers.c */
            if (r < 0 || cli_int(CMD, "--min-elements", v, &n)) return 2;
            a->o.min_elements = (uint32_t)n;
        } else if (strcmp(argv[i], "--unpack") == 0) {
            a->unpack = 1;
        } else if (strcmp(argv[i], "--no-sparse") == 0) {
            a->o.sparse = 0;
        } else if (strcmp(argv[i], "--no-clusters") == 0) {
            a->o.clustered = 0;
        } else if (strcmp(argv[i], "--quiet") == 0) {
            a->quiet = 1;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            return cli_usage_error(CMD, "unknown option '%s'", argv[i]);
        } else if (!a->in) {
            a->in = argv[i];
        } else {
            return cli_usage_error(CMD, "more than one model given ('%s')", argv[i]);
        }
    }
    if (!a->in) return cli_usage_error(CMD, "no model given");
    if (!a->out) return cli_usage_error(CMD, "no --out given");
    return 0;
}

static void print_report(const nml_ir *ir, const nml_pack_report *r) {
    printf("%4s  %-30s %-32s %9s %9s %8s %8s\n", "#", "tensor", "encoding", "plain", "stored",
           "zeros", "distinct");
    for (int i = 0; i < r->n_layers; i++) {
        const nml_pack_layer *l = &r->layers[i];
        printf("%4d  %-30.30s %-32s %9zu %9zu %7.1f%% %8u\n", l->tensor,
               ir->tensors[l->tensor].name, l->encoding_name, l->dense_bytes, l->packed_bytes,
               100.0 * l->sparsity, (unsigned)l->distinct);
    }
    printf("weights: %zu bytes plain, %zu bytes stored\n", r->dense_bytes, r->packed_bytes);
}

int cmd_pack(int argc, char **argv); /* registered in main.c */

int cmd_pack(int argc, char **argv) {
    for (int i = 1; i < argc; i++)
        if (cli_is_help(argv[i])) {
            usage(stdout);
            return 0;
        }
    pack_args a;
    int rc = parse_args(argc, argv, &a);
    if (rc) return rc;
    nml_error err;
    uint8_t *in = NULL, *out = NULL;
    size_t in_size = 0, out_size = 0;
    nml_ir ir;
    nml_ir_init(&ir);
    nml_pack_report rep;
    memset(&rep, 0, sizeof rep);
    nml_status st = nml_read_file(a.in, NML_MAX_MODEL_BYTES, &in, &in_size, &err);
    if (st == NML_OK) st = nml_ir_from_tflite(&ir, in, in_size, &err);
    if (st == NML_OK)
        st = a.unpack ? nml_unpack_weights(&ir, &err) : nml_pack_weights(&ir, &a.o, &rep, &err);
    if (st == NML_OK) st = nml_ir_to_tflite(&ir, &out, &out_size, &err);
    if (st == NML_OK) st = nml_write_file(a.out, out, out_size, &err);
    if (st != NML_OK) {
        rc = cli_error(CMD, &err);
    } else if (!a.quiet) {
        if (!a.unpack) print_report(&ir, &rep);
        printf("%s: %zu bytes -> %s: %zu bytes\n", a.in, in_size, a.out, out_size);
    }
    nml_pack_report_free(&rep);
    nml_ir_free(&ir);
    free(in);
    free(out);
    return rc;
}
