/* elementwise.c: the blocking host-memory API of the elementwise calls. Checks the
 * arrays, then runs them where route.c says: in-process, or through the device in chunks
 * no larger than the device's largest allocation, one of two ways:
 * - zero copy, where the device works on host memory (CL_DEVICE_HOST_UNIFIED_MEMORY:
 *   PoCL, integrated GPUs): each chunk of the caller's arrays is wrapped in a
 *   CL_MEM_USE_HOST_PTR buffer that starts at the chunk rounded down to
 *   CL_DEVICE_MEM_BASE_ADDR_ALIGN, the kernel's element offset making up the difference,
 *   and a map of the output makes the result visible to the host;
 * - copying, elsewhere: through pinned staging (pipeline.c), write the inputs, run the
 *   kernel, read the output.
 * Works on in-order and out-of-order queues alike: each step waits on the event of the
 * one before. Strided views (the _ex calls) are wrapped over their span on the first
 * path and gathered into (and scattered from) contiguous pinned memory on the second, so
 * the elements between them are never written. */
#include "hostmem/hostmem.h"

#include <stdint.h>
#include <string.h>

/* Bytes from a view's first element to the end of its n-th. */
static size_t span_bytes(const lrelu_operand *o, size_t n, size_t es)
{
    return ((n - 1) * o->inc + 1) * es;
}

/* A chunk's kernel on the copying path (pipeline.c), on the pipeline's queue: the
 * device buffers are contiguous, the kernel blends, the host's copies stride. */
typedef struct {
    lrelu_op op;
    lrelu_dtype t;
    double alpha;
    lrelu_opts dev;
} ew_piped;

static lrelu_status ew_chunk(lrelu_ctx *ctx, const lrelu_piped *c, const lrelu_chunk *k, cl_uint nw,
                             const cl_event *wait, cl_event *done)
{
    const ew_piped *e = c->call;
    return lrelu_enqueue(ctx, k->q, e->op, e->t, k->m, e->alpha, &e->dev, k->dev[0], 0,
                         c->nops == 3 ? k->dev[1] : NULL, 0, k->dev[c->out], 0, nw, wait, done);
}

static lrelu_status run_copy(lrelu_ctx *ctx, lrelu_op op, lrelu_dtype t, size_t n, double alpha,
                             const lrelu_opts *o, const lrelu_operand *ops, int nops)
{
    ew_piped e = {op, t, alpha, *o};
    e.dev.src_stride = e.dev.dy_stride = e.dev.dst_stride = 1;
    size_t es = lrelu_dtype_size(t);
    lrelu_piped c = {.ops = ops,
                     .nops = nops,
                     .out = nops - 1,
                     .reads_out = (o->flags & LRELU_BLEND) && o->beta != 0,
                     .es = es,
                     .n = n,
                     .chunk = lrelu_piped_chunk(ctx, es),
                     .kernel = ew_chunk,
                     .call = &e};
    return lrelu_piped_run(ctx, &c);
}

/* Zero copy needs each distinct array wrapped once: two buffers over partly overlapping
 * host memory are undefined in OpenCL. Inputs may overlap each other (the API allows
 * it), and interleaved strided views share their spans, so such calls take the copying
 * path. Operands with the same pointer and stride share one buffer. */
static int can_wrap(const lrelu_operand *ops, int nops, size_t n, size_t es)
{
    for (int i = 0; i < nops; ++i)
        for (int j = i + 1; j < nops; ++j) {
            uintptr_t a = (uintptr_t)ops[i].ptr, b = (uintptr_t)ops[j].ptr;
            if (a == b && ops[i].inc == ops[j].inc)
                continue;
            if (a < b + span_bytes(&ops[j], n, es) && b < a + span_bytes(&ops[i], n, es))
                return 0;
        }
    return 1;
}

