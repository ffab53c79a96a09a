/* LeNet-5 as used in the study, defined in each of the three ways nanoml offers:
 * input 32x32x1 (28x28 images zero-padded), Conv 6@5x5 tanh, AvgPool 2x2 then sigmoid,
 * Conv 16@5x5 tanh, AvgPool 2x2 then sigmoid, Conv 120@5x5 tanh, Flatten, Dense 84 tanh,
 * Dense 10 softmax: 61,706 parameters. With the same seed all styles start from the same
 * weights. (examples/lenet5_*.c show the same definitions as standalone programs.) */
#ifndef NANOML_TRAIN_LENET5_H
#define NANOML_TRAIN_LENET5_H

#include <stdint.h>

#include "nanoml/status.h"
#include "nanoml/train_layer.h"
#include "nanoml/train_net.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum nml_lenet5_style {
    NML_LENET5_SEQUENTIAL = 0, /* a list of layers (nml_net_add) */
    NML_LENET5_FUNCTIONAL,     /* layers called on symbolic tensors (nml_net_call) */
    NML_LENET5_CUSTOM          /* sequential, with Dense 84 as a user-defined callback layer */
} nml_lenet5_style;

#define NML_LENET5_PARAMS 61706

/* Weight initialization (biases always start at zero, Dense layers Glorot uniform). */
typedef enum nml_lenet5_init {
    /* the default: convolutions He uniform; C3 and C5, which read the sigmoid outputs, with each
     * filter shifted to sum zero and scaled by 4 (nml_param_center_rows), which trains markedly
     * faster than the plain forms (docs/training.md) */
    NML_LENET5_INIT_CENTERED = 0,
    NML_LENET5_INIT_HE,    /* convolutions He uniform */
    NML_LENET5_INIT_GLOROT /* convolutions Glorot uniform (Keras' default) */
} nml_lenet5_init;

/* The gain of the centered initialization of C3 and C5: 1 / sigmoid'(0). */
#define NML_LENET5_CENTERED_GAIN 4.0f

/* LeNet-5 with the default initialization. */
nml_status nml_lenet5(nml_net **net, nml_lenet5_style style, uint64_t seed, nml_error *err);
nml_status nml_lenet5_with_init(nml_net **net, nml_lenet5_style style, uint64_t seed,
                                nml_lenet5_init init, nml_error *err);
/* "centered", "he", "glorot"; parse returns 0 and sets *init for a known name, -1 otherwise */
const char *nml_lenet5_init_name(nml_lenet5_init init);
int nml_lenet5_init_parse(const char *name, nml_lenet5_init *init);

/* "sequential", "functional", "custom" */
const char *nml_lenet5_style_name(nml_lenet5_style style);
/* Returns 0 and sets *style for a known name, -1 otherwise. */
int nml_lenet5_style_parse(const char *name, nml_lenet5_style *style);

/* The custom style's layer: a fully connected layer written only against the public layer
 * interface (nml_layer_ops), kernel [units, inputs], Glorot-uniform initialized. */
nml_layer *nml_lenet5_custom_dense(const char *name, int32_t units, nml_afn act);

#ifdef __cplusplus
}
#endif
#endif
