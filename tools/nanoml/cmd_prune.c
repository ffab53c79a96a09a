/* nanoml prune: magnitude pruning with fine-tuning on a sparsity schedule. */
#include <stdio.h>

#include "cli_compress.h"

static void usage(FILE *f) {
    fprintf(f,
            "usage: nanoml prune MODEL.tflite --out OUT.tflite [options]\n\n"
            "Prunes a float model (e.g. from `nanoml train`) by weight magnitude while\n"
            "fine-tuning it on Fashion-MNIST, following a TF-MOT sparsity schedule. The\n"
            "pruned weights are exactly zero in the result; --quantize makes it int8.\n\n"
            "pruning:\n"
            "  --sparsity F      fraction of each layer's weights to remove, in [0, 1)\n"
            "                    (default 0.5)\n"
            "  --schedule S      polynomial (TF-MOT PolynomialDecay, default) or constant\n"
            "  --initial F       polynomial: sparsity at the begin step (default 0)\n"
            "  --begin N         first step that prunes (default 0)\n"
            "  --end N           last step that prunes (default auto: 70%% of the training\n"
            "                    steps, so the network recovers from the last cut)\n"
            "  --frequency N     steps between mask updates (default 100)\n"
            "  --power P         polynomial exponent (default 3)\n"
            "  --structure S     unstructured (default), 2:4 (any N:M: N largest of every M\n"
            "                    weights along a kernel row), or filters (whole output\n"
            "                    channels; they are then deleted and the next layer shrinks)\n"
            "  --remove yes|no   filters: delete the pruned channels (default yes)\n"
            "  --layers L:F,...  per-layer sparsity (e.g. c1:0.3,c5:0.9)\n"
            "  --skip L,...      layers to leave dense\n"
            "fine-tuning:\n"
            "  --epochs N        passes over the training images (default 2; 0: one-shot)\n"
            "  --batch B         mini-batch (default 32)\n"
            "  --lr X            Adam learning rate, cosine decay (default 1e-4)\n"
            "  --seed S          shuffling seed (default 1)\n"
            "output:\n"
            "  --quantize MODE   then quantize: int8, int4, dynamic or float16\n"
            "  --calib SOURCE    calibration for --quantize int8/int4 (default\n"
            "                    fashion-mnist:1000; npy:DIR, images:DIR)\n"
            "%s\n"
            "example:\n"
            "  nanoml prune lenet5.tflite --sparsity 0.8 --epochs 2 --out pruned.tflite\n",
            CLI_COMPRESS_COMMON_HELP);
}

int cmd_prune(int argc, char **argv); /* registered in main.c */
int cmd_prune(int argc, char **argv) {
    static const cli_compress_cmd cmd = {"prune", "prune", usage, 1};
    return cli_compress_main(&cmd, argc, argv);
}
