/* chan_bwd.h: the per-channel backward's units in-process (lrelu_cpu_cbwd), part of each
 * copy of loops.h, which includes it. Each unit is one of the kernels' work-items
 * (kernels/channels.cl: chan_bwd, chan_bcols) and computes what it does: dx, and the block's
 * terms into eight lanes, term j - j0 into lane (j - j0) % 8, each lane summed from +0 in
 * order, the block's sum the lanes' from +0 in lane order. Eight terms that lie in a row
 * (or eight channels of a row where channels are last) move as one vector of GCC's
 * vector extensions, whose lanes are those sums: the compiler does not vectorize the
 * selects of a step in straight-line code (docs/performance.md, design measurements).
 * The vector types and the 8-element loads and stores below serve rows.h too. */

/* Eight elements in the compute type: float (f32, f16, bf16) or double (f64), with the
 * integer vectors their compares give */
typedef float lr_f32x8 __attribute__((vector_size(32)));
typedef int32_t lr_i32x8 __attribute__((vector_size(32)));
typedef uint32_t lr_u32x8 __attribute__((vector_size(32)));
typedef uint16_t lr_u16x8 __attribute__((vector_size(16)));
typedef double lr_f64x8 __attribute__((vector_size(64)));
typedef int64_t lr_i64x8 __attribute__((vector_size(64)));
typedef uint64_t lr_u64x8 __attribute__((vector_size(64)));

/* (by pointer: a vector argument or result of a width the copy lacks would change the
 * ABI, which the compiler warns of even where the function is inlined) */
static inline void ld8_f32(lr_f32x8 *v, const float *p) { memcpy(v, p, sizeof *v); }
static inline void st8_f32(float *p, const lr_f32x8 *v) { memcpy(p, v, sizeof *v); }
static inline void ld8_f64(lr_f64x8 *v, const double *p) { memcpy(v, p, sizeof *v); }
static inline void st8_f64(double *p, const lr_f64x8 *v) { memcpy(p, v, sizeof *v); }

/* bf16: the top half of a float; stored as bf16_narrow does (to nearest even, NaN
 * quieted) */
#ifdef __AVX2__
/* widened by one zero-extending load and a shift, where the generic form below took two
 * halves and an insert; narrowed by a truncation where the copy has AVX-512 (else a
 * saturating pack, exact: every lane is below 2^16, and a permute of its halves) */
static inline void ld8_bf16(lr_f32x8 *f, const uint16_t *p)
{
    __m256i w = _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)p));
    *f = (lr_f32x8)_mm256_slli_epi32(w, 16);
}

static inline __m128i bf16_pack8(__m256i r)
{
#if defined(__AVX512VL__) && defined(__AVX512BW__)
    return _mm256_cvtepi32_epi16(r);
#else
    return _mm256_castsi256_si128(_mm256_permute4x64_epi64(_mm256_packus_epi32(r, r), 0xd8));
#endif
}
#else
static inline void ld8_bf16(lr_f32x8 *f, const uint16_t *p)
{
    lr_u16x8 h;
    memcpy(&h, p, sizeof h);
    lr_u32x8 w = __builtin_convertvector(h, lr_u32x8) << 16;
    memcpy(f, &w, sizeof *f);
}
#endif

static inline void st8_bf16(uint16_t *p, const lr_f32x8 *f)
{
    lr_u32x8 b;
    memcpy(&b, f, sizeof b);
    lr_i32x8 r = (lr_i32x8)((b + 0x7fffu + ((b >> 16) & 1u)) >> 16);
    lr_i32x8 quiet = (lr_i32x8)((b >> 16) | 0x40u), nan = (b & 0x7fffffffu) > 0x7f800000u;
#ifdef __AVX2__
    _mm_storeu_si128((__m128i *)p, bf16_pack8((__m256i)((quiet & nan) | (r & ~nan))));
#else
    lr_u16x8 h = __builtin_convertvector((quiet & nan) | (r & ~nan), lr_u16x8);
    memcpy(p, &h, sizeof h);
#endif
}

#ifdef __F16C__
/* f16 through the conversion instructions, as run_f16 */
static inline void ld8_f16(lr_f32x8 *f, const uint16_t *p)
{
    *f = (lr_f32x8)_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)p));
}

