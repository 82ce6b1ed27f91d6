/* test_channels.c: PReLU and bias_act over (outer, channels, inner) layouts, forward and
 * backward with the per-channel gradient, every dtype, device and host APIs. Special
 * values and random bit patterns for the elementwise results, moderate random values for
 * the sums (so their rounding order shows); layouts whose channel rows straddle the sum's
 * 256-term blocks; dx only, the gradient only, both, in place on x and on dy; each
 * output bit for bit the reference's with the guard bands untouched; the same call twice
 * gives the same bits; calls of several sizes queued with no wait between them. */
#include "common.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const lrelu_layout layouts[] = {
    {1, 1, 1},
    {2, 3, 5},
    {4, 16, 33},
    {3, 1, 1000},
    {1000, 7, 1},
    {2, 5, 300},
    {1, 2, 4099},
    {600, 2, 1},
    {5, 3, 257},
    {40, 37, 1},
    {3, 64, 1},
    /* the backward's sums: rows of whole vectors across blocks, a channel's last block
     * in one row ending in a part vector, and inner 1 over two blocks of outer */
    {40, 3, 64},
    {70, 2, 8},
    {1, 3, 300},
    {300, 20, 1},
    /* more than a crew's chunk of every dtype (16 KiB): chunks that end inside rows */
    {3, 5, 2001},
    {700, 13, 1},
    /* channels last over groups of 64 channels, the last one part, and over four
     * blocks and more (wider groups in-process); one channel of short rows (one row to the
     * in-process backward) */
    {300, 150, 1},
    {1100, 20, 1},
    {777, 1, 3},
    /* inner a multiple of 8 that does not divide the block: blocks end inside rows (the
     * backwards by rows of channel groups, device and in-process) */
    {30, 5, 24},
    {11, 3, 200},
    /* and an odd inner (7 x 7), and one of 2: segments that start and end inside the sums'
     * lanes, and segments shorter than the lanes left */
    {20, 7, 49},
    {300, 3, 2},
    /* rows longer than a block: work-items of several blocks that end inside rows, and
     * groups narrowed to half the channels (2 cores; other machines other shapes) */
    {12, 2, 784},
    {2, 24, 700},
    /* a row that starts at a block's last term, longer than a block (its first piece one
     * element) and shorter; and a last block of one term */
    {2, 2, 511},
    {3, 2, 255},
    {171, 2, 3},
};
static const lrelu_bias_act acts[] = {
    {0.2, 1.4142135623730951, 0.0},
    {0.2, 1.4142135623730951, 256.0},
    {0.01, 1.0, INFINITY},
    {-0.5, 0.5, 1.0},
    {3.0, -2.0, 0.75},
};

/* Moderate random values in [-2, 2) with full mantissas, stored as t. */
static void fill_moderate(lrelu_dtype t, void *p, size_t n, uint64_t *rng)
{
    for (size_t i = 0; i < n; ++i) {
        double d = (double)(lt_rand(rng) >> 11) * 0x1p-53 * 4.0 - 2.0;
        float f = (float)d;
        uint16_t h;
        switch (t) {
        case LRELU_F16:
            h = lrelu_float_to_f16(f);
            memcpy((char *)p + 2 * i, &h, 2);
            break;
        case LRELU_BF16:
            h = lrelu_float_to_bf16(f);
            memcpy((char *)p + 2 * i, &h, 2);
            break;
        case LRELU_F64:
            memcpy((char *)p + 8 * i, &d, 8);
            break;
        default:
            memcpy((char *)p + 4 * i, &f, 4);
            break;
        }
    }
}

typedef struct {
    lrelu_dtype t;
    lrelu_layout l;
    int bias_act; /* else PReLU */
    lrelu_bias_act p;
    int no_bias; /* bias_act without a bias */
    int backward;
    int want_dx, want_ds;
    int alias; /* backward: 0 none, 1 dx == x, 2 dx == dy; forward: 1 y == x */
    int shift; /* picks the operands' offsets (run) */
} chan_case;

