/* test_blend.c: blending (cuDNN's scaling), out = scale * f + beta * out, for every dtype,
 * forward and both backwards, device and host APIs: special values for x, dy and the
 * output's old value, crossed with scales and betas (0, 1, fractions, negatives, a
 * subnormal), in place and out of place, sizes around the vector width; results bit for
 * bit the reference's, every other byte untouched. With beta == 0 the old output is NaN
 * and must not leak in; scale 1, beta 0 must equal the plain call. */
#include "common.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const double scales[] = {1.0, 0.5, -2.0, 3.0, 0.0, 0x1p-130};
static const double betas[] = {0.0, 1.0, 0.25, -1.0, -0.0, 1e-3};
static const size_t sizes[] = {1, 7, 33, 257, 4099};

/* NaN in every dtype: what a beta == 0 call must never read */
static void fill_nan(lrelu_dtype t, void *p, size_t n)
{
    size_t es = lrelu_dtype_size(t);
    for (size_t i = 0; i < n; ++i)
        lt_special(t, 4 /* +NaN in every table */, (char *)p + i * es);
}

int main(void)
{
    lrelu_ctx *ctx = lt_open();
    uint64_t rng = lt_seed();
    size_t passed = 0, failed = 0;
    size_t nmax = sizes[sizeof sizes / sizeof sizes[0] - 1];
    unsigned char *x = malloc(nmax * 8), *dy = malloc(nmax * 8), *old = malloc(nmax * 8),
                  *nan = malloc(nmax * 8), *y = malloc(nmax * 8);
    if (!x || !dy || !old || !nan || !y)
        lt_die("out of memory");
    for (int t = 0; t < 4; ++t) {
        lrelu_dtype dt = (lrelu_dtype)t;
        if (!lt_supported(ctx, dt))
            continue;
        size_t es = lrelu_dtype_size(dt), ns = lt_special_count(dt);
        /* specials in x, dy and old at different phases, then random patterns */
        lt_fill(dt, x, ns, &rng, 0, 0);
        lt_fill(dt, dy, ns, &rng, 0, 3);
        lt_fill(dt, old, ns, &rng, 0, 7);
        lt_fill(dt, x + ns * es, nmax - ns, &rng, 1, 0);
        lt_fill(dt, dy + ns * es, nmax - ns, &rng, 1, 0);
        lt_fill(dt, old + ns * es, nmax - ns, &rng, 1, 0);
        fill_nan(dt, nan, nmax);
        size_t k = 0;
        for (size_t si = 0; si < sizeof scales / sizeof scales[0]; ++si)
            for (size_t bi = 0; bi < sizeof betas / sizeof betas[0]; ++bi)
                for (int op = 0; op < 3; ++op, ++k) {
                    /* a device that flushes denormals may take a subnormal factor as 0 */
                    if (scales[si] != 0 && fabs(scales[si]) < 0x1p-126 &&
                        lt_device_flushes(ctx, dt))
                        continue;
                    double alpha = (double[]){0.01, 0.2, 3.0, 0.0}[k % 4];
                    size_t n = sizes[k % (sizeof sizes / sizeof sizes[0])];
                    const void *s = x;
                    if (op == LT_BACKWARD_FROM_OUTPUT) {
                        lrelu_ref_forward(dt, n, alpha, x, y);
                        s = y;
                    }
                    lt_ex_case c = {(lt_op)op, dt, n, alpha, {0}, {0, 1, 2}, {0, 0, 0}};
                    c.opts.flags = LRELU_BLEND;
                    c.opts.scale = scales[si];
                    c.opts.beta = betas[bi];
                    /* in place on the first input every third case, offsets vary */
                    size_t out = op == LT_FORWARD ? 1 : 2;
                    if (k % 3 == 1)
                        c.img[out] = 0;
                    else
                        c.off[out] = k % 5;
                    c.off[0] = c.img[out] == 0 ? c.off[out] : k % 3;
                    c.off[1] = op == LT_FORWARD ? c.off[1] : k % 7;
                    const void *prior = betas[bi] == 0 ? nan : old;
                    for (int api = 0; api < 2; ++api)
                        lt_run_ex(ctx, &c, (lt_api)api, s, dy, prior) ? ++failed : ++passed;
                }
        /* scale 1, beta 0 through the general kernel is bit for bit the plain call */
        for (int op = 0; op < 3; ++op) {
            size_t n = nmax;
            lt_ex_case c = {(lt_op)op, dt,       n, 0.2, {LRELU_BLEND, 1.0, 0.0, 0, 0, 0},
                            {0, 1, 2}, {1, 2, 3}};
            const void *s = x;
            if (op == LT_BACKWARD_FROM_OUTPUT) {
                lrelu_ref_forward(dt, n, 0.2, x, y);
                s = y;
            }
            unsigned char *plain = malloc(n * es);
            if (plain == NULL)
                lt_die("out of memory");
            if (op == LT_FORWARD)
                lrelu_ref_forward(dt, n, 0.2, s, plain);
            else
                lrelu_ref_backward(dt, n, 0.2, s, dy, plain);
            unsigned char *blended = malloc(n * es);
            if (blended == NULL)
                lt_die("out of memory");
            lrelu_ref_backward_ex(dt, n, 0.2, &c.opts, s, op == LT_FORWARD ? s : dy, blended);
            size_t same = 0;
            for (size_t i = 0; i < n; ++i)
                same += lt_same(dt, plain + i * es, blended + i * es, 0);
            same == n ? ++passed : ++failed;
            if (same != n)
                printf("FAIL %s %s: scale 1 beta 0 differs from the plain reference at %zu "
                       "elements\n",
                       lrelu_dtype_name(dt), lt_op_name((lt_op)op), n - same);
            lt_run_ex(ctx, &c, LT_API_DEVICE, s, dy, nan) ? ++failed : ++passed;
            free(plain);
            free(blended);
        }
    }
    free(x);
    free(dy);
    free(old);
    free(nan);
    free(y);
    lrelu_destroy(ctx);
    return lt_report(passed, failed);
}
