/* loops.h: the in-process path's loops, one copy per instruction set. pick.c, avx2.c
 * and avx512.c include it with LRELU_CPU_FN defined to name that copy's entry point, and
 * the build compiles each with its own target flags; pick.c picks one at ctx creation.
 * The loops follow the kernels exactly (compare on the bit pattern, multiply in the
 * compute type, one rounding to storage) and are built with vectorization on, no FMA
 * contraction. */
#include "cpu/cpu.h"

#include <math.h>
#include <stdint.h>
#include <string.h>
#if defined(__F16C__) || defined(__AVX2__)
#include <immintrin.h>
#endif

/* s > 0 on the bit pattern, as in the kernels */
static inline int pos32(uint32_t b) { return b - 1u < 0x7f800000u; }
static inline int pos64(uint64_t b) { return b - 1u < 0x7ff0000000000000ull; }

/* out = s > 0 ? v : v * SLOPE, s > 0 judged on its bits (U wide) by POS: the loop of the
 * f32 and f64 copies, with one slope or a slope per element (PReLU's channels) */
#define RUN_LOOP(U, POS, SLOPE)                                                                    \
    for (size_t i = 0; i < n; ++i) {                                                               \
        U b;                                                                                       \
        memcpy(&b, &s[i], sizeof b);                                                               \
        out[i] = POS(b) ? v[i] : v[i] * (SLOPE);                                                   \
    }

static void run_f32(size_t n, float a, const float *s, const float *v, float *out)
{
    RUN_LOOP(uint32_t, pos32, a)
}

static void runv_f32(size_t n, const float *a, const float *s, const float *v, float *out)
{
    RUN_LOOP(uint32_t, pos32, a[i])
}

static void run_f64(size_t n, double a, const double *s, const double *v, double *out)
{
    RUN_LOOP(uint64_t, pos64, a)
}

static void runv_f64(size_t n, const double *a, const double *s, const double *v, double *out)
{
    RUN_LOOP(uint64_t, pos64, a[i])
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

/* Where s > 0 the kernels store narrow(widen(v)), which is v itself but for a NaN,
 * quieted: so only the product goes through the rounding, and the choice is made on 16
 * bits, which vectorizes into fewer conversions. */
static inline uint16_t bf16_one(uint16_t s, uint16_t h, float a)
{
    uint16_t same = (uint16_t)((h & 0x7fffu) > 0x7f80u ? h | 0x40u : h);
    uint16_t scaled = bf16_narrow(bf16_widen(h) * a);
    return (uint16_t)(s - 1u) < 0x7f80u ? same : scaled;
}

static void run_bf16(size_t n, float a, const uint16_t *s, const uint16_t *v, uint16_t *out)
{
    for (size_t i = 0; i < n; ++i)
        out[i] = bf16_one(s[i], v[i], a);
}

static void runv_bf16(size_t n, const uint16_t *a, const uint16_t *s, const uint16_t *v,
                      uint16_t *out)
{
    for (size_t i = 0; i < n; ++i)
        out[i] = bf16_one(s[i], v[i], bf16_widen(a[i]));
}

/* f16 conversions without branches, so that the loop vectorizes: the same values as
 * common/convert.c's (which the reference uses), selects instead of ifs. */
static inline float f16_widen(uint16_t h)
{
    uint32_t em = h & 0x7fffu;
    uint32_t big = em >= 0x7c00u ? (em << 13) | 0x7f800000u : (em << 13) + (112u << 23);
    float sub = (float)em * 0x1p-24f, nrm; /* zero and subnormals: exact */
    memcpy(&nrm, &big, 4);
    float mag = em < 0x400u ? sub : nrm;
    uint32_t b;
    memcpy(&b, &mag, 4);
    b |= (uint32_t)(h & 0x8000u) << 16;
    memcpy(&mag, &b, 4);
    return mag;
}

static inline uint16_t f16_narrow(float f)
{
    uint32_t b;
    memcpy(&b, &f, 4);
    uint32_t sign = (b >> 16) & 0x8000u, abs = b & 0x7fffffffu;
    /* below 2^-14: adding 0.5 rounds |f| to a multiple of 2^-24 (0.5's ulp), to nearest
     * even, and the sum's low bits count those multiples */
    float tiny, sum;
    memcpy(&tiny, &abs, 4);
    sum = tiny + 0.5f;
    uint32_t sb;
    memcpy(&sb, &sum, 4);
    uint32_t sub = sb - 0x3f000000u;
    uint32_t nrm = (abs + 0xfffu + ((abs >> 13) & 1u) - 0x38000000u) >> 13;
    uint32_t h = abs < 0x38800000u ? sub : nrm;
    h = abs >= 0x477ff000u ? 0x7c00u : h;                         /* to infinity */
    h = abs > 0x7f800000u ? 0x7e00u | ((abs >> 13) & 0x3ffu) : h; /* NaN, quiet */
    return (uint16_t)(sign | h);
}

/* f16 keeps its order in the bits too: positive, not zero, not NaN. Both sides are
 * computed, so that no branch is left. */
static inline uint16_t f16_one(uint16_t s, uint16_t h, float a)
{
    float x = f16_widen(h), y = x * a;
    return f16_narrow((uint16_t)(s - 1u) < 0x7c00u ? x : y);
}

#ifdef __F16C__
/* With F16C (and AVX2 for the mask), 8 halves at a time through the conversion
 * instructions, which round to nearest even as vstore_half_rte does, keep subnormals and
 * quiet NaNs keeping their top payload bits, as f16_narrow does; the tail as without. */
static inline __m128i f16_eight(const uint16_t *s, const uint16_t *v, __m256 va)
{
    const __m128i one = _mm_set1_epi16(1), inf = _mm_set1_epi16(0x7c00), zero = _mm_setzero_si128();
    /* s - 1 as unsigned below 0x7c00: as signed, in [0, 0x7c00) */
    __m128i t = _mm_sub_epi16(_mm_loadu_si128((const __m128i *)s), one);
    __m128i pos = _mm_andnot_si128(_mm_cmpgt_epi16(zero, t), _mm_cmpgt_epi16(inf, t));
    __m256 x = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)v));
    __m256 y =
        _mm256_blendv_ps(_mm256_mul_ps(x, va), x, _mm256_castsi256_ps(_mm256_cvtepi16_epi32(pos)));
    return _mm256_cvtps_ph(y, _MM_FROUND_TO_NEAREST_INT);
}

