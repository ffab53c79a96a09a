/* stb_image's implementation, compiled into the image fuzz target (see fuzz/CMakeLists.txt). */
#define STB_IMAGE_IMPLEMENTATION
#include "stb_image.h"
