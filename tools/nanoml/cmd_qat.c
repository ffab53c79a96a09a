/* nanoml qat: quantization-aware training, exported as an int8 model. */
#include <stdio.h>

#include "cli_compress.h"

static void usage(FILE *f) {
    fprintf(f,
            "usage: nanoml qat MODEL.tflite --out OUT.tflite [options]\n\n"
            "Fine-tunes a float model on Fashion-MNIST with fake quantization (int8 weights\n"
            "per channel, int8 activations with moving-average ranges, straight-through\n"
            "gradients), then writes the int8 model with the ranges it learned (the same\n"
            "format as `nanoml quantize --mode int8`).\n\n"
            "quantization-aware training:\n"
            "  --preserve P      sparsity, clusters, sparsity,clusters (PCQAT) or none\n"
            "                    (default): keep zero weights zero / keep each layer's\n"
            "                    distinct weights tied\n"
            "  --weights W       per-channel or per-tensor weight scales (default\n"
            "                    per-channel; per-tensor with --preserve clusters, so a\n"
            "                    layer's k values stay k int8 codes)\n"
            "  --decay D         moving-average decay of activation ranges (default 0.999)\n"
            "  --io TYPE         float (default), int8 or uint8 model inputs and outputs\n"
            "fine-tuning:\n"
            "  --epochs N        passes over the training images (default 1, at least 1)\n"
            "  --batch B         mini-batch (default 32)\n"
            "  --lr X            Adam learning rate, cosine decay (default 1e-4)\n"
            "  --seed S          shuffling seed (default 1)\n"
            "%s\n"
            "example:\n"
            "  nanoml qat pc.tflite --preserve sparsity,clusters --out pcqat.tflite\n",
            CLI_COMPRESS_COMMON_HELP);
}

int cmd_qat(int argc, char **argv); /* registered in main.c */
int cmd_qat(int argc, char **argv) {
    static const cli_compress_cmd cmd = {"qat", "qat", usage, 0};
    return cli_compress_main(&cmd, argc, argv);
}
