/* channels.cl: the per-channel kernels, PReLU and bias_act over data laid out as (outer, channels,
 * inner), element j = (o * channels + c) * inner + r of each operand (after its offset).
 *
 *   lrelu_chan_forward_SFX(n, channels, inner, mode, alpha, gain, limit, x, x_off,
 *                          p, p_off, y, y_off)
 *     mode 0 PReLU:     y = x > 0 ? x : x * p[c]
 *     mode 1 bias_act:  t = x + p[c], mode 2 the same without a bias (t = x);
 *                       y = gain * (t > 0 ? t : t * alpha), then clamped to [-limit,
 *                       limit] when limit > 0 (NaN stays NaN)
 *   lrelu_prelu_rows_SFX, lrelu_bias_rows_SFX(rows, channels, inner, mode, ...the same
 *                          from alpha on)
 *     the same forward (mode 0, and modes 1 and 2) over the rows = outer * channels rows
 *     of `inner` elements, in a 2-D launch (vectors of a row / ITEM_VECS, rows); the host
 *     takes them where inner >= VEC, and for mode 2 over one row of all n elements
 *   lrelu_prelu_cols_SFX, lrelu_bias_cols_SFX(outer, channels, 1, mode, ...)
 *     the same where inner is 1 (modes 0 and 1), over outer rows of `channels` elements,
 *     element k of a row in channel k; the host takes them where channels >= VEC
 *   lrelu_prelu_backward_SFX (mode 0), lrelu_bias_backward_SFX (modes 1 and 2)
 *                           (m, nb, channels, inner, mode, alpha, gain, limit, x, x_off,
 *                           p, p_off, dy, dy_off, dx, dx_off, partial)
 *     work-item g = c * nb + b takes block b of channel c: the terms j in
 *     [b * BLOCK, min(m, b * BLOCK + BLOCK)) of the m = outer * inner terms of channel c
 *     in (o, r) order. It writes dx (when dx is not NULL) and partial[g], the block's sum
 *     in the compute type: term k of the block to lane k % 8, each of the 8 lanes summed
 *     from +0 in order, then the lanes from +0 in lane order:
 *       PReLU:    dx = x > 0 ? dy : dy * p[c];          term = x > 0 ? 0 : x * dy
 *       bias_act: d  = 0 where the forward clamped (|y| > limit or y NaN), else
 *                      g = dy * gain, t > 0 ? g : g * alpha;  dx = d, term = d
 *   lrelu_prelu_bcols_SFX, lrelu_bias_bcols_SFX(outer, nb, channels, 1, ...the same)
 *     the same where inner is 1 and channels >= VEC, work-item (i, b) over the VEC
 *     channels from i * VEC (CPU devices, for exactly VEC channels)
 *   lrelu_prelu_btile_SFX, lrelu_bias_btile_SFX(...chan_bwd's arguments)
 *     the GPUs' backward where inner > 1: work-group g takes TILE blocks of one channel,
 *     its work-items neighbouring terms (coalesced), then 8 a block sum the lanes from
 *     local memory: the same sums, bit for bit, at any work-group size
 *   lrelu_prelu_bcol1_SFX, lrelu_bias_bcol1_SFX(outer, nb, channels, 1, ...the same)
 *     the GPUs' backward where inner is 1: work-item (c, b) takes channel c over block b,
 *     neighbouring work-items on neighbouring channels of a row (coalesced), its 8 lanes
 *     in registers at any VEC
 *   lrelu_prelu_bgroup_SFX, lrelu_bias_bgroup_SFX(m, nb, ...the same..., partial, width)
 *     the same for CPU devices where inner is below BLOCK:
 *     work-item (g, b) takes block b of the `width` channels from g * width (width <=
 *     1024), reading rows in memory order
 *   lrelu_chan_sum_SFX(channels, nb, partial, ds, ds_off)
 *     ds[c] = the partials of channel c summed from +0 in block order, rounded once to
 *     storage. Block size and order depend on nothing but m: the same bits on every
 *     device and for any work-group size.
 *   lrelu_chan_sumg_SFX(the same)
 *     the same sum on GPUs, a work-group per channel: its work-items load the partials
 *     256 at a time (coalesced, all in flight at once) into local memory, where one adds
 *     them in block order, so that the dependent chain waits on local memory, not on
 *     global memory
 *
 * Build options (besides common.cl's), from host/common/common.h, which launches by them
 *   -DLRELU_RBLOCK=b      terms per block of the backward's sums (BLOCK above)
 *   -DLRELU_ITEM_VECS=k   vectors per work-item of the 2-D forwards (ITEM_VECS above)
 *   -DLRELU_CHAN_TILE=t   blocks a work-group of the btile kernels takes (TILE above)
 *   -DLRELU_COALESCE      the GPUs' 2-D forwards: neighbouring work-items on neighbouring
 *                         vectors (given where the GPUs' per-channel kernels run)
 *   -DLRELU_GROUP_MAX=g   the widest channel group of the bgroup kernels, which are built
 *                         only where it is given (CPU devices) */
#if !defined(LRELU_RBLOCK) || !defined(LRELU_ITEM_VECS) || !defined(LRELU_CHAN_TILE)
#error "channels.cl needs its -D options (host/common/common.h, host/cl/programs.c)"
#endif

#define CHAN_FWD_NAME LRELU_CAT(lrelu_chan_forward_, SFX)
#define CHAN_SUM_NAME LRELU_CAT(lrelu_chan_sum_, SFX)

/* One channel factor: one element (for f16 in integer steps, above). */
#define LOADP(i, p) LOAD1(i, p)

/* y of one vector or element (T, ISPOS) of channel factor pc. bias_act (bias = 1) is
 * t = x + pc (pc = -0 without a bias: x + -0 is x, -0 included), slope alpha, gain and the
 * clamp to +-lim; PReLU (bias = 0) is t = x, slope pc, gain 1 and lim infinite, each of
 * those steps exact (1 * r is r, NaN included; nothing exceeds infinity), so that with
 * bias a constant the compiler drops them. */
