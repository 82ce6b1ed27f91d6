/* q8.c: the CPU reference of the int8 forward: dequantize, the forward in float,
 * requantize with one rounding to nearest even and a clamp, as the header states. What
 * the tests compare the device with, bit for bit. */
#include "common/common.h"

#include <math.h>

void lrelu_ref_forward_q8(lrelu_qtype t, size_t n, double alpha, lrelu_quant in, lrelu_quant out,
                          const void *x, void *y)
{
    float a = (float)alpha, s_in = (float)in.scale, inv = 1.0f / (float)out.scale;
    int lo_q = t == LRELU_QS8 ? -128 : 0, hi_q = t == LRELU_QS8 ? 127 : 255;
    float lo = (float)(lo_q - out.zero_point), hi = (float)(hi_q - out.zero_point);
    for (size_t i = 0; i < n; ++i) {
        int q = t == LRELU_QS8 ? ((const int8_t *)x)[i] : ((const uint8_t *)x)[i];
        float f = (float)(q - in.zero_point) * s_in;
        f = f > 0 ? f : f * a;
        f = rintf(f * inv);
        f = f < lo ? lo : (f > hi ? hi : f);
        int r = (int)f + out.zero_point;
        if (t == LRELU_QS8)
            ((int8_t *)y)[i] = (int8_t)r;
        else
            ((uint8_t *)y)[i] = (uint8_t)r;
    }
}
