/* channels.c: the CPU reference of the per-channel calls, element by element in the
 * compute type and in the order the header states; the per-channel sums in the kernels'
 * fixed blocks. What the tests compare the device with, bit for bit. */
#include "common/common.h"

#include <math.h>
#include <string.h>

/* What one call computes: mode 0 PReLU (p the slope), 1 bias_act with p the bias, 2
 * bias_act without one. */
typedef struct {
    int mode;
    lrelu_layout l;
    lrelu_bias_act b;
} chan_call;

static double load_d(const void *p, size_t i)
{
    double v;
    memcpy(&v, (const char *)p + 8 * i, 8);
    return v;
}

static void store_d(void *p, size_t i, double v) { memcpy((char *)p + 8 * i, &v, 8); }

/* The limit as the kernels get it: 0 for none (0 or beyond the compute type). */
#define CHAN_LIMIT(CT, lim) (isinf((CT)(lim)) ? (CT)0 : (CT)(lim))

/* Forward and backward of both ops for compute type CT, with LOAD(p, i) / STORE(p, i, v)
 * moving one stored element. */
#define CHAN_REF(SUF, CT, LOAD, STORE)                                                             \
    static void chan_forward_##SUF(lrelu_dtype t, const chan_call *k, const void *x,               \
                                   const void *p, void *y)                                         \
    {                                                                                              \
        CT alpha = (CT)k->b.alpha, gain = (CT)k->b.gain, limit = CHAN_LIMIT(CT, k->b.limit);       \
        size_t i = 0;                                                                              \
        (void)t;                                                                                   \
        for (size_t o = 0; o < k->l.outer; ++o)                                                    \
            for (size_t c = 0; c < k->l.channels; ++c) {                                           \
                CT pc = k->mode == 2 ? (CT)0 : LOAD(p, c);                                         \
                for (size_t r = 0; r < k->l.inner; ++r, ++i) {                                     \
                    CT v = LOAD(x, i), out;                                                        \
                    if (k->mode == 0) {                                                            \
                        out = v > 0 ? v : v * pc;                                                  \
                    } else {                                                                       \
                        CT u = k->mode == 1 ? v + pc : v;                                          \
                        CT g = u > 0 ? u : u * alpha;                                              \
                        g = gain * g;                                                              \
                        if (limit > 0)                                                             \
                            g = g > limit ? limit : (g < -limit ? -limit : g);                     \
                        out = g;                                                                   \
                    }                                                                              \
                    STORE(y, i, out);                                                              \
                }                                                                                  \
            }                                                                                      \
    }                                                                                              \
    static void chan_backward_##SUF(lrelu_dtype t, const chan_call *k, const void *x,              \
                                    const void *p, const void *dy, void *dx, void *ds)             \
    {                                                                                              \
        CT alpha = (CT)k->b.alpha, gain = (CT)k->b.gain, limit = CHAN_LIMIT(CT, k->b.limit);       \
        size_t C = k->l.channels, inner = k->l.inner, m = k->l.outer * inner;                      \
        (void)t;                                                                                   \
        for (size_t c = 0; c < C; ++c) {                                                           \
            CT pc = k->mode == 2 ? (CT)0 : LOAD(p, c), total = 0;                                  \
            for (size_t b = 0; b < m; b += LRELU_RBLOCK) {                                         \
                CT acc[8] = {0, 0, 0, 0, 0, 0, 0, 0}, sum = 0;                                     \
                for (size_t j = b; j < m && j < b + LRELU_RBLOCK; ++j) {                           \
                    size_t idx = ((j / inner) * C + c) * inner + j % inner;                        \
                    CT v = LOAD(x, idx), gy = LOAD(dy, idx), d, term;                              \
                    if (k->mode == 0) {                                                            \
                        d = v > 0 ? gy : gy * pc;                                                  \
                        term = v > 0 ? (CT)0 : v * gy;                                             \
                    } else {                                                                       \
                        CT u = k->mode == 1 ? v + pc : v;                                          \
                        CT y = u > 0 ? u : u * alpha;                                              \
                        y = gain * y;                                                              \
                        CT g = gy * gain;                                                          \
                        g = u > 0 ? g : g * alpha;                                                 \
                        d = limit > 0 && !(y >= -limit && y <= limit) ? (CT)0 : g;                 \
                        term = d;                                                                  \
                    }                                                                              \
                    if (dx != NULL)                                                                \
                        STORE(dx, idx, d);                                                         \
                    acc[(j - b) % 8] = acc[(j - b) % 8] + term;                                    \
                }                                                                                  \
                for (int lane = 0; lane < 8; ++lane)                                               \
                    sum = sum + acc[lane];                                                         \
                total = total + sum;                                                               \
            }                                                                                      \
            if (ds != NULL)                                                                        \
                STORE(ds, c, total);                                                               \
        }                                                                                          \
    }

#define LOAD_F(p, i)     lrelu_load_f(t, (p), (i))
#define STORE_F(p, i, v) lrelu_store_f(t, (p), (i), (v))
CHAN_REF(f, float, LOAD_F, STORE_F)
CHAN_REF(d, double, load_d, store_d)

static void chan_forward(lrelu_dtype t, const chan_call *k, const void *x, const void *p, void *y)
{
    if (t == LRELU_F64)
        chan_forward_d(t, k, x, p, y);
    else
        chan_forward_f(t, k, x, p, y);
}

static void chan_backward(lrelu_dtype t, const chan_call *k, const void *x, const void *p,
                          const void *dy, void *dx, void *ds)
{
    if (t == LRELU_F64)
        chan_backward_d(t, k, x, p, dy, dx, ds);
    else
        chan_backward_f(t, k, x, p, dy, dx, ds);
}

void lrelu_ref_prelu_forward(lrelu_dtype t, lrelu_layout l, const void *x, const void *slope,
                             void *y)
{
    chan_call k = {.mode = 0, .l = l};
    chan_forward(t, &k, x, slope, y);
}

void lrelu_ref_prelu_backward(lrelu_dtype t, lrelu_layout l, const void *x, const void *slope,
                              const void *dy, void *dx, void *dslope)
{
    chan_call k = {.mode = 0, .l = l};
    chan_backward(t, &k, x, slope, dy, dx, dslope);
}

void lrelu_ref_bias_act_forward(lrelu_dtype t, lrelu_layout l, lrelu_bias_act p, const void *x,
                                const void *bias, void *y)
{
    chan_call k = {.mode = bias != NULL ? 1 : 2, .l = l, .b = p};
    chan_forward(t, &k, x, bias, y);
}

void lrelu_ref_bias_act_backward(lrelu_dtype t, lrelu_layout l, lrelu_bias_act p, const void *x,
                                 const void *bias, const void *dy, void *dx, void *dbias)
{
    chan_call k = {.mode = bias != NULL ? 1 : 2, .l = l, .b = p};
    chan_backward(t, &k, x, bias, dy, dx, dbias);
}
