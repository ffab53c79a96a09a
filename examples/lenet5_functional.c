/* LeNet-5 defined functionally (style 2 of 3): layers are called on symbolic tensors, so any
 * directed acyclic graph can be written, with branches (use a tensor twice) and merges
 * (nml_add, nml_concatenate on several tensors). LeNet-5 is a chain; the comment at the end
 * shows how a skip connection would look.
 *
 *   lenet5_functional [--epochs N] [--summary] [--out lenet5.tflite] */
#include "example_main.h"
#include "nanoml/train_layers.h"

static nml_status define_model(nml_net **out, nml_error *err) {
    nml_net *net;
    NML_TRY(nml_net_create(&net, "lenet5", 1, err));
    int image, c1, s2, a2, c3, s4, a4, c5, flat, f6, probs;
    nml_net_input(net, "image", nml_shape_3d(32, 32, 1), &image, err);
    nml_net_call1(net, example_conv("c1", 6), image, &c1, err);
    nml_net_call1(net, example_pool("s2"), c1, &s2, err);
    nml_net_call1(net, nml_activation_layer("s2_sigmoid", NML_AFN_SIGMOID), s2, &a2, err);
    nml_net_call1(net, example_conv("c3", 16), a2, &c3, err);
    nml_net_call1(net, example_pool("s4"), c3, &s4, err);
    nml_net_call1(net, nml_activation_layer("s4_sigmoid", NML_AFN_SIGMOID), s4, &a4, err);
    nml_net_call1(net, example_conv("c5", 120), a4, &c5, err);
    nml_net_call1(net, nml_flatten("flatten"), c5, &flat, err);
    nml_net_call1(
        net, nml_dense(&(nml_dense_opts){.name = "f6", .units = 84, .activation = NML_AFN_TANH}),
        flat, &f6, err);
    nml_net_call1(net, example_classifier(), f6, &probs, err);
    /* A residual block instead of c3 would read:
     *     nml_net_call1(net, nml_conv2d(...same_padding = 1...), a2, &r1, err);
     *     nml_net_call(net, nml_add("residual"), 2, (int[]){a2, r1}, &sum, err);      */
    return example_build(net, 1, &probs, out, err);
}

int main(int argc, char **argv) {
    return example_main(argc, argv, define_model);
}
