/* test_convert.c: the f16 and bf16 conversions against known bit patterns: zeros,
 * subnormals, the largest finite values, overflow to infinity, NaN, and ties that must
 * round to even. No device needed. */
#include "common.h"

#include <math.h>
#include <string.h>

static size_t passed, failed;

static float f32(uint32_t b)
{
    float f;
    memcpy(&f, &b, 4);
    return f;
}

static void narrow(const char *what, uint16_t (*fn)(float), uint32_t in, uint16_t want)
{
    uint16_t got = fn(f32(in));
    int ok = got == want;
    /* any NaN encoding is fine where a NaN is expected */
    if (!ok && (want & 0x7c00) == 0x7c00 && (want & 0x3ff) && fn == lrelu_float_to_f16)
        ok = (got & 0x7c00) == 0x7c00 && (got & 0x3ff);
    if (!ok && (want & 0x7f80) == 0x7f80 && (want & 0x7f) && fn == lrelu_float_to_bf16)
        ok = (got & 0x7f80) == 0x7f80 && (got & 0x7f);
    if (ok) {
        ++passed;
    } else {
        ++failed;
        printf("FAIL %s(0x%08x = %a): want 0x%04x, got 0x%04x\n", what, in, f32(in), want, got);
    }
}

static void widen(const char *what, float (*fn)(uint16_t), uint16_t in, uint32_t want)
{
    float got = fn(in);
    uint32_t gb;
    memcpy(&gb, &got, 4);
    if (gb == want || (isnan(got) && isnan(f32(want)))) {
        ++passed;
    } else {
        ++failed;
        printf("FAIL %s(0x%04x): want 0x%08x (%a), got 0x%08x (%a)\n", what, in, want, f32(want),
               gb, got);
    }
}

