/* nanoml: from training to a RISC-V microcontroller. Dispatches to the subcommands. */
#include <stdio.h>
#include <string.h>

#include "commands.h"

int cmd_version(int argc, char **argv);
int cmd_inspect(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_deploy(int argc, char **argv);
int cmd_import(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_quantize(int argc, char **argv);
int cmd_prune(int argc, char **argv);
int cmd_cluster(int argc, char **argv);
int cmd_qat(int argc, char **argv);
int cmd_compress(int argc, char **argv);
int cmd_compare(int argc, char **argv);
int cmd_pack(int argc, char **argv);
int cmd_detect(int argc, char **argv);
int cmd_eval_detect(int argc, char **argv);
int cmd_preprocess(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_plot(int argc, char **argv);

const nml_command nml_commands[] = {
    {"version", "print the nanoml version", cmd_version},
    {"inspect", "show a .tflite model: operators, sizes, MACs, exact arena", cmd_inspect},
    {"run", "run one inference of a .tflite model", cmd_run},
    {"export", "write a model as C sources for firmware (array, arena, resolver)", cmd_export},
    {"deploy", "build and run a model on RV32 (QEMU) or write an X-HEEP application", cmd_deploy},
    {"import", "convert an ONNX model to .tflite (float32, NHWC)", cmd_import},
    {"train", "define and train a model in C (LeNet-5 on Fashion-MNIST)", cmd_train},
    {"eval", "accuracy and confusion matrix of a .tflite classifier", cmd_eval},
    {"quantize", "post-training quantization: int8, int4, dynamic range, float16", cmd_quantize},
    {"prune", "magnitude pruning with fine-tuning (unstructured, N:M, filters)", cmd_prune},
    {"cluster", "weight clustering (k-means per layer) with centroid fine-tuning", cmd_cluster},
    {"qat", "quantization-aware training, written as an int8 model", cmd_qat},
    {"compress", "a chain of compression steps from a recipe", cmd_compress},
    {"pack", "store pruned/clustered int8 weights compactly (sparse, clustered)", cmd_pack},
    {"compare", "models side by side: bytes, gzip, sparsity, accuracy; CSV, plot", cmd_compare},
    {"detect", "detect objects in an image (FastestDet, YOLOv8)", cmd_detect},
    {"eval-detect", "precision, recall, mAP of a detector on a dataset", cmd_eval_detect},
    {"preprocess", "write images as a detection model's input tensors (.npy)", cmd_preprocess},
    {"report", "a Markdown report as one self-contained HTML page", cmd_report},
    {"plot", "bar charts (PNG) drawn with nanoml's own image code", cmd_plot},
    {NULL, NULL, NULL},
};

static void print_help(FILE *out) {
    fprintf(out, "usage: nanoml <command> [options]\n\n"
                 "nanoml takes neural networks from training to a RISC-V microcontroller.\n\n"
                 "commands:\n");
    for (const nml_command *c = nml_commands; c->name; c++)
        fprintf(out, "  %-14s %s\n", c->name, c->summary);
    fprintf(out, "\nRun 'nanoml <command> --help' for the options of a command.\n");
}

int cmd_version(int argc, char **argv) {
    (void)argv;
    if (argc > 1) {
        printf("usage: nanoml version\n\nPrints the nanoml version.\n");
        return 0;
    }
    printf("nanoml %s\n", NML_VERSION);
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        print_help(stderr);
        return 2;
    }
    if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 ||
        strcmp(argv[1], "help") == 0) {
        print_help(stdout);
        return 0;
    }
    if (strcmp(argv[1], "--version") == 0) return cmd_version(1, argv + 1);
    for (const nml_command *c = nml_commands; c->name; c++)
        if (strcmp(argv[1], c->name) == 0) return c->run(argc - 1, argv + 1);
    fprintf(stderr, "nanoml: unknown command '%s'\nTry 'nanoml --help'.\n", argv[1]);
    return 2;
}
