/* Helpers for the compression tests: run an IR in nanoml's runtime, build small models. */
#ifndef NML_TEST_COMPRESS_CHECK_H
#define NML_TEST_COMPRESS_CHECK_H

#include <stddef.h>
#include <stdint.h>

#include "nanoml/ir.h"
#include "nanoml/train_net.h"

/* Runs a model with one float32 input and one output (float32, int8 or uint8, dequantized) on
 * n samples of the input's size stored one after another; writes n x output-size floats. The
 * model goes through the .tflite writer and the runtime loader. Fails the test on error. */
void cc_run_ir(const nml_ir *ir, const float *x, int n, float *y);

/* Elements of graph input / output 0. */
size_t cc_input_count(const nml_ir *ir);
size_t cc_output_count(const nml_ir *ir);

/* Exports a built network (fails the test on error); *ir is initialized by the call. */
void cc_export(const nml_net *net, nml_ir *ir);

/* Writes and reads back an IR through .tflite bytes (what a file round trip does). */
void cc_tflite_round_trip(const nml_ir *in, nml_ir *out);

/* Largest |a - b| over n values. */
double cc_max_abs_diff(const float *a, const float *b, size_t n);

#endif