/* The zero-copy path: the caller's arrays, chunk by chunk, wrapped in place. */
static lrelu_status run_wrapped(lrelu_ctx *ctx, lrelu_op op, lrelu_dtype t, size_t n, double alpha,
                                const lrelu_opts *o, const lrelu_operand *ops, int nops,
                                size_t chunk)
{
    int reads_out = (o->flags & LRELU_BLEND) && o->beta != 0;
    lrelu_status st = LRELU_OK;
    size_t es = lrelu_dtype_size(t);
    cl_mem bufs[3] = {NULL, NULL, NULL};
    size_t offs[3] = {0, 0, 0};
    cl_event kev = NULL;
    cl_int err = CL_SUCCESS;
    for (size_t done = 0; done < n; done += chunk) {
        size_t m = n - done < chunk ? n - done : chunk;
        for (int i = 0; i < nops; ++i) {
            int same = -1; /* an operand equal to an earlier one shares its buffer */
            for (int j = 0; j < i; ++j)
                if (ops[j].ptr == ops[i].ptr)
                    same = j;
            if (same >= 0 && ops[same].inc == ops[i].inc) {
                bufs[i] = bufs[same];
                LRELU_CL(clRetainMemObject(bufs[i]));
                offs[i] = offs[same];
                continue;
            }
            /* Rounding down stays within the page of the array's first byte (pages are
             * multiples of the alignment); nothing before the array is ever written. */
            uintptr_t p = (uintptr_t)ops[i].ptr + done * ops[i].inc * es;
            uintptr_t base = p / ctx->base_align * ctx->base_align;
            offs[i] = (size_t)(p - base) / es;
            /* The first operand at this address decides the buffer for all that share
             * it (in place: the output is an input), so look at all of them. */
            int read = 0, written = ops[nops - 1].ptr == ops[i].ptr;
            for (int j = 0; j < nops - 1; ++j)
                read |= ops[j].ptr == ops[i].ptr;
            read |= written && reads_out;
            cl_mem_flags flags = CL_MEM_USE_HOST_PTR | (!written ? CL_MEM_READ_ONLY
                                                        : read   ? CL_MEM_READ_WRITE
                                                                 : CL_MEM_WRITE_ONLY);
            bufs[i] =
                clCreateBuffer(ctx->context, flags, (size_t)(p - base) + span_bytes(&ops[i], m, es),
                               (void *)base, &err);
            LRELU_CL_AS(err, "clCreateBuffer");
        }
        st = lrelu_enqueue(ctx, ctx->queue, op, t, m, alpha, o, bufs[0], offs[0],
                           nops == 3 ? bufs[1] : NULL, offs[1], bufs[nops - 1], offs[nops - 1], 0,
                           NULL, &kev);
        if (st != LRELU_OK)
            goto cleanup;
        /* Mapping the output after the kernel is what makes its writes visible to the
         * host; on a unified device it is a pointer return. */
        /* Kernel, map and unmap are chained by events and waited for once: every host
         * wait costs a round trip through the driver's threads. */
        size_t out_off = offs[nops - 1] * es;
        cl_event mev = NULL, uev = NULL;
        void *mapped =
            clEnqueueMapBuffer(ctx->queue, bufs[nops - 1], CL_FALSE, CL_MAP_READ, out_off,
                               span_bytes(&ops[nops - 1], m, es), 1, &kev, &mev, &err);
        LRELU_CL_AS(err, "clEnqueueMapBuffer");
        err = clEnqueueUnmapMemObject(ctx->queue, bufs[nops - 1], mapped, 1, &mev, &uev);
        (void)clReleaseEvent(mev);
        LRELU_CL_AS(err, "clEnqueueUnmapMemObject");
        err = clWaitForEvents(1, &uev);
        (void)clReleaseEvent(uev);
        LRELU_CL_AS(err, "clWaitForEvents");
        (void)clReleaseEvent(kev);
        kev = NULL;
        for (int i = 0; i < nops; ++i) {
            (void)clReleaseMemObject(bufs[i]);
            bufs[i] = NULL;
        }
    }
cleanup:
    if (st != LRELU_OK)
        (void)clFinish(ctx->queue);
    if (kev != NULL)
        (void)clReleaseEvent(kev);
    for (int i = 0; i < 3; ++i)
        if (bufs[i] != NULL)
            (void)clReleaseMemObject(bufs[i]);
    return st;
}