static inline void st8_f16(uint16_t *p, const lr_f32x8 *f)
{
    _mm_storeu_si128((__m128i *)p, _mm256_cvtps_ph((__m256)*f, _MM_FROUND_TO_NEAREST_INT));
}
#else
static inline void ld8_f16(lr_f32x8 *f, const uint16_t *p)
{
    for (int l = 0; l < 8; ++l)
        (*f)[l] = f16_widen(p[l]);
}

static inline void st8_f16(uint16_t *p, const lr_f32x8 *f)
{
    for (int l = 0; l < 8; ++l)
        p[l] = f16_narrow((*f)[l]);
}
#endif

/* Lanes rotated: lane i of *a becomes lane (i + s) % 8's value, where the copy can
 * (ROT8_F32: f32's lanes with AVX2; never f64's). A segment that starts at lane l0 then
 * runs 8 at a time from its first element into lanes rotated by l0, with no head through
 * the padded copies of CBWD_PART: at (N, 256, 7, 7) f32, two of those a segment (scalar
 * stores, then a vector load of the same bytes, which the CPU cannot forward) cost about
 * as much as the segment. The others are never called. */
#ifdef __AVX2__
#define ROT8_F32 1
static inline void rot8_f32(lr_f32x8 *a, size_t s)
{
    __m256i idx = _mm256_and_si256(
        _mm256_add_epi32(_mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7), _mm256_set1_epi32((int)s)),
        _mm256_set1_epi32(7));
    *a = (lr_f32x8)_mm256_permutevar8x32_ps((__m256)*a, idx);
}
#else
#define ROT8_F32 0
static inline void rot8_f32(lr_f32x8 *a, size_t s)
{
    (void)a;
    (void)s;
}
#endif

static inline void rot8_f64(lr_f64x8 *a, size_t s)
{
    (void)a;
    (void)s;
}

/* where M (all ones or zeros per lane, of integer vector type I) is set, A, else B */
#define CBWD_SEL(V, I, M, A, B) ((V)(((I)(A) & (M)) | ((I)(B) & ~(M))))

/* One element or eight (type T, its compare type I) of dx (D) and term from x (X) and dy
 * (GY) with channel factor PC, as kernels/channels.cl's CHAN_BWD_STEP and the reference.
 * PReLU: dx = x > 0 ? dy : dy * pc, term x > 0 ? 0 : x * dy. bias_act: u = x + pc (pc =
 * -0 without a bias: u is x), dx = dy * gain, times alpha where u is not > 0, and 0
 * where the clamp cuts gain * (u > 0 ? u : u * alpha); term dx. The scalar form: */
#define CBWD_STEP1(CT, X, GY, PC, D, TERM)                                                         \
    do {                                                                                           \
        if (!bias) {                                                                               \
            D = X > 0 ? GY : GY * (PC);                                                            \
            TERM = X > 0 ? (CT)0 : X * GY;                                                         \
        } else {                                                                                   \
            CT u_ = X + (PC), y_ = gain * (u_ > 0 ? u_ : u_ * alpha), g_ = GY * gain;              \
            g_ = u_ > 0 ? g_ : g_ * alpha;                                                         \
            D = clamp && !(y_ >= -limit && y_ <= limit) ? (CT)0 : g_;                              \
            TERM = D;                                                                              \
        }                                                                                          \
    } while (0)

/* the vector form: the same operations lane by lane, selects for the ternaries */
#define CBWD_STEP8(V, I, X, GY, PC, D, TERM)                                                       \
    do {                                                                                           \
        if (!bias) {                                                                               \
            I pos_ = X > 0;                                                                        \
            D = CBWD_SEL(V, I, pos_, GY, GY * (PC));                                               \
            TERM = (V)((I)(X * GY) & ~pos_);                                                       \
        } else {                                                                                   \
            V u_ = X + (PC);                                                                       \
            I up_ = u_ > 0;                                                                        \
            V y_ = gain * CBWD_SEL(V, I, up_, u_, u_ * alpha), g_ = GY * gain;                     \
            g_ = CBWD_SEL(V, I, up_, g_, g_ * alpha);                                              \
            if (clamp)                                                                             \
                g_ = (V)((I)g_ & ((y_ >= -limit) & (y_ <= limit)));                                \
            D = g_;                                                                                \
            TERM = D;                                                                              \
        }                                                                                          \
    } while (0)

