/* chan_bwd_dtype.h: the per-channel backward's loops for one dtype, included by
 * chan_bwd.h once per dtype with SUF (the name's suffix), ST (storage type), CT (compute
 * type), V and I (its 8-wide vectors and their compares), WIDEN and NARROW (ST to CT and
 * back), LD8 and ST8 (8 elements), ROT and CAN_ROT (lane rotation, where cheap) defined.
 * Plain functions named through CBWD_FN, so that each dtype gets its own. */
/* The units [first, first + n) of a call, for storage type ST, compute type CT and its
 * vectors V (compares I); bias and store (dx wanted) are constants where cbwd_SUF calls
 * them, so each of the loops is built without the others' code. rows (one channel): each
 * segment of a block within a row runs one lane at a time up to lane 0, then 8 at a time.
 * cols: a block of rows over a group of channels, each row's channels 8 at a time into
 * their lane's accumulators. segs: below. */
#ifdef __AVX2__
static inline void CBWD_FN(nt8)(ST *p, const V *v)
{
    ST t[8];
    ST8(t, v);
    for (size_t i = 0; i < sizeof t / 16; ++i)
        _mm_stream_si128((__m128i *)p + i, _mm_loadu_si128((const __m128i *)t + i));
}

#else
static inline void CBWD_FN(nt8)(ST *p, const V *v) { ST8(p, v); }
#endif
static inline void CBWD_FN(cbwd_rows)(const lrelu_cpu_cbwd *k, size_t first, size_t n,
                                      const int bias, const int store)
{
    const ST *x = k->x, *dy = k->dy, *p = k->p;
    ST *dx = k->dx;
    CT *partial = k->partial;
    CBWD_PARAMS(CT);
    size_t C = k->C, inner = k->inner, nb = k->nb, m = k->m, skip = (C - 1) * inner;
    for (size_t g = first; g < first + n; ++g) {
        size_t b = inner < LRELU_RBLOCK ? g / C : g % nb;
        size_t c = inner < LRELU_RBLOCK ? g % C : g / nb;
        size_t j0 = b * LRELU_RBLOCK, j = j0;
        size_t end = m - j0 < LRELU_RBLOCK ? m : j0 + LRELU_RBLOCK;
        size_t o = j / inner, r = j - o * inner, idx = (o * C + c) * inner + r;
        CT pc = p == NULL ? -(CT)0 : WIDEN(p[c]);
        V acc = {0, 0, 0, 0, 0, 0, 0, 0};
        while (j < end) {
            size_t seg = inner - r < end - j ? inner - r : end - j, q = 0;
            for (; q < seg && ((j + q - j0) & 7) != 0; ++q)
                CBWD_ONE(CT, WIDEN, NARROW, idx + q, acc[(j + q - j0) & 7]);
            for (; q + 8 <= seg; q += 8)
                CBWD_EIGHT(V, I, LD8, ST8, x + idx + q, dy + idx + q, dx + idx + q, pc, acc);
            for (; q < seg; ++q)
                CBWD_ONE(CT, WIDEN, NARROW, idx + q, acc[(j + q - j0) & 7]);
            j += seg;
            idx += seg + skip;
            r = 0;
        }
        CBWD_SUM(CT, acc, partial[c * nb + b]);
    }
}

/* Block b of channels [c0, c0 + w) (w <= cap), lanes in acc (8 x cap), factors in
 * pcs and, 8 at a time, pc8 (cap of each) */
