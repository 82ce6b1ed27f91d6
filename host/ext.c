/* ext.c: the device-buffer API of the quantized forward and the per-channel calls
 * (PReLU, bias_act). The checks follow dispatch.c's order (INVALID_ARG, UNSUPPORTED,
 * OUT_OF_RANGE, OVERLAP); every operand here is contiguous, with its own length. */
#include "internal.h"

#include <float.h>
#include <math.h>

/* One operand of a call: a buffer with its length in elements; optional outputs may be
 * NULL; an output may be the very same range as the inputs in `alias` (a bit mask of
 * operand indices). */
typedef struct {
    lrelu_operand o;
    size_t n;
    int out;
    int optional;
    unsigned alias;
} ext_operand;

/* Whether operand a (an output) meets b, in bytes of their shared memory. */
static lrelu_status check_pair(const char *fn, size_t es, const ext_operand *a, int bi,
                               const ext_operand *b)
{
    if (a->o.root != b->o.root || a->n == 0 || b->n == 0)
        return LRELU_OK;
    size_t pa = a->o.origin + a->o.off * es, pb = b->o.origin + b->o.off * es;
    size_t ea = pa + a->n * es, eb = pb + b->n * es; /* in range: cannot wrap */
    if (pa == pb && a->n == b->n && (a->alias >> bi & 1u))
        return LRELU_OK;
    if (pa < eb && pb < ea)
        return lrelu_fail(
            LRELU_ERR_OVERLAP,
            "%s: output %s (bytes [%zu, %zu) of its buffer) overlaps %s ([%zu, %zu))%s", fn,
            a->o.name, pa, ea, b->o.name, pb, eb,
            (a->alias >> bi & 1u) ? "; only the very same range is allowed" : "");
    return LRELU_OK;
}

/* The checks from the buffers on, after the call's own argument checks: every operand
 * described, then the device's support of t, then n == 0's marker, the ranges and the
 * overlaps. Returns LRELU_OK with *nothing set when there is nothing to enqueue. */
static lrelu_status check_operands(lrelu_ctx *ctx, const char *fn, lrelu_dtype t, size_t es,
                                   size_t n, ext_operand *ops, int nops, cl_uint num_wait,
                                   const cl_event *wait, cl_event *done, int *nothing)
{
    lrelu_status st;
    *nothing = 0;
    if (num_wait > 0 && wait == NULL)
        return lrelu_fail(LRELU_ERR_INVALID_ARG, "%s: num_wait is %u but wait is NULL", fn,
                          (unsigned)num_wait);
    if (n > 0)
        for (int i = 0; i < nops; ++i)
            if (!(ops[i].optional && ops[i].o.mem == NULL) &&
                (st = lrelu_describe_operand(ctx, fn, &ops[i].o, ops[i].out)) != LRELU_OK)
                return st;
    if (t == LRELU_F64 && !ctx->has_fp64)
        return lrelu_fail(LRELU_ERR_UNSUPPORTED, "%s: the device has no fp64 (cl_khr_fp64)", fn);
    if (n == 0) {
        *nothing = 1;
        return lrelu_enqueue_marker(ctx, num_wait, wait, done);
    }
    for (int i = 0; i < nops; ++i)
        if (ops[i].o.mem != NULL &&
            (st = lrelu_check_range(fn, ops[i].n, es, &ops[i].o)) != LRELU_OK)
            return st;
    for (int i = 0; i < nops; ++i)
        for (int j = 0; j < nops && ops[i].out && ops[i].o.mem != NULL; ++j)
            if (j != i && ops[j].o.mem != NULL && (j < i || !ops[j].out) &&
                (st = check_pair(fn, es, &ops[i], j, &ops[j])) != LRELU_OK)
                return st;
    return LRELU_OK;
}

/* A factor that must be finite in the compute type of t. */
static lrelu_status check_finite(const char *fn, lrelu_dtype t, const char *name, double v)
{
    if (!isfinite(v) || (t != LRELU_F64 && !isfinite((float)v)))
        return lrelu_fail(LRELU_ERR_INVALID_ARG,
                          "%s: %s %g is not finite in the compute type of %s", fn, name, v,
                          lrelu_dtype_name(t));
    return LRELU_OK;
}

