/* The network's internal representation, shared by net.c, the exporter and the fitter. */
#ifndef NML_TRAIN_NET_INTERNAL_H
#define NML_TRAIN_NET_INTERNAL_H

#include "nanoml/train_net.h"

#define NML_NET_MAX_IO 16

typedef struct nml_node {
    nml_layer *layer;             /* NULL for a network input */
    char input_name[NML_LAYER_NAME_MAX];
    int n_in;
    int in[NML_MAX_OP_INPUTS];    /* producing nodes */
    nml_shape shape;              /* output, per sample */
    size_t count;                 /* floats per sample */
    int n_consumers;
    int is_output;
    int needs_grad;               /* a trainable parameter lies upstream (or here) */
    float *act, *grad;            /* cap_batch samples each */
    int grad_ready;               /* backward bookkeeping */
    double fwd_seconds, bwd_seconds; /* accumulated while profiling */
} nml_node;

struct nml_net {
    char name[NML_LAYER_NAME_MAX];
    nml_node *nodes;
    int n_nodes, cap_nodes;
    int inputs[NML_NET_MAX_IO], n_inputs;
    int outputs[NML_NET_MAX_IO], n_outputs;
    int built;
    nml_error failure;            /* sticky building error (status NML_OK while none) */
    nml_rng rng;
    int32_t cap_batch, batch;
    int last_training;
    nml_param **params;           /* every parameter, collected at build */
    int n_params;
    float *act_tmp;               /* activation derivative, largest node */
    float *fan_tmp[NML_MAX_OP_INPUTS]; /* gradients of inputs that already have one */
    size_t max_count;
    int profiling;
    int want_input_grad;
    int64_t profiled_samples;
};

/* Node that holds a layer, or -1. */
int nml_net_node_of_layer(const nml_net *net, const nml_layer *l);

#endif
