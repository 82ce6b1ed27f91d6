/* cpu.c: the host-memory API's in-process path. When the ctx's device is the host CPU,
 * an array below a measured crossover is done right here on the calling thread: a
 * kernel launch costs tens of microseconds, the loop a fraction of one. The loops follow
 * kernels/lrelu.cl exactly (compare on the bit pattern, multiply in the compute type,
 * one rounding to storage) and are built with vectorization on, no FMA contraction. */
#include "internal.h"

#include <string.h>

/* s > 0 on the bit pattern, as in the kernels */
static inline int pos32(uint32_t b) { return b - 1u < 0x7f800000u; }
static inline int pos64(uint64_t b) { return b - 1u < 0x7ff0000000000000ull; }

static void run_f32(size_t n, float a, const float *s, const float *v, float *out)
{
    for (size_t i = 0; i < n; ++i) {
        uint32_t b;
        memcpy(&b, &s[i], 4);
        float x = v[i];
        out[i] = pos32(b) ? x : x * a;
    }
}

static void run_f64(size_t n, double a, const double *s, const double *v, double *out)
{
    for (size_t i = 0; i < n; ++i) {
        uint64_t b;
        memcpy(&b, &s[i], 8);
        double x = v[i];
        out[i] = pos64(b) ? x : x * a;
    }
}

static inline float bf16_widen(uint16_t h)
{
    uint32_t b = (uint32_t)h << 16;
    float f;
    memcpy(&f, &b, 4);
    return f;
}

static inline uint16_t bf16_narrow(float f)
{
    uint32_t b;
    memcpy(&b, &f, 4);
    uint32_t r = (b + 0x7fffu + ((b >> 16) & 1u)) >> 16;
    return (uint16_t)(((b & 0x7fffffffu) > 0x7f800000u) ? ((b >> 16) | 0x40u) : r);
}

static void run_bf16(size_t n, float a, const uint16_t *s, const uint16_t *v, uint16_t *out)
{
    for (size_t i = 0; i < n; ++i) {
        float x = bf16_widen(v[i]);
        out[i] = bf16_narrow(pos32((uint32_t)s[i] << 16) ? x : x * a);
    }
}

static void run_f16(size_t n, float a, const uint16_t *s, const uint16_t *v, uint16_t *out)
{
    for (size_t i = 0; i < n; ++i) {
        /* f16 keeps its order in the bits too: positive, not zero, not NaN */
        int pos = (uint16_t)(s[i] - 1u) < 0x7c00u;
        float x = lrelu_f16_to_float(v[i]);
        out[i] = lrelu_float_to_f16(pos ? x : x * a);
    }
}

void lrelu_cpu_run(lrelu_dtype t, size_t n, double alpha, const void *s, const void *v, void *out)
{
    switch (t) {
    case LRELU_F32:
        run_f32(n, (float)alpha, s, v, out);
        break;
    case LRELU_F64:
        run_f64(n, alpha, s, v, out);
        break;
    case LRELU_BF16:
        run_bf16(n, (float)alpha, s, v, out);
        break;
    case LRELU_F16:
        run_f16(n, (float)alpha, s, v, out);
        break;
    }
}
