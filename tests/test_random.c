/* test_random.c: seeded random bit patterns (every encoding: NaN payloads, subnormals,
 * both zeros) for every dtype and call, random slopes among them, at unaligned offsets,
 * in place and out of place, through both APIs. The seed is printed for replay. */
#include "common.h"

#include <stdlib.h>
#include <string.h>

int main(void)
{
    lrelu_ctx *ctx = lt_open();
    uint64_t rng = lt_seed();
    size_t passed = 0, failed = 0;
    const size_t n = lt_cap(100003);
    for (int t = 0; t < 4; ++t) {
        size_t es = lrelu_dtype_size(t);
        unsigned char *x = malloc(n * es), *dy = malloc(n * es), *y = malloc(n * es);
        if (!x || !dy || !y)
            lt_die("out of memory");
        for (int round = 0; round < 6; ++round) {
            lt_fill((lrelu_dtype)t, x, n, &rng, 1, 0);
            lt_fill((lrelu_dtype)t, dy, n, &rng, 1, 0);
            /* slopes: a random finite value in [-4, 4), then fixed ones */
            double alpha = round == 0 ? (double)(lt_rand(&rng) % 8000) / 1000.0 - 4.0
                                      : (double[]){0.01, 0.2, 0.0, 3.0, -0.5}[round - 1];
            for (int op = 0; op < 3; ++op) {
                double a = op == LT_BACKWARD_FROM_OUTPUT && alpha < 0 ? -alpha : alpha;
                const void *s = x;
                if (op == LT_BACKWARD_FROM_OUTPUT) {
                    lrelu_ref_forward((lrelu_dtype)t, n, a, x, y);
                    s = y;
                }
                lt_case c = {(lt_op)op,
                             (lrelu_dtype)t,
                             n - (size_t)round,
                             (size_t)round % 4,
                             a,
                             (lt_alias)(round % (op == LT_FORWARD ? 2 : 3))};
                const void *d = op == LT_FORWARD ? NULL : dy;
                lt_run_device(ctx, &c, s, d) ? ++failed : ++passed;
                lt_run_host(ctx, &c, s, d) ? ++failed : ++passed;
            }
        }
        free(x);
        free(dy);
        free(y);
    }
    lrelu_destroy(ctx);
    return lt_report(passed, failed);
}
