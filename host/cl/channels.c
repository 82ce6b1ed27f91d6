/* channels.c: the device-buffer API of the per-channel calls, PReLU (a slope per
 * channel) and bias_act (a bias per channel, then the activation, a gain and a clamp):
 * forwards in 1-D or 2-D by the layout, backwards as dx with each block's sums, then
 * the sums' final pass in block order (kernels/channels.cl). */
#include "cl/cl.h"

#include <math.h>

/* A per-channel call: mode 0 PReLU, 1 bias_act, 2 bias_act without a bias. */
typedef struct {
    const char *fn;
    lrelu_dtype t;
    lrelu_layout l;
    int mode;
    double alpha, gain, limit; /* bias_act's, limit 0 for none */
} chan_call;

/* bias_act's parameters checked, and the limit as the kernels take it (0: none). */
static lrelu_status check_bias_act(const lrelu_ctx *ctx, chan_call *c, lrelu_bias_act p)
{
    lrelu_status st = lrelu_check_channels(ctx, c->fn, c->t, &p);
    if (st != LRELU_OK)
        return st;
    c->alpha = p.alpha;
    c->gain = p.gain;
    c->limit = (c->t == LRELU_F64 ? isinf(p.limit) : isinf((float)p.limit)) ? 0.0 : p.limit;
    return LRELU_OK;
}

/* The arguments of the forwards and backwards (kernels/channels.cl): the counts, then the
 * mode and the three factors, then a buffer and offset for each of the count operands. */
static void chan_args(lrelu_args *a, const chan_call *c, const cl_ulong *u, int nu,
                      const lrelu_operand *ops, int count)
{
    cl_int mode = c->mode;
    for (int i = 0; i < nu; ++i)
        lrelu_arg_ulong(a, u[i]);
    lrelu_arg(a, &mode, sizeof mode);
    lrelu_arg_scalar(a, c->t, c->alpha);
    lrelu_arg_scalar(a, c->t, c->gain);
    lrelu_arg_scalar(a, c->t, c->limit);
    for (int i = 0; i < count; ++i) {
        lrelu_arg_mem(a, ops[i].mem);
        lrelu_arg_ulong(a, ops[i].off);
    }
}

/* Picks the forward's kernel for c's layout, sets its arguments and enqueues it; with
 * ctx->lock held. Rows of whole vectors go 2-D: a channel's rows, or with inner 1 the
 * outer rows of channels; bias_act without a bias is elementwise: one row of all n.
 * Anything else as one range, vectors across rows. */
static lrelu_status chan_forward_enqueue(lrelu_ctx *ctx, const lrelu_kernels *k, const chan_call *c,
                                         const lrelu_operand *ops, size_t n, cl_uint num_wait,
                                         const cl_event *wait, cl_event *done)
{
    size_t channels = c->l.channels, inner = c->l.inner, rows = c->l.outer * channels, len = inner;
    size_t vec = k->vec > 0 ? k->vec : 1; /* always; the analyzer cannot know */
    if (c->mode == 2)
        rows = channels = 1, len = inner = n;
    int kind = inner >= vec ? 1 : inner == 1 && channels >= vec ? 2 : 0;
    if (kind == 2)
        rows = c->l.outer, len = channels;
    cl_kernel kern = k->kern[kind == 1   ? LRELU_K_PRELU_ROWS + (c->mode != 0)
                             : kind == 2 ? LRELU_K_PRELU_COLS + (c->mode != 0)
                                         : LRELU_K_CHAN_FORWARD];
    cl_ulong u[3] = {kind ? rows : n, channels, inner};
    lrelu_args a = {.count = 0};
    chan_args(&a, c, u, 3, ops, 3);
    lrelu_status st = lrelu_set_args(kern, &a);
    if (st != LRELU_OK)
        return st;
    if (kind == 0)
        return lrelu_launch_1d(ctx, k->local[LRELU_FAMILY_CHANNELS], kern, n / vec + (n % vec != 0),
                               num_wait, wait, done);
    /* each work-item takes LRELU_ITEM_VECS (kernels/channels.cl) vectors of its row */
    size_t vectors = len / vec + (len % vec != 0);
    return lrelu_launch_2d(ctx, k->local[LRELU_FAMILY_CHANNELS], kern,
                           (vectors + LRELU_ITEM_VECS - 1) / LRELU_ITEM_VECS, rows, num_wait, wait,
                           done);
}

