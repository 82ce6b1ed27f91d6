/* test_strided.c: strided views (BLAS inc) for forward and both backwards, every dtype,
 * device and host APIs: strides 1, 2, 3 and 7 per operand, offsets, views interleaved in
 * one buffer, in place on the same view, with and without blending; results bit for bit
 * the reference's and the elements between strided ones untouched. Then the overlap
 * check against brute force: random small views of one buffer, the call succeeds
 * exactly when the output shares no element with an input or is the very same view. */
#include "common.h"

#include <stdlib.h>
#include <string.h>

static const size_t strides[] = {1, 2, 3, 7};
static const size_t sizes[] = {1, 2, 5, 17, 64, 1001, 65537};

static size_t value_cases(lrelu_ctx *ctx, uint64_t *rng, size_t *failed)
{
    size_t passed = 0;
    size_t nmax = sizes[sizeof sizes / sizeof sizes[0] - 1];
    unsigned char *x = malloc(nmax * 8), *dy = malloc(nmax * 8), *old = malloc(nmax * 8),
                  *y = malloc(nmax * 8);
    if (!x || !dy || !old || !y)
        lt_die("out of memory");
    for (int t = 0; t < 4; ++t) {
        lrelu_dtype dt = (lrelu_dtype)t;
        if (!lt_supported(ctx, dt))
            continue;
        size_t es = lrelu_dtype_size(dt), ns = lt_special_count(dt);
        lt_fill(dt, x, ns, rng, 0, 0);
        lt_fill(dt, dy, ns, rng, 0, 5);
        lt_fill(dt, x + ns * es, nmax - ns, rng, 1, 0);
        lt_fill(dt, dy + ns * es, nmax - ns, rng, 1, 0);
        lt_fill(dt, old, nmax, rng, 1, 0);
        size_t k = 0;
        for (size_t a = 0; a < 4; ++a)
            for (size_t b = 0; b < 4; ++b)
                for (int op = 0; op < 3; ++op, ++k) {
                    size_t n = lt_cap(sizes[k % (sizeof sizes / sizeof sizes[0])]);
                    double alpha = (double[]){0.01, 0.2, 3.0, 0.0}[k % 4];
                    const void *s = x;
                    if (op == LT_BACKWARD_FROM_OUTPUT) {
                        lrelu_ref_forward(dt, n, alpha, x, y);
                        s = y;
                    }
                    lt_ex_case c = {(lt_op)op, dt, n, alpha, {0}, {0, 1, 2}, {k % 3, k % 4, 1}};
                    c.opts.src_stride = strides[a];
                    c.opts.dy_stride = strides[(a + b) % 4];
                    c.opts.dst_stride = strides[b];
                    if (k % 4 == 1)
                        c.opts = (lrelu_opts){LRELU_BLEND, -0.5,       1.0,
                                              strides[a],  strides[b], strides[b]};
                    size_t out = op == LT_FORWARD ? 1 : 2;
                    switch (k % 3) {
                    case 1: /* in place: the output is the first input's very view */
                        c.img[out] = 0;
                        c.off[out] = c.off[0];
                        c.opts.dst_stride = c.opts.src_stride;
                        break;
                    case 2: /* interleaved: the output between the input's elements */
                        if (c.opts.src_stride > 1) {
                            c.img[out] = 0;
                            c.off[out] = c.off[0] + 1;
                            c.opts.dst_stride = c.opts.src_stride;
                        }
                        break;
                    default:
                        break;
                    }
                    for (int api = 0; api < 2; ++api)
                        if (lt_api_on((lt_api)api))
                            lt_run_ex(ctx, &c, (lt_api)api, s, dy, old) ? ++*failed : ++passed;
                }
    }
    free(x);
    free(dy);
    free(old);
    free(y);
    return passed;
}

/* Whether the output view shares an element with an input view, by marking elements. */
static int brute_overlap(const lt_ex_case *c, size_t nops)
{
    size_t inc[3] = {c->opts.src_stride, c->opts.dy_stride, c->opts.dst_stride};
    if (nops == 2)
        inc[1] = inc[2];
    size_t out = nops - 1;
    for (size_t k = 0; k < out; ++k) {
        if (c->off[k] == c->off[out] && (inc[k] == inc[out] || c->n == 1))
            continue; /* the very same view */
        for (size_t i = 0; i < c->n; ++i)
            for (size_t j = 0; j < c->n; ++j)
                if (c->off[k] + i * inc[k] == c->off[out] + j * inc[out])
                    return 1;
    }
    return 0;
}

static size_t overlap_cases(lrelu_ctx *ctx, uint64_t *rng, size_t *failed)
{
    size_t passed = 0, refused = 0;
    for (int r = 0; r < 600; ++r) {
        lt_op op = (lt_op)(lt_rand(rng) % 3);
        size_t nops = op == LT_FORWARD ? 2 : 3;
        lt_ex_case c = {op, LRELU_F32, 1 + lt_rand(rng) % 9, 0.5, {0}, {0, 0, 0}, {0, 0, 0}};
        c.opts.src_stride = 1 + lt_rand(rng) % 6;
        c.opts.dy_stride = 1 + lt_rand(rng) % 6;
        c.opts.dst_stride = 1 + lt_rand(rng) % 6;
        for (size_t k = 0; k < 3; ++k)
            c.off[k] = lt_rand(rng) % 12;
        if (r % 4 == 0) { /* the very same view now and then */
            c.off[nops - 1] = c.off[0];
            c.opts.dst_stride = c.opts.src_stride;
        }
        if (nops == 2)
            c.opts.dy_stride = 0;
        int meet = brute_overlap(&c, nops);
        for (int api = 0; api < 2; ++api) {
            if (!lt_api_on((lt_api)api))
                continue;
            lrelu_status st = lt_call_ex_status(ctx, &c, (lt_api)api);
            lrelu_status want = meet ? LRELU_ERR_OVERLAP : LRELU_OK;
            refused += st == LRELU_ERR_OVERLAP;
            if (st == want) {
                ++passed;
                continue;
            }
            ++*failed;
            printf("FAIL overlap %s %s n=%zu offsets %zu/%zu/%zu strides %zu/%zu/%zu: got %s, "
                   "want %s\n",
                   api ? "host" : "device", lt_op_name(op), c.n, c.off[0], c.off[1], c.off[2],
                   c.opts.src_stride, c.opts.dy_stride, c.opts.dst_stride, lrelu_status_str(st),
                   lrelu_status_str(want));
        }
    }
    /* the check must refuse some and accept some, or it tested nothing */
    printf("overlap: %zu of %d calls refused\n", refused, 1200);
    lt_check(refused > 100 && refused < 1100, "overlap cases of both kinds");
    return passed;
}

int main(void)
{
    lrelu_ctx *ctx = lt_open();
    uint64_t rng = lt_seed();
    size_t failed = 0;
    size_t passed = value_cases(ctx, &rng, &failed);
    passed += overlap_cases(ctx, &rng, &failed);
    lrelu_destroy(ctx);
    return lt_report(passed + lt_passed, failed + lt_failed);
}
