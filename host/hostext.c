/* hostext.c: the host-memory versions of the quantized and per-channel calls. Each
 * array is wrapped whole in a buffer (zero copy where the device works on host memory,
 * else copied in and read back), the device call runs on the ctx's queue, and the
 * outputs are made visible to the host before returning. No streaming: each array must
 * fit one device allocation. On a CPU device the per-channel calls and the int8 forward
 * run in-process through vectorized loops wherever the plain calls would (bias_act's
 * forward over short rows below the streaming size; see chan_inprocess and
 * q8_inprocess); other small calls run the reference's loop in-process (bit for bit the
 * kernels' results; see inprocess_ref). */
#include "internal.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* One host array of a call. alias: bit mask of the inputs an output may be the very
 * same array of (in place). */
typedef struct {
    const char *name;
    const void *ptr;
    size_t n;   /* elements */
    cl_mem mem; /* set by shim_run: the buffer ... */
    size_t off; /* ... and the elements from its start */
    int out;
    int optional;
    unsigned alias;
    int owner; /* set by shim_run: whether mem is this operand's own (else shared, in place) */
} shim_op;

/* Runs the device call on the wrapped operands; fills `done`. */
typedef lrelu_status (*shim_call)(lrelu_ctx *ctx, const void *call, const shim_op *ops,
                                  cl_event *done);
/* Runs the reference's loop on the host operands (in-process). */
typedef void (*shim_ref)(const void *call, const shim_op *ops);
/* Runs the call in-process by a faster way than the reference, if it has one and the
 * call moving `bytes` qualifies; returns whether it did. */
typedef int (*shim_fast)(lrelu_ctx *ctx, const void *call, const shim_op *ops, size_t bytes);

/* Whether a call of n elements moving `bytes` runs in-process: on a CPU device up to
 * 2^14 elements, where the reference's scalar loop (about 4 ns an element here) beat
 * PoCL's round trip (2^14 f32 PReLU forward 62 us against 150, backward 110 against
 * 227; 2^16 245 against 182); $LRELU_HOST_INPROCESS_BYTES, where set, decides by bytes
 * instead, as for the plain calls. */
static int inprocess_ref(const lrelu_ctx *ctx, size_t n, size_t bytes)
{
    if (ctx->inprocess_set)
        return bytes <= ctx->inprocess_bytes[LRELU_F32];
    return ctx->host_cpu && n <= ((size_t)1 << 14);
}

static lrelu_status check_ptrs(const char *fn, size_t es, shim_op *ops, int nops)
{
    for (int i = 0; i < nops; ++i) {
        if (ops[i].ptr == NULL && !ops[i].optional)
            return lrelu_fail(LRELU_ERR_INVALID_ARG, "%s: %s is NULL", fn, ops[i].name);
        if (ops[i].ptr != NULL && (uintptr_t)ops[i].ptr % es != 0)
            return lrelu_fail(LRELU_ERR_INVALID_ARG,
                              "%s: %s %p is not aligned to its %zu-byte elements", fn, ops[i].name,
                              ops[i].ptr, es);
    }
    return LRELU_OK;
}

static lrelu_status check_extents(const char *fn, size_t es, shim_op *ops, int nops)
{
    for (int i = 0; i < nops; ++i)
        if (ops[i].ptr != NULL && ops[i].n > (UINTPTR_MAX - (uintptr_t)ops[i].ptr) / es)
            return lrelu_fail(LRELU_ERR_OUT_OF_RANGE,
                              "%s: %s's %zu elements overflow size_t or run past the address space",
                              fn, ops[i].name, ops[i].n);
    for (int i = 0; i < nops; ++i)
        for (int j = 0; j < nops && ops[i].out && ops[i].ptr != NULL; ++j) {
            if (j == i || ops[j].ptr == NULL || (ops[j].out && j > i) || ops[j].n == 0 ||
                ops[i].n == 0)
                continue;
            uintptr_t a = (uintptr_t)ops[i].ptr, b = (uintptr_t)ops[j].ptr;
            uintptr_t ea = a + ops[i].n * es, eb = b + ops[j].n * es;
            if (a == b && ops[i].n == ops[j].n && (ops[i].alias >> j & 1u))
                continue;
            if (a < eb && b < ea)
                return lrelu_fail(
                    LRELU_ERR_OVERLAP, "%s: output %s (%p, %zu elements) overlaps %s (%p, %zu)%s",
                    fn, ops[i].name, ops[i].ptr, ops[i].n, ops[j].name, ops[j].ptr, ops[j].n,
                    (ops[i].alias >> j & 1u) ? "; only the very same array is allowed" : "");
        }
    return LRELU_OK;
}

