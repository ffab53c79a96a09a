/* nanoml cluster: weight clustering (k-means per layer) with centroid fine-tuning. */
#include <stdio.h>

#include "cli_compress.h"

static void usage(FILE *f) {
    fprintf(f,
            "usage: nanoml cluster MODEL.tflite --out OUT.tflite [options]\n\n"
            "Clusters the weights of every layer of a float model into k values (k-means),\n"
            "then fine-tunes the cluster centroids on Fashion-MNIST (each weight keeps its\n"
            "cluster; a centroid's gradient is the sum of its members'). Each layer of the\n"
            "result holds at most k distinct weights.\n\n"
            "clustering:\n"
            "  --clusters K      clusters per layer, 1 to 256 (default 16)\n"
            "  --init I          centroid initialization: kmeans++ (default), linear\n"
            "                    (evenly spaced from min to max) or density (evenly spaced\n"
            "                    in the cumulative distribution)\n"
            "  --iterations N    k-means rounds (default auto: until stable; 0: keep the\n"
            "                    initial centroids, as TF-MOT does)\n"
            "  --preserve P      sparsity: zeros stay zero, as one of the k clusters\n"
            "                    (pruning-preserving clustering); none (default)\n"
            "  --layers L:K,...  per-layer cluster counts\n"
            "  --skip L,...      layers to leave alone\n"
            "fine-tuning:\n"
            "  --epochs N        passes over the training images (default 1; 0: none)\n"
            "  --batch B         mini-batch (default 32)\n"
            "  --lr X            Adam learning rate, cosine decay (default 1e-4)\n"
            "  --seed S          k-means++ and shuffling seed (default 1)\n"
            "output:\n"
            "  --quantize MODE   then quantize: int8, int4, dynamic or float16\n"
            "  --calib SOURCE    calibration for --quantize int8/int4 (default\n"
            "                    fashion-mnist:1000)\n"
            "%s\n"
            "example:\n"
            "  nanoml cluster pruned.tflite --clusters 16 --preserve sparsity --out pc.tflite\n",
            CLI_COMPRESS_COMMON_HELP);
}

int cmd_cluster(int argc, char **argv); /* registered in main.c */
int cmd_cluster(int argc, char **argv) {
    static const cli_compress_cmd cmd = {"cluster", "cluster", usage, 1};
    return cli_compress_main(&cmd, argc, argv);
}
