/* channels.c: the host-memory PReLU and bias_act calls: in-process by rows where the
 * layout suits, a block at a time otherwise, the backwards through the kernels' units of
 * work (cpu/chan_bwd.h) in their order; else on the device. */
#include "hostmem/hostmem.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
    lrelu_dtype t;
    lrelu_layout l;
    int bias_act; /* else PReLU */
    int backward;
    lrelu_bias_act p;
} chan_host;

/* The device calls check the parameters again (cheap) and the wrapped buffers. */
static lrelu_status chan_fwd_device(lrelu_ctx *ctx, const void *call, const lrelu_array *o,
                                    cl_event *done)
{
    const chan_host *c = call;
    if (c->bias_act)
        return lrelu_bias_act_forward(ctx, c->t, c->l, c->p, o[0].mem, o[0].off, o[1].mem, o[1].off,
                                      o[2].mem, o[2].off, 0, NULL, done);
    return lrelu_prelu_forward(ctx, c->t, c->l, o[0].mem, o[0].off, o[1].mem, o[1].off, o[2].mem,
                               o[2].off, 0, NULL, done);
}

static lrelu_status chan_bwd_device(lrelu_ctx *ctx, const void *call, const lrelu_array *o,
                                    cl_event *done)
{
    const chan_host *c = call;
    if (c->bias_act)
        return lrelu_bias_act_backward(ctx, c->t, c->l, c->p, o[0].mem, o[0].off, o[1].mem,
                                       o[1].off, o[2].mem, o[2].off, o[3].mem, o[3].off, o[4].mem,
                                       o[4].off, 0, NULL, done);
    return lrelu_prelu_backward(ctx, c->t, c->l, o[0].mem, o[0].off, o[1].mem, o[1].off, o[2].mem,
                                o[2].off, o[3].mem, o[3].off, o[4].mem, o[4].off, 0, NULL, done);
}

static void chan_fwd_ref(const void *call, const lrelu_array *o)
{
    const chan_host *c = call;
    if (c->bias_act)
        lrelu_ref_bias_act_forward(c->t, c->l, c->p, o[0].ptr, o[1].ptr, (void *)o[2].ptr);
    else
        lrelu_ref_prelu_forward(c->t, c->l, o[0].ptr, o[1].ptr, (void *)o[2].ptr);
}

static void chan_bwd_ref(const void *call, const lrelu_array *o)
{
    const chan_host *c = call;
    if (c->bias_act)
        lrelu_ref_bias_act_backward(c->t, c->l, c->p, o[0].ptr, o[1].ptr, o[2].ptr,
                                    (void *)o[3].ptr, (void *)o[4].ptr);
    else
        lrelu_ref_prelu_backward(c->t, c->l, o[0].ptr, o[1].ptr, o[2].ptr, (void *)o[3].ptr,
                                 (void *)o[4].ptr);
}

/* PReLU and bias_act in-process over elements [first, first + n) (chan_body): by rows
 * where the layout suits (cpu/rows.h), else a block at a time with the values laid out
 * per element. PReLU: out = s > 0 ? v : v * slope (s = v = x forward; x and dy for dx);
 * bias_act: y from x. per: the slopes or biases (NULL: bias_act without a bias). */
typedef struct {
    lrelu_cpu_fn fn;                  /* PReLU's loop, or NULL for bias_act's: */
    lrelu_cpu_rows_fn rows;           /* PReLU by rows, where its rows suit (else NULL) */
    lrelu_cpu_bact_rows_fn bact_rows; /* bias_act by rows, likewise */
    lrelu_cpu_bact_fn bact;
    lrelu_cpu_expand_fn expand;
    lrelu_cpu_bact k;
    lrelu_dtype t;
    lrelu_layout l;
    const char *per, *s, *v;
    char *out;
} chan_job;

/* len elements from byte at, with the values laid out per element in each */
static void chan_segment(const chan_job *j, size_t at, size_t len, const char *each)
{
    if (j->fn != NULL) {
        j->fn(j->t, len, 0.0, each, j->s + at, j->v + at, j->out + at);
        return;
    }
    lrelu_cpu_bact k = j->k;
    k.bv = each;
    j->bact(j->t, len, &k, j->s + at, j->out + at);
}