static void run_f16(size_t n, float a, const uint16_t *s, const uint16_t *v, uint16_t *out)
{
    const __m256 va = _mm256_set1_ps(a);
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm_storeu_si128((__m128i *)(out + i), f16_eight(s + i, v + i, va));
    for (; i < n; ++i)
        out[i] = f16_one(s[i], v[i], a);
}

static void runv_f16(size_t n, const uint16_t *a, const uint16_t *s, const uint16_t *v,
                     uint16_t *out)
{
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 va = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(a + i)));
        _mm_storeu_si128((__m128i *)(out + i), f16_eight(s + i, v + i, va));
    }
    for (; i < n; ++i)
        out[i] = f16_one(s[i], v[i], f16_widen(a[i]));
}
#else
static void run_f16(size_t n, float a, const uint16_t *s, const uint16_t *v, uint16_t *out)
{
    for (size_t i = 0; i < n; ++i)
        out[i] = f16_one(s[i], v[i], a);
}

static void runv_f16(size_t n, const uint16_t *a, const uint16_t *s, const uint16_t *v,
                     uint16_t *out)
{
    for (size_t i = 0; i < n; ++i)
        out[i] = f16_one(s[i], v[i], f16_widen(a[i]));
}
#endif

/* bias_act's forward, in the compute type CT as kernels/channels.cl and the reference do:
 * u = x + bias (x alone without one: x + 0 would turn -0 into +0), u > 0 ? u : u * alpha,
 * times gain, clamped to +-limit where limit > 0. BIAS(i) is element i's bias; WIDEN
 * and NARROW move one stored element. */
#define BACT_LOOP(CT, WIDEN, NARROW, BIAS)                                                         \
    for (size_t i = 0; i < n; ++i) {                                                               \
        CT v = WIDEN(x[i]);                                                                        \
        CT u = k->bias ? v + (BIAS) : v;                                                           \
        CT g = gain * (u > 0 ? u : u * alpha);                                                     \
        g = clamp && g > limit ? limit : g;                                                        \
        g = clamp && g < -limit ? -limit : g;                                                      \
        y[i] = NARROW(g);                                                                          \
    }
#define BACT_ID(v) (v)

