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

/* Forward and backward of both ops for each compute type: float (f32, f16, bf16 through
 * lrelu_load_f and lrelu_store_f) and double. */
#define REF_CAT_(a, b) a##_##b
#define REF_CAT(a, b)  REF_CAT_(a, b)
#define REF_FN(name)   REF_CAT(name, SUF)

#define SUF            f
#define CT             float
#define LOAD(p, i)     lrelu_load_f(t, (p), (i))
#define STORE(p, i, v) lrelu_store_f(t, (p), (i), (v))
#include "ref/channels_dtype.h"

#define SUF            d
#define CT             double
#define LOAD(p, i)     load_d((p), (i))
#define STORE(p, i, v) store_d((p), (i), (v))
#include "ref/channels_dtype.h"

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
