/* test_special.c: every dtype x every pair of special values (x, dy) x the slopes
 * 0, 0.01, 0.2, 1, 3, -0.5 and a subnormal x forward, backward and backward from the
 * output, in place and out of place, through the device-buffer API: device output bit
 * for bit equal to the CPU reference, guard bands untouched. */
#include "common.h"

#include <stdlib.h>

static const double slopes[] = {0.0,      0.01, 0.2, 1.0, 3.0, -0.5, 0x1p-140 /* float subnormal */,
                                0x1p-1040 /* double subnormal, 0 in float */};

int main(void)
{
    lrelu_ctx *ctx = lt_open();
    size_t passed = 0, failed = 0;
    for (int t = 0; t < 4; ++t) {
        size_t ns = lt_special_count((lrelu_dtype)t), n = ns * ns, es = lrelu_dtype_size(t);
        unsigned char *x = malloc(n * es), *dy = malloc(n * es), *y = malloc(n * es);
        if (!x || !dy || !y)
            lt_die("out of memory");
        for (size_t i = 0; i < n; ++i) { /* all pairs */
            lt_special((lrelu_dtype)t, i / ns, x + i * es);
            lt_special((lrelu_dtype)t, i % ns, dy + i * es);
        }
        for (size_t a = 0; a < sizeof slopes / sizeof slopes[0]; ++a) {
            for (int op = 0; op < 3; ++op) {
                if (op == LT_BACKWARD_FROM_OUTPUT && slopes[a] < 0)
                    continue; /* refused by the API; tests/test_errors.c checks that */
                const void *s = x;
                if (op == LT_BACKWARD_FROM_OUTPUT) { /* feed it real forward outputs */
                    lrelu_ref_forward((lrelu_dtype)t, n, slopes[a], x, y);
                    s = y;
                }
                for (int alias = 0; alias < (op == LT_FORWARD ? 2 : 3); ++alias) {
                    lt_case c = {(lt_op)op, (lrelu_dtype)t, n, 0, slopes[a], (lt_alias)alias};
                    size_t bad = lt_run_device(ctx, &c, s, op == LT_FORWARD ? NULL : dy);
                    bad ? ++failed : ++passed;
                }
            }
        }
        free(x);
        free(dy);
        free(y);
    }
    lrelu_destroy(ctx);
    return lt_report(passed, failed);
}
