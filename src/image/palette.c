/* Class colours: hues spaced by the golden ratio so neighbouring class ids look different. */
#include <math.h>

#include "nanoml/draw.h"

static uint8_t channel(double v) {
    return (uint8_t)lround(v * 255.0);
}

static nml_rgb hsv_to_rgb(double h, double s, double v) {
    double hh = h * 6.0;
    int sector = (int)hh % 6;
    double f = hh - floor(hh);
    double p = v * (1 - s), q = v * (1 - s * f), t = v * (1 - s * (1 - f));
    double r, g, b;
    switch (sector) {
    case 0:
        r = v, g = t, b = p;
        break;
    case 1:
        r = q, g = v, b = p;
        break;
    case 2:
        r = p, g = v, b = t;
        break;
    case 3:
        r = p, g = q, b = v;
        break;
    case 4:
        r = t, g = p, b = v;
        break;
    default:
        r = v, g = p, b = q;
        break;
    }
    nml_rgb c = {channel(r), channel(g), channel(b)};
    return c;
}

nml_rgb nml_class_color(int cls) {
    unsigned k = (unsigned)(cls < 0 ? -(long)cls : cls);
    double hue = fmod(0.07 + k * 0.6180339887498949, 1.0);
    double sat = (k / 7) % 2 ? 0.65 : 0.9; /* vary saturation too, so 80 classes stay apart */
    return hsv_to_rgb(hue, sat, 0.95);
}