static inline void CBWD_FN(cbwd_span)(const lrelu_cpu_cbwd *k, size_t b, size_t c0, size_t w,
                                      size_t cap, CT *acc, CT *pcs, V *pc8, const int bias,
                                      const int store)
{
    CBWD_PARAMS(CT);
    size_t C = k->C, nb = k->nb, outer = k->m, w8 = w & ~(size_t)7;
    size_t o0 = b * LRELU_RBLOCK;
    size_t end = outer - o0 < LRELU_RBLOCK ? outer : o0 + LRELU_RBLOCK;
    const ST *p = k->p != NULL ? (const ST *)k->p + c0 : NULL;
    CT *partial = k->partial;
    for (int l = 0; l < 8; ++l)
        memset(acc + l * cap, 0, w * sizeof(CT));
    for (size_t u = 0; u < w; ++u)
        pcs[u] = p == NULL ? -(CT)0 : WIDEN(p[u]);
    memcpy(pc8, pcs, w8 * sizeof(CT));
    for (size_t o = o0; o < end; ++o) {
        const ST *x = (const ST *)k->x + o * C + c0, *dy = (const ST *)k->dy + o * C + c0;
        ST *dx = store ? (ST *)k->dx + o * C + c0 : NULL;
        CT *a = acc + ((o - o0) & 7) * cap; /* lane l of channel c0 + u: acc[l * cap + u] */
        for (size_t u = 0; u < w8; u += 8) {
            V lanes;
            memcpy(&lanes, a + u, sizeof lanes);
            CBWD_EIGHT(V, I, LD8, ST8, x + u, dy + u, dx + u, pc8[u / 8], lanes);
            memcpy(a + u, &lanes, sizeof lanes);
        }
        for (size_t u = w8; u < w; ++u) {
            CT pc = pcs[u];
            CBWD_ONE(CT, WIDEN, NARROW, u, a[u]);
        }
    }
    for (size_t u = 0; u < w && partial != NULL; ++u) {
        CT sum = 0;
        for (int l = 0; l < 8; ++l)
            sum = sum + acc[l * cap + u];
        partial[(c0 + u) * nb + b] = sum;
    }
}

/* Units of groups of up to k->cols channels. Lanes and factors of groups wider than
 * LRELU_CBWD_STACK_COLS live on the heap (64 KiB for f64), not on a caller's stack;
 * where none is to be had a group runs in spans of that many from the stack: the
 * same sums, one pass over its rows per span. */
static inline void CBWD_FN(cbwd_cols)(const lrelu_cpu_cbwd *k, size_t first, size_t n,
                                      const int bias, const int store)
{
    enum { S = LRELU_CBWD_STACK_COLS, H = LRELU_CBWD_COLS };
    V pc8_s[S / 8];
    CT acc_s[8 * S], pcs_s[S];
    char *raw = k->cols > S ? malloc((H / 8) * sizeof(V) + (size_t)9 * H * sizeof(CT) + 63) : NULL;
    V *heap = raw != NULL ? (V *)(((uintptr_t)raw + 63) & ~(uintptr_t)63) : NULL;
    size_t cap = heap != NULL ? H : S;
    V *pc8 = heap != NULL ? heap : pc8_s;
    CT *acc = heap != NULL ? (CT *)(heap + H / 8) : acc_s;
    CT *pcs = heap != NULL ? acc + (size_t)8 * H : pcs_s;
    for (size_t g = first; g < first + n; ++g) {
        size_t b = g / k->groups, c0 = (g % k->groups) * k->cols;
        size_t w = k->C - c0 < k->cols ? k->C - c0 : k->cols;
        for (size_t s = 0; s < w; s += cap)
            CBWD_FN(cbwd_span)
        (k, b, c0 + s, w - s < cap ? w - s : cap, cap, acc, pcs, pc8, bias, store);
    }
    free(raw);
}

/* One piece of a channel's segment in cbwd_segs: elements [q, q + len) of x, dy and dx,
 * the first at lane l0 of the sums, into *accp (factor pc). aligned (inner a multiple
 * of 8): whole eights, streaming where nt says. Else under 8 elements one at a time;
 * else with ROT (CAN_ROT) the lanes rotated to l0, the full eights, the last 8 with
 * the terms before the rem after the eights cleared (*keep: the lanes below rem) and
 * their dx stored again (the same bits; not in place, there CBWD_PART), rotated back;
 * without, CBWD_PART for the head elements up to lane 0, the eights, CBWD_PART for the
 * rest. A function, not a macro: expanded twice into cbwd_segs, it would slow the
 * analyzers sixfold. */
