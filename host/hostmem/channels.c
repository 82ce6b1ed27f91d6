/* channels.c: the host-memory PReLU and bias_act calls: in-process by rows where the
 * layout suits, a block at a time otherwise, the backwards through the kernels' units of
 * work (cpu/chan_bwd.h) in their order; else on the device. */
#include "hostmem/hostmem.h"

#include <stdlib.h>
#include <string.h>

typedef lrelu_chan_host chan_host;

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
    if (c->mode == LRELU_HOST_BLOCKS) {
        /* the blocks start at their buffer's start: lrelu_group allocates them aligned */
        if (o[4].off != 0)
            return lrelu_fail(LRELU_ERR_INVALID_ARG, "block sums at %p are not aligned to %zu",
                              o[4].ptr, ctx->base_align);
        return c->bias_act
                   ? lrelu_bias_act_backward_blocks(ctx, c->t, c->l, c->p, o[0].mem, o[0].off,
                                                    o[1].mem, o[1].off, o[2].mem, o[2].off,
                                                    o[3].mem, o[3].off, o[4].mem, 0, NULL, done)
                   : lrelu_prelu_backward_blocks(ctx, c->t, c->l, o[0].mem, o[0].off, o[1].mem,
                                                 o[1].off, o[2].mem, o[2].off, o[3].mem, o[3].off,
                                                 o[4].mem, 0, NULL, done);
    }
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

/* Each channel's block sums of every shard (shard s: nb[s] a channel, channel after
 * channel, in the compute type) added from +0 in order and rounded once into ds, as the
 * kernels' final pass does over one call's. */
static void combine(lrelu_dtype t, size_t C, size_t shards, const size_t *nb,
                    const void *const *blocks, void *ds)
{
    for (size_t ch = 0; ch < C; ++ch) {
        if (t == LRELU_F64) {
            double total = 0;
            for (size_t s = 0; s < shards; ++s)
                for (size_t b = 0; b < nb[s]; ++b)
                    total = total + ((const double *)blocks[s])[ch * nb[s] + b];
            memcpy((char *)ds + 8 * ch, &total, 8);
        } else {
            float total = 0;
            for (size_t s = 0; s < shards; ++s)
                for (size_t b = 0; b < nb[s]; ++b)
                    total = total + ((const float *)blocks[s])[ch * nb[s] + b];
            lrelu_store_f(t, ds, ch, total);
        }
    }
}

static void fold_sums(lrelu_dtype t, const void *partial, size_t C, size_t nb, void *ds)
{
    combine(t, C, 1, &nb, &partial, ds);
}