int main(void)
{
    /* f16 narrowing */
    narrow("f16", lrelu_float_to_f16, 0x00000000, 0x0000); /* +0 */
    narrow("f16", lrelu_float_to_f16, 0x80000000, 0x8000); /* -0 */
    narrow("f16", lrelu_float_to_f16, 0x3f800000, 0x3c00); /* 1 */
    narrow("f16", lrelu_float_to_f16, 0xc0000000, 0xc000); /* -2 */
    narrow("f16", lrelu_float_to_f16, 0x477fe000, 0x7bff); /* 65504, largest finite */
    narrow("f16", lrelu_float_to_f16, 0x477fefff, 0x7bff); /* just below the overflow tie */
    narrow("f16", lrelu_float_to_f16, 0x477ff000, 0x7c00); /* 65520 ties to inf (even) */
    narrow("f16", lrelu_float_to_f16, 0xc77ff000, 0xfc00); /* -65520 */
    narrow("f16", lrelu_float_to_f16, 0x7f7fffff, 0x7c00); /* FLT_MAX */
    narrow("f16", lrelu_float_to_f16, 0x7f800000, 0x7c00); /* inf */
    narrow("f16", lrelu_float_to_f16, 0xff800000, 0xfc00); /* -inf */
    narrow("f16", lrelu_float_to_f16, 0x7fc00000, 0x7e00); /* NaN */
    narrow("f16", lrelu_float_to_f16, 0x7f800001, 0x7e00); /* signalling NaN stays NaN */
    narrow("f16", lrelu_float_to_f16, 0x38800000, 0x0400); /* 2^-14, smallest normal */
    narrow("f16", lrelu_float_to_f16, 0x387fc000, 0x03ff); /* largest subnormal */
    narrow("f16", lrelu_float_to_f16, 0x387fe000, 0x0400); /* rounds up into the normals */
    narrow("f16", lrelu_float_to_f16, 0x33800000, 0x0001); /* 2^-24, smallest subnormal */
    narrow("f16", lrelu_float_to_f16, 0xb3800000, 0x8001);
    narrow("f16", lrelu_float_to_f16, 0x33000000, 0x0000); /* 2^-25: tie, to even 0 */
    narrow("f16", lrelu_float_to_f16, 0x33000001, 0x0001); /* just above the tie */
    narrow("f16", lrelu_float_to_f16, 0x33c00000, 0x0002); /* 1.5 * 2^-24: tie to even 2 */
    narrow("f16", lrelu_float_to_f16, 0x34200000, 0x0002); /* 2.5 * 2^-24: tie to even 2 */
    narrow("f16", lrelu_float_to_f16, 0x00000001, 0x0000); /* float subnormal */
    narrow("f16", lrelu_float_to_f16, 0x80000001, 0x8000);
    narrow("f16", lrelu_float_to_f16, 0x3f801000, 0x3c00); /* 1 + 2^-11: tie, to even */
    narrow("f16", lrelu_float_to_f16, 0x3f803000, 0x3c02); /* 1 + 3 * 2^-11: tie, to even */
    narrow("f16", lrelu_float_to_f16, 0x3f801001, 0x3c01); /* above the tie */
    /* f16 widening */
    widen("f16", lrelu_f16_to_float, 0x0000, 0x00000000);
    widen("f16", lrelu_f16_to_float, 0x8000, 0x80000000);
    widen("f16", lrelu_f16_to_float, 0x0001, 0x33800000);
    widen("f16", lrelu_f16_to_float, 0x83ff, 0xb87fc000);
    widen("f16", lrelu_f16_to_float, 0x0400, 0x38800000);
    widen("f16", lrelu_f16_to_float, 0x7bff, 0x477fe000);
    widen("f16", lrelu_f16_to_float, 0x7c00, 0x7f800000);
    widen("f16", lrelu_f16_to_float, 0xfc00, 0xff800000);
    widen("f16", lrelu_f16_to_float, 0x7e00, 0x7fc00000);
    widen("f16", lrelu_f16_to_float, 0x3c00, 0x3f800000);
    /* every f16 survives a round trip through float */
    for (uint32_t h = 0; h < 0x10000; ++h) {
        if ((h & 0x7c00) == 0x7c00 && (h & 0x3ff))
            continue; /* NaNs are checked above */
        uint16_t back = lrelu_float_to_f16(lrelu_f16_to_float((uint16_t)h));
        if (back != h) {
            ++failed;
            printf("FAIL f16 round trip 0x%04x -> 0x%04x\n", h, back);
            break;
        }
    }
    ++passed;
    /* bf16 */
    narrow("bf16", lrelu_float_to_bf16, 0x00000000, 0x0000);
    narrow("bf16", lrelu_float_to_bf16, 0x80000000, 0x8000);
    narrow("bf16", lrelu_float_to_bf16, 0x3f800000, 0x3f80);
    narrow("bf16", lrelu_float_to_bf16, 0x3f808000, 0x3f80); /* tie, to even */
    narrow("bf16", lrelu_float_to_bf16, 0x3f818000, 0x3f82); /* tie, to even (up) */
    narrow("bf16", lrelu_float_to_bf16, 0x3f808001, 0x3f81); /* above the tie */
    narrow("bf16", lrelu_float_to_bf16, 0x7f7fffff, 0x7f80); /* FLT_MAX rounds to inf */
    narrow("bf16", lrelu_float_to_bf16, 0x7f7f7fff, 0x7f7f); /* stays the largest finite */
    narrow("bf16", lrelu_float_to_bf16, 0x7f7f8000, 0x7f80); /* tie at the top: to inf */
    narrow("bf16", lrelu_float_to_bf16, 0xff800000, 0xff80);
    narrow("bf16", lrelu_float_to_bf16, 0x7fc00000, 0x7fc0);
    narrow("bf16", lrelu_float_to_bf16, 0x7f800001, 0x7fc0); /* sNaN with a low payload */
    narrow("bf16", lrelu_float_to_bf16, 0xffffffff, 0xffff); /* NaN never rounds to inf */
    narrow("bf16", lrelu_float_to_bf16, 0x00010000, 0x0001); /* subnormal */
    narrow("bf16", lrelu_float_to_bf16, 0x00008000, 0x0000); /* tie at zero: to even */
    narrow("bf16", lrelu_float_to_bf16, 0x00018000, 0x0002);
    narrow("bf16", lrelu_float_to_bf16, 0x007fffff, 0x0080); /* rounds into the normals */
    widen("bf16", lrelu_bf16_to_float, 0x0001, 0x00010000);
    widen("bf16", lrelu_bf16_to_float, 0xff80, 0xff800000);
    widen("bf16", lrelu_bf16_to_float, 0x7f7f, 0x7f7f0000);
    return lt_report(passed, failed);
}