/* Wraps operand i: the very same array as an earlier input shares its buffer, which
 * spans the longest of the operands that are that array (inputs may be one array at
 * different lengths: PReLU's slopes the first elements of dy, say). */
static lrelu_status wrap(lrelu_ctx *ctx, const char *fn, size_t es, shim_op *ops, int nops, int i)
{
    shim_op *o = &ops[i];
    for (int j = 0; j < i; ++j)
        if (ops[j].ptr == o->ptr && ops[j].mem != NULL) {
            o->mem = ops[j].mem;
            o->off = ops[j].off;
            return LRELU_OK;
        }
    size_t n = o->n;
    for (int j = i + 1; j < nops; ++j)
        n = ops[j].ptr == o->ptr && ops[j].n > n ? ops[j].n : n;
    size_t bytes = n * es;
    if (bytes > ctx->max_alloc)
        return lrelu_fail(LRELU_ERR_OUT_OF_MEMORY,
                          "%s: %s's %zu bytes exceed the device's largest allocation (%llu); the "
                          "per-channel and quantized host calls do not stream",
                          fn, o->name, bytes, (unsigned long long)ctx->max_alloc);
    cl_int err = CL_SUCCESS;
    if (ctx->zero_copy) {
        uintptr_t p = (uintptr_t)o->ptr, base = p - p % ctx->base_align;
        o->off = (p - base) / es;
        o->mem = clCreateBuffer(ctx->context, CL_MEM_USE_HOST_PTR | CL_MEM_READ_WRITE,
                                bytes + (p - base), (void *)base, &err);
    } else {
        o->off = 0; /* READ_WRITE: an output may share an input's buffer */
        o->mem =
            clCreateBuffer(ctx->context, CL_MEM_READ_WRITE | (o->out ? 0 : CL_MEM_COPY_HOST_PTR),
                           bytes, o->out ? NULL : (void *)o->ptr, &err);
    }
    if (err != CL_SUCCESS) {
        o->mem = NULL;
        return lrelu_cl_fail(err, "clCreateBuffer", __FILE__, __LINE__);
    }
    o->owner = 1;
    return LRELU_OK;
}

/* The checks after the call's own (INVALID_ARG for its parameters), then the device
 * call on wrapped arrays and the outputs brought back. n is the data operands' count. */