/* ops: x, p, y. */
static lrelu_status chan_forward(lrelu_ctx *ctx, chan_call *c, lrelu_operand *ops, cl_uint num_wait,
                                 const cl_event *wait, cl_event *done)
{
    size_t n = lrelu_layout_count(c->l);
    ops[0].n = ops[2].n = n;
    ops[1].n = c->l.channels;
    lrelu_checked chk = {c->fn, c->t, lrelu_dtype_size(c->t), n, 0, num_wait, wait, ops, 3};
    lrelu_status st = lrelu_check_operands(ctx, &chk);
    if (st != LRELU_OK || n == 0)
        return st != LRELU_OK ? st : lrelu_enqueue_marker(ctx, num_wait, wait, done);
    const lrelu_kernels *k = NULL;
    pthread_mutex_lock(&ctx->lock);
    st = lrelu_get_kernels(ctx, c->t, LRELU_FAMILY_CHANNELS, &k);
    if (st == LRELU_OK && k != NULL)
        st = chan_forward_enqueue(ctx, k, c, ops, n, num_wait, wait, done);
    pthread_mutex_unlock(&ctx->lock);
    return st;
}

/* The channels per work-item of the backward by rows of channel groups (chan_bgroup in
 * kernels/channels.cl), or 0 where it does not run: on CPU devices (ctx->chan_group), where
 * inner is 1 (but for exactly a vector's worth of channels, whose columns are whole rows
 * with the lanes in registers) or there are several channels; where inner is 1 groups
 * narrow, down to 64 channels, until there are two work-items per core (above 1
 * lrelu_chan_group_shape narrows them: half a group's row is never 8 Ki elements where
 * inner is 1). */
static size_t chan_group_width(const lrelu_ctx *ctx, const chan_call *c, size_t vec, size_t nb)
{
    size_t inner = c->l.inner, width = ctx->chan_group;
    int rows = inner == 1 ? c->l.channels != vec : c->l.channels > 1 || inner < LRELU_RBLOCK;
    if (!rows)
        return 0;
    while (inner == 1 && width > 64 && (c->l.channels + width - 1) / width * nb < 2 * ctx->units)
        width /= 2;
    return width;
}

/* The blocks per work-item of chan_bgroup (per unit in-process, hostmem/channels.c) and the
 * channels of a group, at most *width: where inner is 1 a block (256 rows), else blocks
 * enough for sixteen rows, so that a work-item reads whole rows of its channels, one
 * after the other (docs/performance.md, design measurements). Until there are four work-items per
 * core, groups narrow while half a group's row stays 8 Ki elements long, then the blocks halve.
 * $LRELU_CHAN_BLOCKS sets the blocks. */
void lrelu_chan_group_shape(const lrelu_ctx *ctx, size_t channels, size_t inner, size_t nb,
                            size_t *width, size_t *per)
{
    size_t w = *width < channels ? *width : channels;
    size_t p = ctx->chan_blocks > 0 ? ctx->chan_blocks
               : inner == 1         ? 1
                                    : (16 * inner + LRELU_RBLOCK - 1) / LRELU_RBLOCK;
    p = p < nb ? p : nb;
    if (w == 0 || p == 0) /* never: a call with no channels or blocks returns first */
        w = p = 1;
    while ((channels + w - 1) / w * ((nb + p - 1) / p) < 4 * ctx->units) {
        if (w > 8 && w / 2 * inner >= 8192)
            w /= 2;
        else if (p > 1 && ctx->chan_blocks == 0)
            p = (p + 1) / 2;
        else
            break;
    }
    *width = w;
    *per = p;
}

/* The backward's first pass: dx and the block sums into partial (NULL: none), with
 * ctx->lock held. On a CPU rows of channel groups where chan_group_width says so; else
 * inner 1 with a vector's worth of channels takes a row's channels as vectors, anything
 * else one work-item per block of a channel. */
