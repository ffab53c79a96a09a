/* Which axis of a layer's kernel holds its output channels. */
#include <string.h>

#include "compress/compress_internal.h"

int nml_compress_is_depthwise(const nml_layer *l) {
    return l && l->ops && l->ops->kind && strcmp(l->ops->kind, "DepthwiseConv2D") == 0;
}

int nml_compress_channel_axis(const nml_layer *l) {
    return nml_compress_is_depthwise(l) ? 3 : 0;
}