static lrelu_status shim_run(lrelu_ctx *ctx, const char *fn, lrelu_dtype t, size_t es, size_t n,
                             shim_op *ops, int nops, shim_call f, shim_ref ref, shim_fast fast,
                             const void *call)
{
    lrelu_status st = check_ptrs(fn, es, ops, nops);
    if (st == LRELU_OK && t == LRELU_F64 && !ctx->has_fp64)
        st = lrelu_fail(LRELU_ERR_UNSUPPORTED, "%s: the device has no fp64 (cl_khr_fp64)", fn);
    if (st == LRELU_OK && n > 0)
        st = check_extents(fn, es, ops, nops);
    if (st != LRELU_OK || n == 0)
        return st;
    size_t moved = 0;
    for (int i = 0; i < nops; ++i)
        moved += ops[i].ptr != NULL ? ops[i].n * es : 0;
    if (fast != NULL && fast(ctx, call, ops, moved))
        return LRELU_OK;
    if (inprocess_ref(ctx, n, moved)) {
        ref(call, ops);
        return LRELU_OK;
    }
    cl_event done = NULL;
    for (int i = 0; i < nops && st == LRELU_OK; ++i)
        if (ops[i].ptr != NULL)
            st = wrap(ctx, fn, es, ops, nops, i);
    if (st == LRELU_OK)
        st = f(ctx, call, ops, &done);
    for (int i = 0; i < nops && st == LRELU_OK; ++i) {
        if (!ops[i].out || ops[i].ptr == NULL)
            continue;
        cl_int err = CL_SUCCESS;
        const char *what = "clEnqueueReadBuffer";
        size_t bytes = ops[i].n * es;
        if (ctx->zero_copy) {
            what = "clEnqueueMapBuffer";
            void *m = clEnqueueMapBuffer(ctx->queue, ops[i].mem, CL_TRUE, CL_MAP_READ,
                                         ops[i].off * es, bytes, 1, &done, NULL, &err);
            if (err == CL_SUCCESS) {
                what = "clEnqueueUnmapMemObject";
                err = clEnqueueUnmapMemObject(ctx->queue, ops[i].mem, m, 0, NULL, NULL);
            }
        } else {
            err = clEnqueueReadBuffer(ctx->queue, ops[i].mem, CL_TRUE, ops[i].off * es, bytes,
                                      (void *)ops[i].ptr, 1, &done, NULL);
        }
        if (err != CL_SUCCESS)
            st = lrelu_cl_fail(err, what, __FILE__, __LINE__);
    }
    if (st == LRELU_OK && ctx->zero_copy) {
        cl_int err = clFinish(ctx->queue);
        if (err != CL_SUCCESS)
            st = lrelu_cl_fail(err, "clFinish", __FILE__, __LINE__);
    }
    if (done != NULL) {
        if (st != LRELU_OK)
            (void)clWaitForEvents(1, &done); /* nothing may still use the caller's arrays */
        (void)clReleaseEvent(done);
    }
    for (int i = 0; i < nops; ++i)
        if (ops[i].owner)
            (void)clReleaseMemObject(ops[i].mem);
    return st;
}

/* ---------------------------------------------------------------------------- q8 */

typedef struct {
    lrelu_qtype t;
    double alpha;
    lrelu_quant in, out;
    lrelu_q8_args a; /* the same, as the kernel takes them */
} q8_call;

static lrelu_status q8_device(lrelu_ctx *ctx, const void *call, const shim_op *ops, cl_event *done)
{
    const q8_call *c = call;
    return lrelu_forward_q8(ctx, c->t, ops[0].n, c->alpha, c->in, c->out, ops[0].mem, ops[0].off,
                            ops[1].mem, ops[1].off, 0, NULL, done);
}

static void q8_ref(const void *call, const shim_op *ops)
{
    const q8_call *c = call;
    lrelu_ref_forward_q8(c->t, ops[0].n, c->alpha, c->in, c->out, ops[0].ptr, (void *)ops[1].ptr);
}

/* The int8 forward in-process over elements [first, first + n): the copy's vectorized
 * loop, the same operations in the same order as the reference and the kernel. */
typedef struct {
    lrelu_cpu_q8_fn fn;
    lrelu_qtype t;
    lrelu_q8_args a;
    const int8_t *x;
    int8_t *y;
} q8_job;

static void q8_body(const void *job, size_t first, size_t n)
{
    const q8_job *j = job;
    j->fn(j->t, n, &j->a, j->x + first, j->y + first);
}

/* Where a plain f32 call of as many bytes runs in-process, streaming from the same size
 * on. */
static int q8_inprocess(lrelu_ctx *ctx, const void *call, const shim_op *o, size_t bytes)
{
    const q8_call *c = call;
    if (bytes > ctx->inprocess_bytes[LRELU_F32])
        return 0;
    int stream = lrelu_inprocess_streams(ctx, bytes, o[1].ptr, o[0].ptr, NULL);
    q8_job j = {stream ? ctx->cpu->q8_stream : ctx->cpu->q8, c->t, c->a, o[0].ptr,
                (int8_t *)o[1].ptr};
    lrelu_inprocess_run(ctx, ctx->crew_bytes[LRELU_F32], o[0].n, 1, bytes, q8_body, &j);
    return 1;
}