#define CHAN_FWD_STEP(T, ISPOS, v, out)                                                            \
    {                                                                                              \
        T t_ = bias ? (v) + pc : (v);                                                              \
        out = (bias ? gain : (CALC_T)1) * LRELU(ISPOS(t_), t_, bias ? alpha : pc);                 \
        out = out > lim ? (T)lim : out;                                                            \
        out = out < -lim ? (T)(-lim) : out;                                                        \
    }
/* Channel c's factor: the bias, -0 where there is none (mode 2), or the slope. */
#define CHAN_FACTOR(c, p) (mode == 2 ? -(CALC_T)0 : LOADP(c, p))
/* The clamp's bound: limit where bias_act has one, else infinity. */
#define CHAN_FWD_LIM (bias && limit > (CALC_T)0 ? limit : (CALC_T)INFINITY)

__kernel void CHAN_FWD_NAME(ulong n, ulong channels, ulong inner, int mode, CALC_T alpha,
                            CALC_T gain, CALC_T limit, const __global STORE_T *x, ulong x_off,
                            const __global STORE_T *p, ulong p_off, __global STORE_T *y,
                            ulong y_off)
{
    size_t first = get_global_id(0) * LRELU_VEC;
    if (first >= (size_t)n)
        return;
    size_t last = first + LRELU_VEC < (size_t)n ? first + LRELU_VEC : (size_t)n;
    const __global STORE_T *xp = x + x_off;
    const __global STORE_T *pp = p + p_off;
    __global STORE_T *yp = y + y_off;
    size_t row, r, c;
    if ((n >> 32) == 0) { /* 32-bit division: several times faster on most devices */
        uint f32 = (uint)first, in32 = (uint)inner, row32 = f32 / in32;
        row = row32;
        r = f32 - row32 * in32;
        c = row32 % (uint)channels;
    } else {
        row = first / inner;
        r = first - row * inner;
        c = row % channels;
    }
    int bias = mode != 0;
    CALC_T pc = CHAN_FACTOR(c, pp), lim = CHAN_FWD_LIM;
    if (last - first == LRELU_VEC && r + LRELU_VEC <= inner) { /* one channel: a vector */
        size_t i = first / LRELU_VEC;
        CALC_V v = LOADV(i, xp), out;
        CHAN_FWD_STEP(CALC_V, IS_POSV, v, out)
        STOREV(out, i, yp);
        return;
    }
#if LRELU_VEC > 1
    if (last - first == LRELU_VEC) {
        /* Channels change inside the vector: gather the factors' bits into a private
         * array and convert them as one vector, as the general kernel's strides (one
         * element at a time is slow for f16). */
        SBITS_T fb[LRELU_VEC];
        const __global SBITS_T *pb = (const __global SBITS_T *)pp;
        for (size_t k = 0; k < LRELU_VEC; ++k) {
            if (mode != 2)
                fb[k] = pb[c];
            if (++r == inner) {
                r = 0;
                if (++c == channels)
                    c = 0;
            }
        }
        size_t i = first / LRELU_VEC;
        CALC_V v = LOADV(i, xp), out;
        {
            CALC_V pc = mode == 2 ? (CALC_V)(-(CALC_T)0) : LOADV(0, (const STORE_T *)fb);
            CHAN_FWD_STEP(CALC_V, IS_POSV, v, out)
        }
        STOREV(out, i, yp);
        return;
    }
#endif
    for (size_t k = first; k < last; ++k) {
        CALC_T v = LOAD1(k, xp), out;
        CHAN_FWD_STEP(CALC_T, IS_POS1, v, out)
        STORE1(out, k, yp);
        if (++r == inner) {
            r = 0;
            if (++c == channels)
                c = 0;
            pc = CHAN_FACTOR(c, pp);
        }
    }
}

/* Elements [from, to) of a row of chan_2d, one at a time. */
static inline void chan_2d_ones(const int bias, const int cols, size_t from, size_t to,
                                CALC_T alpha, CALC_T gain, CALC_T lim, CALC_T pr,
                                const __global STORE_T *xp, const __global STORE_T *pp,
                                __global STORE_T *yp)
{
    for (size_t k = from; k < to; ++k) {
        CALC_T v = LOAD1(k, xp), pc = cols ? LOADP(k, pp) : pr, out;
        CHAN_FWD_STEP(CALC_T, IS_POS1, v, out)
        STORE1(out, k, yp);
    }
}

/* The forward over rows of whole vectors, in a 2-D launch: work-item (i, row) takes
 * ITEM_VECS vectors of its row: on CPUs [i * ITEM_VECS, i * ITEM_VECS + ITEM_VECS), and
 * the one that reaches vector len / VEC the len % VEC elements that remain; with
 * -DLRELU_COALESCE (the GPUs' build) i, i + W, ... of the row's W work-items, the last
 * taking what remains. Rows past `rows` do nothing.
 * Without cols, a row is one channel's `inner` elements (rows = outer * channels), the
 * factor loaded once for the row: the vector body has no division and no per-element
 * channel. With cols (inner 1: channels last, or (N, C)), a row is one outer index's
 * `channels` elements (rows = outer), element k in channel k, so the factors load as
 * vectors too. ITEM_VECS vectors share a work-item's overhead. Inlined into one kernel
 * per bias and cols (PReLU 0, bias_act 1): with both constants, the PReLU body is the
 * plain forward's (a runtime mode in it slows f16). */