/* A plain call in-process: its loop over elements [first, first + n). */
typedef struct {
    lrelu_cpu_fn fn;
    lrelu_dtype t;
    double alpha;
    const char *s, *v;
    char *out;
} plain_job;

static void plain_body(const void *job, size_t first, size_t n)
{
    const plain_job *j = job;
    size_t at = first * lrelu_dtype_size(j->t);
    j->fn(j->t, n, j->alpha, NULL, j->s + at, j->v + at, j->out + at);
}

/* A plain call in-process: the loops of cpu/, over the crew's threads from crew_bytes
 * on. The backward does not stream (docs/performance.md). */
static void run_inprocess(lrelu_ctx *ctx, lrelu_dtype t, size_t n, size_t bytes, double alpha,
                          const lrelu_operand *ops, int nops)
{
    void *out = (void *)ops[nops - 1].ptr;
    int stream = nops == 2 && lrelu_inprocess_streams(ctx, bytes, out, ops[0].ptr, NULL);
    plain_job j = {lrelu_inprocess_loop(ctx, stream), t,  alpha, ops[0].ptr,
                   ops[nops == 3 ? 1 : 0].ptr,        out};
    lrelu_inprocess_run(ctx, ctx->crew_bytes[t], n, lrelu_dtype_size(t), bytes, plain_body, &j);
}

/* A call that blends or strides in-process: the reference's loop, bit for bit the
 * general kernel's results (such calls are rarely small and hot). */
static void run_reference(lrelu_op op, lrelu_dtype t, size_t n, double alpha, const lrelu_opts *o,
                          const lrelu_operand *ops, int nops)
{
    void *out = (void *)ops[nops - 1].ptr;
    if (op == LRELU_OP_FORWARD)
        lrelu_ref_forward_ex(t, n, alpha, o, ops[0].ptr, out);
    else if (op == LRELU_OP_BACKWARD)
        lrelu_ref_backward_ex(t, n, alpha, o, ops[0].ptr, ops[1].ptr, out);
    else
        lrelu_ref_backward_from_output_ex(t, n, alpha, o, ops[0].ptr, ops[1].ptr, out);
}

