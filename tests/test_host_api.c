/* test_host_api.c: the blocking host-memory API against the reference for every dtype
 * and call, at unaligned pointers, in place and out of place, with the default chunk and
 * with a tiny chunk (LRELU_HOST_CHUNK) so every size crosses chunk boundaries, including
 * a last chunk of one element; every f16 and bf16 bit pattern in one call. Guard bands
 * around every host output. */
#include "common.h"

#include <stdlib.h>
#include <string.h>

int main(void)
{
    uint64_t rng = lt_seed();
    size_t passed = 0, failed = 0;
    static const size_t sizes[] = {0, 1, 2, 63, 64, 65, 1000, 4097, 100003};
    static unsigned char x[100003 * 8], dy[100003 * 8], y[100003 * 8];
    for (int chunked = 0; chunked < 2; ++chunked) {
        /* 1 KiB chunks: 128 f64 or 512 f16 elements; 100003 f32 needs 391 of them */
        if (chunked)
            setenv("LRELU_HOST_CHUNK", "1024", 1);
        lrelu_ctx *ctx = lt_open();
        unsetenv("LRELU_HOST_CHUNK");
        size_t k = 0;
        for (int t = 0; t < 4; ++t) {
            lrelu_dtype dt = (lrelu_dtype)t;
            /* every 16-bit pattern in one call */
            if ((dt == LRELU_F16 || dt == LRELU_BF16) && lt_cap(65536) == 65536) {
                for (size_t i = 0; i < 65536; ++i) {
                    uint16_t v = (uint16_t)i;
                    memcpy(x + 2 * i, &v, 2);
                }
                lt_fill(dt, dy, 65536, &rng, 1, 0);
                for (int op = 0; op < 2; ++op) {
                    lt_case c = {(lt_op)op, dt, 65536, 0, op ? 1.5 : 0.2, LT_OUT_OF_PLACE};
                    lt_run_host(ctx, &c, x, op == LT_FORWARD ? NULL : dy) ? ++failed : ++passed;
                }
            }
            lt_fill(dt, x, 100003, &rng, 1, 0);
            lt_fill(dt, x, lt_special_count(dt), &rng, 0, 0);
            lt_fill(dt, dy, 100003, &rng, 1, 0);
            for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; ++si) {
                if (lt_cap(sizes[si]) != sizes[si])
                    continue;
                for (int op = 0; op < 3; ++op, ++k) {
                    double alpha = (double[]){0.01, 0.2, 1.5, 0.0}[k % 4];
                    const void *s = x;
                    if (op == LT_BACKWARD_FROM_OUTPUT) {
                        lrelu_ref_forward(dt, sizes[si], alpha, x, y);
                        s = y;
                    }
                    lt_case c = {(lt_op)op, dt,    sizes[si],
                                 k % 8,     alpha, (lt_alias)(k % (op == LT_FORWARD ? 2 : 3))};
                    lt_run_host(ctx, &c, s, op == LT_FORWARD ? NULL : dy) ? ++failed : ++passed;
                }
            }
        }
        lrelu_destroy(ctx);
    }
    return lt_report(passed, failed);
}