static inline void chan_2d(const int bias, const int cols, ulong rows, ulong channels, ulong inner,
                           int mode, CALC_T alpha, CALC_T gain, CALC_T limit,
                           const __global STORE_T *x, ulong x_off, const __global STORE_T *p,
                           ulong p_off, __global STORE_T *y, ulong y_off)
{
    size_t i = get_global_id(0), row = get_global_id(1);
    size_t len = cols ? (size_t)channels : (size_t)inner, body = len / LRELU_VEC;
#ifdef LRELU_COALESCE
    /* GPUs: vectors i, i + W, i + 2 W ... of the W work-items of a row, so that
     * neighbouring work-items take neighbouring vectors; the last takes the row's ends */
    size_t per = ((len + LRELU_VEC - 1) / LRELU_VEC + LRELU_ITEM_VECS - 1) / LRELU_ITEM_VECS;
    size_t first = i, step = per;
#define CHAN_2D_ENDS (first + 1 == step)
    if (row >= (size_t)rows || i >= per)
        return;
#else
    /* CPUs: vectors i * ITEM_VECS on, one after the other in memory (body as it stands
     * where the ends are taken: bf16's pairs count it anew) */
    size_t first = i * LRELU_ITEM_VECS, step = 1;
#define CHAN_2D_ENDS (body >= first && body < first + LRELU_ITEM_VECS)
    if (row >= (size_t)rows)
        return;
#endif
    const __global STORE_T *pp = p + p_off;
    CALC_T pr = cols ? (CALC_T)0 : CHAN_FACTOR(row % (size_t)channels, pp), lim = CHAN_FWD_LIM;
    const __global STORE_T *xp = x + x_off + row * len;
    __global STORE_T *yp = y + y_off + row * len;
#ifdef BF16_PAIRS
    { /* pairs as the plain forward's, from the output row's first even element */
        size_t at = (size_t)y_off + row * len;
        int x_shift = (int)((x_off ^ y_off) & 1), p_shift = cols ? (int)((p_off ^ at) & 1) : 0;
        size_t lead = PAIRS_LEAD(len, at, x_shift | p_shift);
        body = PAIRS_BODY(len, lead, x_shift | p_shift, LRELU_VEC);
        for (size_t q = 0, j = first; q < LRELU_ITEM_VECS && j < body; ++q, j += step) {
            PAIRS_V u = LRELU_CAT(pair_load, NPAIRS)(j, xp + lead, x_shift);
            PAIRS_V f = cols ? LRELU_CAT(pair_load, NPAIRS)(j, pp + lead, p_shift) : (PAIRS_V)0;
            PAIRS_F lo = PAIR_LO(u, NPAIRS), hi = PAIR_HI(u, NPAIRS), out_lo, out_hi, pc;
            pc = cols ? PAIR_LO(f, NPAIRS) : (PAIRS_F)pr;
            CHAN_FWD_STEP(PAIRS_F, PAIR_POS, lo, out_lo)
            pc = cols ? PAIR_HI(f, NPAIRS) : (PAIRS_F)pr;
            CHAN_FWD_STEP(PAIRS_F, PAIR_POS, hi, out_hi)
            PAIR_STORE(out_lo, out_hi, j, yp + lead, NPAIRS);
        }
        if (CHAN_2D_ENDS) { /* the row's ends */
            chan_2d_ones(bias, cols, 0, lead, alpha, gain, lim, pr, xp, pp, yp);
            chan_2d_ones(bias, cols, lead + body * LRELU_VEC, len, alpha, gain, lim, pr, xp, pp,
                         yp);
        }
    }
#else
    for (size_t q = 0, j = first; q < LRELU_ITEM_VECS && j < body; ++q, j += step) {
        CALC_V v = LOADV(j, xp), pc = cols ? LOADV(j, pp) : (CALC_V)pr, out;
        CHAN_FWD_STEP(CALC_V, IS_POSV, v, out)
        STOREV(out, j, yp);
    }
    if (CHAN_2D_ENDS)
        chan_2d_ones(bias, cols, body * LRELU_VEC, len, alpha, gain, lim, pr, xp, pp, yp);
#endif
}

/* The four 2-D forwards share the arguments of the 1-D one but for the first: the number
 * of rows (outer * channels, or with cols outer). cols ignores inner (it is 1) and needs
 * a factor array: bias_act without a bias runs as rows. */
#define CHAN_2D_KERNEL(NAME, BIAS, COLS)                                                           \
    __kernel void NAME(ulong rows, ulong channels, ulong inner, int mode, CALC_T alpha,            \
                       CALC_T gain, CALC_T limit, const __global STORE_T *x, ulong x_off,          \
                       const __global STORE_T *p, ulong p_off, __global STORE_T *y, ulong y_off)   \
    {                                                                                              \
        chan_2d(BIAS, COLS, rows, channels, inner, mode, alpha, gain, limit, x, x_off, p, p_off,   \
                y, y_off);                                                                         \
    }
CHAN_2D_KERNEL(LRELU_CAT(lrelu_prelu_rows_, SFX), 0, 0)
CHAN_2D_KERNEL(LRELU_CAT(lrelu_bias_rows_, SFX), 1, 0)
CHAN_2D_KERNEL(LRELU_CAT(lrelu_prelu_cols_, SFX), 0, 1)
CHAN_2D_KERNEL(LRELU_CAT(lrelu_bias_cols_, SFX), 1, 1)

/* Eight elements at once for the backward's sums: C8 values, loads and stores at any
 * element index, and the "> 0" mask. */
#define CALC_8     LRELU_CAT(CALC_T, 8)
#define BITS_8     LRELU_CAT(BITS_T, 8)
#define IS_POS8(s) ((LRELU_CAT(as_, LRELU_CAT(BITS_T, 8))(s) - (BITS_T)1) < (BITS_T)POS_LIMIT)
#if LRELU_DTYPE == 1
#define LOAD8(i, p)     vload_half8(0, (p) + (i))
#define STORE8(v, i, p) vstore_half8_rte((v), 0, (p) + (i))
#elif LRELU_DTYPE == 2
#define LOAD8(i, p)     as_float8(convert_uint8(vload8(0, (p) + (i))) << 16)
#define STORE8(v, i, p) bf16_store8((v), (p) + (i))
#else
#define LOAD8(i, p)     vload8(0, (p) + (i))
#define STORE8(v, i, p) vstore8((v), 0, (p) + (i))
#endif