lrelu_status lrelu_ew_host(lrelu_ctx *ctx, const char *fn, lrelu_op op, lrelu_dtype t, size_t n,
                           double alpha, const lrelu_opts *opts, const void *in0, const void *in1,
                           void *out, lrelu_host_mode mode)
{
    /* the inputs, then the output */
    lrelu_operand ops[3] = {{.name = op == LRELU_OP_BACKWARD_FROM_OUTPUT ? "y" : "x", .ptr = in0},
                            {.name = op == LRELU_OP_FORWARD ? "y" : "dy", .ptr = in1},
                            {.name = "dx", .ptr = out}};
    int nops = 3;
    if (op == LRELU_OP_FORWARD) {
        ops[1].ptr = out;
        nops = 2;
    }
    lrelu_status st = lrelu_check_elementwise(ctx, fn, op, t, alpha, opts);
    if (st != LRELU_OK)
        return st;
    lrelu_opts o = lrelu_opts_resolve(opts);
    lrelu_elementwise_operands(&o, n, ops, nops);
    size_t es = lrelu_dtype_size(t);
    lrelu_checked c = {fn, t, es, n, 1, 0, NULL, ops, nops};
    if ((st = lrelu_check_operands(ctx, &c)) != LRELU_OK || n == 0 || mode == LRELU_HOST_CHECK)
        return st;
    /* n * es fits the address space (checked); nops times it may not: saturate */
    size_t bytes = n * es > SIZE_MAX / (size_t)nops ? SIZE_MAX : n * es * (size_t)nops;
    lrelu_host_call hc = {lrelu_opts_plain(&o) ? LRELU_HOST_PLAIN : LRELU_HOST_EX, t, bytes,
                          can_wrap(ops, nops, n, es)};
    lrelu_route r = lrelu_route_host(ctx, &hc);
    if (r == LRELU_ROUTE_INPROCESS) {
        run_inprocess(ctx, t, n, bytes, alpha, ops, nops);
        return LRELU_OK;
    }
    if (r == LRELU_ROUTE_REFERENCE) {
        run_reference(op, t, n, alpha, &o, ops, nops);
        return LRELU_OK;
    }
    if (r == LRELU_ROUTE_ZERO_COPY) {
        size_t chunk = ctx->host_chunk_bytes / es > 0 ? ctx->host_chunk_bytes / es : 1;
        /* room for the rounding down in front of each chunk, and for its span */
        size_t inc = 1;
        for (int i = 0; i < nops; ++i)
            inc = ops[i].inc > inc ? ops[i].inc : inc;
        /* (es and inc are never 0; the analyzer cannot know) */
        size_t room = ((size_t)ctx->max_alloc - ctx->base_align) / (es ? es : 1) / (inc ? inc : 1);
        if (chunk > room)
            chunk = room > 0 ? room : 1;
        return run_wrapped(ctx, op, t, n, alpha, &o, ops, nops, chunk > n ? n : chunk);
    }
    return run_copy(ctx, op, t, n, alpha, &o, ops, nops);
}

lrelu_status lrelu_forward_host_ex(lrelu_ctx *ctx, lrelu_dtype t, size_t n, double alpha,
                                   const lrelu_opts *opts, const void *x, void *y)
{
    return lrelu_ew_host(ctx, "lrelu_forward_host", LRELU_OP_FORWARD, t, n, alpha, opts, x, NULL, y,
                         LRELU_HOST_RUN);
}

lrelu_status lrelu_backward_host_ex(lrelu_ctx *ctx, lrelu_dtype t, size_t n, double alpha,
                                    const lrelu_opts *opts, const void *x, const void *dy, void *dx)
{
    return lrelu_ew_host(ctx, "lrelu_backward_host", LRELU_OP_BACKWARD, t, n, alpha, opts, x, dy,
                         dx, LRELU_HOST_RUN);
}

lrelu_status lrelu_backward_from_output_host_ex(lrelu_ctx *ctx, lrelu_dtype t, size_t n,
                                                double alpha, const lrelu_opts *opts, const void *y,
                                                const void *dy, void *dx)
{
    return lrelu_ew_host(ctx, "lrelu_backward_from_output_host", LRELU_OP_BACKWARD_FROM_OUTPUT, t,
                         n, alpha, opts, y, dy, dx, LRELU_HOST_RUN);
}

lrelu_status lrelu_forward_host(lrelu_ctx *ctx, lrelu_dtype t, size_t n, double alpha,
                                const void *x, void *y)
{
    return lrelu_forward_host_ex(ctx, t, n, alpha, NULL, x, y);
}

lrelu_status lrelu_backward_host(lrelu_ctx *ctx, lrelu_dtype t, size_t n, double alpha,
                                 const void *x, const void *dy, void *dx)
{
    return lrelu_backward_host_ex(ctx, t, n, alpha, NULL, x, dy, dx);
}

lrelu_status lrelu_backward_from_output_host(lrelu_ctx *ctx, lrelu_dtype t, size_t n, double alpha,
                                             const void *y, const void *dy, void *dx)
{
    return lrelu_backward_from_output_host_ex(ctx, t, n, alpha, NULL, y, dy, dx);
}
