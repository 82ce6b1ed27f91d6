/* rows.h: PReLU by rows in-process (lrelu_cpu_rows), part of each copy of
 * loops.h, which includes it: out = s > 0 ? v : v * slope, the slope of the
 * element's channel. Each row's slope is widened and broadcast once, and the row runs 8
 * elements at a time as vectors (the vector-extension types of chan_bwd.h), its tail one
 * at a time (bf16's rows run the plain loop; see rows_dtype.h); where channels are last
 * (inner 1) the slopes lie as the elements do, and a row runs the loop with a slope per
 * element on them in place. No slope is laid out per element first: the stores of that
 * pass queue behind the non-temporal stores of the output. The results are the plain loops', bit
 * for bit: s > 0 on its bits, one product, one rounding. */

static inline float one_f32(float s, float v, float a)
{
    uint32_t b;
    memcpy(&b, &s, sizeof b);
    return pos32(b) ? v : v * a;
}

static inline double one_f64(double s, double v, double a)
{
    uint64_t b;
    memcpy(&b, &s, sizeof b);
    return pos64(b) ? v : v * a;
}

/* Sixteen f32: one AVX-512 register, as the plain loops use */
typedef float lr_f32x16 __attribute__((vector_size(64)));
typedef int32_t lr_i32x16 __attribute__((vector_size(64)));
typedef uint32_t lr_u32x16 __attribute__((vector_size(64)));
static inline void ld16_f32(lr_f32x16 *v, const float *p) { memcpy(v, p, sizeof *v); }
static inline void st16_f32(float *p, const lr_f32x16 *v) { memcpy(p, v, sizeof *v); }

/* Elements [AT, AT + W) of s and v into out, with the slopes av */
#define ROWS_EIGHT(V, U, I, LIM, LD8, ST8, AT)                                                     \
    do {                                                                                           \
        V sv_, vv_, o_;                                                                            \
        U sb_;                                                                                     \
        LD8(&sv_, s + (AT));                                                                       \
        LD8(&vv_, v + (AT));                                                                       \
        memcpy(&sb_, &sv_, sizeof sb_);                                                            \
        I pos_ = (sb_ - 1u) < LIM;                                                                 \
        o_ = CBWD_SEL(V, I, pos_, vv_, vv_ * av);                                                  \
        ST8(out + (AT), &o_);                                                                      \
    } while (0)

/* bias_act's forward by rows, as BACT_LOOP: u = x + bias (x alone without one), u > 0 ? u
 * : u * alpha, times gain, clamped to +-limit where limit > 0. A row's bias is widened
 * and broadcast once; where channels are last (inner 1) the biases lie as the elements
 * do and load as vectors beside them. The scalar form of one element: */
#define BACT_ONE(CT, WIDEN, NARROW, X, B, Y)                                                       \
    do {                                                                                           \
        CT v_ = WIDEN(X);                                                                          \
        CT u_ = has_bias ? v_ + (B) : v_;                                                          \
        CT g_ = gain * (u_ > 0 ? u_ : u_ * alpha);                                                 \
        g_ = clamp && g_ > limit ? limit : g_;                                                     \
        g_ = clamp && g_ < -limit ? -limit : g_;                                                   \
        Y = NARROW(g_);                                                                            \
    } while (0)

/* the vector form, elements [AT, AT + W) with the biases BV */
#define BACT_VEC(V, I, LD8, ST8, AT, BV)                                                           \
    do {                                                                                           \
        V x_, u_, g_;                                                                              \
        LD8(&x_, x + (AT));                                                                        \
        u_ = has_bias ? x_ + (BV) : x_;                                                            \
        I up_ = u_ > 0;                                                                            \
        g_ = gv * CBWD_SEL(V, I, up_, u_, u_ * alphav);                                            \
        if (clamp) {                                                                               \
            I hi_ = g_ > limv;                                                                     \
            g_ = CBWD_SEL(V, I, hi_, limv, g_);                                                    \
            I lo_ = g_ < -limv;                                                                    \
            g_ = CBWD_SEL(V, I, lo_, -limv, g_);                                                   \
        }                                                                                          \
        ST8(y + (AT), &g_);                                                                        \
    } while (0)

#define ROWS_CAT_(a, b) a##_##b
#define ROWS_CAT(a, b)  ROWS_CAT_(a, b)
#define ROWS_FN(name)   ROWS_CAT(name, SUF)

#define SUF     f32
#define ST      float
#define CT      float
#define W       16
#define V       lr_f32x16
#define U       lr_u32x16
#define I       lr_i32x16
#define LIM     0x7f800000u
#define LD8     ld16_f32
#define ST8     st16_f32
#define WIDEN   BACT_ID
#define NARROW  BACT_ID
#define ONE     one_f32
#define BY_RUN  0
#define BY_LOOP 0
#include "cpu/rows_dtype.h"

