/* test_sizes.c: sizes 0, 1, 2, primes, around the vector width and the work-group size,
 * past 65 535 work-items and up to 2^24 + 3, at element offsets 0, 1, 3 and 7, in place
 * and out of place, every dtype and call: device output bit for bit equal to the
 * reference, guard bands untouched. Large sizes run fewer combinations. Then each
 * operand at its own offset, every parity against every other's (bf16 reads pairs of
 * elements, and an operand one element off the output's pairs takes another path). */
#include "common.h"

#include <stdlib.h>

static const size_t sizes[] = {0,
                               1,
                               2,
                               3,
                               5,
                               7,
                               8,
                               13,
                               15,
                               16,
                               17,
                               31,
                               32,
                               33,
                               63,
                               64,
                               65,
                               127,
                               255,
                               256,
                               257,
                               1009,
                               4095,
                               4096,
                               4097,
                               8191,
                               65521,
                               65537,
                               262147,
                               (size_t)65535 * 16 + 17, /* past 65 535 work-items of 16 */
                               ((size_t)1 << 24) + 3};
static const size_t offsets[] = {0, 1, 3, 7};
#define LARGE ((size_t)1 << 20)

static const size_t mixed_sizes[] = {1, 2, 3, 4, 16, 17, 18, 33, 255, 1009, 4097, 65537};

/* Out of place, operand k at offset parity bit k of `combo`, plus 2 for every other size:
 * device and host APIs. */
static size_t mixed_offsets(lrelu_ctx *ctx, lrelu_dtype dt, const unsigned char *x,
                            const unsigned char *dy, unsigned char *y, size_t *failed)
{
    size_t passed = 0;
    for (size_t si = 0; si < sizeof mixed_sizes / sizeof mixed_sizes[0]; ++si) {
        size_t n = mixed_sizes[si];
        if (lt_cap(n) != n)
            continue;
        for (int op = 0; op < 3; ++op) {
            size_t nops = op == LT_FORWARD ? 2 : 3;
            double alpha = (double[]){0.01, 0.2, 3.0}[op];
            const void *s = x;
            if (op == LT_BACKWARD_FROM_OUTPUT) {
                lrelu_ref_forward(dt, n, alpha, x, y);
                s = y;
            }
            for (unsigned combo = 0; combo < (1u << nops); ++combo) {
                lt_ex_case c = {(lt_op)op, dt, n, alpha, {0}, {0, 1, 2}, {0, 0, 0}};
                c.opts.src_stride = c.opts.dy_stride = c.opts.dst_stride = 1;
                for (size_t k = 0; k < nops; ++k)
                    c.off[k] = ((combo >> k) & 1u) + 2 * (si % 2);
                for (int api = 0; api < 2; ++api)
                    lt_run_ex(ctx, &c, (lt_api)api, s, op == LT_FORWARD ? NULL : dy, x) ? ++*failed
                                                                                        : ++passed;
            }
        }
    }
    return passed;
}

int main(void)
{
    lrelu_ctx *ctx = lt_open();
    uint64_t rng = lt_seed();
    size_t passed = 0, failed = 0;
    size_t nmax = sizes[sizeof sizes / sizeof sizes[0] - 1];
    unsigned char *x = malloc(nmax * 8), *dy = malloc(nmax * 8), *y = malloc(nmax * 8);
    if (!x || !dy || !y)
        lt_die("out of memory");
    for (int t = 0; t < 4; ++t) {
        lrelu_dtype dt = (lrelu_dtype)t;
        /* specials first, then random patterns: the tail sees both kinds */
        size_t ns = lt_special_count(dt), es = lrelu_dtype_size(dt);
        lt_fill(dt, x, ns, &rng, 0, 0);
        lt_fill(dt, x + ns * es, nmax - ns, &rng, 1, 0);
        lt_fill(dt, dy, ns, &rng, 0, 5);
        lt_fill(dt, dy + ns * es, nmax - ns, &rng, 1, 0);
        size_t k = 0;
        for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; ++si) {
            size_t n = sizes[si];
            if (lt_cap(n) != n)
                continue;
            for (size_t oi = 0; oi < 4; ++oi) {
                for (int op = 0; op < 3; ++op, ++k) {
                    if (n >= LARGE && (oi + (size_t)op) % 4 != 3)
                        continue; /* one offset per call at the large sizes */
                    double alpha = (double[]){0.01, 0.2, 3.0, 0.0}[k % 4];
                    const void *s = x;
                    if (op == LT_BACKWARD_FROM_OUTPUT) {
                        lrelu_ref_forward(dt, n, alpha, x, y);
                        s = y;
                    }
                    lt_case c = {(lt_op)op,   dt,    n,
                                 offsets[oi], alpha, (lt_alias)(k % (op == LT_FORWARD ? 2 : 3))};
                    lt_run_device(ctx, &c, s, op == LT_FORWARD ? NULL : dy) ? ++failed : ++passed;
                }
            }
        }
        passed += mixed_offsets(ctx, dt, x, dy, y, &failed);
    }
    free(x);
    free(dy);
    free(y);
    lrelu_destroy(ctx);
    return lt_report(passed, failed);
}
