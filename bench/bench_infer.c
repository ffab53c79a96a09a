/* Loads a model, initializes it with every nanoml kernel and runs N inferences; a load-only
 * run (N = 0) lets bench/host_callgrind.sh subtract the setup cost.
 * usage: bench_infer MODEL.tflite N [INPUT.bin ...]   (inputs default to zeros)
 * Exit status 3 when an operator has no kernel. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nanoml/file.h"
#include "nanoml/runtime_host.h"

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: bench_infer MODEL.tflite N [INPUT.bin ...]\n");
        return 2;
    }
    long runs = strtol(argv[2], NULL, 10);
    uint8_t *data, *arena;
    size_t size;
    nml_model model;
    nml_interpreter it = {0};
    nml_error err;
    if (nml_load_model_file(argv[1], &data, &size, &model, &err) != NML_OK) {
        fprintf(stderr, "bench_infer: %s\n", err.msg);
        return 1;
    }
    nml_status st = nml_interpreter_init_alloc(&it, &model, nml_ops_all(), &arena, &err);
    if (st != NML_OK) {
        fprintf(stderr, "bench_infer: %s\n", err.msg);
        free(data);
        return st == NML_E_UNSUPPORTED ? 3 : 1;
    }
    for (uint32_t i = 0; i < nml_input_count(&it); i++) {
        nml_tensor *t = nml_input(&it, i);
        memset(t->data, 0, t->bytes);
        if ((int)i + 3 >= argc) continue;
        uint8_t *in;
        size_t n;
        if (nml_read_file(argv[i + 3], t->bytes, &in, &n, &err) != NML_OK || n != t->bytes) {
            fprintf(stderr, "bench_infer: input %u: %s\n", (unsigned)i,
                    n != t->bytes ? "size does not match the tensor" : err.msg);
            return 1;
        }
        memcpy(t->data, in, n);
        free(in);
    }
    for (long r = 0; r < runs; r++) {
        if (nml_invoke(&it, &err) != NML_OK) {
            fprintf(stderr, "bench_infer: %s\n", err.msg);
            return 1;
        }
    }
    printf("arena %zu\n", it.arena_used);
    free(arena);
    free(data);
    return 0;
}
