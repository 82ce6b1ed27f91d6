/* rows.h: PReLU by rows in-process (lrelu_cpu_rows), part of each copy of
 * loops.h, which includes it: out = s > 0 ? v : v * slope, the slope of the
 * element's channel. Each row's slope is widened and broadcast once, and the row runs 8
 * elements at a time as vectors (the vector-extension types of chan_bwd.h), its tail one
 * at a time (bf16's rows run the plain loop; see ROWS_LOOP); where channels are last
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

/* For storage type ST, compute type CT, its vectors V of W lanes (bits U, compares I,
 * positive below LIM - 1 on the bits), LD8 and ST8 moving W elements, WIDEN one slope
 * and ONE doing one element; with BY_RUN a row is the plain loop (run_SUF) instead. bf16
 * takes it: the plain loop makes the choice on 16 bits (see bf16_one). f32, f64 and f16
 * keep the vectors, faster past the caches (docs/performance.md, design measurements). */
#define ROWS_LOOP(SUF, ST, CT, W, V, U, I, LIM, LD8, ST8, WIDEN, ONE, BY_RUN)                      \
    static void rows_##SUF(size_t n, const lrelu_cpu_rows *k, const ST *s, const ST *v, ST *out)   \
    {                                                                                              \
        const ST *per = k->per;                                                                    \
        size_t inner = k->inner, C = k->C, r = k->first % inner, c = k->first / inner % C;         \
        for (size_t i = 0; i < n;) {                                                               \
            if (inner == 1) { /* a row's channels: the slopes as they lie */                       \
                size_t len = C - c < n - i ? C - c : n - i;                                        \
                runv_##SUF(len, per + c, s + i, v + i, out + i);                                   \
                i += len;                                                                          \
                c = 0;                                                                             \
                continue;                                                                          \
            }                                                                                      \
            size_t len = inner - r < n - i ? inner - r : n - i, q = 0;                             \
            CT a = WIDEN(per[c]);                                                                  \
            if (BY_RUN) { /* the plain loop on the row, as the compiler vectorizes it */           \
                run_##SUF(len, a, s + i, v + i, out + i);                                          \
                q = len;                                                                           \
            }                                                                                      \
            V av = a - (V){0}; /* a broadcast (a - +0 is a, -0 and NaN too) */                     \
            for (; q + 2 * (size_t)W <= len; q += 2 * (size_t)W) {                                 \
                ROWS_EIGHT(V, U, I, LIM, LD8, ST8, i + q);                                         \
                ROWS_EIGHT(V, U, I, LIM, LD8, ST8, i + q + W);                                     \
            }                                                                                      \
            for (; q + W <= len; q += W)                                                           \
                ROWS_EIGHT(V, U, I, LIM, LD8, ST8, i + q);                                         \
            for (; q < len; ++q)                                                                   \
                out[i + q] = ONE(s[i + q], v[i + q], a);                                           \
            i += len;                                                                              \
            r = 0;                                                                                 \
            c = c + 1 == C ? 0 : c + 1;                                                            \
        }                                                                                          \
    }

ROWS_LOOP(f32, float, float, 16, lr_f32x16, lr_u32x16, lr_i32x16, 0x7f800000u, ld16_f32, st16_f32,
          BACT_ID, one_f32, 0)
ROWS_LOOP(f64, double, double, 8, lr_f64x8, lr_u64x8, lr_i64x8, 0x7ff0000000000000ull, ld8_f64,
          st8_f64, BACT_ID, one_f64, 0)
ROWS_LOOP(bf16, uint16_t, float, 8, lr_f32x8, lr_u32x8, lr_i32x8, 0x7f800000u, ld8_bf16, st8_bf16,
          bf16_widen, bf16_one, 1)
ROWS_LOOP(f16, uint16_t, float, 8, lr_f32x8, lr_u32x8, lr_i32x8, 0x7f800000u, ld8_f16, st8_f16,
          f16_widen, f16_one, 0)

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

/* r->per NULL: no bias, the elements one segment. With BY_LOOP a row (or that segment)
 * runs bias_act's plain loop (bact_SUF) with the row's bias instead of the vectors: bf16
 * takes it, the others keep the vectors (docs/performance.md, design measurements). */
#define BACT_ROWS(SUF, ST, CT, W, V, I, LD8, ST8, WIDEN, NARROW, BY_LOOP)                          \
    static void bact_rows_##SUF(size_t n, const lrelu_cpu_bact *k, const lrelu_cpu_rows *r,        \
                                const ST *x, ST *y)                                                \
    {                                                                                              \
        CT alpha = (CT)k->alpha, gain = (CT)k->gain, limit = (CT)k->limit;                         \
        int clamp = limit > 0 && !isinf(limit);                                                    \
        V alphav = alpha - (V){0}, gv = gain - (V){0}, limv = limit - (V){0};                      \
        const ST *per = r->per;                                                                    \
        int has_bias = per != NULL;                                                                \
        size_t inner = has_bias ? r->inner : n, C = has_bias ? r->C : 1;                           \
        size_t rr = has_bias ? r->first % inner : 0, c = has_bias ? r->first / inner % C : 0;      \
        for (size_t i = 0; i < n;) {                                                               \
            size_t len, q = 0;                                                                     \
            if (has_bias && inner == 1) { /* a row's channels: the biases as they lie */           \
                len = C - c < n - i ? C - c : n - i;                                               \
                for (; q + W <= len; q += W) {                                                     \
                    V bv;                                                                          \
                    LD8(&bv, per + c + q);                                                         \
                    BACT_VEC(V, I, LD8, ST8, i + q, bv);                                           \
                }                                                                                  \
                for (; q < len; ++q)                                                               \
                    BACT_ONE(CT, WIDEN, NARROW, x[i + q], WIDEN(per[c + q]), y[i + q]);            \
                c = 0;                                                                             \
            } else {                                                                               \
                len = inner - rr < n - i ? inner - rr : n - i;                                     \
                CT b = has_bias ? WIDEN(per[c]) : (CT)0;                                           \
                if (BY_LOOP) {                                                                     \
                    lrelu_cpu_bact row = {k->alpha, k->gain, k->limit, has_bias, (double)b, NULL}; \
                    bact_##SUF(len, &row, x + i, y + i);                                           \
                    q = len;                                                                       \
                }                                                                                  \
                V bv = b - (V){0};                                                                 \
                for (; q + W <= len; q += W)                                                       \
                    BACT_VEC(V, I, LD8, ST8, i + q, bv);                                           \
                for (; q < len; ++q)                                                               \
                    BACT_ONE(CT, WIDEN, NARROW, x[i + q], b, y[i + q]);                            \
                rr = 0;                                                                            \
                c = c + 1 == C ? 0 : c + 1;                                                        \
            }                                                                                      \
            i += len;                                                                              \
        }                                                                                          \
    }

BACT_ROWS(f32, float, float, 16, lr_f32x16, lr_i32x16, ld16_f32, st16_f32, BACT_ID, BACT_ID, 0)
BACT_ROWS(f64, double, double, 8, lr_f64x8, lr_i64x8, ld8_f64, st8_f64, BACT_ID, BACT_ID, 0)
BACT_ROWS(bf16, uint16_t, float, 8, lr_f32x8, lr_i32x8, ld8_bf16, st8_bf16, bf16_widen, bf16_narrow,
          1)
BACT_ROWS(f16, uint16_t, float, 8, lr_f32x8, lr_i32x8, ld8_f16, st8_f16, f16_widen, f16_narrow, 0)

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