lrelu_status lrelu_chan_sums_combine(lrelu_dtype t, size_t channels, size_t shards,
                                     const size_t *nb, const void *const *blocks, void *ds)
{
    const char *fn = "lrelu_chan_sums_combine";
    if (lrelu_dtype_size(t) == 0)
        return lrelu_fail(LRELU_ERR_INVALID_ARG, "%s: dtype %d is not an lrelu_dtype", fn, (int)t);
    if (channels == 0)
        return LRELU_OK;
    if (ds == NULL || (shards > 0 && (nb == NULL || blocks == NULL)))
        return lrelu_fail(LRELU_ERR_INVALID_ARG, "%s: %s is NULL", fn,
                          ds == NULL   ? "ds"
                          : nb == NULL ? "nb"
                                       : "blocks");
    for (size_t s = 0; s < shards; ++s)
        if (nb[s] > 0 && blocks[s] == NULL)
            return lrelu_fail(LRELU_ERR_INVALID_ARG, "%s: blocks[%zu] is NULL (nb[%zu] = %zu)", fn,
                              s, s, nb[s]);
    combine(t, channels, shards, nb, blocks, ds);
    return LRELU_OK;
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
    int blocks = c->mode == LRELU_HOST_BLOCKS;
    void *partial = (void *)o[4].ptr; /* the caller's, for the block sums */
    if (!blocks && partial != NULL && (partial = malloc(C * nb * cs)) == NULL)
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
    if (!blocks && partial != NULL)
        fold_sums(c->t, partial, C, nb, (void *)o[4].ptr);
    if (!blocks)
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

/* The copying path (pipeline.c) cuts a call into chunks of whole outer rows where a row
 * fits a chunk (CUT_ROWS), else of whole channels of one row (CUT_CHANNELS), else of part
 * of one channel's row (CUT_PIECES); a chunk is a layout of its own, its factors from
 * channel c0 on. With the sums, every chunk must start and end at block boundaries of
 * each of its channels (LRELU_RBLOCK terms, in (outer, inner) order), so that its block
 * sums are the whole call's: rows in multiples of 256 / gcd(inner, 256), or inside a
 * row where inner is a multiple of 256 or there is one row, in pieces of whole blocks. */
typedef enum { CUT_ROWS, CUT_CHANNELS, CUT_PIECES } chan_cut_kind;
typedef struct {
    const chan_host *c;
    lrelu_layout l; /* the call's, one channel as one row (its terms in the same order) */
    chan_cut_kind cut;
    size_t step;      /* CUT_ROWS: rows a chunk in multiples of; CUT_PIECES: elements */
    cl_mem per;       /* the slopes or biases on the device (NULL: none) */
    cl_mem blocks[2]; /* each pipeline's chunk block sums (NULL: no sums asked for) */
    void *sums;       /* every block sum, channel after channel, as the kernels lay them */
    size_t nb, cs;    /* the call's blocks a channel, and a sum's bytes */
} chan_piped;

/* The chunk from element first on: its layout, first channel and first block. */
static lrelu_layout chunk_layout(const chan_piped *p, size_t first, size_t m, size_t *c0,
                                 size_t *b0)
{
    size_t C = p->l.channels, inner = p->l.inner, row = C * inner, o = first / row;
    size_t i0 = first % inner;
    *c0 = first % row / inner;
    *b0 = (o * inner + i0) / LRELU_RBLOCK;
    if (p->cut == CUT_ROWS)
        return (lrelu_layout){m / row, C, inner};
    if (p->cut == CUT_CHANNELS)
        return (lrelu_layout){1, m / inner, inner};
    return (lrelu_layout){1, 1, m};
}

static size_t chan_cut(const lrelu_piped *c, size_t first)
{
    const chan_piped *p = c->call;
    size_t C = p->l.channels, inner = p->l.inner, row = C * inner, left = c->n - first;
    size_t m = p->cut == CUT_ROWS ? c->chunk / row / p->step * p->step * row
               : p->cut == CUT_CHANNELS
                   ? (c->chunk / inner < C - first % row / inner ? c->chunk / inner
                                                                 : C - first % row / inner) *
                         inner
               : p->step < inner - first % inner ? p->step
                                                 : inner - first % inner;
    return m < left ? m : left;
}

/* A chunk's forward, or its backward with dx and (asked for) its block sums, on the ctx's
 * queue; the sums then come back into their places among the call's. */
static lrelu_status chan_chunk(lrelu_ctx *ctx, const lrelu_piped *c, const lrelu_chunk *k,
                               cl_uint nw, const cl_event *wait, cl_event *done)
{
    const chan_piped *p = c->call;
    const chan_host *h = p->c;
    size_t c0 = 0, b0 = 0;
    lrelu_layout l = chunk_layout(p, k->first, k->m, &c0, &b0);
    size_t per_off = p->per != NULL ? c0 : 0;
    if (!h->backward) {
        if (h->bias_act)
            return lrelu_bias_act_forward(ctx, h->t, l, h->p, k->dev[0], 0, p->per, per_off,
                                          k->dev[1], 0, nw, wait, done);
        return lrelu_prelu_forward(ctx, h->t, l, k->dev[0], 0, p->per, per_off, k->dev[1], 0, nw,
                                   wait, done);
    }
    cl_mem dx = c->out >= 0 ? k->dev[2] : NULL, blocks = p->blocks[k->pipe];
    if (blocks == NULL) /* dx alone */
        return h->bias_act
                   ? lrelu_bias_act_backward(ctx, h->t, l, h->p, k->dev[0], 0, p->per, per_off,
                                             k->dev[1], 0, dx, 0, NULL, 0, nw, wait, done)
                   : lrelu_prelu_backward(ctx, h->t, l, k->dev[0], 0, p->per, per_off, k->dev[1], 0,
                                          dx, 0, NULL, 0, nw, wait, done);
    cl_event kev = NULL;
    lrelu_status st =
        h->bias_act
            ? lrelu_bias_act_backward_blocks(ctx, h->t, l, h->p, k->dev[0], 0, p->per, per_off,
                                             k->dev[1], 0, dx, 0, blocks, nw, wait, &kev)
            : lrelu_prelu_backward_blocks(ctx, h->t, l, k->dev[0], 0, p->per, per_off, k->dev[1], 0,
                                          dx, 0, blocks, nw, wait, &kev);
    if (st != LRELU_OK)
        return st;
    /* the chunk's sums: l.channels rows of nbc, into rows c0... of nb from block b0 */
    size_t nbc = (l.outer * l.inner + LRELU_RBLOCK - 1) / LRELU_RBLOCK;
    const size_t origin[3] = {0, 0, 0}, at[3] = {b0 * p->cs, c0, 0};
    const size_t region[3] = {nbc * p->cs, l.channels, 1};
    cl_int err = clEnqueueReadBufferRect(k->q, blocks, CL_FALSE, origin, at, region, nbc * p->cs, 0,
                                         p->nb * p->cs, 0, p->sums, 1, &kev, done);
    (void)clReleaseEvent(kev);
    return err == CL_SUCCESS ? LRELU_OK
                             : lrelu_cl_fail(err, "clEnqueueReadBufferRect", __FILE__, __LINE__);
}

size_t lrelu_chan_block_rows(size_t inner)
{
    size_t g = LRELU_RBLOCK, r = inner;
    while (r != 0) { /* gcd(inner, 256) */
        size_t t = g % r;
        g = r;
        r = t;
    }
    return LRELU_RBLOCK / g;
}

/* How a call is cut (chan_piped's comment), given chunks of `chunk` elements; 0 where it
 * cannot be with the sums asked for. */
static int chan_plan(chan_piped *p, size_t chunk, int sums)
{
    size_t inner = p->l.inner, row = p->l.channels * inner;
    if (row == 0)
        return 0; /* never: a call without elements returns first */
    p->step = sums ? lrelu_chan_block_rows(inner) : 1;
    if (chunk / row >= p->step) {
        p->cut = CUT_ROWS;
        return 1;
    }
    if (sums && p->l.outer > 1 && inner % LRELU_RBLOCK != 0)
        return 0;
    p->cut = chunk >= inner ? CUT_CHANNELS : CUT_PIECES;
    p->step = sums ? chunk / LRELU_RBLOCK * LRELU_RBLOCK : chunk;
    return p->step > 0;
}

/* The per-channel calls on the copying path: x, dy and dx (or x and y) streamed, the
 * factors copied to the device once, the block sums read back chunk by chunk and added on
 * the host in the kernels' order. ops: the call's (x, p, y; or x, p, dy, dx, ds). */
static lrelu_status chan_piped_run(lrelu_ctx *ctx, const void *call, const lrelu_array *ops,
                                   int *taken)
{
    const chan_host *h = call;
    int bwd = h->backward, sums = bwd && ops[4].ptr != NULL;
    size_t es = lrelu_dtype_size(h->t), C = h->l.channels, n = ops[0].n;
    chan_piped p = {.c = h, .l = h->l, .cs = h->t == LRELU_F64 ? 8 : 4};
    if (C == 1)
        p.l = (lrelu_layout){1, 1, n};
    p.nb = (p.l.outer * p.l.inner + LRELU_RBLOCK - 1) / LRELU_RBLOCK;
    lrelu_piped c = {.nops = 2,
                     .out = 1,
                     .ctx_queue = 1,
                     .es = es,
                     .n = n,
                     .chunk = lrelu_piped_chunk(ctx, es),
                     .cut = chan_cut,
                     .kernel = chan_chunk,
                     .call = &p};
    if (!chan_plan(&p, c.chunk, sums))
        return LRELU_OK; /* not taken: copied whole */
    *taken = 1;
    /* x, then y; or x, dy and dx (where asked for) */
    lrelu_operand streamed[3] = {ops[0], ops[2], ops[bwd ? 3 : 2]};
    c.ops = streamed;
    if (bwd) {
        c.nops = ops[3].ptr != NULL ? 3 : 2;
        c.out = ops[3].ptr != NULL ? 2 : -1;
    }
    lrelu_status st = LRELU_OK;
    cl_int err = CL_SUCCESS;
    if (ops[1].ptr != NULL) {
        p.per = clCreateBuffer(ctx->context, CL_MEM_READ_ONLY | CL_MEM_COPY_HOST_PTR, C * es,
                               (void *)ops[1].ptr, &err);
        LRELU_CL_AS(err, "clCreateBuffer");
    }
    if (sums) {
        /* a chunk's sums: within its elements / 256, plus a part block for each channel */
        size_t most = (c.chunk / LRELU_RBLOCK + C + 1) * p.cs;
        for (int i = 0; i < 2; ++i) {
            p.blocks[i] = clCreateBuffer(ctx->context, CL_MEM_READ_WRITE, most, NULL, &err);
            LRELU_CL_AS(err, "clCreateBuffer");
        }
        if (h->mode == LRELU_HOST_BLOCKS)
            p.sums = (void *)ops[4].ptr;
        else if ((p.sums = malloc(C * p.nb * p.cs)) == NULL) {
            st = lrelu_fail(LRELU_ERR_OUT_OF_MEMORY, "%s: malloc of %zu block sums failed",
                            h->bias_act ? "lrelu_bias_act_backward_host"
                                        : "lrelu_prelu_backward_host",
                            C * p.nb);
            goto cleanup;
        }
    }
    st = lrelu_piped_run(ctx, &c);
    if (st == LRELU_OK && sums && h->mode != LRELU_HOST_BLOCKS)
        fold_sums(h->t, p.sums, C, p.nb, (void *)ops[4].ptr);
cleanup:
    if (h->mode != LRELU_HOST_BLOCKS)
        free(p.sums);
    for (int i = 0; i < 2; ++i)
        if (p.blocks[i] != NULL)
            (void)clReleaseMemObject(p.blocks[i]);
    if (p.per != NULL)
        (void)clReleaseMemObject(p.per);
    return st;
}

/* The checks the device call makes before it looks at buffers, run on the host call's
 * arguments so the order of statuses is the same: ctx, dtype, parameters, layout. */
static lrelu_status chan_head(const lrelu_ctx *ctx, const char *fn, const chan_host *c, size_t *n)
{
    lrelu_status st = lrelu_check_channels(ctx, fn, c->t, c->bias_act ? &c->p : NULL);
    *n = lrelu_layout_count(c->l);
    return st;
}

lrelu_status lrelu_chan_host_call(lrelu_ctx *ctx, const char *fn, const chan_host *c, const void *x,
                                  const void *p, const void *dy, void *dx, void *ds)
{
    size_t n = 0;
    lrelu_status st = chan_head(ctx, fn, c, &n);
    if (st != LRELU_OK)
        return st;
    const char *p_name = c->bias_act ? "bias" : "slope";
    size_t es = lrelu_dtype_size(c->t);
    if (!c->backward) {
        lrelu_array ops[3] = {
            {.name = "x", .ptr = x, .n = n},
            {.name = p_name, .ptr = p, .n = c->l.channels, .optional = c->bias_act},
            {.name = "y", .ptr = dx, .n = n, .out = 1, .alias = 1u}};
        /* bias_act's forward a block at a time is no faster than the kernels past the caches */
        lrelu_host_kind kind =
            c->bias_act && !chan_by_rows(c, p) ? LRELU_HOST_CHANNELS_SLOW : LRELU_HOST_CHANNELS;
        static const lrelu_arrays_ways ways = {chan_fwd_device, chan_fwd_ref, chan_inprocess,
                                               chan_piped_run};
        return lrelu_arrays_run(ctx, fn, c->t, es, n, ops, 3, kind, &ways, c, c->mode);
    }
    const char *ds_name = c->bias_act ? "dbias" : "dslope";
    int blocks = c->mode == LRELU_HOST_BLOCKS;
    if (dx == NULL && ds == NULL)
        return lrelu_fail(LRELU_ERR_INVALID_ARG, "%s: dx and %s are both NULL; ask for one", fn,
                          ds_name);
    /* the block sums, as elements of t: a sum of the compute type is one or two of them */
    size_t ds_n = blocks
                      ? c->l.channels * lrelu_chan_blocks(c->l) * (c->t == LRELU_F64 ? 8 : 4) / es
                      : c->l.channels;
    lrelu_array ops[5] = {
        {.name = "x", .ptr = x, .n = n},
        {.name = p_name, .ptr = p, .n = c->l.channels, .optional = c->bias_act},
        {.name = "dy", .ptr = dy, .n = n},
        {.name = "dx", .ptr = dx, .n = n, .out = 1, .optional = 1, .alias = 1u | 4u},
        {.name = blocks ? "blocks" : ds_name, .ptr = ds, .n = ds_n, .out = 1, .optional = 1}};
    /* the reference's loop leaves no block sums: the vectorized loops or the device do */
    static const lrelu_arrays_ways ways = {chan_bwd_device, chan_bwd_ref, chan_inprocess,
                                           chan_piped_run},
                                   blocks_ways = {chan_bwd_device, NULL, chan_inprocess,
                                                  chan_piped_run};
    return lrelu_arrays_run(ctx, fn, c->t, es, n, ops, 5, LRELU_HOST_CHANNELS,
                            blocks ? &blocks_ways : &ways, c, c->mode);
}

lrelu_status lrelu_prelu_forward_host(lrelu_ctx *ctx, lrelu_dtype t, lrelu_layout l, const void *x,
                                      const void *slope, void *y)
{
    chan_host c = {.t = t, .l = l};
    return lrelu_chan_host_call(ctx, "lrelu_prelu_forward_host", &c, x, slope, NULL, y, NULL);
}

lrelu_status lrelu_prelu_backward_host(lrelu_ctx *ctx, lrelu_dtype t, lrelu_layout l, const void *x,
                                       const void *slope, const void *dy, void *dx, void *dslope)
{
    chan_host c = {.t = t, .l = l, .backward = 1};
    return lrelu_chan_host_call(ctx, "lrelu_prelu_backward_host", &c, x, slope, dy, dx, dslope);
}

lrelu_status lrelu_bias_act_forward_host(lrelu_ctx *ctx, lrelu_dtype t, lrelu_layout l,
                                         lrelu_bias_act p, const void *x, const void *bias, void *y)
{
    chan_host c = {.t = t, .l = l, .bias_act = 1, .p = p};
    return lrelu_chan_host_call(ctx, "lrelu_bias_act_forward_host", &c, x, bias, NULL, y, NULL);
}

lrelu_status lrelu_bias_act_backward_host(lrelu_ctx *ctx, lrelu_dtype t, lrelu_layout l,
                                          lrelu_bias_act p, const void *x, const void *bias,
                                          const void *dy, void *dx, void *dbias)
{
    chan_host c = {.t = t, .l = l, .bias_act = 1, .backward = 1, .p = p};
    return lrelu_chan_host_call(ctx, "lrelu_bias_act_backward_host", &c, x, bias, dy, dx, dbias);
}