/* the parameters in float, as the kernels take them: limit 0 for none (+inf or beyond
 * float's range) */
#define BACT_FLOAT_PARAMS                                                                          \
    float alpha = (float)k->alpha, gain = (float)k->gain, limit = (float)k->limit;                 \
    int clamp = limit > 0 && !isinf(limit)

static void bact_f32(size_t n, const lrelu_cpu_bact *k, const float *x, float *y)
{
    BACT_FLOAT_PARAMS;
    const float *bv = k->bv, b = (float)k->b;
    if (bv != NULL)
        BACT_LOOP(float, BACT_ID, BACT_ID, bv[i])
    else
        BACT_LOOP(float, BACT_ID, BACT_ID, b)
}

static void bact_f64(size_t n, const lrelu_cpu_bact *k, const double *x, double *y)
{
    double alpha = k->alpha, gain = k->gain, limit = k->limit;
    int clamp = limit > 0 && !isinf(limit);
    const double *bv = k->bv, b = k->b;
    if (bv != NULL)
        BACT_LOOP(double, BACT_ID, BACT_ID, bv[i])
    else
        BACT_LOOP(double, BACT_ID, BACT_ID, b)
}

static void bact_bf16(size_t n, const lrelu_cpu_bact *k, const uint16_t *x, uint16_t *y)
{
    BACT_FLOAT_PARAMS;
    const uint16_t *bv = k->bv;
    float b = (float)k->b;
    if (bv != NULL)
        BACT_LOOP(float, bf16_widen, bf16_narrow, bf16_widen(bv[i]))
    else
        BACT_LOOP(float, bf16_widen, bf16_narrow, b)
}

#ifdef __F16C__
/* The first n / 8 * 8 elements 8 at a time through F16C, as run_f16 does; returns how
 * many. The compare is ordered (NaN is not > 0) and each clamp picks the limit only where
 * its compare holds, so NaN stays NaN, as in the loop. */
static size_t bact_f16_wide(size_t n, const lrelu_cpu_bact *k, const uint16_t *x, uint16_t *y)
{
    BACT_FLOAT_PARAMS;
    const uint16_t *bv = k->bv;
    const __m256 va = _mm256_set1_ps(alpha), vg = _mm256_set1_ps(gain), zero = _mm256_setzero_ps();
    const __m256 hi = _mm256_set1_ps(limit), lo = _mm256_set1_ps(-limit);
    const __m256 vb = _mm256_set1_ps((float)k->b);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 u = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(x + i)));
        if (k->bias && bv != NULL)
            u = _mm256_add_ps(u, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(bv + i))));
        else if (k->bias)
            u = _mm256_add_ps(u, vb);
        __m256 g = _mm256_blendv_ps(_mm256_mul_ps(u, va), u, _mm256_cmp_ps(u, zero, _CMP_GT_OQ));
        g = _mm256_mul_ps(vg, g);
        if (clamp) {
            g = _mm256_blendv_ps(g, hi, _mm256_cmp_ps(g, hi, _CMP_GT_OQ));
            g = _mm256_blendv_ps(g, lo, _mm256_cmp_ps(g, lo, _CMP_LT_OQ));
        }
        _mm_storeu_si128((__m128i *)(y + i), _mm256_cvtps_ph(g, _MM_FROUND_TO_NEAREST_INT));
    }
    return i;
}
#else
static size_t bact_f16_wide(size_t n, const lrelu_cpu_bact *k, const uint16_t *x, uint16_t *y)
{
    (void)n;
    (void)k;
    (void)x;
    (void)y;
    return 0;
}
#endif

static void bact_f16(size_t n, const lrelu_cpu_bact *k, const uint16_t *x, uint16_t *y)
{
    BACT_FLOAT_PARAMS;
    size_t done = bact_f16_wide(n, k, x, y);
    const uint16_t *bv = k->bv != NULL ? (const uint16_t *)k->bv + done : NULL;
    float b = (float)k->b;
    x += done;
    y += done;
    n -= done;
    if (bv != NULL)
        BACT_LOOP(float, f16_widen, f16_narrow, f16_widen(bv[i]))
    else
        BACT_LOOP(float, f16_widen, f16_narrow, b)
}

void LRELU_CPU_FN(lrelu_cpu_bias_act)(lrelu_dtype t, size_t n, const lrelu_cpu_bact *k,
                                      const void *x, void *y);
