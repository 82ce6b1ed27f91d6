/* q8.c: the host-memory int8 forward: in-process through the copy's vectorized loop
 * where a plain f32 call of as many bytes would run there, else on the device (streamed
 * in chunks on the copying path). */
#include "hostmem/hostmem.h"

typedef struct {
    lrelu_qtype t;
    double alpha;
    lrelu_quant in, out;
    lrelu_q8_args a; /* the same, as the kernel takes them */
} q8_call;

static lrelu_status q8_device(lrelu_ctx *ctx, const void *call, const lrelu_array *ops,
                              cl_event *done)
{
    const q8_call *c = call;
    return lrelu_forward_q8(ctx, c->t, ops[0].n, c->alpha, c->in, c->out, ops[0].mem, ops[0].off,
                            ops[1].mem, ops[1].off, 0, NULL, done);
}

static void q8_ref(const void *call, const lrelu_array *ops)
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

/* Streaming from the plain calls' size on. */
static int q8_inprocess(lrelu_ctx *ctx, const void *call, const lrelu_array *o, size_t bytes)
{
    const q8_call *c = call;
    int stream = lrelu_inprocess_streams(ctx, bytes, o[1].ptr, o[0].ptr, NULL);
    q8_job j = {stream ? ctx->cpu->q8_stream : ctx->cpu->q8, c->t, c->a, o[0].ptr,
                (int8_t *)o[1].ptr};
    lrelu_inprocess_run(ctx, ctx->crew_bytes[LRELU_F32], o[0].n, 1, bytes, q8_body, &j);
    return 1;
}

/* A chunk on the copying path: the kernel on the ctx's queue. */
static lrelu_status q8_chunk(lrelu_ctx *ctx, const lrelu_piped *c, const lrelu_chunk *k, cl_uint nw,
                             const cl_event *wait, cl_event *done)
{
    const q8_call *q = c->call;
    return lrelu_forward_q8(ctx, q->t, k->m, q->alpha, q->in, q->out, k->dev[0], 0, k->dev[1], 0,
                            nw, wait, done);
}

static lrelu_status q8_piped(lrelu_ctx *ctx, const void *call, const lrelu_array *ops, int *taken)
{
    lrelu_piped c = {.ops = ops,
                     .nops = 2,
                     .out = 1,
                     .ctx_queue = 1,
                     .es = 1,
                     .n = ops[0].n,
                     .chunk = lrelu_piped_chunk(ctx, 1),
                     .kernel = q8_chunk,
                     .call = call};
    *taken = 1;
    return lrelu_piped_run(ctx, &c);
}

lrelu_status lrelu_q8_host(lrelu_ctx *ctx, const char *fn, lrelu_qtype t, size_t n, double alpha,
                           lrelu_quant in, lrelu_quant out, const void *x, void *y,
                           lrelu_host_mode mode)
{
    lrelu_q8_args a;
    lrelu_status st = lrelu_check_q8(ctx, fn, t, alpha, in, out, &a);
    if (st != LRELU_OK)
        return st;
    lrelu_array ops[2] = {{.name = "x", .ptr = x, .n = n},
                          {.name = "y", .ptr = y, .n = n, .out = 1, .alias = 1u}};
    q8_call c = {t, alpha, in, out, a};
    static const lrelu_arrays_ways ways = {q8_device, q8_ref, q8_inprocess, q8_piped};
    return lrelu_arrays_run(ctx, fn, LRELU_F32, 1, n, ops, 2, LRELU_HOST_Q8, &ways, &c, mode);
}

lrelu_status lrelu_forward_q8_host(lrelu_ctx *ctx, lrelu_qtype t, size_t n, double alpha,
                                   lrelu_quant in, lrelu_quant out, const void *x, void *y)
{
    return lrelu_q8_host(ctx, "lrelu_forward_q8_host", t, n, alpha, in, out, x, y, LRELU_HOST_RUN);
}