/* Bytes per block whose slopes or biases are laid out one per element (in L1), for the
 * layouts the row loops leave (rows under 8 elements, channels last with few channels):
 * they go a block at a time through the loops that take a value per element: a call per
 * row costs more, and 8 KiB beat larger blocks (docs/performance.md, design
 * measurements). */
#define CHAN_BLOCK_BYTES ((size_t)8 << 10)

static void chan_body(const void *job, size_t first, size_t n)
{
    const chan_job *j = job;
    size_t es = lrelu_dtype_size(j->t), C = j->l.channels, inner = j->l.inner;
    size_t block = CHAN_BLOCK_BYTES / es, end = first + n;
    if (j->bact_rows != NULL) { /* bias_act without a bias among them */
        lrelu_cpu_rows k = {j->per, first, inner, C};
        j->bact_rows(j->t, n, &j->k, &k, j->s + first * es, j->out + first * es);
        return;
    }
    if (j->rows != NULL) {
        lrelu_cpu_rows k = {j->per, first, inner, C};
        j->rows(j->t, n, &k, j->s + first * es, j->v + first * es, j->out + first * es);
        return;
    }
    _Alignas(64) char each[CHAN_BLOCK_BYTES];
    for (size_t b = first; b < end; b += block) {
        size_t len = end - b < block ? end - b : block;
        j->expand(each, j->per, b, len, inner, C, es);
        chan_segment(j, b * es, len, each);
    }
}

typedef struct {
    lrelu_cpu_cbwd_fn fn;
    lrelu_cpu_cbwd k;
} cbwd_job;

static void cbwd_body(const void *job, size_t first, size_t n)
{
    const cbwd_job *j = job;
    j->fn(&j->k, first, n);
}

/* The per-channel backwards with the sums, and bias_act's without: the kernels' units
 * (lrelu_cpu_cbwd) over the crew, each block's sum into a scratch array, then each
 * channel's sums added from +0 in block order and rounded once, as the kernels' second
 * pass does. One channel is one row, whatever the layout says. Returns 0 (the kernels
 * then run) where the scratch cannot be had. */
static int chan_bwd_inprocess(lrelu_ctx *ctx, const chan_host *c, const lrelu_array *o,
                              size_t bytes)
{
    size_t C = c->l.channels, m = c->l.outer * c->l.inner;
    size_t inner = C == 1 ? m : c->l.inner, nb = (m + LRELU_RBLOCK - 1) / LRELU_RBLOCK;
    size_t cs = c->t == LRELU_F64 ? 8 : 4;
    if (C == 0 || nb == 0)
        return 0; /* never: lrelu_arrays_run returns first where there is nothing to do */
    /* channels last: groups as wide as the accumulators allow, so that a block's rows are
     * read once, but narrower where a few blocks would leave too few units to share */
    size_t cols = inner != 1 ? 0 : nb >= 4 ? LRELU_CBWD_COLS : 64;
    /* several channels: a unit takes blocks of every channel of a group (all up to 256),
     * reading rows in memory order rather than a block of one channel, whose segments lie
     * far apart */
    size_t segs = C > 1 && inner > 1 ? (C < LRELU_CBWD_STACK_COLS ? C : LRELU_CBWD_STACK_COLS) : 0;
    size_t per = 1;
    if (segs)
        lrelu_chan_group_shape(ctx, C, inner, nb, &segs, &per);
    size_t group = cols ? cols : segs;
    size_t groups = group == 0 ? 1 : (C + group - 1) / group;
    void *partial = NULL;
    if (o[4].ptr != NULL && (partial = malloc(C * nb * cs)) == NULL)
        return 0;
    cbwd_job j = {ctx->cpu->chan_bwd,
                  {.t = c->t,
                   .bias = c->bias_act,
                   .cols = cols,
                   .segs = segs,
                   .per = per,
                   .stream = o[3].ptr != NULL && inner % 8 == 0 &&
                             lrelu_inprocess_streams(ctx, bytes, o[3].ptr, o[0].ptr, o[2].ptr),
                   .alpha = c->p.alpha,
                   .gain = c->p.gain,
                   .limit = c->p.limit,
                   .m = cols ? c->l.outer : m,
                   .nb = nb,
                   .C = C,
                   .inner = inner,
                   .groups = groups,
                   .x = o[0].ptr,
                   .p = o[1].ptr,
                   .dy = o[2].ptr,
                   .dx = (void *)o[3].ptr,
                   .partial = partial}};
    size_t units = group ? (nb + per - 1) / per * groups : nb * C, each = bytes / units;
    lrelu_inprocess_run(ctx, ctx->crew_bytes[c->t], units, each < 64 ? 64 : each, bytes, cbwd_body,
                        &j);
    for (size_t ch = 0; partial != NULL && ch < C; ++ch) {
        if (c->t == LRELU_F64) {
            const double *sums = (const double *)partial + ch * nb;
            double total = 0;
            for (size_t b = 0; b < nb; ++b)
                total = total + sums[b];
            memcpy((char *)o[4].ptr + 8 * ch, &total, 8);
        } else {
            const float *sums = (const float *)partial + ch * nb;
            float total = 0;
            for (size_t b = 0; b < nb; ++b)
                total = total + sums[b];
            lrelu_store_f(c->t, (void *)o[4].ptr, ch, total);
        }
    }
    free(partial);
    return 1;
}