static size_t count(const lrelu_layout *l) { return l->outer * l->channels * l->inner; }

static lrelu_status call(lrelu_ctx *ctx, int api, const chan_case *c, lt_arr *a)
{
    /* a: 0 x, 1 p, 2 dy, 3 out (y or dx), 4 ds */
    lt_arr *out = c->alias == 1 ? &a[0] : c->alias == 2 ? &a[2] : &a[3];
    int np = c->no_bias;
    if (api == 0) {
        cl_mem p = np ? NULL : a[1].mem, dx = c->want_dx ? out->mem : NULL,
               ds = c->want_ds ? a[4].mem : NULL;
        lrelu_status st;
        if (!c->backward && c->bias_act)
            st = lrelu_bias_act_forward(ctx, c->t, c->l, c->p, a[0].mem, a[0].off, p, a[1].off,
                                        out->mem, out->off, 0, NULL, NULL);
        else if (!c->backward)
            st = lrelu_prelu_forward(ctx, c->t, c->l, a[0].mem, a[0].off, p, a[1].off, out->mem,
                                     out->off, 0, NULL, NULL);
        else if (c->bias_act)
            st = lrelu_bias_act_backward(ctx, c->t, c->l, c->p, a[0].mem, a[0].off, p, a[1].off,
                                         a[2].mem, a[2].off, dx, out->off, ds, a[4].off, 0, NULL,
                                         NULL);
        else
            st = lrelu_prelu_backward(ctx, c->t, c->l, a[0].mem, a[0].off, p, a[1].off, a[2].mem,
                                      a[2].off, dx, out->off, ds, a[4].off, 0, NULL, NULL);
        if (st == LRELU_OK)
            lt_finish(ctx);
        return st;
    }
    const void *p = np ? NULL : lt_arr_data(&a[1]);
    void *dx = c->want_dx ? lt_arr_data(out) : NULL, *ds = c->want_ds ? lt_arr_data(&a[4]) : NULL;
    if (!c->backward && c->bias_act)
        return lrelu_bias_act_forward_host(ctx, c->t, c->l, c->p, lt_arr_data(&a[0]), p,
                                           lt_arr_data(out));
    if (!c->backward)
        return lrelu_prelu_forward_host(ctx, c->t, c->l, lt_arr_data(&a[0]), p, lt_arr_data(out));
    if (c->bias_act)
        return lrelu_bias_act_backward_host(ctx, c->t, c->l, c->p, lt_arr_data(&a[0]), p,
                                            lt_arr_data(&a[2]), dx, ds);
    return lrelu_prelu_backward_host(ctx, c->t, c->l, lt_arr_data(&a[0]), p, lt_arr_data(&a[2]), dx,
                                     ds);
}