static lrelu_status chan_backward_enqueue(lrelu_ctx *ctx, const lrelu_kernels *k,
                                          const chan_call *c, const lrelu_operand *ops,
                                          cl_mem partial, cl_uint num_wait, const cl_event *wait,
                                          cl_event *done)
{
    size_t m = c->l.outer * c->l.inner, nb = (m + LRELU_RBLOCK - 1) / LRELU_RBLOCK;
    size_t vec = k->vec > 0 ? k->vec : 1; /* always; the analyzer cannot know */
    size_t width = chan_group_width(ctx, c, vec, nb);
    /* the GPUs' kernels (no channel groups): coalesced at every width */
    int gpu = ctx->chan_group == 0, col1 = gpu && c->l.inner == 1, tile = gpu && !col1;
    int cols = !gpu && c->l.inner == 1 && c->l.channels >= vec;
    cl_kernel kern = k->kern[(width  ? LRELU_K_PRELU_BGROUP
                              : col1 ? LRELU_K_PRELU_BCOL1
                              : tile ? LRELU_K_PRELU_BTILE
                              : cols ? LRELU_K_PRELU_BCOLS
                                     : LRELU_K_PRELU_BACKWARD) +
                             (c->mode != 0)];
    size_t per = 1;
    if (width > 0)
        lrelu_chan_group_shape(ctx, c->l.channels, c->l.inner, nb, &width, &per);
    cl_ulong u[4] = {m, nb, c->l.channels, c->l.inner};
    lrelu_args a = {.count = 0};
    chan_args(&a, c, u, 4, ops, 4);
    lrelu_arg_mem(&a, partial);
    if (width > 0) { /* the bgroup kernels' own two */
        lrelu_arg_ulong(&a, width);
        lrelu_arg_ulong(&a, per);
    }
    lrelu_status st = lrelu_set_args(kern, &a);
    if (st != LRELU_OK)
        return st;
    if (width > 0) {
        /* Work-groups of l1 work-items of one channel group, each work-item per blocks of
         * every channel in its group: l1 doubles (to at most the kernel's group_local)
         * while a group holds less than 64 Ki elements and there stay two groups per
         * core. */
        size_t groups = (c->l.channels + width - 1) / width, items = (nb + per - 1) / per, l1 = 1;
        size_t each = (c->l.channels < width ? c->l.channels : width) * LRELU_RBLOCK * per;
        while (2 * l1 <= k->group_local && 2 * l1 <= ctx->max_items[1] && l1 * each < 65536 &&
               groups * ((items + 2 * l1 - 1) / (2 * l1)) >= 2 * ctx->units)
            l1 *= 2;
        size_t local[2] = {1, l1}, global[2] = {groups, (items + l1 - 1) / l1 * l1};
        return lrelu_enqueue_kernel(ctx, ctx->queue, kern, 2, global, local, num_wait, wait, done);
    }
    if (col1)
        return lrelu_launch_2d(ctx, k->local[LRELU_FAMILY_CHANNELS], kern, c->l.channels, nb,
                               num_wait, wait, done);
    if (tile) { /* a work-group per tile of CHAN_TILE blocks (kernels/channels.cl) */
        size_t local = k->local[LRELU_FAMILY_CHANNELS];
        size_t groups = c->l.channels * ((nb + LRELU_CHAN_TILE - 1) / LRELU_CHAN_TILE);
        return lrelu_enqueue_kernel(ctx, ctx->queue, kern, 1, (size_t[]){groups * local}, &local,
                                    num_wait, wait, done);
    }
    if (cols)
        return lrelu_launch_2d(ctx, k->local[LRELU_FAMILY_CHANNELS], kern,
                               c->l.channels / vec + (c->l.channels % vec != 0), nb, num_wait, wait,
                               done);
    return lrelu_launch_1d(ctx, k->local[LRELU_FAMILY_CHANNELS], kern, c->l.channels * nb, num_wait,
                           wait, done);
}

/* ops: x, p, dy, dx, ds. */
/* A buffer of at least `bytes` for the block sums, retained for the caller, with ctx->lock
 * held: on an in-order queue the ctx's own, kept and grown (to twice what it was, at
 * least, within the device's largest allocation), since every command that used it
 * before runs ahead of this call's; on an out-of-order queue one for this call alone. A
 * buffer released while commands still use it lives until they are done. */
