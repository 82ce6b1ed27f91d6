/* rows_dtype.h: the row loops of one dtype, included by rows.h once per dtype with SUF
 * (the name's suffix), ST (storage type), CT (compute type), W lanes of its vectors V
 * (bits U, compares I, positive below LIM - 1 on the bits), LD8 and ST8 (W elements),
 * WIDEN and NARROW (ST to CT and back), ONE (one element) and BY_RUN and BY_LOOP (a row
 * through the plain loops instead of the vectors) defined. */

/* PReLU by rows; with BY_RUN a row is the plain loop (run_SUF) instead. bf16
 * takes it: the plain loop makes the choice on 16 bits (see bf16_one). f32, f64 and f16
 * keep the vectors, faster past the caches (docs/performance.md, design measurements). */
static void ROWS_FN(rows)(size_t n, const lrelu_cpu_rows *k, const ST *s, const ST *v, ST *out)
{
    const ST *per = k->per;
    size_t inner = k->inner, C = k->C, r = k->first % inner, c = k->first / inner % C;
    for (size_t i = 0; i < n;) {
        if (inner == 1) { /* a row's channels: the slopes as they lie */
            size_t len = C - c < n - i ? C - c : n - i;
            ROWS_FN(runv)(len, per + c, s + i, v + i, out + i);
            i += len;
            c = 0;
            continue;
        }
        size_t len = inner - r < n - i ? inner - r : n - i, q = 0;
        CT a = WIDEN(per[c]);
        if (BY_RUN) { /* the plain loop on the row, as the compiler vectorizes it */
            ROWS_FN(run)(len, a, s + i, v + i, out + i);
            q = len;
        }
        V av = a - (V){0}; /* a broadcast (a - +0 is a, -0 and NaN too) */
        for (; q + 2 * (size_t)W <= len; q += 2 * (size_t)W) {
            ROWS_EIGHT(V, U, I, LIM, LD8, ST8, i + q);
            ROWS_EIGHT(V, U, I, LIM, LD8, ST8, i + q + W);
        }
        for (; q + W <= len; q += W)
            ROWS_EIGHT(V, U, I, LIM, LD8, ST8, i + q);
        for (; q < len; ++q)
            out[i + q] = ONE(s[i + q], v[i + q], a);
        i += len;
        r = 0;
        c = c + 1 == C ? 0 : c + 1;
    }
}

/* r->per NULL: no bias, the elements one segment. With BY_LOOP a row (or that segment)
 * runs bias_act's plain loop (bact_SUF) with the row's bias instead of the vectors: bf16
 * takes it, the others keep the vectors (docs/performance.md, design measurements). */
static void ROWS_FN(bact_rows)(size_t n, const lrelu_cpu_bact *k, const lrelu_cpu_rows *r,
                               const ST *x, ST *y)
{
    CT alpha = (CT)k->alpha, gain = (CT)k->gain, limit = (CT)k->limit;
    int clamp = limit > 0 && !isinf(limit);
    V alphav = alpha - (V){0}, gv = gain - (V){0}, limv = limit - (V){0};
    const ST *per = r->per;
    int has_bias = per != NULL;
    size_t inner = has_bias ? r->inner : n, C = has_bias ? r->C : 1;
    size_t rr = has_bias ? r->first % inner : 0, c = has_bias ? r->first / inner % C : 0;
    for (size_t i = 0; i < n;) {
        size_t len, q = 0;
        if (has_bias && inner == 1) { /* a row's channels: the biases as they lie */
            len = C - c < n - i ? C - c : n - i;
            for (; q + W <= len; q += W) {
                V bv;
                LD8(&bv, per + c + q);
                BACT_VEC(V, I, LD8, ST8, i + q, bv);
            }
            for (; q < len; ++q)
                BACT_ONE(CT, WIDEN, NARROW, x[i + q], WIDEN(per[c + q]), y[i + q]);
            c = 0;
        } else {
            len = inner - rr < n - i ? inner - rr : n - i;
            CT b = has_bias ? WIDEN(per[c]) : (CT)0;
            if (BY_LOOP) {
                lrelu_cpu_bact row = {k->alpha, k->gain, k->limit, has_bias, (double)b, NULL};
                ROWS_FN(bact)(len, &row, x + i, y + i);
                q = len;
            }
            V bv = b - (V){0};
            for (; q + W <= len; q += W)
                BACT_VEC(V, I, LD8, ST8, i + q, bv);
            for (; q < len; ++q)
                BACT_ONE(CT, WIDEN, NARROW, x[i + q], b, y[i + q]);
            rr = 0;
            c = c + 1 == C ? 0 : c + 1;
        }
        i += len;
    }
}

/* the parameters are the includer's, one dtype at a time */
#undef SUF
#undef ST
#undef CT
#undef W
#undef V
#undef U
#undef I
#undef LIM
#undef LD8
#undef ST8
#undef WIDEN
#undef NARROW
#undef ONE
#undef BY_RUN
#undef BY_LOOP
