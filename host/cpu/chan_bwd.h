/* cpu_cbwd.h: the per-channel backward's units in-process (lrelu_cpu_cbwd), part of each
 * copy of cpu_loops.h, which includes it. Each unit is one of the kernels' work-items
 * (kernels/lrelu.cl: chan_bwd, chan_bcols) and computes what it does: dx, and the block's
 * terms into eight lanes, term j - j0 into lane (j - j0) % 8, each lane summed from +0 in
 * order, the block's sum the lanes' from +0 in lane order. Eight terms that lie in a row
 * (or eight channels of a row where channels are last) move as one vector of GCC's
 * vector extensions, whose lanes are those sums: the compiler does not vectorize the
 * selects of a step in straight-line code, and left alone ran at a fifth of the speed.
 * The vector types and the 8-element loads and stores below serve cpu_rows.h too. */

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
 * (GY) with channel factor PC, as kernels/lrelu.cl's CHAN_BWD_STEP and the reference.
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
 * the plain calls do: a cached store of a line not in cache reads it first, a third more traffic
 * for the backward (at (N, 64, 28, 28) f32, 1.03-1.05 x a plain call against 0.87-0.97 x
 * streaming). Where inner is not a multiple of 8, segments begin and end inside the
 * lanes, their ends stored through the cache into lines the 8-wide loops stream, and
 * at inner 300 that took twice as long: those do not stream. nt8 stores through a copy
 * in registers with non-temporal 16-byte stores; CBWD_FENCE makes them visible before
 * the crew says the unit is done. Copies without AVX2 do not stream. */
#ifdef __AVX2__
#define CBWD_STREAMS(DX) (k->stream && ((uintptr_t)(DX)&15) == 0)
#define CBWD_FENCE()                                                                               \
    do {                                                                                           \
        if (k->stream)                                                                             \
            _mm_sfence();                                                                          \
    } while (0)
#define CBWD_NT8(SUF, ST, V, ST8)                                                                  \
    static inline void nt8_##SUF(ST *p, const V *v)                                                \
    {                                                                                              \
        ST t[8];                                                                                   \
        ST8(t, v);                                                                                 \
        for (size_t i = 0; i < sizeof t / 16; ++i)                                                 \
            _mm_stream_si128((__m128i *)p + i, _mm_loadu_si128((const __m128i *)t + i));           \
    }
#else
#define CBWD_STREAMS(DX) 0
#define CBWD_FENCE()     ((void)0)
#define CBWD_NT8(SUF, ST, V, ST8)                                                                  \
    static inline void nt8_##SUF(ST *p, const V *v) { ST8(p, v); }
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

/* The units [first, first + n) of a call, for storage type ST, compute type CT and its
 * vectors V (compares I); bias and store (dx wanted) are constants where cbwd_SUF calls
 * them, so each of the loops is built without the others' code. rows (one channel): each
 * segment of a block within a row runs one lane at a time up to lane 0, then 8 at a time.
 * cols: a block of rows over a group of channels, each row's channels 8 at a time into
 * their lane's accumulators. segs: below. */