/* Element I into accumulator A (with store, dx too), from x, dy and dx as they are */
#define CBWD_ONE(CT, WIDEN, NARROW, I, A)                                                          \
    do {                                                                                           \
        CT v_ = WIDEN(x[I]), gy_ = WIDEN(dy[I]), d_, t_;                                           \
        CBWD_STEP1(CT, v_, gy_, pc, d_, t_);                                                       \
        if (store)                                                                                 \
            dx[I] = NARROW(d_);                                                                    \
        A = A + t_;                                                                                \
    } while (0)

/* Eight neighbouring elements at X, DY (dx to DX) into the lanes of ACC, of factors PC:
 * every load before the store, so that dx may be x or dy (in place) */
#define CBWD_EIGHT(V, I, LD8, ST8, X, DY, DX, PC, ACC)                                             \
    do {                                                                                           \
        V v8_, gy8_, d8_, t8_;                                                                     \
        LD8(&v8_, X);                                                                              \
        LD8(&gy8_, DY);                                                                            \
        CBWD_STEP8(V, I, v8_, gy8_, PC, d8_, t8_);                                                 \
        if (store)                                                                                 \
            ST8(DX, &d8_);                                                                         \
        ACC = ACC + t8_;                                                                           \
    } while (0)

/* Where the call streams (k->stream: dx wanted, from the plain calls' size, and inner a
 * multiple of 8) and dx lies on 16 bytes, the 8-wide loops store dx past the caches, as
 * the plain calls do: a cached store of a line not in cache reads it first, a third more
 * traffic for the backward. Where inner is not a multiple of 8, segments begin and end
 * inside the lanes, their ends stored through the cache into lines the 8-wide loops
 * stream, which is slower: those do not stream (docs/performance.md). nt8 stores through a copy
 * in registers with non-temporal 16-byte stores; CBWD_FENCE makes them visible before
 * the crew says the unit is done. Copies without AVX2 do not stream. */
#ifdef __AVX2__
#define CBWD_STREAMS(DX) (k->stream && ((uintptr_t)(DX)&15) == 0)
#define CBWD_FENCE()                                                                               \
    do {                                                                                           \
        if (k->stream)                                                                             \
            _mm_sfence();                                                                          \
    } while (0)
#else
#define CBWD_STREAMS(DX) 0
#define CBWD_FENCE()     ((void)0)
#endif

/* CNT (1..8, L + CNT <= 8) neighbouring elements at X, DY (dx to DX) into lanes [L, L +
 * CNT) of ACC, through copies 8 wide padded with +0, dx stored for those elements alone.
 * A padded lane's term is +0 or -0 (x * dy, or dy * gain times alpha, with x and dy 0),
 * which leaves its lane as it is: lanes start at +0 and so are never -0. */
#define CBWD_PART(V, I, LD8, ST8, ST, L, CNT, X, DY, DX, PC, ACC)                                  \
    do {                                                                                           \
        ST tx_[8] = {0}, tdy_[8] = {0}, tdx_[8];                                                   \
        size_t l_ = (L), c_ = (CNT);                                                               \
        for (size_t e_ = 0; e_ < c_; ++e_) {                                                       \
            tx_[l_ + e_] = (X)[e_];                                                                \
            tdy_[l_ + e_] = (DY)[e_];                                                              \
        }                                                                                          \
        V v8_, gy8_, d8_, t8_;                                                                     \
        LD8(&v8_, tx_);                                                                            \
        LD8(&gy8_, tdy_);                                                                          \
        CBWD_STEP8(V, I, v8_, gy8_, PC, d8_, t8_);                                                 \
        ACC = ACC + t8_;                                                                           \
        if (store) {                                                                               \
            ST8(tdx_, &d8_);                                                                       \
            for (size_t e_ = 0; e_ < c_; ++e_)                                                     \
                (DX)[e_] = tdx_[l_ + e_];                                                          \
        }                                                                                          \
    } while (0)