static lrelu_status check_head(const lrelu_ctx *ctx, const char *fn, lrelu_dtype t)
{
    if (ctx == NULL)
        return lrelu_fail(LRELU_ERR_INVALID_ARG, "%s: ctx is NULL", fn);
    if (lrelu_dtype_size(t) == 0)
        return lrelu_fail(LRELU_ERR_INVALID_ARG, "%s: dtype %d is not an lrelu_dtype", fn, (int)t);
    return LRELU_OK;
}

/* Sets kernel arguments from a list: each a size and a pointer to the value. */
typedef struct {
    size_t size;
    const void *value;
} kern_arg;

static lrelu_status set_args(cl_kernel kern, const kern_arg *args, cl_uint count)
{
    lrelu_status st = LRELU_OK;
    for (cl_uint i = 0; i < count; ++i)
        LRELU_CL(clSetKernelArg(kern, i, args[i].size, args[i].value));
cleanup:
    return st;
}

/* Enqueues kern over `items` work-items rounded up to the ext kernels' local size. */
static lrelu_status launch(lrelu_ctx *ctx, const lrelu_kernels *k, cl_kernel kern, size_t items,
                           cl_uint num_wait, const cl_event *wait, cl_event *done)
{
    size_t local = k->ext_local > 0 ? k->ext_local : 1; /* always; the analyzer cannot know */
    size_t global = (items + local - 1) / local * local;
    return lrelu_enqueue_kernel(ctx, ctx->queue, kern, 1, &global, &local, num_wait, wait, done);
}

/* Enqueues a 2-D kernel over (items, rows): a work-group takes all the items of a row
 * where they are few (the power of two at or above their count) and as many rows as the
 * work-group size leaves room for. */
static lrelu_status launch_2d(lrelu_ctx *ctx, const lrelu_kernels *k, cl_kernel kern, size_t items,
                              size_t rows, cl_uint num_wait, const cl_event *wait, cl_event *done)
{
    size_t l0 = 1, l1;
    while (l0 < items && l0 * 2 <= k->ext_local && l0 * 2 <= ctx->max_items[0])
        l0 *= 2;
    l1 = k->ext_local / l0 < ctx->max_items[1] ? k->ext_local / l0 : ctx->max_items[1];
    while (l1 > 1 && l1 / 2 >= rows)
        l1 /= 2;
    size_t local[2] = {l0, l1};
    size_t global[2] = {(items + l0 - 1) / l0 * l0, (rows + l1 - 1) / l1 * l1};
    return lrelu_enqueue_kernel(ctx, ctx->queue, kern, 2, global, local, num_wait, wait, done);
}

/* ---------------------------------------------------------------------------- q8 */

lrelu_status lrelu_q8_check(const lrelu_ctx *ctx, const char *fn, lrelu_qtype t, double alpha,
                            lrelu_quant in, lrelu_quant out, lrelu_q8_args *a)
{
    if (ctx == NULL)
        return lrelu_fail(LRELU_ERR_INVALID_ARG, "%s: ctx is NULL", fn);
    if (t != LRELU_QS8 && t != LRELU_QU8)
        return lrelu_fail(LRELU_ERR_INVALID_ARG, "%s: qtype %d is not an lrelu_qtype", fn, (int)t);
    lrelu_status st = check_finite(fn, LRELU_F32, "alpha", alpha);
    if (st != LRELU_OK)
        return st;
    int lo = t == LRELU_QS8 ? -128 : 0, hi = t == LRELU_QS8 ? 127 : 255;
    float s_in = (float)in.scale, s_out = (float)out.scale;
    if (!(in.scale > 0) || !isnormal(s_in) || !isfinite(255.0f * s_in))
        return lrelu_fail(LRELU_ERR_INVALID_ARG,
                          "%s: in.scale %g must be a normal positive float with 255 * scale finite",
                          fn, in.scale);
    float inv = 1.0f / s_out;
    if (!(out.scale > 0) || !isnormal(s_out) || !isnormal(inv))
        return lrelu_fail(LRELU_ERR_INVALID_ARG,
                          "%s: out.scale %g must be a normal positive float whose reciprocal is "
                          "normal too",
                          fn, out.scale);
    if (in.zero_point < lo || in.zero_point > hi || out.zero_point < lo || out.zero_point > hi)
        return lrelu_fail(LRELU_ERR_INVALID_ARG, "%s: zero points %d and %d must lie in [%d, %d]",
                          fn, in.zero_point, out.zero_point, lo, hi);
    a->alpha = (float)alpha;
    a->s_in = s_in;
    a->inv_out = inv;
    a->zp_in = in.zero_point;
    a->zp_out = out.zero_point;
    return LRELU_OK;
}