static inline __attribute__((always_inline)) void
CBWD_FN(cbwd_piece)(V *accp, const ST *x, const ST *dy, ST *dx, CT pc, size_t q, size_t len,
                    size_t jq, size_t l0, size_t head, size_t full, size_t rem, const I *keep,
                    const CT *par, const int bias, const int store, const int aligned, int nt,
                    int inplace)
{
    CT alpha = par[0], gain = par[1], limit = par[2];
    int clamp = limit > 0;
    V acc = *accp;
    const ST *xq = x + q, *dyq = dy + q;
    ST *dxq = store ? dx + q : NULL;
    if (aligned) {
        for (size_t e = 0; nt && e != len; e += 8)
            CBWD_EIGHT(V, I, LD8, CBWD_FN(nt8), xq + e, dyq + e, dxq + e, pc, acc);
        for (size_t e = 0; !nt && e != len; e += 8)
            CBWD_EIGHT(V, I, LD8, ST8, xq + e, dyq + e, dxq + e, pc, acc);
    } else if (len < 8) {
        for (size_t e = 0; e < len; ++e)
            CBWD_ONE(CT, WIDEN, NARROW, q + e, acc[(jq + e) & 7]);
    } else {
        if (CAN_ROT)
            ROT(&acc, l0);
        else if (head != 0)
            CBWD_PART(V, I, LD8, ST8, ST, l0, head, xq, dyq, dxq, pc, acc);
        for (size_t e = head; e != head + full; e += 8)
            CBWD_EIGHT(V, I, LD8, ST8, xq + e, dyq + e, dxq + e, pc, acc);
        if (CAN_ROT && rem != 0 && !inplace) {
            V v8_, gy8_, d8_, t8_;
            LD8(&v8_, xq + len - 8);
            LD8(&gy8_, dyq + len - 8);
            CBWD_STEP8(V, I, v8_, gy8_, pc, d8_, t8_);
            if (store)
                ST8(dxq + len - 8, &d8_);
            ROT(&t8_, 8 - rem);
            acc = acc + (V)((I)t8_ & *keep);
        } else if (rem != 0) {
            CBWD_PART(V, I, LD8, ST8, ST, 0, rem, xq + len - rem, dyq + len - rem, dxq + len - rem,
                      pc, acc);
        }
        if (CAN_ROT)
            ROT(&acc, (8 - l0) & 7);
    }
    *accp = acc;
}

/* inner above 1: unit g is blocks [b * per, b * per + per) of channels [c0, c0 + w),
 * read in memory order (rows, each row's channels, each channel's segment), as
 * chan_bgroup does: a segment in pieces that end where blocks do (cbwd_piece), a
 * channel's lanes summed into partial and cleared where its block ends. Where rows are
 * shorter than a block, a row's piece up to the next block starts at the same lane in
 * every channel: its split is worked out once for all of them, and the sums follow
 * the row, where working out each segment's cost as much as its elements; a longer
 * row runs each channel's segment piece by piece, in memory order. Inlined into each
 * of its eight calls: GCC left some calls to a copy with aligned unknown, a slower one
 * (docs/performance.md, design measurements). */
