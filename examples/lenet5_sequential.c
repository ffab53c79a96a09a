/* LeNet-5 defined as a sequential list of layers (style 1 of 3), trained on Fashion-MNIST.
 *
 *   lenet5_sequential [--epochs N] [--summary] [--out lenet5.tflite]
 *
 * Each nml_net_add appends a layer to the previous one. Building errors are sticky, so the
 * definition checks only the final nml_net_build, which reports the first problem (for example
 * "f6 (Dense): input shape 5x5x16 is not a vector (expected shape N; add a Flatten layer)"). */
#include "example_main.h"
#include "nanoml/train_layers.h"

static nml_status define_model(nml_net **out, nml_error *err) {
    nml_net *net;
    NML_TRY(nml_net_create(&net, "lenet5", 1, err));
    int image;
    nml_net_input(net, "image", nml_shape_3d(32, 32, 1), &image, err);
    nml_net_add(net, example_conv("c1", 6), err);
    nml_net_add(net, example_pool("s2"), err);
    nml_net_add(net, nml_activation_layer("s2_sigmoid", NML_AFN_SIGMOID), err);
    nml_net_add(net, example_conv("c3", 16), err);
    nml_net_add(net, example_pool("s4"), err);
    nml_net_add(net, nml_activation_layer("s4_sigmoid", NML_AFN_SIGMOID), err);
    nml_net_add(net, example_conv("c5", 120), err);
    nml_net_add(net, nml_flatten("flatten"), err);
    nml_net_add(net,
                nml_dense(&(nml_dense_opts){.name = "f6", .units = 84, .activation = NML_AFN_TANH}),
                err);
    nml_net_add(net, example_classifier(), err);
    /* no outputs named: the last layer added is the output */
    return example_build(net, 0, NULL, out, err);
}

int main(int argc, char **argv) {
    return example_main(argc, argv, define_model);
}