/* dx and the sum's term of one element (T = CALC_T, ISPOS = IS_POS1) or eight (CALC_8, IS_POS8);
 * bias_act (bias = 1) with t = x + pc, pc = -0 where there is no bias (x + -0 is x). */
#define CHAN_BWD_STEP(T, ISPOS, v, gy, d, term)                                                    \
    if (!bias) {                                                                                   \
        d = ISPOS(v) ? (gy) : (gy)*pc;                                                             \
        term = ISPOS(v) ? (T)0 : (v) * (gy);                                                       \
    } else {                                                                                       \
        T t_ = (v) + pc;                                                                           \
        T y_ = gain * LRELU(ISPOS(t_), t_, alpha);                                                 \
        T gg_ = (gy)*gain;                                                                         \
        d = LRELU(ISPOS(t_), gg_, alpha);                                                          \
        if (limit > (CALC_T)0)                                                                     \
            d = (y_ >= -limit && y_ <= limit) ? d : (T)0;                                          \
        term = d;                                                                                  \
    }

/* Block b of channel c: term k of the block (k = j - b * BLOCK) goes to lane k % 8, each
 * lane summed from +0 in order; the block's sum is the lanes' from +0 in lane order. Eight
 * independent sums keep the adds from waiting on each other, and eight terms that lie
 * in one row move as vectors. Where inner is a multiple of 8, or the block lies inside
 * one row, it runs as straight loops of vectors with the lanes in a register. Inlined
 * into one kernel per bias, as the forward: PReLU's body has no bias_act code in it. */
static inline void chan_bwd(const int bias, ulong m, ulong nb, ulong channels, ulong inner,
                            int mode, CALC_T alpha, CALC_T gain, CALC_T limit,
                            const __global STORE_T *x, ulong x_off, const __global STORE_T *p,
                            ulong p_off, const __global STORE_T *dy, ulong dy_off,
                            __global STORE_T *dx, ulong dx_off, __global CALC_T *partial)
{
    size_t g = get_global_id(0);
    if (g >= (size_t)(channels * nb))
        return;
    /* Neighbouring work-items (which PoCL runs one after the other) take neighbouring
     * memory: the next block of the same row where blocks lie inside rows, else the next
     * channel of the same rows, rather than across rows of another channel, kilobytes
     * away. */
    size_t b, c;
    if (inner < LRELU_RBLOCK) {
        b = g / channels;
        c = g - b * channels;
    } else {
        c = g / nb;
        b = g - c * nb;
    }
    size_t j0 = b * LRELU_RBLOCK, j = j0;
    size_t end = j + LRELU_RBLOCK < (size_t)m ? j + LRELU_RBLOCK : (size_t)m;
    size_t o = j / inner, r = j - o * inner;
    size_t idx = (o * channels + c) * inner + r, skip = (channels - 1) * inner;
    const __global STORE_T *xp = x + x_off;
    const __global STORE_T *dyp = dy + dy_off;
    __global STORE_T *dxp = dx == 0 ? 0 : dx + dx_off;
    CALC_T pc = CHAN_FACTOR(c, p + p_off);
    CALC_T acc[8];
    if ((inner & 7) == 0 || r + (end - j0) <= (size_t)inner) {
        /* Every row segment of the block starts on lane 0 and is whole vectors (inner a
         * multiple of 8), or the block lies in one row: straight loops of vectors with
         * the lanes in a register; only a channel's last block may end in a part
         * vector. */
        CALC_8 lanes = (CALC_8)0;
        while (j < end) {
            size_t seg = inner - r < end - j ? inner - r : end - j, q = 0;
            for (; q + 8 <= seg; q += 8) {
                CALC_8 v = LOAD8(idx + q, xp), gy = LOAD8(idx + q, dyp), d, term;
                CHAN_BWD_STEP(CALC_8, IS_POS8, v, gy, d, term)
                if (dxp != 0)
                    STORE8(d, idx + q, dxp);
                lanes = lanes + term;
            }
            if (q < seg) {
                vstore8(lanes, 0, acc);
                for (; q < seg; ++q) {
                    CALC_T v = LOAD1(idx + q, xp), gy = LOAD1(idx + q, dyp), d, term;
                    CHAN_BWD_STEP(CALC_T, IS_POS1, v, gy, d, term)
                    if (dxp != 0)
                        STORE1(d, idx + q, dxp);
                    acc[(j + q - j0) & 7] = acc[(j + q - j0) & 7] + term;
                }
                lanes = vload8(0, acc);
            }
            j += seg;
            idx += seg + skip; /* the next segment starts a row */
            r = 0;
        }
        vstore8(lanes, 0, acc);
    } else {
        vstore8((CALC_8)0, 0, acc);
    }
    while (j < end) {
        if (((j - j0) & 7) == 0 && j + 8 <= end && r + 8 <= inner) {
            CALC_8 v = LOAD8(idx, xp), gy = LOAD8(idx, dyp), d, term;
            CHAN_BWD_STEP(CALC_8, IS_POS8, v, gy, d, term)
            if (dxp != 0)
                STORE8(d, idx, dxp);
            vstore8(vload8(0, acc) + term, 0, acc);
            j += 8;
            idx += 8;
            r += 8;
        } else {
            CALC_T v = LOAD1(idx, xp), gy = LOAD1(idx, dyp), d, term;
            CHAN_BWD_STEP(CALC_T, IS_POS1, v, gy, d, term)
            if (dxp != 0)
                STORE1(d, idx, dxp);
            acc[(j - j0) & 7] = acc[(j - j0) & 7] + term;
            ++j;
            ++idx;
            ++r;
        }
        if (r == inner) {
            r = 0;
            idx += skip;
        }
    }
    CALC_T sum = (CALC_T)0;
    for (int l = 0; l < 8; ++l)
        sum = sum + acc[l];
    if (partial != 0)
        partial[c * (size_t)nb + b] = sum;
}