/* Work-items of the quantized kernel: where both offsets are multiples of 4 it takes
 * 4 * vec bytes as words per work-item, the one after those the tail; else vec bytes. */
static size_t q8_items(size_t n, size_t vec, size_t x_off, size_t y_off)
{
    if (((x_off | y_off) & 3) == 0)
        return n / (4 * vec) + 1;
    return n / vec + (n % vec != 0);
}

lrelu_status lrelu_forward_q8(lrelu_ctx *ctx, lrelu_qtype t, size_t n, double alpha, lrelu_quant in,
                              lrelu_quant out, cl_mem x, size_t x_off, cl_mem y, size_t y_off,
                              cl_uint num_wait, const cl_event *wait, cl_event *done)
{
    const char *fn = "lrelu_forward_q8";
    lrelu_q8_args a;
    int nothing = 0;
    if (done != NULL)
        *done = NULL;
    lrelu_status st = lrelu_q8_check(ctx, fn, t, alpha, in, out, &a);
    if (st != LRELU_OK)
        return st;
    ext_operand ops[2] = {
        {.o = {.name = "x", .mem = x, .off = x_off, .inc = 1}, .n = n},
        {.o = {.name = "y", .mem = y, .off = y_off, .inc = 1}, .n = n, .out = 1, .alias = 1u}};
    st = check_operands(ctx, fn, LRELU_F32, 1, n, ops, 2, num_wait, wait, done, &nothing);
    if (st != LRELU_OK || nothing)
        return st;
    const lrelu_kernels *k = NULL;
    cl_ulong un = n, ux = x_off, uy = y_off;
    pthread_mutex_lock(&ctx->lock);
    st = lrelu_get_ext_kernels(ctx, LRELU_F32, &k);
    if (st == LRELU_OK) {
        kern_arg args[] = {{sizeof un, &un},
                           {sizeof a.alpha, &a.alpha},
                           {sizeof a.s_in, &a.s_in},
                           {sizeof a.zp_in, &a.zp_in},
                           {sizeof a.inv_out, &a.inv_out},
                           {sizeof a.zp_out, &a.zp_out},
                           {sizeof x, &x},
                           {sizeof ux, &ux},
                           {sizeof y, &y},
                           {sizeof uy, &uy}};
        st = set_args(k->q8[t], args, 10);
        if (st == LRELU_OK)
            st = launch(ctx, k, k->q8[t], q8_items(n, k->vec, x_off, y_off), num_wait, wait, done);
    }
    pthread_mutex_unlock(&ctx->lock);
    return st;
}

/* ---------------------------------------------------------------------- channels */

/* A per-channel call: mode 0 PReLU, 1 bias_act, 2 bias_act without a bias. */
typedef struct {
    const char *fn;
    lrelu_dtype t;
    lrelu_layout l;
    int mode;
    double alpha, gain, limit; /* bias_act's, limit 0 for none */
} chan_call;

/* n = outer * channels * inner; SIZE_MAX when that overflows, which the range check then
 * refuses as OUT_OF_RANGE after the INVALID_ARG checks on the buffers, in the contract's
 * order. */
size_t lrelu_layout_count(lrelu_layout l)
{
    if (l.outer == 0 || l.channels == 0 || l.inner == 0)
        return 0;
    if (l.channels > SIZE_MAX / l.inner || l.channels * l.inner > SIZE_MAX / l.outer)
        return SIZE_MAX;
    return l.outer * l.channels * l.inner;
}

static lrelu_status chan_count(const chan_call *c, size_t *n)
{
    *n = lrelu_layout_count(c->l);
    return LRELU_OK;
}