static lrelu_status sums_buffer(lrelu_ctx *ctx, size_t bytes, cl_mem *out)
{
    cl_int err = CL_SUCCESS;
    if (!ctx->in_order) {
        *out = clCreateBuffer(ctx->context, CL_MEM_READ_WRITE, bytes, NULL, &err);
        return err == CL_SUCCESS ? LRELU_OK
                                 : lrelu_cl_fail(err, "clCreateBuffer", __FILE__, __LINE__);
    }
    if (ctx->sums_bytes < bytes) {
        size_t grown = ctx->sums_bytes > bytes / 2 ? 2 * ctx->sums_bytes : bytes;
        grown = grown > ctx->max_alloc ? bytes : grown;
        cl_mem b = clCreateBuffer(ctx->context, CL_MEM_READ_WRITE, grown, NULL, &err);
        if (err != CL_SUCCESS)
            return lrelu_cl_fail(err, "clCreateBuffer", __FILE__, __LINE__);
        if (ctx->sums != NULL)
            (void)clReleaseMemObject(ctx->sums);
        ctx->sums = b;
        ctx->sums_bytes = grown;
    }
    cl_int e = clRetainMemObject(ctx->sums);
    if (e != CL_SUCCESS)
        return lrelu_cl_fail(e, "clRetainMemObject", __FILE__, __LINE__);
    *out = ctx->sums;
    return LRELU_OK;
}

/* blocks_mode: ops[4] is not ds but the buffer the block sums are left in (its n in
 * elements of the dtype, as many as the sums' bytes), and there is no final pass. */
static lrelu_status chan_backward(lrelu_ctx *ctx, chan_call *c, lrelu_operand *ops, int blocks_mode,
                                  cl_uint num_wait, const cl_event *wait, cl_event *done)
{
    size_t n = lrelu_layout_count(c->l), cs = c->t == LRELU_F64 ? 8 : 4;
    ops[0].n = ops[2].n = ops[3].n = n;
    ops[1].n = ops[4].n = c->l.channels;
    if (blocks_mode) { /* the sums as dtype elements (saturated: a layout may overflow) */
        size_t nb = lrelu_chan_blocks(c->l), es = lrelu_dtype_size(c->t), per = es ? cs / es : 1;
        ops[4].n = nb != 0 && c->l.channels > SIZE_MAX / per / nb ? SIZE_MAX / per
                                                                  : c->l.channels * nb * per;
    }
    if (ops[3].mem == NULL && ops[4].mem == NULL)
        return lrelu_fail(LRELU_ERR_INVALID_ARG, "%s: %s and %s are both NULL; ask for one", c->fn,
                          ops[3].name, ops[4].name);
    lrelu_checked chk = {c->fn, c->t, lrelu_dtype_size(c->t), n, 0, num_wait, wait, ops, 5};
    lrelu_status st = lrelu_check_operands(ctx, &chk);
    if (st != LRELU_OK || n == 0)
        return st != LRELU_OK ? st : lrelu_enqueue_marker(ctx, num_wait, wait, done);
    size_t m = c->l.outer * c->l.inner, nb = (m + LRELU_RBLOCK - 1) / LRELU_RBLOCK;
    size_t blocks = c->l.channels * nb; /* <= n: no overflow */
    /* the caller's blocks, or the ctx's sums (below), which are released */
    cl_mem blocks_out = blocks_mode ? ops[4].mem : NULL, partial = blocks_out;
    cl_mem ds = blocks_mode ? NULL : ops[4].mem;
    cl_event mid = NULL, poisoned = NULL;
    if (ds != NULL && blocks > ctx->max_alloc / cs)
        return lrelu_fail(LRELU_ERR_OUT_OF_MEMORY,
                          "%s: %zu block sums exceed the device's largest allocation", c->fn,
                          blocks);
    const lrelu_kernels *k = NULL;
    pthread_mutex_lock(&ctx->lock);
    st = lrelu_get_kernels(ctx, c->t, LRELU_FAMILY_CHANNELS, &k);
    if (st == LRELU_OK && k != NULL && ds != NULL)
        st = sums_buffer(ctx, blocks * cs, &partial);
    if (st == LRELU_OK && k != NULL && partial != NULL && ctx->poison_scratch) {
        /* tests: every sum NaN (all ones) until a kernel writes it */
        cl_uint nan = 0xffffffffu;
        cl_int err = clEnqueueFillBuffer(ctx->queue, partial, &nan, sizeof nan, 0, blocks * cs,
                                         num_wait, num_wait ? wait : NULL, &poisoned);
        if (err != CL_SUCCESS) {
            st = lrelu_cl_fail(err, "clEnqueueFillBuffer", __FILE__, __LINE__);
        } else {
            num_wait = 1;
            wait = &poisoned;
        }
    }
    if (st == LRELU_OK && k != NULL)
        st = chan_backward_enqueue(ctx, k, c, ops, partial, num_wait, wait,
                                   ds != NULL ? &mid : done);
    if (st == LRELU_OK && k != NULL && ds != NULL) {
        /* on GPUs a work-group per channel, as wide as its blocks (at most 256) */
        int group = ctx->chan_group == 0 && nb > 1;
        cl_kernel sum = k->kern[group ? LRELU_K_CHAN_SUMG : LRELU_K_CHAN_SUM];
        lrelu_args a = {.count = 0};
        lrelu_arg_ulong(&a, c->l.channels);
        lrelu_arg_ulong(&a, nb);
        lrelu_arg_mem(&a, partial);
        lrelu_arg_mem(&a, ds);
        lrelu_arg_ulong(&a, ops[4].off);
        st = lrelu_set_args(sum, &a);
        size_t local = k->local[LRELU_FAMILY_CHANNELS];
        while (group && local > 1 && local / 2 >= nb)
            local /= 2;
        local = local > 256 ? 256 : local;
        if (st == LRELU_OK && group)
            st = lrelu_enqueue_kernel(ctx, ctx->queue, sum, 1, (size_t[]){c->l.channels * local},
                                      &local, 1, &mid, done);
        else if (st == LRELU_OK)
            st = lrelu_launch_1d(ctx, local, sum, c->l.channels, 1, &mid, done);
    }
    pthread_mutex_unlock(&ctx->lock);
    if (mid != NULL)
        (void)clReleaseEvent(mid);
    if (poisoned != NULL)
        (void)clReleaseEvent(poisoned);
    if (partial != NULL && partial != blocks_out)
        (void)clReleaseMemObject(partial); /* freed once the kernels are done with it */
    return st;
}