lrelu_status lrelu_forward_q8_host(lrelu_ctx *ctx, lrelu_qtype t, size_t n, double alpha,
                                   lrelu_quant in, lrelu_quant out, const void *x, void *y)
{
    const char *fn = "lrelu_forward_q8_host";
    lrelu_q8_args a;
    lrelu_status st = lrelu_q8_check(ctx, fn, t, alpha, in, out, &a);
    if (st != LRELU_OK)
        return st;
    shim_op ops[2] = {{.name = "x", .ptr = x, .n = n},
                      {.name = "y", .ptr = y, .n = n, .out = 1, .alias = 1u}};
    q8_call c = {t, alpha, in, out, a};
    return shim_run(ctx, fn, LRELU_F32, 1, n, ops, 2, q8_device, q8_ref, q8_inprocess, &c);
}

/* ---------------------------------------------------------------------- channels */

typedef struct {
    lrelu_dtype t;
    lrelu_layout l;
    int bias_act; /* else PReLU */
    int backward;
    lrelu_bias_act p;
} chan_host;

/* The device calls check the parameters again (cheap) and the wrapped buffers. */
static lrelu_status chan_fwd_device(lrelu_ctx *ctx, const void *call, const shim_op *o,
                                    cl_event *done)
{
    const chan_host *c = call;
    if (c->bias_act)
        return lrelu_bias_act_forward(ctx, c->t, c->l, c->p, o[0].mem, o[0].off, o[1].mem, o[1].off,
                                      o[2].mem, o[2].off, 0, NULL, done);
    return lrelu_prelu_forward(ctx, c->t, c->l, o[0].mem, o[0].off, o[1].mem, o[1].off, o[2].mem,
                               o[2].off, 0, NULL, done);
}