lrelu_status lrelu_check_bias_act(const char *fn, lrelu_dtype t, lrelu_bias_act p)
{
    lrelu_status st = check_finite(fn, t, "alpha", p.alpha);
    if (st == LRELU_OK)
        st = check_finite(fn, t, "gain", p.gain);
    if (st == LRELU_OK && !(p.limit >= 0))
        st = lrelu_fail(LRELU_ERR_INVALID_ARG, "%s: limit %g must be >= 0 (0 or inf: no clamp)", fn,
                        p.limit);
    return st;
}

/* bias_act's parameters checked, and the limit as the kernels take it (0: none). */
static lrelu_status check_bias_act(chan_call *c, lrelu_bias_act p)
{
    lrelu_status st = lrelu_check_bias_act(c->fn, c->t, p);
    if (st != LRELU_OK)
        return st;
    c->alpha = p.alpha;
    c->gain = p.gain;
    c->limit = (c->t == LRELU_F64 ? isinf(p.limit) : isinf((float)p.limit)) ? 0.0 : p.limit;
    return LRELU_OK;
}

/* The leading arguments of chan_forward and chan_backward: the nu counts in u, then from
 * argument `at` the mode and the three factors. */
static lrelu_status set_common(cl_kernel kern, cl_uint at, const chan_call *c, const cl_ulong *u,
                               int nu)
{
    lrelu_status st = LRELU_OK;
    cl_int mode = c->mode;
    cl_uint i = 0;
    for (; i < (cl_uint)nu; ++i)
        LRELU_CL(clSetKernelArg(kern, i, sizeof u[i], &u[i]));
    LRELU_CL(clSetKernelArg(kern, at, sizeof mode, &mode));
    LRELU_CL_AS(lrelu_set_scalar(kern, at + 1, c->t, c->alpha), "clSetKernelArg");
    LRELU_CL_AS(lrelu_set_scalar(kern, at + 2, c->t, c->gain), "clSetKernelArg");
    LRELU_CL_AS(lrelu_set_scalar(kern, at + 3, c->t, c->limit), "clSetKernelArg");
cleanup:
    return st;
}

/* Sets buffer-and-offset pairs from argument `at` on. */
static lrelu_status set_bufs(cl_kernel kern, cl_uint at, const ext_operand *ops, int count)
{
    lrelu_status st = LRELU_OK;
    for (int i = 0; i < count; ++i) {
        cl_ulong off = ops[i].o.off;
        LRELU_CL(clSetKernelArg(kern, at + 2 * (cl_uint)i, sizeof(cl_mem), &ops[i].o.mem));
        LRELU_CL(clSetKernelArg(kern, at + 2 * (cl_uint)i + 1, sizeof off, &off));
    }
cleanup:
    return st;
}

/* Picks the forward's kernel for c's layout, sets its arguments and enqueues it; with
 * ctx->lock held. Rows of whole vectors go 2-D: a channel's rows, or with inner 1 the
 * outer rows of channels; bias_act without a bias is elementwise: one row of all n.
 * Anything else as one range, vectors across rows. */
static lrelu_status chan_forward_enqueue(lrelu_ctx *ctx, const lrelu_kernels *k, const chan_call *c,
                                         const ext_operand *ops, size_t n, cl_uint num_wait,
                                         const cl_event *wait, cl_event *done)
{
    size_t channels = c->l.channels, inner = c->l.inner, rows = c->l.outer * channels, len = inner;
    size_t vec = k->vec > 0 ? k->vec : 1; /* always; the analyzer cannot know */
    if (c->mode == 2)
        rows = channels = 1, len = inner = n;
    int kind = inner >= vec ? 1 : inner == 1 && channels >= vec ? 2 : 0;
    if (kind == 2)
        rows = c->l.outer, len = channels;
    cl_kernel kern = kind == 1   ? k->chan_rows[c->mode != 0]
                     : kind == 2 ? k->chan_cols[c->mode != 0]
                                 : k->chan_forward;
    cl_ulong u[3] = {kind ? rows : n, channels, inner};
    lrelu_status st = set_common(kern, 3, c, u, 3);
    if (st == LRELU_OK)
        st = set_bufs(kern, 7, ops, 3);
    if (st != LRELU_OK)
        return st;
    if (kind == 0)
        return launch(ctx, k, kern, n / vec + (n % vec != 0), num_wait, wait, done);
    /* each work-item takes LRELU_ITEM_VECS (kernels/lrelu.cl) vectors of its row */
    size_t vectors = len / vec + (len % vec != 0);
    return launch_2d(ctx, k, kern, (vectors + LRELU_ITEM_VECS - 1) / LRELU_ITEM_VECS, rows,
                     num_wait, wait, done);
}

