/* One row of the compression study (bench/compression_study.sh): the numbers that describe a
 * .tflite model's size and structure, as one line of space-separated fields:
 *
 *   file_bytes dense_bytes packed_bytes params weights zeros max_distinct
 *
 * dense_bytes is the model with standard (unpacked) weights, packed_bytes what nml_pack_weights
 * makes of it ("-" while the packer is not in the build). Weights are those of CONV_2D,
 * DEPTHWISE_CONV_2D and FULLY_CONNECTED; max_distinct counts values (int8: codes) per layer. */
#include <stdio.h>
#include <stdlib.h>

#include "nanoml/compress.h"
#include "nanoml/file.h"
#include "nanoml/pack.h"

static int fail(const char *path, const nml_error *err) {
    fprintf(stderr, "compression_row: %s: %s\n", path, err->msg);
    return 1;
}

static size_t tflite_size(const nml_ir *ir, nml_error *err) {
    uint8_t *bytes = NULL;
    size_t size = 0;
    if (nml_ir_to_tflite(ir, &bytes, &size, err) != NML_OK) return 0;
    free(bytes);
    return size;
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: compression_row MODEL.tflite\n");
        return 2;
    }
    nml_error err;
    uint8_t *data;
    size_t size;
    nml_ir ir, packed;
    if (nml_read_file(argv[1], (size_t)1 << 30, &data, &size, &err) != NML_OK ||
        nml_ir_from_tflite(&ir, data, size, &err) != NML_OK)
        return fail(argv[1], &err);
    free(data);
    const nml_status unpacked = nml_unpack_weights(&ir, &err);
    if (unpacked != NML_OK && unpacked != NML_E_UNSUPPORTED) return fail(argv[1], &err);
    nml_weight_stats ws;
    if (nml_weight_stats_of(&ir, &ws, &err) != NML_OK) return fail(argv[1], &err);
    const size_t dense = tflite_size(&ir, &err);
    if (!dense) return fail(argv[1], &err);
    char packed_text[32] = "-";
    if (nml_ir_clone(&packed, &ir, &err) != NML_OK) return fail(argv[1], &err);
    nml_pack_options po;
    nml_pack_options_default(&po);
    nml_pack_report pr;
    const nml_status st = nml_pack_weights(&packed, &po, &pr, &err);
    if (st == NML_OK) {
        const size_t p = tflite_size(&packed, &err);
        if (!p) return fail(argv[1], &err);
        snprintf(packed_text, sizeof packed_text, "%zu", p);
        nml_pack_report_free(&pr);
    } else if (st != NML_E_UNSUPPORTED) {
        return fail(argv[1], &err);
    }
    printf("%zu %zu %s %llu %llu %llu %u\n", size, dense, packed_text,
           (unsigned long long)ws.params, (unsigned long long)ws.kernel,
           (unsigned long long)ws.zeros, ws.max_distinct);
    nml_ir_free(&packed);
    nml_ir_free(&ir);
    return 0;
}