/* A piece of LEN elements from lane L0 split as cbwd_piece takes it (LEN of 8 or more) */
#define CBWD_SPLIT(CAN_ROT, LEN, L0, HEAD, FULL, REM)                                              \
    size_t HEAD = CAN_ROT ? 0 : (8 - (L0)) & 7, FULL = ((LEN)-HEAD) & ~(size_t)7;                  \
    size_t REM = (LEN)-HEAD - FULL

/* A channel's eight lanes summed from +0 in lane order into DST, where partial is wanted */
#define CBWD_SUM(CT, ACC, DST)                                                                     \
    do {                                                                                           \
        CT s_ = 0;                                                                                 \
        for (int l_ = 0; l_ < 8; ++l_)                                                             \
            s_ = s_ + (ACC)[l_];                                                                   \
        if (partial != NULL)                                                                       \
            DST = s_;                                                                              \
    } while (0)

/* The parameters in the compute type, as the kernels get them: limit 0 (no clamp) where
 * it is 0 or beyond the type */
#define CBWD_PARAMS(CT)                                                                            \
    CT alpha = (CT)k->alpha, gain = (CT)k->gain, limit = (CT)k->limit;                             \
    limit = isinf(limit) ? (CT)0 : limit;                                                          \
    int clamp = limit > 0

/* F's copy for the call's bias and store (as constants), with F's further arguments after
 * them (the empty first one aside) */
#define CBWD_CALL4(F, ...)                                                                         \
    do {                                                                                           \
        if (k->bias)                                                                               \
            store ? F(k, first, n, 1, 1 __VA_ARGS__) : F(k, first, n, 1, 0 __VA_ARGS__);           \
        else                                                                                       \
            store ? F(k, first, n, 0, 1 __VA_ARGS__) : F(k, first, n, 0, 0 __VA_ARGS__);           \
    } while (0)

#define CBWD_CAT_(a, b) a##_##b
#define CBWD_CAT(a, b)  CBWD_CAT_(a, b)
#define CBWD_FN(name)   CBWD_CAT(name, SUF)

#define SUF     f32
#define ST      float
#define CT      float
#define V       lr_f32x8
#define I       lr_i32x8
#define WIDEN   BACT_ID
#define NARROW  BACT_ID
#define LD8     ld8_f32
#define ST8     st8_f32
#define ROT     rot8_f32
#define CAN_ROT ROT8_F32
#include "cpu/chan_bwd_dtype.h"

#define SUF     f64
#define ST      double
#define CT      double
#define V       lr_f64x8
#define I       lr_i64x8
#define WIDEN   BACT_ID
#define NARROW  BACT_ID
#define LD8     ld8_f64
#define ST8     st8_f64
#define ROT     rot8_f64
#define CAN_ROT 0
#include "cpu/chan_bwd_dtype.h"

#define SUF     bf16
#define ST      uint16_t
#define CT      float
#define V       lr_f32x8
#define I       lr_i32x8
#define WIDEN   bf16_widen
#define NARROW  bf16_narrow
#define LD8     ld8_bf16
#define ST8     st8_bf16
#define ROT     rot8_f32
#define CAN_ROT ROT8_F32
#include "cpu/chan_bwd_dtype.h"

#define SUF     f16
#define ST      uint16_t
#define CT      float
#define V       lr_f32x8
#define I       lr_i32x8
#define WIDEN   f16_widen
#define NARROW  f16_narrow
#define LD8     ld8_f16
#define ST8     st8_f16
#define ROT     rot8_f32
#define CAN_ROT ROT8_F32
#include "cpu/chan_bwd_dtype.h"

void LRELU_CPU_FN(lrelu_cpu_chan_bwd)(const lrelu_cpu_cbwd *k, size_t first, size_t n);
void LRELU_CPU_FN(lrelu_cpu_chan_bwd)(const lrelu_cpu_cbwd *k, size_t first, size_t n)
{
    switch (k->t) {
    case LRELU_F32:
        cbwd_f32(k, first, n);
        break;
    case LRELU_F64:
        cbwd_f64(k, first, n);
        break;
    case LRELU_BF16:
        cbwd_bf16(k, first, n);
        break;
    case LRELU_F16:
        cbwd_f16(k, first, n);
        break;
    }
}
