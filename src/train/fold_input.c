/* Folding an input transform into the layers that read a network input. */
#include <math.h>

#include "nanoml/train_layers.h"
#include "net_internal.h"

/* Applies the transform to every consumer of the input node; with scale 1 and offset 0 this
 * changes no weight (x * 1 and b + 0 are exact) and only runs the checks. */
static nml_status fold_consumers(nml_net *net, int node, float scale, float offset,
                                 nml_error *err) {
    int found = 0;
    for (int k = 0; k < net->n_nodes; k++) {
        const nml_node *n = &net->nodes[k];
        for (int j = 0; n->layer && j < n->n_in; j++)
            if (n->in[j] == node) {
                NML_TRY(nml_conv2d_fold_input_affine(n->layer, scale, offset, err));
                found++;
                break;
            }
    }
    if (!found) return nml_fail(err, NML_E_ARG, "no layer reads the network input");
    return NML_OK;
}

nml_status nml_net_fold_input_affine(nml_net *net, int input, float scale, float offset,
                                     nml_error *err) {
    if (!net->built) return nml_fail(err, NML_E_ARG, "the network is not built");
    if (input < 0 || input >= net->n_inputs)
        return nml_fail(err, NML_E_ARG, "input %d does not exist (%d inputs)", input,
                        net->n_inputs);
    if (!isfinite(scale) || !isfinite(offset))
        return nml_fail(err, NML_E_ARG, "input transform scale %g, offset %g is not finite",
                        (double)scale, (double)offset);
    const int node = net->inputs[input];
    NML_TRY(fold_consumers(net, node, 1.0f, 0.0f, err)); /* all-or-nothing */
    return fold_consumers(net, node, scale, offset, err);
}