static lrelu_status chan_bwd_device(lrelu_ctx *ctx, const void *call, const shim_op *o,
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

static void chan_fwd_ref(const void *call, const shim_op *o)
{
    const chan_host *c = call;
    if (c->bias_act)
        lrelu_ref_bias_act_forward(c->t, c->l, c->p, o[0].ptr, o[1].ptr, (void *)o[2].ptr);
    else
        lrelu_ref_prelu_forward(c->t, c->l, o[0].ptr, o[1].ptr, (void *)o[2].ptr);
}

static void chan_bwd_ref(const void *call, const shim_op *o)
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
 * where the layout suits (cpu_rows.h), else a block at a time with the values laid out
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
 * they go a block at a time through the loops that take a value per element. Before the
 * row loops, a call per 64-element row took 1.7-2.5 x the plain call's time and kept such
 * rows from the non-temporal stores (which write whole 4 KiB blocks); blocks of 8 KiB
 * took 1.1-1.3 x on one thread (8 against 16 and 32 KiB: 2^16 f32 7.1 against 9.0 and
 * 9.2 us, 2^18 32 against 42 and 42 us). */
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
static int chan_bwd_inprocess(lrelu_ctx *ctx, const chan_host *c, const shim_op *o, size_t bytes)
{
    size_t C = c->l.channels, m = c->l.outer * c->l.inner;
    size_t inner = C == 1 ? m : c->l.inner, nb = (m + LRELU_RBLOCK - 1) / LRELU_RBLOCK;
    size_t cs = c->t == LRELU_F64 ? 8 : 4;
    if (C == 0 || nb == 0)
        return 0; /* never: shim_run returns first where there is nothing to do */
    /* channels last: groups as wide as the accumulators allow, so that a block's rows are
     * read once (at 2^22 f32 over 256 channels groups of 64 took 1.9 x the time of one
     * group), but narrower where a few blocks would leave too few units to share */
    size_t cols = inner != 1 ? 0 : nb >= 4 ? LRELU_CBWD_COLS : 64;
    /* several channels: a unit takes blocks of every channel of a group (all up to 256),
     * reading rows in memory order; a block of one channel, its segments 2 KiB apart at
     * (n/1024, 16, 64) f16, ran at a third of the kernels' speed from 2^24, and at (N,
     * 16, 300) f32 (blocks over two rows) at a third of a plain call's */
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

/* Where the plain calls of as many bytes run in-process (host/context.c: on a CPU device
 * with the wide loops, every size), PReLU's forward and its backward without dslope
 * (dx = x > 0 ? dy : dy * slope), and bias_act's forward, run by rows where the layout
 * suits, PReLU's streaming as the plain forward does (not bf16's forward); other layouts
 * lay their values out per element (chan_body), and bias_act's then only below the plain
 * calls' streaming size (the kernels are as fast there). The backwards with the sums,
 * and bias_act's, run chan_bwd_inprocess at every such size: at 2^24 f32 it took 0.5-1.05
 * x the kernels' time. */
static int chan_inprocess(lrelu_ctx *ctx, const void *call, const shim_op *o, size_t bytes)
{
    const chan_host *c = call;
    int bwd = c->backward;
    if (bytes > ctx->inprocess_bytes[c->t])
        return 0;
    if (bwd && (c->bias_act || o[4].ptr != NULL))
        return chan_bwd_inprocess(ctx, c, o, bytes);
    /* by rows: rows of whole vectors, or a row's channels as they lie where there are
     * enough (PReLU's rows of channels run the loop with a slope per element, a call
     * each: 64 and more); bias_act without a bias is one row */
    size_t inner = c->l.inner, C = c->l.channels;
    /* bias_act's forward and bf16's PReLU forward do not stream: with non-temporal stores
     * they took 1.03-1.43 x (bias_act: f32, f16, bf16) and 1.02-1.50 x (bf16 PReLU) the
     * time of cached ones at 2^24-2^26, two ctxs alternated; the f32 and f16 PReLU
     * forwards 0.84-1.06 x, PReLU's dx alone 0.87-0.92 x (f32, bf16) */
    int stream =
        !c->bias_act && !(c->t == LRELU_BF16 && !bwd) &&
        lrelu_inprocess_streams(ctx, bytes, o[bwd ? 3 : 2].ptr, o[0].ptr, o[bwd ? 2 : 0].ptr);
    int by_rows = inner >= 8 || (inner == 1 && C >= (c->bias_act ? 16 : 64)) ||
                  (c->bias_act && o[1].ptr == NULL);
    if (c->bias_act && bytes >= ctx->stream_bytes && !by_rows)
        return 0; /* the kernels are as fast there */
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
    if (ctx == NULL)
        return lrelu_fail(LRELU_ERR_INVALID_ARG, "%s: ctx is NULL", fn);
    if (lrelu_dtype_size(c->t) == 0)
        return lrelu_fail(LRELU_ERR_INVALID_ARG, "%s: dtype %d is not an lrelu_dtype", fn,
                          (int)c->t);
    if (c->bias_act) {
        lrelu_status st = lrelu_check_bias_act(fn, c->t, c->p);
        if (st != LRELU_OK)
            return st;
    }
    *n = lrelu_layout_count(c->l);
    return LRELU_OK;
}

static lrelu_status chan_forward_host(lrelu_ctx *ctx, const char *fn, const chan_host *c,
                                      const void *x, const void *p, void *y)
{
    size_t n = 0;
    lrelu_status st = chan_head(ctx, fn, c, &n);
    if (st != LRELU_OK)
        return st;
    shim_op ops[3] = {{.name = "x", .ptr = x, .n = n},
                      {.name = c->bias_act ? "bias" : "slope",
                       .ptr = p,
                       .n = c->l.channels,
                       .optional = c->bias_act},
                      {.name = "y", .ptr = y, .n = n, .out = 1, .alias = 1u}};
    return shim_run(ctx, fn, c->t, lrelu_dtype_size(c->t), n, ops, 3, chan_fwd_device, chan_fwd_ref,
                    chan_inprocess, c);
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
    shim_op ops[5] = {{.name = "x", .ptr = x, .n = n},
                      {.name = c->bias_act ? "bias" : "slope",
                       .ptr = p,
                       .n = c->l.channels,
                       .optional = c->bias_act},
                      {.name = "dy", .ptr = dy, .n = n},
                      {.name = "dx", .ptr = dx, .n = n, .out = 1, .optional = 1, .alias = 1u | 4u},
                      {.name = ds_name, .ptr = ds, .n = c->l.channels, .out = 1, .optional = 1}};
    return shim_run(ctx, fn, c->t, lrelu_dtype_size(c->t), n, ops, 5, chan_bwd_device, chan_bwd_ref,
                    chan_inprocess, c);
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
