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
    nml_net_add(net,
                nml_conv2d(&(nml_conv2d_opts){.name = "c1",
                                              .filters = 6,
                                              .kernel = 5,
                                              .activation = NML_AFN_TANH,
                                              .kernel_init = NML_INIT_HE_UNIFORM}),
                err);
    nml_net_add(net, nml_average_pooling2d(&(nml_pool2d_opts){.name = "s2", .pool = 2}), err);
    nml_net_add(net, nml_activation_layer("s2_sigmoid", NML_AFN_SIGMOID), err);
    nml_net_add(net,
                nml_conv2d(&(nml_conv2d_opts){.name = "c3",
                                              .filters = 16,
                                              .kernel = 5,
                                              .activation = NML_AFN_TANH,
                                              .kernel_init = NML_INIT_HE_UNIFORM}),
                err);
    nml_net_add(net, nml_average_pooling2d(&(nml_pool2d_opts){.name = "s4", .pool = 2}), err);
    nml_net_add(net, nml_activation_layer("s4_sigmoid", NML_AFN_SIGMOID), err);
    nml_net_add(net,
                nml_conv2d(&(nml_conv2d_opts){.name = "c5",
                                              .filters = 120,
                                              .kernel = 5,
                                              .activation = NML_AFN_TANH,
                                              .kernel_init = NML_INIT_HE_UNIFORM}),
                err);
    nml_net_add(net, nml_flatten("flatten"), err);
    nml_net_add(net,
                nml_dense(&(nml_dense_opts){.name = "f6", .units = 84, .activation = NML_AFN_TANH}),
                err);
    nml_net_add(
        net,
        nml_dense(&(nml_dense_opts){.name = "output", .units = 10, .activation = NML_AFN_SOFTMAX}),
        err);
    nml_status st = nml_net_build(net, 0, NULL, err);
    /* C3 and C5 read sigmoid outputs: start them centered (see example_main.h) */
    if (st == NML_OK) st = example_center_filters(net, "c3", err);
    if (st == NML_OK) st = example_center_filters(net, "c5", err);
    if (st != NML_OK) {
        nml_net_free(net);
        return st;
    }
    *out = net;
    return NML_OK;
}

int main(int argc, char **argv) {
    return example_main(argc, argv, define_model);
}