void LRELU_CPU_FN(lrelu_cpu_bias_act)(lrelu_dtype t, size_t n, const lrelu_cpu_bact *k,
                                      const void *x, void *y)
{
    switch (t) {
    case LRELU_F32:
        bact_f32(n, k, x, y);
        break;
    case LRELU_F64:
        bact_f64(n, k, x, y);
        break;
    case LRELU_BF16:
        bact_bf16(n, k, x, y);
        break;
    case LRELU_F16:
        bact_f16(n, k, x, y);
        break;
    }
}

/* A row's value repeated over the row, rows of `inner` elements from row r of channel
 * c on, channels cycling through C: no division past the first element. */
#define EXPAND_ROWS(T)                                                                             \
    do {                                                                                           \
        T *d = dst;                                                                                \
        const T *p = per;                                                                          \
        for (size_t i = 0; i < n;) {                                                               \
            size_t len = inner - r < n - i ? inner - r : n - i;                                    \
            T v = p[c];                                                                            \
            for (size_t k = 0; k < len; ++k)                                                       \
                d[i + k] = v;                                                                      \
            i += len;                                                                              \
            r = 0;                                                                                 \
            c = c + 1 == C ? 0 : c + 1;                                                            \
        }                                                                                          \
    } while (0)

void LRELU_CPU_FN(lrelu_cpu_expand)(void *dst, const void *per, size_t first, size_t n,
                                    size_t inner, size_t C, size_t es);
void LRELU_CPU_FN(lrelu_cpu_expand)(void *dst, const void *per, size_t first, size_t n,
                                    size_t inner, size_t C, size_t es)
{
    if (inner == 1) { /* runs of the values as they lie */
        for (size_t i = 0, c = first % C; i < n; c = 0) {
            size_t len = C - c < n - i ? C - c : n - i;
            memcpy((char *)dst + i * es, (const char *)per + c * es, len * es);
            i += len;
        }
        return;
    }
    size_t r = first % inner, c = first / inner % C;
    if (es == 2)
        EXPAND_ROWS(uint16_t);
    else if (es == 4)
        EXPAND_ROWS(uint32_t);
    else
        EXPAND_ROWS(uint64_t);
}

/* The int8 forward as lrelu_ref_forward_q8: dequantize, leaky ReLU, requantize (round
 * to nearest even, then saturate), in float with the operations in the same order. */
#define Q8_LOOP(T)                                                                                 \
    do {                                                                                           \
        const T *in = x;                                                                           \
        T *out = y;                                                                                \
        for (size_t i = 0; i < n; ++i) {                                                           \
            float f = (float)((int)in[i] - zp_in) * s_in;                                          \
            f = f > 0 ? f : f * a;                                                                 \
            f = rintf(f * inv);                                                                    \
            f = f < lo ? lo : (f > hi ? hi : f);                                                   \
            out[i] = (T)((int)f + zp_out);                                                         \
        }                                                                                          \
    } while (0)

void LRELU_CPU_FN(lrelu_cpu_q8)(lrelu_qtype t, size_t n, const lrelu_q8_args *k, const void *x,
                                void *y);
void LRELU_CPU_FN(lrelu_cpu_q8)(lrelu_qtype t, size_t n, const lrelu_q8_args *k, const void *x,
                                void *y)
{
    float a = k->alpha, s_in = k->s_in, inv = k->inv_out;
    int zp_in = k->zp_in, zp_out = k->zp_out;
    float lo = (float)((t == LRELU_QS8 ? -128 : 0) - zp_out);
    float hi = (float)((t == LRELU_QS8 ? 127 : 255) - zp_out);
    if (t == LRELU_QS8)
        Q8_LOOP(int8_t);
    else
        Q8_LOOP(uint8_t);
}

/* The per-channel backward's units (lrelu_cpu_cbwd) */
#include "cpu/chan_bwd.h"

/* out = s > 0 ? v : v * alpha, or v * av[i] where av (of dtype t) is not NULL */
static void run_any(lrelu_dtype t, size_t n, double alpha, const void *av, const void *s,
                    const void *v, void *out)
{
    switch (t) {
    case LRELU_F32:
        if (av != NULL)
            runv_f32(n, av, s, v, out);
        else
            run_f32(n, (float)alpha, s, v, out);
        break;
    case LRELU_F64:
        if (av != NULL)
            runv_f64(n, av, s, v, out);
        else
            run_f64(n, alpha, s, v, out);
        break;
    case LRELU_BF16:
        if (av != NULL)
            runv_bf16(n, av, s, v, out);
        else
            run_bf16(n, (float)alpha, s, v, out);
        break;
    case LRELU_F16:
        if (av != NULL)
            runv_f16(n, av, s, v, out);
        else
            run_f16(n, (float)alpha, s, v, out);
        break;
    }
}

