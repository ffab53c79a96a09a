/* nanoml compress: a chain of compression steps from a recipe. */
#include <stdio.h>

#include "cli_compress.h"

static void usage(FILE *f) {
    fprintf(f,
            "usage: nanoml compress MODEL.tflite --recipe FILE --out OUT.tflite [options]\n"
            "       nanoml compress MODEL.tflite --step \"STEP k=v ...\" [--step ...] --out ...\n\n"
            "Runs compression steps one after another on a float model, fine-tuning on\n"
            "Fashion-MNIST as they go. A recipe has one step per line (# starts a comment):\n\n"
            "  prune sparsity=0.5 schedule=polynomial epochs=2\n"
            "  cluster clusters=16 preserve=sparsity epochs=1\n"
            "  qat preserve=sparsity,clusters epochs=1\n\n"
            "steps and settings (see `nanoml prune|cluster|qat --help` for each):\n"
            "  prune     sparsity schedule initial begin end frequency power structure\n"
            "            remove layers skip\n"
            "  cluster   clusters init iterations preserve layers skip\n"
            "  qat       preserve weights decay io\n"
            "  quantize  mode calib samples calibrator percentile io weights\n"
            "  pack      sparse clustered min-elements (yes, yes, 256; as `nanoml pack`)\n"
            "  prune, cluster and qat also take epochs batch lr seed\n"
            "qat and quantize write the final model, so only pack may follow them; a\n"
            "quantized result gets a default pack step unless the recipe has one or\n"
            "--no-pack is given. Errors name the line (with --step: the step's position).\n\n"
            "options:\n"
            "  --recipe FILE     the steps\n"
            "  --step \"...\"      one step (repeatable), instead of a recipe file\n"
            "%s",
            CLI_COMPRESS_COMMON_HELP);
}

int cmd_compress(int argc, char **argv); /* registered in main.c */
int cmd_compress(int argc, char **argv) {
    static const cli_compress_cmd cmd = {"compress", NULL, usage, 0};
    return cli_compress_main(&cmd, argc, argv);
}
