/* reference.c: the CPU reference, one element at a time in the compute type of each
 * dtype, exactly the math of the kernels: what every test compares the device against.
 * "s > 0" is the plain IEEE comparison; host code does not flush denormals. */
#include "lrelu.h"

#include <string.h>

/* Loads element i of a float-computed dtype as float. */
static float load_f(lrelu_dtype t, const void *p, size_t i)
{
    uint16_t h;
    float f;
    switch (t) {
    case LRELU_F16:
        memcpy(&h, (const char *)p + 2 * i, 2);
        return lrelu_f16_to_float(h);
    case LRELU_BF16:
        memcpy(&h, (const char *)p + 2 * i, 2);
        return lrelu_bf16_to_float(h);
    default:
        memcpy(&f, (const char *)p + 4 * i, 4);
        return f;
    }
}

static void store_f(lrelu_dtype t, void *p, size_t i, float v)
{
    uint16_t h;
    switch (t) {
    case LRELU_F16:
        h = lrelu_float_to_f16(v);
        memcpy((char *)p + 2 * i, &h, 2);
        break;
    case LRELU_BF16:
        h = lrelu_float_to_bf16(v);
        memcpy((char *)p + 2 * i, &h, 2);
        break;
    default:
        memcpy((char *)p + 4 * i, &v, 4);
        break;
    }
}

/* out[i] = s[i] > 0 ? v[i] : v[i] * alpha; the forward passes s == v. Elements are read
 * before they are written, so out may equal s or v (in place). */
static void lrelu_ref(lrelu_dtype t, size_t n, double alpha, const void *s, const void *v,
                      void *out)
{
    if (t == LRELU_F64) {
        for (size_t i = 0; i < n; ++i) {
            double sv, vv;
            memcpy(&sv, (const char *)s + 8 * i, 8);
            memcpy(&vv, (const char *)v + 8 * i, 8);
            double r = sv > 0 ? vv : vv * alpha;
            memcpy((char *)out + 8 * i, &r, 8);
        }
        return;
    }
    float a = (float)alpha;
    for (size_t i = 0; i < n; ++i) {
        float sv = load_f(t, s, i), vv = load_f(t, v, i);
        store_f(t, out, i, sv > 0 ? vv : vv * a);
    }
}

void lrelu_ref_forward(lrelu_dtype t, size_t n, double alpha, const void *x, void *y)
{
    lrelu_ref(t, n, alpha, x, x, y);
}

void lrelu_ref_backward(lrelu_dtype t, size_t n, double alpha, const void *x, const void *dy,
                        void *dx)
{
    lrelu_ref(t, n, alpha, x, dy, dx);
}

void lrelu_ref_backward_from_output(lrelu_dtype t, size_t n, double alpha, const void *y,
                                    const void *dy, void *dx)
{
    lrelu_ref(t, n, alpha, y, dy, dx);
}