/* ops: x, p, y. */
static lrelu_status chan_forward(lrelu_ctx *ctx, chan_call *c, ext_operand *ops, cl_uint num_wait,
                                 const cl_event *wait, cl_event *done)
{
    size_t n = 0;
    int nothing = 0;
    lrelu_status st = chan_count(c, &n);
    size_t es = lrelu_dtype_size(c->t);
    ops[0].n = ops[2].n = n;
    ops[1].n = c->l.channels;
    if (st == LRELU_OK)
        st = check_operands(ctx, c->fn, c->t, es, n, ops, 3, num_wait, wait, done, &nothing);
    if (st != LRELU_OK || nothing)
        return st;
    const lrelu_kernels *k = NULL;
    pthread_mutex_lock(&ctx->lock);
    st = lrelu_get_ext_kernels(ctx, c->t, &k);
    if (st == LRELU_OK && k != NULL)
        st = chan_forward_enqueue(ctx, k, c, ops, n, num_wait, wait, done);
    pthread_mutex_unlock(&ctx->lock);
    return st;
}

/* The channels per work-item of the backward by rows of channel groups (chan_bgroup in
 * kernels/lrelu.cl), or 0 where it does not run: on CPU devices (ctx->chan_group), where
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

/* The blocks per work-item of chan_bgroup (per unit in-process, hostext.c) and the
 * channels of a group, at most *width: where inner is 1 a block (256 rows), else blocks
 * enough for sixteen rows, so that a work-item reads whole rows of its channels, one
 * after the other (with a block each, at (N, 64, 28, 28) each block's neighbours lay a
 * row of channels away; with a row's worth, at (N, 64, 56, 56) f32, 1.3 x the time of
 * eight rows). Until there are four work-items per core, groups narrow while half a
 * group's row stays 8 Ki elements long, then the blocks halve. $LRELU_CHAN_BLOCKS sets
 * the blocks. */
