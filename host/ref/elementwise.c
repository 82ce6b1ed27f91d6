/* elementwise.c: the CPU reference of the elementwise calls, one element at a time in the compute
 * type of each dtype, exactly the math of the kernels: what every test compares the device against.
 * "s > 0" is the plain IEEE comparison; host code does not flush denormals. */
#include "common/common.h"

#include <string.h>

/* out[i] = scale * (s[i] > 0 ? v[i] : v[i] * alpha) + beta * out[i], each product and the
 * sum rounded in the compute type, the read of out skipped when beta == 0; the forward
 * passes s == v. Element i of each operand is at i times its stride. Elements are read
 * before they are written, so out may equal s or v (in place). */
static void lrelu_ref(lrelu_dtype t, size_t n, double alpha, const lrelu_opts *opts, const void *s,
                      size_t s_inc, const void *v, size_t v_inc, void *out)
{
    lrelu_opts o = lrelu_opts_resolve(opts);
    size_t o_inc = o.dst_stride;
    if (t == LRELU_F64) {
        for (size_t i = 0; i < n; ++i) {
            double sv, vv, old;
            memcpy(&sv, (const char *)s + 8 * i * s_inc, 8);
            memcpy(&vv, (const char *)v + 8 * i * v_inc, 8);
            double r = sv > 0 ? vv : vv * alpha;
            if (o.flags & LRELU_BLEND) {
                r = o.scale * r;
                if (o.beta != 0) {
                    memcpy(&old, (const char *)out + 8 * i * o_inc, 8);
                    double q = o.beta * old;
                    r = r + q;
                }
            }
            memcpy((char *)out + 8 * i * o_inc, &r, 8);
        }
        return;
    }
    float a = (float)alpha, scale = (float)o.scale, beta = (float)o.beta;
    for (size_t i = 0; i < n; ++i) {
        float sv = lrelu_load_f(t, s, i * s_inc), vv = lrelu_load_f(t, v, i * v_inc);
        float r = sv > 0 ? vv : vv * a;
        if (o.flags & LRELU_BLEND) {
            r = scale * r;
            if (beta != 0) {
                float q = beta * lrelu_load_f(t, out, i * o_inc);
                r = r + q;
            }
        }
        lrelu_store_f(t, out, i * o_inc, r);
    }
}

void lrelu_ref_forward(lrelu_dtype t, size_t n, double alpha, const void *x, void *y)
{
    lrelu_ref(t, n, alpha, NULL, x, 1, x, 1, y);
}

void lrelu_ref_backward(lrelu_dtype t, size_t n, double alpha, const void *x, const void *dy,
                        void *dx)
{
    lrelu_ref(t, n, alpha, NULL, x, 1, dy, 1, dx);
}

void lrelu_ref_backward_from_output(lrelu_dtype t, size_t n, double alpha, const void *y,
                                    const void *dy, void *dx)
{
    lrelu_ref(t, n, alpha, NULL, y, 1, dy, 1, dx);
}

void lrelu_ref_forward_ex(lrelu_dtype t, size_t n, double alpha, const lrelu_opts *opts,
                          const void *x, void *y)
{
    lrelu_opts o = lrelu_opts_resolve(opts);
    lrelu_ref(t, n, alpha, opts, x, o.src_stride, x, o.src_stride, y);
}

void lrelu_ref_backward_ex(lrelu_dtype t, size_t n, double alpha, const lrelu_opts *opts,
                           const void *x, const void *dy, void *dx)
{
    lrelu_opts o = lrelu_opts_resolve(opts);
    lrelu_ref(t, n, alpha, opts, x, o.src_stride, dy, o.dy_stride, dx);
}

void lrelu_ref_backward_from_output_ex(lrelu_dtype t, size_t n, double alpha,
                                       const lrelu_opts *opts, const void *y, const void *dy,
                                       void *dx)
{
    lrelu_opts o = lrelu_opts_resolve(opts);
    lrelu_ref(t, n, alpha, opts, y, o.src_stride, dy, o.dy_stride, dx);
}
