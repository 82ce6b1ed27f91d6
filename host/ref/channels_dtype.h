/* channels_dtype.h: the per-channel reference's forward and backward for one compute
 * type, included by channels.c once per type with SUF (the name's suffix), CT (the
 * compute type) and LOAD(p, i) / STORE(p, i, v) (one stored element) defined. */
static void REF_FN(chan_forward)(lrelu_dtype t, const chan_call *k, const void *x, const void *p,
                                 void *y)
{
    CT alpha = (CT)k->b.alpha, gain = (CT)k->b.gain, limit = CHAN_LIMIT(CT, k->b.limit);
    size_t i = 0;
    (void)t;
    for (size_t o = 0; o < k->l.outer; ++o)
        for (size_t c = 0; c < k->l.channels; ++c) {
            CT pc = k->mode == 2 ? (CT)0 : LOAD(p, c);
            for (size_t r = 0; r < k->l.inner; ++r, ++i) {
                CT v = LOAD(x, i), out;
                if (k->mode == 0) {
                    out = v > 0 ? v : v * pc;
                } else {
                    CT u = k->mode == 1 ? v + pc : v;
                    CT g = u > 0 ? u : u * alpha;
                    g = gain * g;
                    if (limit > 0)
                        g = g > limit ? limit : (g < -limit ? -limit : g);
                    out = g;
                }
                STORE(y, i, out);
            }
        }
}

static void REF_FN(chan_backward)(lrelu_dtype t, const chan_call *k, const void *x, const void *p,
                                  const void *dy, void *dx, void *ds)
{
    CT alpha = (CT)k->b.alpha, gain = (CT)k->b.gain, limit = CHAN_LIMIT(CT, k->b.limit);
    size_t C = k->l.channels, inner = k->l.inner, m = k->l.outer * inner;
    (void)t;
    for (size_t c = 0; c < C; ++c) {
        CT pc = k->mode == 2 ? (CT)0 : LOAD(p, c), total = 0;
        for (size_t b = 0; b < m; b += LRELU_RBLOCK) {
            CT acc[8] = {0, 0, 0, 0, 0, 0, 0, 0}, sum = 0;
            for (size_t j = b; j < m && j < b + LRELU_RBLOCK; ++j) {
                size_t idx = ((j / inner) * C + c) * inner + j % inner;
                CT v = LOAD(x, idx), gy = LOAD(dy, idx), d, term;
                if (k->mode == 0) {
                    d = v > 0 ? gy : gy * pc;
                    term = v > 0 ? (CT)0 : v * gy;
                } else {
                    CT u = k->mode == 1 ? v + pc : v;
                    CT y = u > 0 ? u : u * alpha;
                    y = gain * y;
                    CT g = gy * gain;
                    g = u > 0 ? g : g * alpha;
                    d = limit > 0 && !(y >= -limit && y <= limit) ? (CT)0 : g;
                    term = d;
                }
                if (dx != NULL)
                    STORE(dx, idx, d);
                acc[(j - b) % 8] = acc[(j - b) % 8] + term;
            }
            for (int lane = 0; lane < 8; ++lane)
                sum = sum + acc[lane];
            total = total + sum;
        }
        if (ds != NULL)
            STORE(ds, c, total);
    }
}

#undef SUF
#undef CT
#undef LOAD
#undef STORE