#define SUF     f64
#define ST      double
#define CT      double
#define W       8
#define V       lr_f64x8
#define U       lr_u64x8
#define I       lr_i64x8
#define LIM     0x7ff0000000000000ull
#define LD8     ld8_f64
#define ST8     st8_f64
#define WIDEN   BACT_ID
#define NARROW  BACT_ID
#define ONE     one_f64
#define BY_RUN  0
#define BY_LOOP 0
#include "cpu/rows_dtype.h"

#define SUF     bf16
#define ST      uint16_t
#define CT      float
#define W       8
#define V       lr_f32x8
#define U       lr_u32x8
#define I       lr_i32x8
#define LIM     0x7f800000u
#define LD8     ld8_bf16
#define ST8     st8_bf16
#define WIDEN   bf16_widen
#define NARROW  bf16_narrow
#define ONE     bf16_one
#define BY_RUN  1
#define BY_LOOP 1
#include "cpu/rows_dtype.h"

#define SUF     f16
#define ST      uint16_t
#define CT      float
#define W       8
#define V       lr_f32x8
#define U       lr_u32x8
#define I       lr_i32x8
#define LIM     0x7f800000u
#define LD8     ld8_f16
#define ST8     st8_f16
#define WIDEN   f16_widen
#define NARROW  f16_narrow
#define ONE     f16_one
#define BY_RUN  0
#define BY_LOOP 0
#include "cpu/rows_dtype.h"

static void rows_any(lrelu_dtype t, size_t n, const lrelu_cpu_rows *k, const void *s, const void *v,
                     void *out)
{
    switch (t) {
    case LRELU_F32:
        rows_f32(n, k, s, v, out);
        break;
    case LRELU_F64:
        rows_f64(n, k, s, v, out);
        break;
    case LRELU_BF16:
        rows_bf16(n, k, s, v, out);
        break;
    case LRELU_F16:
        rows_f16(n, k, s, v, out);
        break;
    }
}

void LRELU_CPU_FN(lrelu_cpu_rows)(lrelu_dtype t, size_t n, const lrelu_cpu_rows *k, const void *s,
                                  const void *v, void *out);
void LRELU_CPU_FN(lrelu_cpu_rows)(lrelu_dtype t, size_t n, const lrelu_cpu_rows *k, const void *s,
                                  const void *v, void *out)
{
    rows_any(t, n, k, s, v, out);
}

typedef struct {
    lrelu_dtype t;
    lrelu_cpu_rows k;
    const char *s, *v;
} rows_blk;

static void rows_block(const void *job, size_t at, size_t len, void *dst)
{
    const rows_blk *j = job;
    size_t es = lrelu_dtype_size(j->t);
    lrelu_cpu_rows k = j->k;
    k.first += at;
    rows_any(j->t, len, &k, j->s + at * es, j->v + at * es, dst);
}

void LRELU_CPU_FN(lrelu_cpu_rows_stream)(lrelu_dtype t, size_t n, const lrelu_cpu_rows *k,
                                         const void *s, const void *v, void *out);
void LRELU_CPU_FN(lrelu_cpu_rows_stream)(lrelu_dtype t, size_t n, const lrelu_cpu_rows *k,
                                         const void *s, const void *v, void *out)
{
    rows_blk j = {t, *k, s, v};
    stream_blocks(n, lrelu_dtype_size(t), out, rows_block, &j);
}

static void bact_rows_any(lrelu_dtype t, size_t n, const lrelu_cpu_bact *k, const lrelu_cpu_rows *r,
                          const void *x, void *y)
{
    switch (t) {
    case LRELU_F32:
        bact_rows_f32(n, k, r, x, y);
        break;
    case LRELU_F64:
        bact_rows_f64(n, k, r, x, y);
        break;
    case LRELU_BF16:
        bact_rows_bf16(n, k, r, x, y);
        break;
    case LRELU_F16:
        bact_rows_f16(n, k, r, x, y);
        break;
    }
}

void LRELU_CPU_FN(lrelu_cpu_bias_act_rows)(lrelu_dtype t, size_t n, const lrelu_cpu_bact *k,
                                           const lrelu_cpu_rows *r, const void *x, void *y);
void LRELU_CPU_FN(lrelu_cpu_bias_act_rows)(lrelu_dtype t, size_t n, const lrelu_cpu_bact *k,
                                           const lrelu_cpu_rows *r, const void *x, void *y)
{
    bact_rows_any(t, n, k, r, x, y);
}
