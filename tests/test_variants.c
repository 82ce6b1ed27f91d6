/* test_variants.c: every kernel shape lrelu_tune() may pick (1, 2, 4, 8, 16 elements
 * per work-item x 64, 256, 1024 per group), forced through LRELU_KERNEL_SHAPE: each dtype and call
 * over sizes around the shape's vector and group, at even and odd offsets, in place and out, bit
 * for bit against the reference. */
#include "common.h"

#include <stdlib.h>

int main(void)
{
    static const size_t vecs[] = {1, 2, 4, 8, 16};
    static const size_t locals[] = {64, 256, 1024};
    uint64_t rng = lt_seed();
    size_t passed = 0, failed = 0;
    enum { NMAX = 70001 };
    static unsigned char x[NMAX * 8], dy[NMAX * 8], y[NMAX * 8];
    for (size_t v = 0; v < 5; ++v)
        for (size_t l = 0; l < 3; ++l) {
            char shape[32];
            snprintf(shape, sizeof shape, "%zu:%zu", vecs[v], locals[l]);
            setenv("LRELU_KERNEL_SHAPE", shape, 1);
            lrelu_ctx *ctx = lt_open();
            unsetenv("LRELU_KERNEL_SHAPE");
            size_t gv, gl;
            lt_ok(lrelu_kernel_shape(ctx, LRELU_F32, &gv, &gl), "lrelu_kernel_shape");
            if (gv != vecs[v] || gl != locals[l]) {
                ++failed;
                printf("FAIL shape %s not taken: %zu:%zu\n", shape, gv, gl);
            }
            size_t group = vecs[v] * locals[l];
            /* and around twice the vector and group: bf16's plain kernels take two
             * vectors' worth a work-item at VEC 16 (host/cl/programs.c) */
            const size_t sizes[] = {1,
                                    vecs[v] + 1,
                                    2 * vecs[v] + 1,
                                    group - 1,
                                    group + vecs[v] + 1,
                                    2 * group - 1,
                                    2 * group + 2 * vecs[v] + 1,
                                    NMAX};
            enum { NSIZES = sizeof sizes / sizeof sizes[0] };
            for (int t = 0; t < 4; ++t) {
                lrelu_dtype dt = (lrelu_dtype)t;
                lt_fill(dt, x, NMAX, &rng, 1, 0);
                lt_fill(dt, x, lt_special_count(dt), &rng, 0, 0);
                lt_fill(dt, dy, NMAX, &rng, 1, 0);
                for (size_t si = 0; si < NSIZES; ++si)
                    for (int op = 0; op < 3; ++op) {
                        size_t n = sizes[si] > NMAX - 8 ? NMAX - 8 : sizes[si];
                        if (lt_cap(n) != n)
                            continue;
                        const void *s = x;
                        if (op == LT_BACKWARD_FROM_OUTPUT) {
                            lrelu_ref_forward(dt, n, 0.25, x, y);
                            s = y;
                        }
                        lt_case c = {
                            (lt_op)op, dt,
                            n,         (si + (size_t)op) % 2 ? 3 : 2,
                            0.25,      (lt_alias)((si + (size_t)t) % (op == LT_FORWARD ? 2 : 3))};
                        lt_run_device(ctx, &c, s, op == LT_FORWARD ? NULL : dy) ? ++failed
                                                                                : ++passed;
                    }
            }
            lrelu_destroy(ctx);
        }
    return lt_report(passed, failed);
}
