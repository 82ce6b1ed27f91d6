/* q8.cl: the quantized forward, built after common.cl with LRELU_DTYPE 0 (f32): int8
 * (s8) and uint8 (u8) storage.
 *   lrelu_forward_q8_SIGN(n, alpha, s_in, zp_in, inv_out, zp_out, x, x_off, y, y_off)
 *     f = (float)(x - zp_in) * s_in; f = f > 0 ? f : f * alpha;
 *     y = (int)clamp(rint(f * inv_out), lo - zp_out, hi - zp_out) + zp_out
 *   every step in float, rint rounds to nearest even; [lo, hi] is the type's range. The
 *   host checks the parameters so that f is finite and never NaN.
 */
#if LRELU_DTYPE != 0
#error "q8.cl is built with LRELU_DTYPE 0 (f32)"
#endif
#if LRELU_VEC == 1
#define Q8_CONV(T, v)     LRELU_CAT(convert_, T)(v)
#define Q8_LOAD(i, p)     (p)[i]
#define Q8_STORE(v, i, p) ((p)[i] = (v))
#else
#define Q8_LOAD(i, p)     LRELU_CAT(vload, LRELU_VEC)(i, p)
#define Q8_STORE(v, i, p) LRELU_CAT(vstore, LRELU_VEC)(v, i, p)
#define Q8_CONV(T, v)     LRELU_CAT(LRELU_CAT(convert_, T), LRELU_VEC)(v)
#endif

/* Clamping to the integral bounds first and rounding after gives rint-then-clamp's
 * result (rint is monotonic and keeps integers); the clamped |f| <= 510, where adding and
 * subtracting 1.5 * 2^23 rounds to nearest even exactly, with no call to rint (which
 * PoCL does not vectorize). */
#define Q8_RNE 0x1.8p23f
#define AS_CV  LRELU_CAT(as_, CALC_V)

/* The word path, where both offsets are multiples of 4: work-item i takes the VEC words
 * (4 * VEC bytes) at word index i, with no conversion instruction at all. Byte b of every
 * word is taken at once: u = (w >> 8b) & 0xff (after flipping the sign bits of int8,
 * which makes u = x + 128), and the float 2^23 + u, built from the bits 0x4b000000 | u,
 * minus 2^23 + 128 + zp_in is x - zp_in, exactly. After the clamp, f + 1.5 * 2^23 holds
 * rint(f) in its low bits (the same round to nearest even as above), and adding zp_out
 * to those bits leaves the byte to store in the lowest 8. Faster than the converting
 * body (docs/performance.md), and the same bits (the tests run both). */
#define Q8_WORDS(XOR, BIAS)                                                                        \
    {                                                                                              \
        const __global uint *xw = (const __global uint *)xp;                                       \
        __global uint *yw = (__global uint *)yp;                                                   \
        size_t wbody = (size_t)(n / (4 * LRELU_VEC));                                              \
        float sub = 0x1p23f + (BIAS) + (float)zp_in;                                               \
        if (i < wbody) {                                                                           \
            BITS_V w = Q8_LOAD(i, xw) ^ (XOR), r = (BITS_V)0;                                      \
            for (uint b = 0; b < 32; b += 8) {                                                     \
                CALC_V f = (AS_CV(((w >> b) & 0xffu) | 0x4b000000u) - sub) * s_in;                 \
                f = clamp(LRELU(IS_POSV(f), f, alpha) * inv_out, lo, hi);                          \
                r |= ((AS_BITS_V(f + Q8_RNE) + (uint)zp_out) & 0xffu) << b;                        \
            }                                                                                      \
            Q8_STORE(r, i, yw);                                                                    \
            return;                                                                                \
        }                                                                                          \
        body = wbody * 4; /* work-item wbody takes the tail below, the rest nothing */             \
        i = i == wbody ? body : body + 1;                                                          \
    }

#define Q8_KERNEL(NAME, Q, LO, HI, XOR, BIAS)                                                      \
    __kernel void NAME(ulong n, float alpha, float s_in, int zp_in, float inv_out, int zp_out,     \
                       const __global Q *x, ulong x_off, __global Q *y, ulong y_off)               \
    {                                                                                              \
        size_t i = get_global_id(0);                                                               \
        size_t body = (size_t)(n / LRELU_VEC);                                                     \
        const __global Q *xp = x + x_off;                                                          \
        __global Q *yp = y + y_off;                                                                \
        float lo = (float)(LO - zp_out), hi = (float)(HI - zp_out);                                \
        if (((x_off | y_off) & 3) == 0) /* the same for every work-item */                         \
            Q8_WORDS(XOR, BIAS)                                                                    \
        if (i < body) {                                                                            \
            /* small integers: every float step here is exact but the two products */              \
            CALC_V f = (Q8_CONV(float, Q8_LOAD(i, xp)) - (float)zp_in) * s_in;                     \
            f = clamp(LRELU(IS_POSV(f), f, alpha) * inv_out, lo, hi);                              \
            f = ((f + Q8_RNE) - Q8_RNE) + (float)zp_out;                                           \
            Q8_STORE(Q8_CONV(Q, f), i, yp);                                                        \
        } else if (i == body) {                                                                    \
            for (size_t k = body * LRELU_VEC; k < (size_t)n; ++k) {                                \
                float f = (float)((int)xp[k] - zp_in) * s_in;                                      \
                f = rint(LRELU(IS_POS1(f), f, alpha) * inv_out);                                   \
                yp[k] = (Q)((int)clamp(f, lo, hi) + zp_out);                                       \
            }                                                                                      \
        }                                                                                          \
    }

Q8_KERNEL(lrelu_forward_q8_s8, char, -128, 127, 0x80808080u, 128.0f)
Q8_KERNEL(lrelu_forward_q8_u8, uchar, 0, 255, 0u, 0.0f)