/* The operands of a per-channel call in the kernels' order: x, the factors (the slopes,
 * or the biases: optional), y; or x, the factors, dy, dx and the sums (both optional, dx
 * in place on x or dy). */
static void chan_operands(lrelu_operand *ops, int bwd, int bias_act, const cl_mem *mem,
                          const size_t *off)
{
    static const char *const names[2][2][5] = {
        {{"x", "slope", "y"}, {"x", "bias", "y"}},
        {{"x", "slope", "dy", "dx", "dslope"}, {"x", "bias", "dy", "dx", "dbias"}}};
    for (int i = 0; i < (bwd ? 5 : 3); ++i) {
        int out = bwd ? i >= 3 : i == 2;
        ops[i] = (lrelu_operand){.name = names[bwd][bias_act][i],
                                 .mem = mem[i],
                                 .off = off[i],
                                 .inc = 1,
                                 .out = out,
                                 .optional = (bwd && out) || (i == 1 && bias_act),
                                 .alias = !out     ? 0u
                                          : !bwd   ? 1u
                                          : i == 3 ? 1u | 4u
                                                   : 0u};
    }
}

/* Every per-channel call: no event yet, then ctx, dtype and (bias_act: p given) its
 * parameters, then the operands and the launches. bwd: 0 the forward, 1 the backward,
 * BWD_BLOCKS the backward with its block sums left in the fifth operand, "blocks",
 * required and overlapping nothing. */
enum { BWD_BLOCKS = 2 };
static lrelu_status chan_run(lrelu_ctx *ctx, chan_call *c, const lrelu_bias_act *p, int bwd,
                             const cl_mem *mem, const size_t *off, cl_uint num_wait,
                             const cl_event *wait, cl_event *done)
{
    if (done != NULL)
        *done = NULL;
    lrelu_status st =
        p != NULL ? check_bias_act(ctx, c, *p) : lrelu_check_channels(ctx, c->fn, c->t, NULL);
    if (st != LRELU_OK)
        return st;
    lrelu_operand ops[5];
    chan_operands(ops, bwd != 0, p != NULL, mem, off);
    if (bwd == BWD_BLOCKS) {
        ops[4].name = "blocks";
        ops[4].optional = 0;
    }
    return bwd ? chan_backward(ctx, c, ops, bwd == BWD_BLOCKS, num_wait, wait, done)
               : chan_forward(ctx, c, ops, num_wait, wait, done);
}

lrelu_status lrelu_prelu_forward(lrelu_ctx *ctx, lrelu_dtype t, lrelu_layout l, cl_mem x,
                                 size_t x_off, cl_mem slope, size_t slope_off, cl_mem y,
                                 size_t y_off, cl_uint num_wait, const cl_event *wait,
                                 cl_event *done)
{
    chan_call c = {.fn = "lrelu_prelu_forward", .t = t, .l = l};
    const cl_mem mem[] = {x, slope, y};
    const size_t off[] = {x_off, slope_off, y_off};
    return chan_run(ctx, &c, NULL, 0, mem, off, num_wait, wait, done);
}