#define CBWD_LOOPS(SUF, ST, CT, V, I, WIDEN, NARROW, LD8, ST8, ROT, CAN_ROT)                       \
    CBWD_NT8(SUF, ST, V, ST8)                                                                      \
    static inline void cbwd_rows_##SUF(const lrelu_cpu_cbwd *k, size_t first, size_t n,            \
                                       const int bias, const int store)                            \
    {                                                                                              \
        const ST *x = k->x, *dy = k->dy, *p = k->p;                                                \
        ST *dx = k->dx;                                                                            \
        CT *partial = k->partial;                                                                  \
        CBWD_PARAMS(CT);                                                                           \
        size_t C = k->C, inner = k->inner, nb = k->nb, m = k->m, skip = (C - 1) * inner;           \
        for (size_t g = first; g < first + n; ++g) {                                               \
            size_t b = inner < LRELU_RBLOCK ? g / C : g % nb;                                      \
            size_t c = inner < LRELU_RBLOCK ? g % C : g / nb;                                      \
            size_t j0 = b * LRELU_RBLOCK, j = j0;                                                  \
            size_t end = m - j0 < LRELU_RBLOCK ? m : j0 + LRELU_RBLOCK;                            \
            size_t o = j / inner, r = j - o * inner, idx = (o * C + c) * inner + r;                \
            CT pc = p == NULL ? -(CT)0 : WIDEN(p[c]);                                              \
            V acc = {0, 0, 0, 0, 0, 0, 0, 0};                                                      \
            while (j < end) {                                                                      \
                size_t seg = inner - r < end - j ? inner - r : end - j, q = 0;                     \
                for (; q < seg && ((j + q - j0) & 7) != 0; ++q)                                    \
                    CBWD_ONE(CT, WIDEN, NARROW, idx + q, acc[(j + q - j0) & 7]);                   \
                for (; q + 8 <= seg; q += 8)                                                       \
                    CBWD_EIGHT(V, I, LD8, ST8, x + idx + q, dy + idx + q, dx + idx + q, pc, acc);  \
                for (; q < seg; ++q)                                                               \
                    CBWD_ONE(CT, WIDEN, NARROW, idx + q, acc[(j + q - j0) & 7]);                   \
                j += seg;                                                                          \
                idx += seg + skip;                                                                 \
                r = 0;                                                                             \
            }                                                                                      \
            CBWD_SUM(CT, acc, partial[c * nb + b]);                                                \
        }                                                                                          \
    }                                                                                              \
    /* Block b of channels [c0, c0 + w) (w <= cap), lanes in acc (8 x cap), factors in             \
     * pcs and, 8 at a time, pc8 (cap of each) */                                                  \
    static inline void cbwd_span_##SUF(const lrelu_cpu_cbwd *k, size_t b, size_t c0, size_t w,     \
                                       size_t cap, CT *acc, CT *pcs, V *pc8, const int bias,       \
                                       const int store)                                            \
    {                                                                                              \
        CBWD_PARAMS(CT);                                                                           \
        size_t C = k->C, nb = k->nb, outer = k->m, w8 = w & ~(size_t)7;                            \
        size_t o0 = b * LRELU_RBLOCK;                                                              \
        size_t end = outer - o0 < LRELU_RBLOCK ? outer : o0 + LRELU_RBLOCK;                        \
        const ST *p = k->p != NULL ? (const ST *)k->p + c0 : NULL;                                 \
        CT *partial = k->partial;                                                                  \
        for (int l = 0; l < 8; ++l)                                                                \
            memset(acc + l * cap, 0, w * sizeof(CT));                                              \
        for (size_t u = 0; u < w; ++u)                                                             \
            pcs[u] = p == NULL ? -(CT)0 : WIDEN(p[u]);                                             \
        memcpy(pc8, pcs, w8 * sizeof(CT));                                                         \
        for (size_t o = o0; o < end; ++o) {                                                        \
            const ST *x = (const ST *)k->x + o * C + c0, *dy = (const ST *)k->dy + o * C + c0;     \
            ST *dx = store ? (ST *)k->dx + o * C + c0 : NULL;                                      \
            CT *a = acc + ((o - o0) & 7) * cap; /* lane l of channel c0 + u: acc[l * cap + u] */   \
            for (size_t u = 0; u < w8; u += 8) {                                                   \
                V lanes;                                                                           \
                memcpy(&lanes, a + u, sizeof lanes);                                               \
                CBWD_EIGHT(V, I, LD8, ST8, x + u, dy + u, dx + u, pc8[u / 8], lanes);              \
                memcpy(a + u, &lanes, sizeof lanes);                                               \
            }                                                                                      \
            for (size_t u = w8; u < w; ++u) {                                                      \
                CT pc = pcs[u];                                                                    \
                CBWD_ONE(CT, WIDEN, NARROW, u, a[u]);                                              \
            }                                                                                      \
        }                                                                                          \
        for (size_t u = 0; u < w && partial != NULL; ++u) {                                        \
            CT sum = 0;                                                                            \
            for (int l = 0; l < 8; ++l)                                                            \
                sum = sum + acc[l * cap + u];                                                      \
            partial[(c0 + u) * nb + b] = sum;                                                      \
        }                                                                                          \
    }                                                                                              \
    /* Units of groups of up to k->cols channels. Lanes and factors of groups wider than           \
     * LRELU_CBWD_STACK_COLS live on the heap (64 KiB for f64), not on a caller's stack;           \
     * where none is to be had a group runs in spans of that many from the stack: the              \
     * same sums, one pass over its rows per span. */                                              \
    static inline void cbwd_cols_##SUF(const lrelu_cpu_cbwd *k, size_t first, size_t n,            \
                                       const int bias, const int store)                            \
    {                                                                                              \
        enum { S = LRELU_CBWD_STACK_COLS, H = LRELU_CBWD_COLS };                                   \
        V pc8_s[S / 8];                                                                            \
        CT acc_s[8 * S], pcs_s[S];                                                                 \
        char *raw =                                                                                \
            k->cols > S ? malloc((H / 8) * sizeof(V) + (size_t)9 * H * sizeof(CT) + 63) : NULL;    \
        V *heap = raw != NULL ? (V *)(((uintptr_t)raw + 63) & ~(uintptr_t)63) : NULL;              \
        size_t cap = heap != NULL ? H : S;                                                         \
        V *pc8 = heap != NULL ? heap : pc8_s;                                                      \
        CT *acc = heap != NULL ? (CT *)(heap + H / 8) : acc_s;                                     \
        CT *pcs = heap != NULL ? acc + (size_t)8 * H : pcs_s;                                      \
        for (size_t g = first; g < first + n; ++g) {                                               \
            size_t b = g / k->groups, c0 = (g % k->groups) * k->cols;                              \
            size_t w = k->C - c0 < k->cols ? k->C - c0 : k->cols;                                  \
            for (size_t s = 0; s < w; s += cap)                                                    \
                cbwd_span_##SUF(k, b, c0 + s, w - s < cap ? w - s : cap, cap, acc, pcs, pc8, bias, \
                                store);                                                            \
        }                                                                                          \
        free(raw);                                                                                 \
    }                                                                                              \
    /* One piece of a channel's segment in cbwd_segs: elements [q, q + len) of x, dy and dx,       \
     * the first at lane l0 of the sums, into *accp (factor pc). aligned (inner a multiple         \
     * of 8): whole eights, streaming where nt says. Else under 8 elements one at a time;          \
     * else with ROT (CAN_ROT) the lanes rotated to l0, the full eights, the last 8 with           \
     * the terms before the rem after the eights cleared (*keep: the lanes below rem) and          \
     * their dx stored again (the same bits; not in place, there CBWD_PART), rotated back;         \
     * without, CBWD_PART for the head elements up to lane 0, the eights, CBWD_PART for the        \
     * rest. A function, not a macro: expanded twice into cbwd_segs, cppcheck took six             \
     * times as long over the file. */                                                             \
    static inline __attribute__((always_inline)) void cbwd_piece_##SUF(                            \
        V *accp, const ST *x, const ST *dy, ST *dx, CT pc, size_t q, size_t len, size_t jq,        \
        size_t l0, size_t head, size_t full, size_t rem, const I *keep, const CT *par,             \
        const int bias, const int store, const int aligned, int nt, int inplace)                   \
    {                                                                                              \
        CT alpha = par[0], gain = par[1], limit = par[2];                                          \
        int clamp = limit > 0;                                                                     \
        V acc = *accp;                                                                             \
        const ST *xq = x + q, *dyq = dy + q;                                                       \
        ST *dxq = store ? dx + q : NULL;                                                           \
        if (aligned) {                                                                             \
            for (size_t e = 0; nt && e != len; e += 8)                                             \
                CBWD_EIGHT(V, I, LD8, nt8_##SUF, xq + e, dyq + e, dxq + e, pc, acc);               \
            for (size_t e = 0; !nt && e != len; e += 8)                                            \
                CBWD_EIGHT(V, I, LD8, ST8, xq + e, dyq + e, dxq + e, pc, acc);                     \
        } else if (len < 8) {                                                                      \
            for (size_t e = 0; e < len; ++e)                                                       \
                CBWD_ONE(CT, WIDEN, NARROW, q + e, acc[(jq + e) & 7]);                             \
        } else {                                                                                   \
            if (CAN_ROT)                                                                           \
                ROT(&acc, l0);                                                                     \
            else if (head != 0)                                                                    \
                CBWD_PART(V, I, LD8, ST8, ST, l0, head, xq, dyq, dxq, pc, acc);                    \
            for (size_t e = head; e != head + full; e += 8)                                        \
                CBWD_EIGHT(V, I, LD8, ST8, xq + e, dyq + e, dxq + e, pc, acc);                     \
            if (CAN_ROT && rem != 0 && !inplace) {                                                 \
                V v8_, gy8_, d8_, t8_;                                                             \
                LD8(&v8_, xq + len - 8);                                                           \
                LD8(&gy8_, dyq + len - 8);                                                         \
                CBWD_STEP8(V, I, v8_, gy8_, pc, d8_, t8_);                                         \
                if (store)                                                                         \
                    ST8(dxq + len - 8, &d8_);                                                      \
                ROT(&t8_, 8 - rem);                                                                \
                acc = acc + (V)((I)t8_ & *keep);                                                   \
            } else if (rem != 0) {                                                                 \
                CBWD_PART(V, I, LD8, ST8, ST, 0, rem, xq + len - rem, dyq + len - rem,             \
                          dxq + len - rem, pc, acc);                                               \
            }                                                                                      \
            if (CAN_ROT)                                                                           \
                ROT(&acc, (8 - l0) & 7);                                                           \
        }                                                                                          \
        *accp = acc;                                                                               \
    }                                                                                              \
    /* inner above 1: unit g is blocks [b * per, b * per + per) of channels [c0, c0 + w),          \
     * read in memory order (rows, each row's channels, each channel's segment), as                \
     * chan_bgroup does: a segment in pieces that end where blocks do (cbwd_piece), a              \
     * channel's lanes summed into partial and cleared where its block ends. Where rows are        \
     * shorter than a block, a row's piece up to the next block starts at the same lane in         \
     * every channel: its split is worked out once for all of them, and the sums follow            \
     * the row (the general walk this replaced worked out each segment's: at (N, 64, 16)           \
     * that cost as much as the segment's 16 elements, at (N, 32, 12) twice that); a               \
     * longer row runs each channel's segment piece by piece, in memory order (pieces of           \
     * all channels first, then the next, took 2 x the time at (N, 64, 28, 28)). Inlined           \
     * into each of its eight calls: GCC left some calls to a copy with aligned unknown,           \
     * which took 1.5 x the time at (N, 64, 16). */                                                \
    static inline __attribute__((always_inline)) void cbwd_segs_##SUF(                             \
        const lrelu_cpu_cbwd *k, size_t first, size_t n, const int bias, const int store,          \
        const int aligned)                                                                         \
    {                                                                                              \
        CBWD_PARAMS(CT);                                                                           \
        CT par[3] = {alpha, gain, clamp ? limit : 0}; /* (as cbwd_piece takes them) */             \
        size_t C = k->C, inner = k->inner, nb = k->nb, m = k->m, span = k->per * LRELU_RBLOCK;     \
        int nt = aligned && store && CBWD_STREAMS(k->dx);                                          \
        int inplace = store && (k->dx == k->x || k->dx == k->dy);                                  \
        CT *partial = k->partial;                                                                  \
        V lanes[LRELU_CBWD_STACK_COLS], zero = {0, 0, 0, 0, 0, 0, 0, 0};                           \
        CT pcs[LRELU_CBWD_STACK_COLS];                                                             \
        I lane = {0, 1, 2, 3, 4, 5, 6, 7};                                                         \
        for (size_t g = first; g < first + n; ++g) {                                               \
            size_t b = g / k->groups, c0 = (g % k->groups) * k->segs;                              \
            size_t w = C - c0 < k->segs ? C - c0 : k->segs, j = b * span;                          \
            size_t end = m - j < span ? m : j + span;                                              \
            const ST *p = k->p != NULL ? (const ST *)k->p + c0 : NULL;                             \
            for (size_t u = 0; u < w; ++u) {                                                       \
                lanes[u] = zero;                                                                   \
                pcs[u] = p == NULL ? -(CT)0 : WIDEN(p[u]);                                         \
            }                                                                                      \
            while (j < end) {                                                                      \
                size_t o = j / inner, r = j - o * inner, next = (j | (LRELU_RBLOCK - 1)) + 1;      \
                size_t lim = inner >= LRELU_RBLOCK ? end : next < end ? next : end;                \
                size_t seg = inner - r < lim - j ? inner - r : lim - j;                            \
                size_t at = (o * C + c0) * inner + r;                                              \
                const ST *x = (const ST *)k->x + at, *dy = (const ST *)k->dy + at;                 \
                ST *dx = store ? (ST *)k->dx + at : NULL;                                          \
                if (inner < LRELU_RBLOCK) {                                                        \
                    size_t l0 = j & 7;                                                             \
                    CBWD_SPLIT(CAN_ROT, seg, l0, head, full, rem);                                 \
                    I keep = lane < (int)rem;                                                      \
                    for (size_t u = 0; u < w;                                                      \
                         ++u, x += inner, dy += inner, dx += store ? inner : 0) {                  \
                        V acc = lanes[u];                                                          \
                        CT pc = pcs[u];                                                            \
                        cbwd_piece_##SUF(&acc, x, dy, dx, pc, 0, seg, j, l0, head, full, rem,      \
                                         &keep, par, bias, store, aligned, nt, inplace);           \
                        lanes[u] = acc;                                                            \
                    }                                                                              \
                    j += seg;                                                                      \
                    for (size_t u = 0; j == lim && u < w; ++u) {                                   \
                        CBWD_SUM(CT, lanes[u], partial[(c0 + u) * nb + (j - 1) / LRELU_RBLOCK]);   \
                        lanes[u] = zero;                                                           \
                    }                                                                              \
                    continue;                                                                      \
                }                                                                                  \
                for (size_t u = 0; u < w; ++u, x += inner, dy += inner, dx += store ? inner : 0) { \
                    V acc = lanes[u];                                                              \
                    CT pc = pcs[u];                                                                \
                    for (size_t q = 0; q != seg;) {                                                \
                        size_t jq = j + q, left = LRELU_RBLOCK - (jq & (LRELU_RBLOCK - 1));        \
                        size_t len = seg - q < left ? seg - q : left, l0 = jq & 7;                 \
                        CBWD_SPLIT(CAN_ROT, len, l0, head, full, rem);                             \
                        I keep = lane < (int)rem;                                                  \
                        cbwd_piece_##SUF(&acc, x, dy, dx, pc, q, len, jq, l0, head, full, rem,     \
                                         &keep, par, bias, store, aligned, nt, inplace);           \
                        q += len;                                                                  \
                        if (len != left && j + q != end)                                           \
                            continue;                                                              \
                        CBWD_SUM(CT, acc, partial[(c0 + u) * nb + jq / LRELU_RBLOCK]);             \
                        acc = zero;                                                                \
                    }                                                                              \
                    lanes[u] = acc;                                                                \
                }                                                                                  \
                j += seg;                                                                          \
            }                                                                                      \
        }                                                                                          \
        CBWD_FENCE();                                                                              \
    }                                                                                              \
    static void cbwd_##SUF(const lrelu_cpu_cbwd *k, size_t first, size_t n)                        \
    {                                                                                              \
        int store = k->dx != NULL;                                                                 \
        if (k->segs && k->inner % 8 == 0)                                                          \
            CBWD_CALL4(cbwd_segs_##SUF, , 1);                                                      \
        else if (k->segs)                                                                          \
            CBWD_CALL4(cbwd_segs_##SUF, , 0);                                                      \
        else if (k->cols)                                                                          \
            CBWD_CALL4(cbwd_cols_##SUF, );                                                         \
        else                                                                                       \
            CBWD_CALL4(cbwd_rows_##SUF, );                                                         \
    }

CBWD_LOOPS(f32, float, float, lr_f32x8, lr_i32x8, BACT_ID, BACT_ID, ld8_f32, st8_f32, rot8_f32,
           ROT8_F32)
CBWD_LOOPS(f64, double, double, lr_f64x8, lr_i64x8, BACT_ID, BACT_ID, ld8_f64, st8_f64, rot8_f64, 0)
CBWD_LOOPS(bf16, uint16_t, float, lr_f32x8, lr_i32x8, bf16_widen, bf16_narrow, ld8_bf16, st8_bf16,
           rot8_f32, ROT8_F32)
CBWD_LOOPS(f16, uint16_t, float, lr_f32x8, lr_i32x8, f16_widen, f16_narrow, ld8_f16, st8_f16,
           rot8_f32, ROT8_F32)

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