/* The backward where inner is 1: work-item (i, b) of a 2-D launch takes channels
 * [i * VEC, i * VEC + VEC) (fewer in the last group) over block b of the outer index,
 * o in [b * BLOCK, min(outer, b * BLOCK + BLOCK)): a row's VEC channels are contiguous,
 * so each o is one vector of x, dy and dx, term o - b * BLOCK going to lane (o - b *
 * BLOCK) % 8 of every channel: the same order as chan_bwd, and partial[c * nb + b]. */
#define CHAN_BCOLS_GROUP(T, LD, ST, LDP, ISPOS, W)                                                 \
    {                                                                                              \
        T pc = mode == 2 ? (T)(-(CALC_T)0) : LDP(0, pp), acc[8], sum = (T)0;                       \
        for (int l = 0; l < 8; ++l)                                                                \
            acc[l] = (T)0;                                                                         \
        for (size_t base = o0; base < end; base += 8) {                                            \
            _Pragma("unroll") for (int l = 0; l < 8; ++l)                                          \
            {                                                                                      \
                size_t at = (base + (size_t)l) * (size_t)channels;                                 \
                if (base + (size_t)l < end) {                                                      \
                    T v = LD(0, xp + at), gy = LD(0, dyp + at), d, term;                           \
                    CHAN_BWD_STEP(T, ISPOS, v, gy, d, term)                                        \
                    if (dxp != 0)                                                                  \
                        ST(d, 0, dxp + at);                                                        \
                    acc[l] = acc[l] + term;                                                        \
                }                                                                                  \
            }                                                                                      \
        }                                                                                          \
        for (int l = 0; l < 8; ++l)                                                                \
            sum = sum + acc[l];                                                                    \
        W                                                                                          \
    }

#if LRELU_VEC == 1
#define LOADPV(i, p)   LOADP(i, p)
#define STOREV_C(v, a) (a)[0] = (v);
#else
#define LOADPV(i, p)   LOADV(i, p)
#define STOREV_C(v, a) LRELU_CAT(vstore, LRELU_VEC)((v), 0, (a));
#endif

static inline void chan_bcols(const int bias, ulong outer, ulong nb, ulong channels, int mode,
                              CALC_T alpha, CALC_T gain, CALC_T limit, const __global STORE_T *x,
                              ulong x_off, const __global STORE_T *p, ulong p_off,
                              const __global STORE_T *dy, ulong dy_off, __global STORE_T *dx,
                              ulong dx_off, __global CALC_T *partial)
{
    size_t c0 = get_global_id(0) * LRELU_VEC, b = get_global_id(1);
    if (c0 >= (size_t)channels || b >= (size_t)nb)
        return;
    size_t o0 = b * LRELU_RBLOCK;
    size_t end = o0 + LRELU_RBLOCK < (size_t)outer ? o0 + LRELU_RBLOCK : (size_t)outer;
    const __global STORE_T *xp = x + x_off + c0, *dyp = dy + dy_off + c0, *pp = p + p_off + c0;
    __global STORE_T *dxp = dx == 0 ? 0 : dx + dx_off + c0;
    __global CALC_T *part = partial == 0 ? 0 : partial + c0 * (size_t)nb + b;
    if (c0 + LRELU_VEC <= (size_t)channels) {
        CALC_T sums[LRELU_VEC];
        CHAN_BCOLS_GROUP(CALC_V, LOADV, STOREV, LOADPV, IS_POSV, STOREV_C(sum, sums);)
        if (part != 0)
            for (size_t u = 0; u < LRELU_VEC; ++u)
                part[u * (size_t)nb] = sums[u];
    } else {
        for (size_t u = 0; c0 + u < (size_t)channels; ++u) {
            CHAN_BCOLS_GROUP(CALC_T, LOAD1, STORE1, LOADP, IS_POS1, if (part != 0) part[0] = sum;)
            ++xp, ++dyp, ++pp;
            dxp = dxp == 0 ? 0 : dxp + 1;
            part = part == 0 ? 0 : part + nb;
        }
    }
}

/* The backward on CPU devices, where blocks span rows (inner below BLOCK; inner 1:
 * channels last) or rows span blocks: work-item (g, t) takes channels [g * width, g *
 * width + width) (fewer in the last group; width <= LRELU_GROUP_MAX) over blocks [t *
 * per, t * per + per), row by row, so that it reads and writes memory in order. On a CPU
 * a work-item runs alone, and the GPUs' order (neighbouring work-items on neighbouring
 * memory: chan_bcols' columns of VEC channels, strided by a row, or chan_bwd's one
 * channel a work-item) reads memory out of order there (docs/performance.md, design
 * measurements). The lanes of every channel (8 x width values) live in a private array, which a
 * GPU would spill. The order of the sums is chan_bwd's: a channel's lanes go to
 * partial[c * nb + b] and start again from +0 where its block b ends. Built only with
 * -DLRELU_GROUP_MAX=w, the widest group: GPUs, which never run it, need not compile its
 * private array. */
#ifdef LRELU_GROUP_MAX
#if LRELU_VEC == 1
#define ACC_LOAD(a)     (a)[0]
#define ACC_STORE(v, a) ((a)[0] = (v))
#else
#define ACC_LOAD(a)     LRELU_CAT(vload, LRELU_VEC)(0, (a))
#define ACC_STORE(v, a) LRELU_CAT(vstore, LRELU_VEC)((v), 0, (a))
#endif
/* element I of x, dy (and dx) into lane A */
#define CHAN_BGROUP_ONE(I, A)                                                                      \
    {                                                                                              \
        CALC_T v = LOAD1(I, x + x_off), gy = LOAD1(I, dy + dy_off), d, term;                       \
        CHAN_BWD_STEP(CALC_T, IS_POS1, v, gy, d, term)                                             \
        if (dx != 0)                                                                               \
            STORE1(d, I, dx + dx_off);                                                             \
        A = A + term;                                                                              \
    }