/* Whether the layout suits the row loops: rows of whole vectors, or a row's channels as
 * they lie where there are enough (PReLU's rows of channels run the loop with a slope per
 * element, a call each: 64 and more); bias_act without a bias is one row. */
static int chan_by_rows(const chan_host *c, const void *per)
{
    size_t inner = c->l.inner, C = c->l.channels;
    return inner >= 8 || (inner == 1 && C >= (c->bias_act ? 16 : 64)) ||
           (c->bias_act && per == NULL);
}

/* PReLU's forward and its backward without dslope (dx = x > 0 ? dy : dy * slope), and
 * bias_act's forward, by rows where the layout suits, PReLU's streaming as the plain
 * forward does (not bf16's forward: docs/performance.md); other layouts lay their values
 * out per element (chan_body). The backwards with the sums, and bias_act's, run
 * chan_bwd_inprocess. */
static int chan_inprocess(lrelu_ctx *ctx, const void *call, const lrelu_array *o, size_t bytes)
{
    const chan_host *c = call;
    int bwd = c->backward;
    if (bwd && (c->bias_act || o[4].ptr != NULL))
        return chan_bwd_inprocess(ctx, c, o, bytes);
    int stream =
        !c->bias_act && !(c->t == LRELU_BF16 && !bwd) &&
        lrelu_inprocess_streams(ctx, bytes, o[bwd ? 3 : 2].ptr, o[0].ptr, o[bwd ? 2 : 0].ptr);
    int by_rows = chan_by_rows(c, o[1].ptr);
    chan_job j = {.expand = ctx->cpu->expand,
                  .t = c->t,
                  .l = c->l,
                  .per = o[1].ptr,
                  .s = o[0].ptr,
                  .v = o[bwd ? 2 : 0].ptr,
                  .out = (char *)o[bwd ? 3 : 2].ptr};
    if (c->bias_act) {
        j.bact = ctx->cpu->bias_act;
        j.k = (lrelu_cpu_bact){c->p.alpha, c->p.gain, c->p.limit, o[1].ptr != NULL, 0.0, NULL};
        if (by_rows)
            j.bact_rows = ctx->cpu->bias_act_rows;
    } else {
        j.fn = lrelu_inprocess_loop(ctx, stream);
        if (by_rows)
            j.rows = stream ? ctx->cpu->rows_stream : ctx->cpu->rows;
    }
    lrelu_inprocess_run(ctx, ctx->crew_bytes[c->t], o[0].n, lrelu_dtype_size(c->t), bytes,
                        chan_body, &j);
    return 1;
}

/* The checks the device call makes before it looks at buffers, run on the host call's
 * arguments so the order of statuses is the same: ctx, dtype, parameters, layout. */
static lrelu_status chan_head(const lrelu_ctx *ctx, const char *fn, const chan_host *c, size_t *n)
{
    lrelu_status st = lrelu_check_channels(ctx, fn, c->t, c->bias_act ? &c->p : NULL);
    *n = lrelu_layout_count(c->l);
    return st;
}