static inline __attribute__((always_inline)) void
CBWD_FN(cbwd_segs)(const lrelu_cpu_cbwd *k, size_t first, size_t n, const int bias, const int store,
                   const int aligned)
{
    CBWD_PARAMS(CT);
    CT par[3] = {alpha, gain, clamp ? limit : 0}; /* (as cbwd_piece takes them) */
    size_t C = k->C, inner = k->inner, nb = k->nb, m = k->m, span = k->per * LRELU_RBLOCK;
    int nt = aligned && store && CBWD_STREAMS(k->dx);
    int inplace = store && (k->dx == k->x || k->dx == k->dy);
    CT *partial = k->partial;
    V lanes[LRELU_CBWD_STACK_COLS], zero = {0, 0, 0, 0, 0, 0, 0, 0};
    CT pcs[LRELU_CBWD_STACK_COLS];
    I lane = {0, 1, 2, 3, 4, 5, 6, 7};
    for (size_t g = first; g < first + n; ++g) {
        size_t b = g / k->groups, c0 = (g % k->groups) * k->segs;
        size_t w = C - c0 < k->segs ? C - c0 : k->segs, j = b * span;
        size_t end = m - j < span ? m : j + span;
        const ST *p = k->p != NULL ? (const ST *)k->p + c0 : NULL;
        for (size_t u = 0; u < w; ++u) {
            lanes[u] = zero;
            pcs[u] = p == NULL ? -(CT)0 : WIDEN(p[u]);
        }
        while (j < end) {
            size_t o = j / inner, r = j - o * inner, next = (j | (LRELU_RBLOCK - 1)) + 1;
            size_t lim = inner >= LRELU_RBLOCK ? end : next < end ? next : end;
            size_t seg = inner - r < lim - j ? inner - r : lim - j;
            size_t at = (o * C + c0) * inner + r;
            const ST *x = (const ST *)k->x + at, *dy = (const ST *)k->dy + at;
            ST *dx = store ? (ST *)k->dx + at : NULL;
            if (inner < LRELU_RBLOCK) {
                size_t l0 = j & 7;
                CBWD_SPLIT(CAN_ROT, seg, l0, head, full, rem);
                I keep = lane < (int)rem;
                for (size_t u = 0; u < w; ++u, x += inner, dy += inner, dx += store ? inner : 0) {
                    V acc = lanes[u];
                    CT pc = pcs[u];
                    CBWD_FN(cbwd_piece)
                    (&acc, x, dy, dx, pc, 0, seg, j, l0, head, full, rem, &keep, par, bias, store,
                     aligned, nt, inplace);
                    lanes[u] = acc;
                }
                j += seg;
                for (size_t u = 0; j == lim && u < w; ++u) {
                    CBWD_SUM(CT, lanes[u], partial[(c0 + u) * nb + (j - 1) / LRELU_RBLOCK]);
                    lanes[u] = zero;
                }
                continue;
            }
            for (size_t u = 0; u < w; ++u, x += inner, dy += inner, dx += store ? inner : 0) {
                V acc = lanes[u];
                CT pc = pcs[u];
                for (size_t q = 0; q != seg;) {
                    size_t jq = j + q, left = LRELU_RBLOCK - (jq & (LRELU_RBLOCK - 1));
                    size_t len = seg - q < left ? seg - q : left, l0 = jq & 7;
                    CBWD_SPLIT(CAN_ROT, len, l0, head, full, rem);
                    I keep = lane < (int)rem;
                    CBWD_FN(cbwd_piece)
                    (&acc, x, dy, dx, pc, q, len, jq, l0, head, full, rem, &keep, par, bias, store,
                     aligned, nt, inplace);
                    q += len;
                    if (len != left && j + q != end)
                        continue;
                    CBWD_SUM(CT, acc, partial[(c0 + u) * nb + jq / LRELU_RBLOCK]);
                    acc = zero;
                }
                lanes[u] = acc;
            }
            j += seg;
        }
    }
    CBWD_FENCE();
}

static void CBWD_FN(cbwd)(const lrelu_cpu_cbwd *k, size_t first, size_t n)
{
    int store = k->dx != NULL;
    if (k->segs && k->inner % 8 == 0)
        CBWD_CALL4(CBWD_FN(cbwd_segs), , 1);
    else if (k->segs)
        CBWD_CALL4(CBWD_FN(cbwd_segs), , 0);
    else if (k->cols)
        CBWD_CALL4(CBWD_FN(cbwd_cols), );
    else
        CBWD_CALL4(CBWD_FN(cbwd_rows), );
}

/* the parameters are the includer's, one dtype at a time */
#undef SUF
#undef ST
#undef CT
#undef V
#undef I
#undef WIDEN
#undef NARROW
#undef LD8
#undef ST8
#undef ROT
#undef CAN_ROT