/* the sum of the 8 lanes at L (every STEP-th value) from +0 in lane order, to
 * partial[AT] where there is one, and the lanes cleared */
#define CHAN_BGROUP_FLUSH(L, STEP, AT)                                                             \
    {                                                                                              \
        CALC_T sum_ = (CALC_T)0;                                                                   \
        for (size_t l_ = 0; l_ < 8; ++l_) {                                                        \
            sum_ = sum_ + (L)[l_ * (STEP)];                                                        \
            (L)[l_ * (STEP)] = (CALC_T)0;                                                          \
        }                                                                                          \
        if (partial != 0)                                                                          \
            partial[AT] = sum_;                                                                    \
    }
static inline void chan_bgroup(const int bias, ulong m, ulong nb, ulong channels, ulong inner,
                               int mode, CALC_T alpha, CALC_T gain, CALC_T limit,
                               const __global STORE_T *x, ulong x_off, const __global STORE_T *p,
                               ulong p_off, const __global STORE_T *dy, ulong dy_off,
                               __global STORE_T *dx, ulong dx_off, __global CALC_T *partial,
                               ulong width, ulong per)
{
    size_t c0 = get_global_id(0) * (size_t)width, t = get_global_id(1);
    size_t span = (size_t)per * LRELU_RBLOCK;
    if (c0 >= (size_t)channels || t >= ((size_t)m + span - 1) / span)
        return;
    size_t w = c0 + width <= channels ? (size_t)width : (size_t)channels - c0;
    size_t j0 = t * span;
    size_t end = (size_t)m - j0 > span ? j0 + span : (size_t)m;
    const __global STORE_T *pp = p + p_off + c0;
    CALC_T acc[8 * LRELU_GROUP_MAX];
    for (size_t i = 0; i < 8 * w; ++i)
        acc[i] = (CALC_T)0;
    if (inner == 1) {
        /* rows of w channels; lane l of channel c0 + k at acc[l * w + k], so that a
         * vector of channels meets a vector of its lanes */
        size_t body = w - w % LRELU_VEC;
        for (size_t o = j0; o < end; ++o) {
            size_t row = o * (size_t)channels + c0;
            const __global STORE_T *xp = x + x_off + row, *dyp = dy + dy_off + row;
            __global STORE_T *dxp = dx == 0 ? 0 : dx + dx_off + row;
            CALC_T *lane = acc + (o & 7) * w;
            size_t k = 0;
            for (; k < body; k += LRELU_VEC) {
                CALC_V v = LOADV(0, xp + k), gy = LOADV(0, dyp + k), d, term;
                CALC_V pc = mode == 2 ? (CALC_V)(-(CALC_T)0) : LOADPV(0, pp + k);
                CHAN_BWD_STEP(CALC_V, IS_POSV, v, gy, d, term)
                if (dxp != 0)
                    STOREV(d, 0, dxp + k);
                ACC_STORE(ACC_LOAD(lane + k) + term, lane + k);
            }
            for (; k < w; ++k) {
                CALC_T pc = mode == 2 ? -(CALC_T)0 : LOADP(k, pp);
                CHAN_BGROUP_ONE(row + k, lane[k])
            }
            if (((o + 1) & (LRELU_RBLOCK - 1)) == 0 || o + 1 == end)
                for (k = 0; k < w; ++k)
                    CHAN_BGROUP_FLUSH(acc + k, w, (c0 + k) * (size_t)nb + o / LRELU_RBLOCK)
        }
    } else {
        /* each row's segment of every channel, in pieces that end where blocks do:
         * vectors of 8 from the piece's first element into its lanes rotated to it, then
         * what remains one element at a time (a piece shorter than 8: all of it); channel
         * c0 + k's lanes at acc[8 * k] */
        for (size_t j = j0; j < end;) {
            size_t o = j / inner, r = j - o * inner;
            size_t seg = inner - r < end - j ? inner - r : end - j;
            size_t first = (j | (LRELU_RBLOCK - 1)) + 1 - j; /* up to the next block */
            size_t idx = (o * channels + c0) * inner + r, stop0 = first < seg ? first : seg;
            for (size_t k = 0; k < w; ++k, idx += inner) {
                CALC_T pc = mode == 2 ? -(CALC_T)0 : LOADP(k, pp);
                CALC_T *ln = acc + 8 * k;
                for (size_t q = 0, stop = stop0; q != seg;
                     stop += seg - stop > LRELU_RBLOCK ? LRELU_RBLOCK : seg - stop) {
                    if (stop - q >= 8) {
                        /* 8 at a time from the piece's first element, into the lanes
                         * rotated to it (lane i holding lane (l0 + i) % 8), with no head
                         * one element at a time (at (N, 256, 7, 7), seven of those a
                         * segment at most) */
                        BITS_8 id = (BITS_8)(0, 1, 2, 3, 4, 5, 6, 7);
                        BITS_T l0 = (BITS_T)((j + q) & 7);
                        CALC_8 lanes = shuffle(vload8(0, ln), (id + l0) & (BITS_T)7);
                        for (; q + 8 <= stop; q += 8) {
                            CALC_8 v = LOAD8(idx + q, x + x_off), gy = LOAD8(idx + q, dy + dy_off),
                                   d, term;
                            CHAN_BWD_STEP(CALC_8, IS_POS8, v, gy, d, term)
                            if (dx != 0)
                                STORE8(d, idx + q, dx + dx_off);
                            lanes = lanes + term;
                        }
                        vstore8(shuffle(lanes, (id + ((BITS_T)8 - l0)) & (BITS_T)7), 0, ln);
                    }
                    for (; q < stop; ++q)
                        CHAN_BGROUP_ONE(idx + q, ln[(j + q) & 7])
                    if (((j + stop) & (LRELU_RBLOCK - 1)) == 0 || j + stop == end)
                        CHAN_BGROUP_FLUSH(ln, 1,
                                          (c0 + k) * (size_t)nb + (j + stop - 1) / LRELU_RBLOCK)
                }
            }
            j += seg;
        }
    }
}