void LRELU_CPU_FN(lrelu_cpu_run)(lrelu_dtype t, size_t n, double alpha, const void *av,
                                 const void *s, const void *v, void *out);
void LRELU_CPU_FN(lrelu_cpu_run)(lrelu_dtype t, size_t n, double alpha, const void *av,
                                 const void *s, const void *v, void *out)
{
    run_any(t, n, alpha, av, s, v, out);
}

/* A block of a call's output: elements [at, at + len) of the job into dst. */
typedef void (*blk_fn)(const void *job, size_t at, size_t len, void *dst);

#ifdef __AVX2__
/* Arrays far larger than the caches: each block of output is computed into a buffer that
 * stays in L1, then written with non-temporal stores, which skip the read for ownership a
 * cached store of a line not in cache costs: 2 x the array crosses the memory bus instead
 * of 3 x (forward). The head up to the first 64-byte boundary and the tail are done in
 * place. The fence makes the stores visible before the caller (or the crew's count of
 * finished chunks) says so. */
#define LRELU_STREAM_BLOCK 4096
static void stream_blocks(size_t n, size_t es, char *co, blk_fn f, const void *job)
{
    size_t head = (64 - (uintptr_t)co % 64) % 64 / es, block = LRELU_STREAM_BLOCK / es;
    head = head < n ? head : n;
    f(job, 0, head, co);
    size_t i = head;
    _Alignas(64) char buf[LRELU_STREAM_BLOCK];
    for (; n - i >= block; i += block) {
        f(job, i, block, buf);
        for (size_t k = 0; k < LRELU_STREAM_BLOCK; k += 32)
            _mm256_stream_si256((__m256i *)(co + i * es + k),
                                _mm256_load_si256((const __m256i *)(buf + k)));
    }
    f(job, i, n - i, co + i * es);
    _mm_sfence();
}
#else
static void stream_blocks(size_t n, size_t es, char *co, blk_fn f, const void *job)
{
    (void)es;
    f(job, 0, n, co);
}
#endif

typedef struct {
    lrelu_dtype t;
    double alpha;
    const char *av, *s, *v;
} plain_blk;

static void plain_block(const void *job, size_t at, size_t len, void *dst)
{
    const plain_blk *j = job;
    size_t es = lrelu_dtype_size(j->t);
    run_any(j->t, len, j->alpha, j->av != NULL ? j->av + at * es : NULL, j->s + at * es,
            j->v + at * es, dst);
}

void LRELU_CPU_FN(lrelu_cpu_stream)(lrelu_dtype t, size_t n, double alpha, const void *av,
                                    const void *s, const void *v, void *out);
void LRELU_CPU_FN(lrelu_cpu_stream)(lrelu_dtype t, size_t n, double alpha, const void *av,
                                    const void *s, const void *v, void *out)
{
    plain_blk j = {t, alpha, av, s, v};
    stream_blocks(n, lrelu_dtype_size(t), out, plain_block, &j);
}

typedef struct {
    lrelu_qtype t;
    const lrelu_q8_args *k;
    const char *x;
} q8_blk;

static void q8_block(const void *job, size_t at, size_t len, void *dst)
{
    const q8_blk *j = job;
    LRELU_CPU_FN(lrelu_cpu_q8)(j->t, len, j->k, j->x + at, dst);
}

/* the int8 forward, streaming */
void LRELU_CPU_FN(lrelu_cpu_q8_stream)(lrelu_qtype t, size_t n, const lrelu_q8_args *k,
                                       const void *x, void *y);
void LRELU_CPU_FN(lrelu_cpu_q8_stream)(lrelu_qtype t, size_t n, const lrelu_q8_args *k,
                                       const void *x, void *y)
{
    q8_blk j = {t, k, x};
    stream_blocks(n, 1, y, q8_block, &j);
}

/* PReLU's loops over rows (lrelu_cpu_rows) */
#include "cpu/rows.h"