/* Runs the case twice (the second time on fresh images) and checks both. */
static size_t run(lrelu_ctx *ctx, int api, const chan_case *c, const void *x, const void *p,
                  const void *dy)
{
    size_t n = count(&c->l), C = c->l.channels, es = lrelu_dtype_size(c->t), bad = 0;
    unsigned char *ex = malloc(n * es + 1), *eds = malloc(C * es + 1);
    unsigned char *xs = malloc(n * es + 1), *dys = malloc(n * es + 1);
    if (!ex || !eds || !xs || !dys)
        lt_die("out of memory");
    memcpy(xs, x, n * es);
    memcpy(dys, dy, n * es);
    const void *pp = c->no_bias ? NULL : p;
    if (!c->backward && c->bias_act)
        lrelu_ref_bias_act_forward(c->t, c->l, c->p, x, pp, ex);
    else if (!c->backward)
        lrelu_ref_prelu_forward(c->t, c->l, x, p, ex);
    else if (c->bias_act)
        lrelu_ref_bias_act_backward(c->t, c->l, c->p, x, pp, dy, ex, eds);
    else
        lrelu_ref_prelu_backward(c->t, c->l, x, p, dy, ex, eds);
    for (int rep = 0; rep < 2; ++rep) {
        /* offsets of both parities and several alignments, one pattern per case: the
         * bf16 kernels move even-offset rows as uint pairs and the rest one by one */
        lt_arr a[5];
        lt_arr_init_at(&a[0], n, es, x, c->shift % 3);
        lt_arr_init_at(&a[1], C, es, p, c->shift % 2);
        lt_arr_init_at(&a[2], n, es, dy, (c->shift + 1) % 3);
        lt_arr_init_at(&a[3], n, es, NULL, c->shift / 3 % 2);
        lt_arr_init_at(&a[4], C, es, NULL, c->shift % 5);
        if (api == 0)
            for (int i = 0; i < 5; ++i)
                lt_arr_upload(ctx, &a[i]);
        lrelu_status st = call(ctx, api, c, a);
        if (st != LRELU_OK) {
            printf("  status %s: %s\n", lrelu_status_str(st), lrelu_last_error());
            ++bad;
        } else {
            int t = (int)c->t;
            lt_arr *out = c->alias == 1 ? &a[0] : c->alias == 2 ? &a[2] : &a[3];
            if (c->want_dx || !c->backward)
                bad += lt_arr_check(ctx, out, t, ex, c->backward ? "dx" : "y");
            if (c->backward && c->want_ds)
                bad += lt_arr_check(ctx, &a[4], t, eds, "dslope/dbias");
            if (c->backward && !c->want_ds)
                bad += lt_arr_check(ctx, &a[4], -1, lt_arr_data(&a[4]), "unused ds");
            if (c->backward && !c->want_dx) /* the poison must stay */
                bad += lt_arr_check(ctx, &a[3], -1, lt_arr_data(&a[3]), "unused dx");
            /* inputs untouched unless they are the output */
            if (c->alias != 1)
                bad += lt_arr_check(ctx, &a[0], -1, xs, "x");
            if (c->alias != 2 && c->backward)
                bad += lt_arr_check(ctx, &a[2], -1, dys, "dy");
            bad += lt_arr_check(ctx, &a[1], -1, p, "slope/bias");
        }
        for (int i = 0; i < 5; ++i)
            lt_arr_free(&a[i]);
    }
    if (bad)
        printf("  in %s %s %s %s layout (%zu, %zu, %zu) alpha=%g gain=%g limit=%g%s dx=%d ds=%d "
               "alias=%d shift=%d\n",
               api ? "host" : "device", c->bias_act ? "bias_act" : "prelu",
               c->backward ? "backward" : "forward", lrelu_dtype_name(c->t), c->l.outer,
               c->l.channels, c->l.inner, c->p.alpha, c->p.gain, c->p.limit,
               c->no_bias ? " no bias" : "", c->want_dx, c->want_ds, c->alias, c->shift);
    free(ex);
    free(eds);
    free(xs);
    free(dys);
    return bad;
}

/* The factors read from the very array x or dy is (its first `channels` elements): the
 * host calls' inputs may be the same array at different lengths. Returns the failures. */
static int shared_inputs(lrelu_ctx *ctx, uint64_t *rng)
{
    const lrelu_layout l = {40, 3, 64};
    enum { NS = 40 * 3 * 64, G = 64 };
    static float x[NS], dy[NS], dx[NS + G], ds[3 + G], want_dx[NS], want_ds[3];
    const lrelu_bias_act p = {0.2, 1.4142135623730951, 256.0};
    int bad = 0;
    fill_moderate(LRELU_F32, x, NS, rng);
    fill_moderate(LRELU_F32, dy, NS, rng);
    for (int which = 0; which < 4; ++which) {
        const float *fac = which % 2 ? dy : x;
        for (size_t i = 0; i < NS + G; ++i)
            dx[i] = -7.0f;
        for (size_t i = 0; i < 3 + G; ++i)
            ds[i] = -7.0f;
        lrelu_status st;
        if (which < 2) {
            st = lrelu_prelu_backward_host(ctx, LRELU_F32, l, x, fac, dy, dx, ds);
            lrelu_ref_prelu_backward(LRELU_F32, l, x, fac, dy, want_dx, want_ds);
        } else {
            st = lrelu_bias_act_backward_host(ctx, LRELU_F32, l, p, x, fac, dy, dx, ds);
            lrelu_ref_bias_act_backward(LRELU_F32, l, p, x, fac, dy, want_dx, want_ds);
        }
        int ok = st == LRELU_OK && memcmp(dx, want_dx, sizeof want_dx) == 0 &&
                 memcmp(ds, want_ds, sizeof want_ds) == 0;
        for (size_t i = NS; i < NS + G; ++i)
            ok = ok && dx[i] == -7.0f;
        for (size_t i = 3; i < 3 + G; ++i)
            ok = ok && ds[i] == -7.0f;
        if (!ok) {
            ++bad;
            printf("  %s backward, factors from %s: %s\n", which < 2 ? "PReLU" : "bias_act",
                   which % 2 ? "dy" : "x", st == LRELU_OK ? "wrong values" : lrelu_last_error());
        }
    }
    return bad;
}