static lrelu_status chan_forward_host(lrelu_ctx *ctx, const char *fn, const chan_host *c,
                                      const void *x, const void *p, void *y)
{
    size_t n = 0;
    lrelu_status st = chan_head(ctx, fn, c, &n);
    if (st != LRELU_OK)
        return st;
    lrelu_array ops[3] = {{.name = "x", .ptr = x, .n = n},
                          {.name = c->bias_act ? "bias" : "slope",
                           .ptr = p,
                           .n = c->l.channels,
                           .optional = c->bias_act},
                          {.name = "y", .ptr = y, .n = n, .out = 1, .alias = 1u}};
    /* bias_act's forward a block at a time is no faster than the kernels past the caches */
    lrelu_host_kind kind =
        c->bias_act && !chan_by_rows(c, p) ? LRELU_HOST_CHANNELS_SLOW : LRELU_HOST_CHANNELS;
    static const lrelu_arrays_ways ways = {chan_fwd_device, chan_fwd_ref, chan_inprocess};
    return lrelu_arrays_run(ctx, fn, c->t, lrelu_dtype_size(c->t), n, ops, 3, kind, &ways, c);
}

static lrelu_status chan_backward_host(lrelu_ctx *ctx, const char *fn, const chan_host *c,
                                       const void *x, const void *p, const void *dy, void *dx,
                                       void *ds)
{
    size_t n = 0;
    lrelu_status st = chan_head(ctx, fn, c, &n);
    if (st != LRELU_OK)
        return st;
    const char *ds_name = c->bias_act ? "dbias" : "dslope";
    if (dx == NULL && ds == NULL)
        return lrelu_fail(LRELU_ERR_INVALID_ARG, "%s: dx and %s are both NULL; ask for one", fn,
                          ds_name);
    lrelu_array ops[5] = {
        {.name = "x", .ptr = x, .n = n},
        {.name = c->bias_act ? "bias" : "slope",
         .ptr = p,
         .n = c->l.channels,
         .optional = c->bias_act},
        {.name = "dy", .ptr = dy, .n = n},
        {.name = "dx", .ptr = dx, .n = n, .out = 1, .optional = 1, .alias = 1u | 4u},
        {.name = ds_name, .ptr = ds, .n = c->l.channels, .out = 1, .optional = 1}};
    static const lrelu_arrays_ways ways = {chan_bwd_device, chan_bwd_ref, chan_inprocess};
    return lrelu_arrays_run(ctx, fn, c->t, lrelu_dtype_size(c->t), n, ops, 5, LRELU_HOST_CHANNELS,
                            &ways, c);
}

lrelu_status lrelu_prelu_forward_host(lrelu_ctx *ctx, lrelu_dtype t, lrelu_layout l, const void *x,
                                      const void *slope, void *y)
{
    chan_host c = {.t = t, .l = l};
    return chan_forward_host(ctx, "lrelu_prelu_forward_host", &c, x, slope, y);
}

lrelu_status lrelu_prelu_backward_host(lrelu_ctx *ctx, lrelu_dtype t, lrelu_layout l, const void *x,
                                       const void *slope, const void *dy, void *dx, void *dslope)
{
    chan_host c = {.t = t, .l = l, .backward = 1};
    return chan_backward_host(ctx, "lrelu_prelu_backward_host", &c, x, slope, dy, dx, dslope);
}

lrelu_status lrelu_bias_act_forward_host(lrelu_ctx *ctx, lrelu_dtype t, lrelu_layout l,
                                         lrelu_bias_act p, const void *x, const void *bias, void *y)
{
    chan_host c = {.t = t, .l = l, .bias_act = 1, .p = p};
    return chan_forward_host(ctx, "lrelu_bias_act_forward_host", &c, x, bias, y);
}

lrelu_status lrelu_bias_act_backward_host(lrelu_ctx *ctx, lrelu_dtype t, lrelu_layout l,
                                          lrelu_bias_act p, const void *x, const void *bias,
                                          const void *dy, void *dx, void *dbias)
{
    chan_host c = {.t = t, .l = l, .bias_act = 1, .backward = 1, .p = p};
    return chan_backward_host(ctx, "lrelu_bias_act_backward_host", &c, x, bias, dy, dx, dbias);
}