/* chan_bwd's arguments, the width of a channel group and the blocks of a work-item. */
#define CHAN_BGROUP_KERNEL(NAME, BIAS)                                                             \
    __kernel void NAME(ulong m, ulong nb, ulong channels, ulong inner, int mode, CALC_T alpha,     \
                       CALC_T gain, CALC_T limit, const __global STORE_T *x, ulong x_off,          \
                       const __global STORE_T *p, ulong p_off, const __global STORE_T *dy,         \
                       ulong dy_off, __global STORE_T *dx, ulong dx_off, __global CALC_T *partial, \
                       ulong width, ulong per)                                                     \
    {                                                                                              \
        chan_bgroup(BIAS, m, nb, channels, inner, mode, alpha, gain, limit, x, x_off, p, p_off,    \
                    dy, dy_off, dx, dx_off, partial, width, per);                                  \
    }
CHAN_BGROUP_KERNEL(LRELU_CAT(lrelu_prelu_bgroup_, SFX), 0)
CHAN_BGROUP_KERNEL(LRELU_CAT(lrelu_bias_bgroup_, SFX), 1)
#endif

#define CHAN_BWD_KERNEL(NAME, BIAS)                                                                \
    __kernel void NAME(ulong m, ulong nb, ulong channels, ulong inner, int mode, CALC_T alpha,     \
                       CALC_T gain, CALC_T limit, const __global STORE_T *x, ulong x_off,          \
                       const __global STORE_T *p, ulong p_off, const __global STORE_T *dy,         \
                       ulong dy_off, __global STORE_T *dx, ulong dx_off, __global CALC_T *partial) \
    {                                                                                              \
        chan_bwd(BIAS, m, nb, channels, inner, mode, alpha, gain, limit, x, x_off, p, p_off, dy,   \
                 dy_off, dx, dx_off, partial);                                                     \
    }
CHAN_BWD_KERNEL(LRELU_CAT(lrelu_prelu_backward_, SFX), 0)
CHAN_BWD_KERNEL(LRELU_CAT(lrelu_bias_backward_, SFX), 1)

/* The same arguments but for inner (1) and the first, outer instead of m. */
#define CHAN_BCOLS_KERNEL(NAME, BIAS)                                                              \
    __kernel void NAME(ulong outer, ulong nb, ulong channels, ulong inner, int mode, CALC_T alpha, \
                       CALC_T gain, CALC_T limit, const __global STORE_T *x, ulong x_off,          \
                       const __global STORE_T *p, ulong p_off, const __global STORE_T *dy,         \
                       ulong dy_off, __global STORE_T *dx, ulong dx_off, __global CALC_T *partial) \
    {                                                                                              \
        chan_bcols(BIAS, outer, nb, channels, mode, alpha, gain, limit, x, x_off, p, p_off, dy,    \
                   dy_off, dx, dx_off, partial);                                                   \
    }
CHAN_BCOLS_KERNEL(LRELU_CAT(lrelu_prelu_bcols_, SFX), 0)
CHAN_BCOLS_KERNEL(LRELU_CAT(lrelu_bias_bcols_, SFX), 1)

/* The GPUs' backward where inner > 1 (see the header): work-group g = c * tiles + t takes
 * the blocks [t * TILE, t * TILE + TILE) of channel c. Each term goes to local memory at
 * its place in the tile; then lane l of block k sums terms[k * BLOCK + l + 8 i] for i = 0,
 * 1, ... in order, and block k's lanes are summed in lane order: chan_bwd's order. Every
 * step loops over the work-items, so any work-group size computes the same. */
#define CHAN_TILE LRELU_CHAN_TILE
static inline void chan_btile(const int bias, ulong m, ulong nb, ulong channels, ulong inner,
                              int mode, CALC_T alpha, CALC_T gain, CALC_T limit,
                              const __global STORE_T *x, ulong x_off, const __global STORE_T *p,
                              ulong p_off, const __global STORE_T *dy, ulong dy_off,
                              __global STORE_T *dx, ulong dx_off, __global CALC_T *partial,
                              __local CALC_T *terms, __local CALC_T *lanes)
{
    size_t L = get_local_size(0), w = get_local_id(0), grp = get_global_id(0) / L;
    size_t tiles = ((size_t)nb + CHAN_TILE - 1) / CHAN_TILE, c = grp / tiles;
    /* a group past the last channel (none: the launch is whole groups) does nothing, but
     * meets the barriers: PoCL mishandles a return ahead of them */
    size_t b0 = (grp - c * tiles) * CHAN_TILE, j0 = b0 * LRELU_RBLOCK;
    size_t span = c >= (size_t)channels                       ? 0
                  : (size_t)m - j0 < CHAN_TILE * LRELU_RBLOCK ? (size_t)m - j0
                                                              : CHAN_TILE * LRELU_RBLOCK;
    const __global STORE_T *xp = x + x_off, *dyp = dy + dy_off;
    __global STORE_T *dxp = dx == 0 ? 0 : dx + dx_off;
    CALC_T pc = span == 0 ? (CALC_T)0 : CHAN_FACTOR(c, p + p_off);
    int narrow = ((m * channels) >> 32) == 0; /* 32-bit division: several times faster */
    for (size_t t = w; t < span; t += L) {
        size_t j = j0 + t, o;
        if (narrow)
            o = (uint)j / (uint)inner;
        else
            o = j / inner;
        size_t idx = (o * channels + c) * inner + (j - o * inner);
        CALC_T v = LOAD1(idx, xp), gy = LOAD1(idx, dyp), d, term;
        CHAN_BWD_STEP(CALC_T, IS_POS1, v, gy, d, term)
        if (dxp != 0)
            STORE1(d, idx, dxp);
        terms[t] = term;
    }
    barrier(CLK_LOCAL_MEM_FENCE);
    for (size_t q = w; q < CHAN_TILE * 8; q += L) {
        size_t first = (q >> 3) * LRELU_RBLOCK;
        size_t end = span < first + LRELU_RBLOCK ? span : first + LRELU_RBLOCK;
        CALC_T acc = (CALC_T)0;
        for (size_t k = first + (q & 7); k < end; k += 8)
            acc = acc + terms[k];
        lanes[q] = acc;
    }
    barrier(CLK_LOCAL_MEM_FENCE);
    for (size_t q = w; q < CHAN_TILE && span > 0 && b0 + q < (size_t)nb && partial != 0; q += L) {
        CALC_T sum = (CALC_T)0;
        for (int l = 0; l < 8; ++l)
            sum = sum + lanes[q * 8 + l];
        partial[c * (size_t)nb + b0 + q] = sum;
    }
}

