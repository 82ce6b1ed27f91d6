/* test_reference.c: the CPU reference against the contract's semantics, written out by
 * hand (not computed by the same code): signed zeros at x == 0, NaN forward and backward,
 * infinities, slopes of 0, > 1 and < 0, one rounding for f16/bf16. No device needed. */
#include "common.h"

#include <math.h>
#include <string.h>

static size_t passed, failed;

static void expect_bits(const char *what, const void *got, const void *want, size_t es)
{
    if (memcmp(got, want, es) == 0) {
        ++passed;
        return;
    }
    ++failed;
    uint64_t g = 0, w = 0;
    memcpy(&g, got, es);
    memcpy(&w, want, es);
    printf("FAIL %s: want 0x%llx, got 0x%llx\n", what, (unsigned long long)w,
           (unsigned long long)g);
}

static void fwd32(const char *what, float x, double a, float want)
{
    float y;
    lrelu_ref_forward(LRELU_F32, 1, a, &x, &y);
    if (isnan(want) ? isnan(y) : memcmp(&y, &want, 4) == 0) {
        ++passed;
    } else {
        ++failed;
        printf("FAIL forward %s: x=%a alpha=%g want %a got %a\n", what, x, a, want, y);
    }
}

static void bwd32(const char *what, float x, float dy, double a, float want)
{
    float dx, dxy;
    lrelu_ref_backward(LRELU_F32, 1, a, &x, &dy, &dx);
    expect_bits(what, &dx, &want, 4);
    if (a >= 0) { /* from the output: the same for alpha >= 0 */
        float y;
        lrelu_ref_forward(LRELU_F32, 1, a, &x, &y);
        lrelu_ref_backward_from_output(LRELU_F32, 1, a, &y, &dy, &dxy);
        expect_bits(what, &dxy, &want, 4);
    }
}

int main(void)
{
    fwd32("x = +0 gives +0", 0.0f, 0.01, 0.0f);
    fwd32("x = -0 gives -0", -0.0f, 0.01, -0.0f);
    fwd32("x = +0, alpha < 0 gives -0", 0.0f, -0.5, -0.0f);
    fwd32("x = -0, alpha = 0 gives -0", -0.0f, 0.0, -0.0f);
    fwd32("x = -1, alpha = 0 gives -0", -1.0f, 0.0, -0.0f);
    fwd32("positive passes", 3.5f, 0.01, 3.5f);
    fwd32("negative scales", -2.0f, 0.25, -0.5f);
    fwd32("alpha > 1", -2.0f, 3.0, -6.0f);
    fwd32("alpha < 0 flips", -2.0f, -0.5, 1.0f);
    fwd32("NaN stays NaN", NAN, 0.01, NAN);
    fwd32("+inf passes", INFINITY, 0.01, INFINITY);
    fwd32("-inf scales", -INFINITY, 0.01, -INFINITY);
    fwd32("-inf times 0 is NaN", -INFINITY, 0.0, NAN);
    fwd32("subnormal passes", 0x1p-149f, 0.01, 0x1p-149f);
    fwd32("alpha rounds to float once", -1.0f, 0.1, -0.1f);
    fwd32("-FLT_MAX * 3 overflows", -0x1.fffffep127f, 3.0, -INFINITY);

    bwd32("x = 0 takes the alpha branch", 0.0f, 2.0f, 0.01, 2.0f * 0.01f);
    bwd32("x = -0 takes the alpha branch", -0.0f, 2.0f, 0.5, 1.0f);
    bwd32("x > 0 passes dy", 1e-30f, -7.0f, 0.01, -7.0f);
    bwd32("x < 0 scales dy", -1.0f, 4.0f, 0.25, 1.0f);
    bwd32("NaN x gives dy * alpha, finite", NAN, 4.0f, 0.25, 1.0f);
    bwd32("NaN dy stays NaN on the positive side", 1.0f, NAN, 0.25, NAN);
    bwd32("alpha = 0 gives a signed zero", -1.0f, -3.0f, 0.0, -0.0f);
    bwd32("alpha < 0", -1.0f, 4.0f, -0.5, -2.0f);
    /* from the output with alpha < 0 uses y's sign: that is why the API refuses it */
    {
        float y = 1.0f, dy = 4.0f, dx; /* y = 1 came from x = -2 with alpha = -0.5 */
        lrelu_ref_backward_from_output(LRELU_F32, 1, -0.5, &y, &dy, &dx);
        float want = 4.0f;
        expect_bits("from output, alpha < 0, is the formula as written", &dx, &want, 4);
    }
    /* f16: computed in float, rounded once. -1 * 0.1f = -0x1.99999ap-4 rounds to
     * 0xae66 in half; a double rounding through 0.1 in half would give 0xae67 * ... */
    {
        uint16_t x = 0xbc00, y, want = 0xae66; /* -1 */
        lrelu_ref_forward(LRELU_F16, 1, 0.1, &x, &y);
        expect_bits("f16 -1 * 0.1 rounds once to nearest even", &y, &want, 2);
        uint16_t big = 0xfbff, want_inf = 0xfc00; /* -65504 * 3 overflows to -inf */
        lrelu_ref_forward(LRELU_F16, 1, 3.0, &big, &y);
        expect_bits("f16 overflow to -inf", &y, &want_inf, 2);
        uint16_t nz = 0x8001, want_nz = 0x8000; /* smallest subnormal * 0.01 -> -0 */
        lrelu_ref_forward(LRELU_F16, 1, 0.01, &nz, &y);
        expect_bits("f16 underflow keeps the sign", &y, &want_nz, 2);
    }
    {
        uint16_t x = 0xbf80, y, want = 0xbdcd; /* bf16 -1 * 0.1f = -0x1.99999ap-4 -> 0xbdcd */
        lrelu_ref_forward(LRELU_BF16, 1, 0.1, &x, &y);
        expect_bits("bf16 -1 * 0.1 rounds once", &y, &want, 2);
        uint16_t nan = 0x7fc1, dy = 0x4000, dx, want_dx = 0x3f80; /* NaN x: dy * alpha */
        lrelu_ref_backward(LRELU_BF16, 1, 0.5, &nan, &dy, &dx);
        expect_bits("bf16 NaN x gives dy * alpha", &dx, &want_dx, 2);
    }
    {
        double x = -1.0, y, want = -0.1; /* f64 keeps alpha in double */
        lrelu_ref_forward(LRELU_F64, 1, 0.1, &x, &y);
        expect_bits("f64 uses alpha as a double", &y, &want, 8);
        double z = -0.0, want_z = -0.0;
        lrelu_ref_forward(LRELU_F64, 1, 0.01, &z, &y);
        expect_bits("f64 -0 gives -0", &y, &want_z, 8);
    }
    /* in place: the output may be the input */
    {
        float v[3] = {-2.0f, 0.0f, 5.0f}, want[3] = {-1.0f, 0.0f, 5.0f};
        lrelu_ref_forward(LRELU_F32, 3, 0.5, v, v);
        expect_bits("in place", v, want, sizeof v);
    }
    return lt_report(passed, failed);
}
