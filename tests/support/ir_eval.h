/* A deliberately plain float32 evaluator for nml_ir graphs, following TFLite's reference-kernel
 * semantics (NHWC, SAME/VALID padding, fused activations). Tests use it to run what the ONNX
 * importer produced before the runtime kernels are merged; the expected values always come
 * from elsewhere (ONNX Runtime or a hand computation in the test). */
#ifndef NML_TEST_IR_EVAL_H
#define NML_TEST_IR_EVAL_H

#include "nanoml/ir.h"
#include "nanoml/status.h"

/* inputs[i] holds the elements of graph input i; outputs[i] receives a malloc'd copy of graph
 * output i (free each). Unsupported operators fail with NML_E_UNSUPPORTED naming them. */
nml_status nml_test_ir_eval(const nml_ir *ir, const float *const *inputs, float **outputs,
                            nml_error *err);

#endif