#define CHAN_BTILE_KERNEL(NAME, BIAS)                                                              \
    __kernel void NAME(ulong m, ulong nb, ulong channels, ulong inner, int mode, CALC_T alpha,     \
                       CALC_T gain, CALC_T limit, const __global STORE_T *x, ulong x_off,          \
                       const __global STORE_T *p, ulong p_off, const __global STORE_T *dy,         \
                       ulong dy_off, __global STORE_T *dx, ulong dx_off, __global CALC_T *partial) \
    {                                                                                              \
        __local CALC_T terms[CHAN_TILE * LRELU_RBLOCK], lanes[CHAN_TILE * 8];                      \
        chan_btile(BIAS, m, nb, channels, inner, mode, alpha, gain, limit, x, x_off, p, p_off, dy, \
                   dy_off, dx, dx_off, partial, terms, lanes);                                     \
    }
CHAN_BTILE_KERNEL(LRELU_CAT(lrelu_prelu_btile_, SFX), 0)
CHAN_BTILE_KERNEL(LRELU_CAT(lrelu_bias_btile_, SFX), 1)

/* The GPUs' backward where inner is 1: work-item (c, b) of a 2-D launch takes channel c
 * over block b of the outer index, as chan_bcols does a vector of channels. */
#define CHAN_BCOL1_KERNEL(NAME, BIAS)                                                              \
    __kernel void NAME(ulong outer, ulong nb, ulong channels, ulong inner, int mode, CALC_T alpha, \
                       CALC_T gain, CALC_T limit, const __global STORE_T *x, ulong x_off,          \
                       const __global STORE_T *p, ulong p_off, const __global STORE_T *dy,         \
                       ulong dy_off, __global STORE_T *dx, ulong dx_off, __global CALC_T *partial) \
    {                                                                                              \
        const int bias = BIAS;                                                                     \
        size_t c = get_global_id(0), b = get_global_id(1);                                         \
        (void)inner;                                                                               \
        if (c >= (size_t)channels || b >= (size_t)nb)                                              \
            return;                                                                                \
        size_t o0 = b * LRELU_RBLOCK;                                                              \
        size_t end = o0 + LRELU_RBLOCK < (size_t)outer ? o0 + LRELU_RBLOCK : (size_t)outer;        \
        const __global STORE_T *xp = x + x_off + c, *dyp = dy + dy_off + c, *pp = p + p_off + c;   \
        __global STORE_T *dxp = dx == 0 ? 0 : dx + dx_off + c;                                     \
        CHAN_BCOLS_GROUP(CALC_T, LOAD1, STORE1, LOADP, IS_POS1,                                    \
                         if (partial != 0) partial[c * (size_t)nb + b] = sum;)                     \
    }
CHAN_BCOL1_KERNEL(LRELU_CAT(lrelu_prelu_bcol1_, SFX), 0)
CHAN_BCOL1_KERNEL(LRELU_CAT(lrelu_bias_bcol1_, SFX), 1)

__kernel void LRELU_CAT(lrelu_chan_sumg_, SFX)(ulong channels, ulong nb,
                                               const __global CALC_T *partial, __global STORE_T *ds,
                                               ulong ds_off)
{
    __local CALC_T chunk[256];
    size_t L = get_local_size(0), w = get_local_id(0), c = get_global_id(0) / L;
    /* past the last channel: no blocks, but no return ahead of the barriers (chan_btile) */
    size_t blocks = c < (size_t)channels ? (size_t)nb : 0;
    const __global CALC_T *pc = partial + c * (size_t)nb;
    CALC_T acc = (CALC_T)0;
    for (size_t b0 = 0; b0 < blocks; b0 += 256) {
        size_t count = blocks - b0 < 256 ? blocks - b0 : 256;
        for (size_t i = w; i < count; i += L)
            chunk[i] = pc[b0 + i];
        barrier(CLK_LOCAL_MEM_FENCE);
        if (w == 0)
            for (size_t i = 0; i < count; ++i)
                acc = acc + chunk[i];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (w == 0 && blocks > 0)
        STORE1(acc, c, ds + ds_off);
}

__kernel void CHAN_SUM_NAME(ulong channels, ulong nb, const __global CALC_T *partial,
                            __global STORE_T *ds, ulong ds_off)
{
    size_t c = get_global_id(0);
    if (c >= (size_t)channels)
        return;
    CALC_T acc = (CALC_T)0;
    for (size_t b = 0; b < (size_t)nb; ++b)
        acc = acc + partial[c * nb + b];
    STORE1(acc, c, ds + ds_off);
}