lrelu_status lrelu_prelu_backward(lrelu_ctx *ctx, lrelu_dtype t, lrelu_layout l, cl_mem x,
                                  size_t x_off, cl_mem slope, size_t slope_off, cl_mem dy,
                                  size_t dy_off, cl_mem dx, size_t dx_off, cl_mem dslope,
                                  size_t dslope_off, cl_uint num_wait, const cl_event *wait,
                                  cl_event *done)
{
    chan_call c = {.fn = "lrelu_prelu_backward", .t = t, .l = l};
    const cl_mem mem[] = {x, slope, dy, dx, dslope};
    const size_t off[] = {x_off, slope_off, dy_off, dx_off, dslope_off};
    return chan_run(ctx, &c, NULL, 1, mem, off, num_wait, wait, done);
}

lrelu_status lrelu_bias_act_forward(lrelu_ctx *ctx, lrelu_dtype t, lrelu_layout l, lrelu_bias_act p,
                                    cl_mem x, size_t x_off, cl_mem bias, size_t bias_off, cl_mem y,
                                    size_t y_off, cl_uint num_wait, const cl_event *wait,
                                    cl_event *done)
{
    chan_call c = {.fn = "lrelu_bias_act_forward", .t = t, .l = l, .mode = bias != NULL ? 1 : 2};
    const cl_mem mem[] = {x, bias, y};
    const size_t off[] = {x_off, bias_off, y_off};
    return chan_run(ctx, &c, &p, 0, mem, off, num_wait, wait, done);
}

lrelu_status lrelu_bias_act_backward(lrelu_ctx *ctx, lrelu_dtype t, lrelu_layout l,
                                     lrelu_bias_act p, cl_mem x, size_t x_off, cl_mem bias,
                                     size_t bias_off, cl_mem dy, size_t dy_off, cl_mem dx,
                                     size_t dx_off, cl_mem dbias, size_t dbias_off,
                                     cl_uint num_wait, const cl_event *wait, cl_event *done)
{
    chan_call c = {.fn = "lrelu_bias_act_backward", .t = t, .l = l, .mode = bias != NULL ? 1 : 2};
    const cl_mem mem[] = {x, bias, dy, dx, dbias};
    const size_t off[] = {x_off, bias_off, dy_off, dx_off, dbias_off};
    return chan_run(ctx, &c, &p, 1, mem, off, num_wait, wait, done);
}

size_t lrelu_chan_blocks(lrelu_layout l)
{
    size_t m = l.outer * l.inner; /* a call checks outer * channels * inner first */
    return l.channels == 0 ? 0 : m / LRELU_RBLOCK + (m % LRELU_RBLOCK != 0);
}

lrelu_status lrelu_prelu_backward_blocks(lrelu_ctx *ctx, lrelu_dtype t, lrelu_layout l, cl_mem x,
                                         size_t x_off, cl_mem slope, size_t slope_off, cl_mem dy,
                                         size_t dy_off, cl_mem dx, size_t dx_off, cl_mem blocks,
                                         cl_uint num_wait, const cl_event *wait, cl_event *done)
{
    chan_call c = {.fn = "lrelu_prelu_backward_blocks", .t = t, .l = l};
    const cl_mem mem[] = {x, slope, dy, dx, blocks};
    const size_t off[] = {x_off, slope_off, dy_off, dx_off, 0};
    return chan_run(ctx, &c, NULL, BWD_BLOCKS, mem, off, num_wait, wait, done);
}

lrelu_status lrelu_bias_act_backward_blocks(lrelu_ctx *ctx, lrelu_dtype t, lrelu_layout l,
                                            lrelu_bias_act p, cl_mem x, size_t x_off, cl_mem bias,
                                            size_t bias_off, cl_mem dy, size_t dy_off, cl_mem dx,
                                            size_t dx_off, cl_mem blocks, cl_uint num_wait,
                                            const cl_event *wait, cl_event *done)
{
    chan_call c = {
        .fn = "lrelu_bias_act_backward_blocks", .t = t, .l = l, .mode = bias != NULL ? 1 : 2};
    const cl_mem mem[] = {x, bias, dy, dx, blocks};
    const size_t off[] = {x_off, bias_off, dy_off, dx_off, 0};
    return chan_run(ctx, &c, &p, BWD_BLOCKS, mem, off, num_wait, wait, done);
}
