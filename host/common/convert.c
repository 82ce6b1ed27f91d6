/* convert.c: f16 and bf16 storage conversions, written once for the reference and the
 * tests. Widening is exact; narrowing rounds once to nearest even, overflows to infinity,
 * keeps the sign of zero, and keeps NaN a quiet NaN (like vstore_half_rte and the bf16
 * rounding in kernels/common.cl), and the loads and stores of f16, bf16 and f32 arrays
 * through float. */
#include "common/common.h"

#include <string.h>

static uint32_t float_bits(float f)
{
    uint32_t b;
    memcpy(&b, &f, sizeof b);
    return b;
}

static float bits_float(uint32_t b)
{
    float f;
    memcpy(&f, &b, sizeof f);
    return f;
}

float lrelu_f16_to_float(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t exp = (h >> 10) & 0x1fu, mant = h & 0x3ffu;
    if (exp == 0) {
        /* zero or subnormal: mant * 2^-24, exact in float */
        float v = (float)mant * 0x1p-24f;
        return bits_float(float_bits(v) | sign);
    }
    if (exp == 31)
        return bits_float(sign | 0x7f800000u | (mant << 13));
    return bits_float(sign | ((exp + 112u) << 23) | (mant << 13));
}

uint16_t lrelu_float_to_f16(float f)
{
    uint32_t b = float_bits(f);
    uint16_t sign = (uint16_t)((b >> 16) & 0x8000u);
    uint32_t abs = b & 0x7fffffffu;
    if (abs > 0x7f800000u) /* NaN: keep the top payload bits, force the quiet bit */
        return (uint16_t)(sign | 0x7e00u | ((abs >> 13) & 0x3ffu));
    if (abs >= 0x477ff000u) /* 65520 and up round to infinity */
        return (uint16_t)(sign | 0x7c00u);
    if (abs >= 0x38800000u) { /* normal in half: rebias 127 -> 15 and round the mantissa */
        uint32_t r = abs + 0xfffu + ((abs >> 13) & 1u);
        return (uint16_t)(sign | ((r - 0x38000000u) >> 13));
    }
    if (abs < 0x33000000u) /* below 2^-25: rounds to zero */
        return sign;
    /* half subnormal: value / 2^-24 = m * 2^(e - 126), rounded to nearest even */
    uint32_t e = abs >> 23, m = (abs & 0x7fffffu) | 0x800000u;
    uint32_t shift = 126u - e;
    uint32_t h = m >> shift, rem = m & ((1u << shift) - 1u), half = 1u << (shift - 1u);
    if (rem > half || (rem == half && (h & 1u)))
        ++h;
    return (uint16_t)(sign | h);
}

float lrelu_bf16_to_float(uint16_t b) { return bits_float((uint32_t)b << 16); }

uint16_t lrelu_float_to_bf16(float f)
{
    uint32_t b = float_bits(f);
    if ((b & 0x7fffffffu) > 0x7f800000u)
        return (uint16_t)((b >> 16) | 0x40u);
    return (uint16_t)((b + 0x7fffu + ((b >> 16) & 1u)) >> 16);
}

/* Loads element i of a float-computed dtype as float. */
float lrelu_load_f(lrelu_dtype t, const void *p, size_t i)
{
    uint16_t h;
    float f;
    switch (t) {
    case LRELU_F16:
        memcpy(&h, (const char *)p + 2 * i, 2);
        return lrelu_f16_to_float(h);
    case LRELU_BF16:
        memcpy(&h, (const char *)p + 2 * i, 2);
        return lrelu_bf16_to_float(h);
    default:
        memcpy(&f, (const char *)p + 4 * i, 4);
        return f;
    }
}

void lrelu_store_f(lrelu_dtype t, void *p, size_t i, float v)
{
    uint16_t h;
    switch (t) {
    case LRELU_F16:
        h = lrelu_float_to_f16(v);
        memcpy((char *)p + 2 * i, &h, 2);
        break;
    case LRELU_BF16:
        h = lrelu_float_to_bf16(v);
        memcpy((char *)p + 2 * i, &h, 2);
        break;
    default:
        memcpy((char *)p + 4 * i, &v, 4);
        break;
    }
}
