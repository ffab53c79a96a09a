/* ONNX Runtime as the independent reference for the ONNX importer (through node and
 * tests/oracles/ort_run.mjs), plus the FastestDet preprocessing both sides share. */
#ifndef NML_TEST_ONNX_ORACLE_H
#define NML_TEST_ONNX_ORACLE_H

#include <stddef.h>
#include <stdint.h>

/* 1 when node and tests/oracles/node_modules/onnxruntime-node are available; otherwise 0 and
 * why says what is missing. */
int nml_test_ort_available(char *why, size_t cap);

/* Runs model_path on one float32 input (ONNX order dims) and reads the output named
 * output_name into a malloc'd buffer (*out, *count elements). Returns 0 on success; on failure
 * why holds the reason. */
int nml_test_ort_run(const char *model_path, const char *input_name, const int64_t *dims, int rank,
                     const float *data, const char *output_name, float **out, size_t *count,
                     char *why, size_t cap);

/* FastestDet preprocessing: load an image, stretch it to h x w with bilinear interpolation
 * (pixel centres, like OpenCV's INTER_LINEAR), BGR channel order, values / 255, as NCHW
 * [1,3,h,w] floats (malloc'd). NULL on failure. */
float *nml_test_fastestdet_input(const char *image_path, int h, int w);

/* NCHW [1,C,H,W] -> NHWC [1,H,W,C] (malloc'd). */
float *nml_test_nchw_to_nhwc(const float *x, int c, int h, int w);


#endif