int main(void)
{
    lrelu_ctx *ctx = lt_open();
    uint64_t rng = lt_seed();
    size_t nmax = 0, nl = sizeof layouts / sizeof layouts[0];
    for (size_t i = 0; i < nl; ++i)
        nmax = count(&layouts[i]) > nmax ? count(&layouts[i]) : nmax;
    unsigned char *x = malloc(nmax * 8), *dy = malloc(nmax * 8), *p = malloc(nmax * 8);
    if (!x || !dy || !p)
        lt_die("out of memory");
    size_t k = 0;
    for (int t = 0; t < 4; ++t) {
        lrelu_dtype dt = (lrelu_dtype)t;
        if (!lt_supported(ctx, dt))
            continue;
        size_t es = lrelu_dtype_size(dt), ns = lt_special_count(dt);
        for (int special = 0; special < 2; ++special)
            for (size_t li = 0; li < nl; ++li) {
                const lrelu_layout *l = &layouts[li];
                size_t n = count(l);
                if (lt_cap(n) != n)
                    continue;
                if (special) { /* specials, then random bit patterns: elementwise results */
                    lt_fill(dt, x, ns < n ? ns : n, &rng, 0, 0);
                    if (n > ns)
                        lt_fill(dt, x + ns * es, n - ns, &rng, 1, 0);
                    lt_fill(dt, dy, n, &rng, 1, 0);
                    lt_fill(dt, p, l->channels, &rng, 0, li);
                } else { /* moderate values: sums whose rounding shows the order */
                    fill_moderate(dt, x, n, &rng);
                    fill_moderate(dt, dy, n, &rng);
                    fill_moderate(dt, p, l->channels, &rng);
                }
                for (int kind = 0; kind < 2; ++kind)
                    for (int bwd = 0; bwd < 2; ++bwd, ++k) {
                        chan_case c = {.t = dt, .l = *l, .bias_act = kind, .backward = bwd};
                        c.p = acts[k % (sizeof acts / sizeof acts[0])];
                        c.no_bias = kind && k % 5 == 4;
                        c.want_dx = !bwd || k % 4 != 3;
                        c.want_ds = bwd && k % 4 != 2;
                        c.alias = bwd ? (int)(k % 3) : (int)(k / 2 % 2); /* k is even */
                        c.shift = (int)(k % 6);
                        for (int api = 0; api < 2; ++api)
                            lt_check(run(ctx, api, &c, x, p, dy) == 0,
                                     api ? "host: per-channel call matches the reference"
                                         : "device: per-channel call matches the reference");
                    }
            }
    }
    lt_check(shared_inputs(ctx, &rng) == 0,
             "host backwards whose factors are the very array x or dy match the reference");
    lt_check(lt_chan_pipeline(ctx, &rng) == 0,
             "pipelined per-channel backwards of several sizes match the reference");
    free(x);
    free(dy);
    free(p);
    lrelu_destroy(ctx);
    return lt_report(lt_passed, lt_failed);
}