void lrelu_chan_group_shape(const lrelu_ctx *ctx, size_t channels, size_t inner, size_t nb,
                            size_t *width, size_t *per)
{
    size_t w = *width < channels ? *width : channels;
    size_t p = ctx->chan_blocks > 0 ? ctx->chan_blocks
               : inner == 1         ? 1
                                    : (16 * inner + LRELU_RBLOCK - 1) / LRELU_RBLOCK;
    p = p < nb ? p : nb;
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
                                          const chan_call *c, const ext_operand *ops,
                                          cl_mem partial, cl_uint num_wait, const cl_event *wait,
                                          cl_event *done)
{
    size_t m = c->l.outer * c->l.inner, nb = (m + LRELU_RBLOCK - 1) / LRELU_RBLOCK;
    size_t vec = k->vec > 0 ? k->vec : 1; /* always; the analyzer cannot know */
    size_t width = chan_group_width(ctx, c, vec, nb);
    int cols = c->l.inner == 1 && c->l.channels >= vec;
    cl_kernel kern = (width  ? k->chan_bgroup
                      : cols ? k->chan_bcols
                             : k->chan_backward)[c->mode != 0];
    size_t per = 1;
    if (width > 0)
        lrelu_chan_group_shape(ctx, c->l.channels, c->l.inner, nb, &width, &per);
    cl_ulong u[4] = {m, nb, c->l.channels, c->l.inner}, uw[2] = {width, per};
    lrelu_status st = set_common(kern, 4, c, u, 4);
    if (st == LRELU_OK)
        st = set_bufs(kern, 8, ops, 4);
    if (st == LRELU_OK) {
        cl_int err = clSetKernelArg(kern, 16, sizeof partial, &partial);
        for (cl_uint a = 0; a < 2 && err == CL_SUCCESS && width > 0; ++a)
            err = clSetKernelArg(kern, 17 + a, sizeof uw[a], &uw[a]);
        if (err != CL_SUCCESS)
            return lrelu_cl_fail(err, "clSetKernelArg", __FILE__, __LINE__);
    }
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
    if (cols)
        return launch_2d(ctx, k, kern, c->l.channels / vec + (c->l.channels % vec != 0), nb,
                         num_wait, wait, done);
    return launch(ctx, k, kern, c->l.channels * nb, num_wait, wait, done);
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

static lrelu_status chan_backward(lrelu_ctx *ctx, chan_call *c, ext_operand *ops, cl_uint num_wait,
                                  const cl_event *wait, cl_event *done)
{
    size_t n = 0;
    int nothing = 0;
    lrelu_status st = chan_count(c, &n);
    size_t es = lrelu_dtype_size(c->t), cs = c->t == LRELU_F64 ? 8 : 4;
    ops[0].n = ops[2].n = ops[3].n = n;
    ops[1].n = ops[4].n = c->l.channels;
    if (st == LRELU_OK && ops[3].o.mem == NULL && ops[4].o.mem == NULL)
        st = lrelu_fail(LRELU_ERR_INVALID_ARG, "%s: %s and %s are both NULL; ask for one", c->fn,
                        ops[3].o.name, ops[4].o.name);
    if (st == LRELU_OK)
        st = check_operands(ctx, c->fn, c->t, es, n, ops, 5, num_wait, wait, done, &nothing);
    if (st != LRELU_OK || nothing)
        return st;
    size_t m = c->l.outer * c->l.inner, nb = (m + LRELU_RBLOCK - 1) / LRELU_RBLOCK;
    size_t blocks = c->l.channels * nb; /* <= n: no overflow */
    cl_mem partial = NULL, ds = ops[4].o.mem;
    cl_event mid = NULL, poisoned = NULL;
    if (ds != NULL && blocks > ctx->max_alloc / cs)
        return lrelu_fail(LRELU_ERR_OUT_OF_MEMORY,
                          "%s: %zu block sums exceed the device's largest allocation", c->fn,
                          blocks);
    const lrelu_kernels *k = NULL;
    pthread_mutex_lock(&ctx->lock);
    st = lrelu_get_ext_kernels(ctx, c->t, &k);
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
        cl_ulong uc = c->l.channels, unb = nb, uds = ops[4].o.off;
        kern_arg args[] = {{sizeof uc, &uc},
                           {sizeof unb, &unb},
                           {sizeof partial, &partial},
                           {sizeof ds, &ds},
                           {sizeof uds, &uds}};
        st = set_args(k->chan_sum, args, 5);
        if (st == LRELU_OK)
            st = launch(ctx, k, k->chan_sum, c->l.channels, 1, &mid, done);
    }
    pthread_mutex_unlock(&ctx->lock);
    if (mid != NULL)
        (void)clReleaseEvent(mid);
    if (poisoned != NULL)
        (void)clReleaseEvent(poisoned);
    if (partial != NULL)
        (void)clReleaseMemObject(partial); /* freed once the kernels are done with it */
    return st;
}

static void op_init(ext_operand *e, const char *name, cl_mem mem, size_t off, int out,
                    unsigned alias)
{
    *e = (ext_operand){.o = {.name = name, .mem = mem, .off = off, .inc = 1},
                       .out = out,
                       .optional = out,
                       .alias = alias};
}

/* What every per-channel call does first: no event yet, then ctx, dtype and (for
 * bias_act, p given) its parameters. */
static lrelu_status chan_begin(const lrelu_ctx *ctx, chan_call *c, const lrelu_bias_act *p,
                               cl_event *done)
{
    if (done != NULL)
        *done = NULL;
    lrelu_status st = check_head(ctx, c->fn, c->t);
    if (st == LRELU_OK && p != NULL)
        st = check_bias_act(c, *p);
    return st;
}

lrelu_status lrelu_prelu_forward(lrelu_ctx *ctx, lrelu_dtype t, lrelu_layout l, cl_mem x,
                                 size_t x_off, cl_mem slope, size_t slope_off, cl_mem y,
                                 size_t y_off, cl_uint num_wait, const cl_event *wait,
                                 cl_event *done)
{
    chan_call c = {.fn = "lrelu_prelu_forward", .t = t, .l = l};
    ext_operand ops[3];
    lrelu_status st = chan_begin(ctx, &c, NULL, done);
    if (st != LRELU_OK)
        return st;
    op_init(&ops[0], "x", x, x_off, 0, 0);
    op_init(&ops[1], "slope", slope, slope_off, 0, 0);
    op_init(&ops[2], "y", y, y_off, 1, 1u);
    ops[2].optional = 0;
    return chan_forward(ctx, &c, ops, num_wait, wait, done);
}

lrelu_status lrelu_prelu_backward(lrelu_ctx *ctx, lrelu_dtype t, lrelu_layout l, cl_mem x,
                                  size_t x_off, cl_mem slope, size_t slope_off, cl_mem dy,
                                  size_t dy_off, cl_mem dx, size_t dx_off, cl_mem dslope,
                                  size_t dslope_off, cl_uint num_wait, const cl_event *wait,
                                  cl_event *done)
{
    chan_call c = {.fn = "lrelu_prelu_backward", .t = t, .l = l};
    ext_operand ops[5];
    lrelu_status st = chan_begin(ctx, &c, NULL, done);
    if (st != LRELU_OK)
        return st;
    op_init(&ops[0], "x", x, x_off, 0, 0);
    op_init(&ops[1], "slope", slope, slope_off, 0, 0);
    op_init(&ops[2], "dy", dy, dy_off, 0, 0);
    op_init(&ops[3], "dx", dx, dx_off, 1, 1u | 4u);
    op_init(&ops[4], "dslope", dslope, dslope_off, 1, 0);
    return chan_backward(ctx, &c, ops, num_wait, wait, done);
}

lrelu_status lrelu_bias_act_forward(lrelu_ctx *ctx, lrelu_dtype t, lrelu_layout l, lrelu_bias_act p,
                                    cl_mem x, size_t x_off, cl_mem bias, size_t bias_off, cl_mem y,
                                    size_t y_off, cl_uint num_wait, const cl_event *wait,
                                    cl_event *done)
{
    chan_call c = {.fn = "lrelu_bias_act_forward", .t = t, .l = l, .mode = bias != NULL ? 1 : 2};
    ext_operand ops[3];
    lrelu_status st = chan_begin(ctx, &c, &p, done);
    if (st != LRELU_OK)
        return st;
    op_init(&ops[0], "x", x, x_off, 0, 0);
    op_init(&ops[1], "bias", bias, bias_off, 0, 0);
    ops[1].optional = 1;
    op_init(&ops[2], "y", y, y_off, 1, 1u);
    ops[2].optional = 0;
    return chan_forward(ctx, &c, ops, num_wait, wait, done);
}

lrelu_status lrelu_bias_act_backward(lrelu_ctx *ctx, lrelu_dtype t, lrelu_layout l,
                                     lrelu_bias_act p, cl_mem x, size_t x_off, cl_mem bias,
                                     size_t bias_off, cl_mem dy, size_t dy_off, cl_mem dx,
                                     size_t dx_off, cl_mem dbias, size_t dbias_off,
                                     cl_uint num_wait, const cl_event *wait, cl_event *done)
{
    chan_call c = {.fn = "lrelu_bias_act_backward", .t = t, .l = l, .mode = bias != NULL ? 1 : 2};
    ext_operand ops[5];
    lrelu_status st = chan_begin(ctx, &c, &p, done);
    if (st != LRELU_OK)
        return st;
    op_init(&ops[0], "x", x, x_off, 0, 0);
    op_init(&ops[1], "bias", bias, bias_off, 0, 0);
    ops[1].optional = 1;
    op_init(&ops[2], "dy", dy, dy_off, 0, 0);
    op_init(&ops[3], "dx", dx, dx_off, 1, 1u | 4u);
    op_init(&ops[4], "dbias", dbias, dbias_off, 1, 0);
    return chan_backward(ctx, &c, ops, num_wait, wait, done);
}
