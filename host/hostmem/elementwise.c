/* elementwise.c: the blocking host-memory API of the elementwise calls. Checks the
 * arrays, then runs them where route.c says: in-process, or through the device in chunks
 * no larger than the device's largest allocation, one of two ways:
 * - zero copy, where the device works on host memory (CL_DEVICE_HOST_UNIFIED_MEMORY:
 *   PoCL, integrated GPUs): each chunk of the caller's arrays is wrapped in a
 *   CL_MEM_USE_HOST_PTR buffer that starts at the chunk rounded down to
 *   CL_DEVICE_MEM_BASE_ADDR_ALIGN, the kernel's element offset making up the difference,
 *   and a map of the output makes the result visible to the host;
 * - copying, elsewhere: through pinned staging, write the inputs, run the kernel, read
 *   the output.
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

/* Copies m elements of a host view of stride inc, from element `first` on, to or from
 * contiguous memory (to it when `gather`): a strided view crosses the bus as one
 * contiguous transfer of only its elements. */
static void move_host(void *contiguous, const lrelu_operand *o, size_t first, size_t m, size_t es,
                      int gather)
{
    char *view = (char *)o->ptr + first * o->inc * es, *c = contiguous;
    size_t step = o->inc * es;
    if (o->inc == 1) {
        if (gather)
            memcpy(c, view, m * es);
        else
            memcpy(view, c, m * es);
        return;
    }
    /* fixed sizes, so that each element is one load and one store */
    for (size_t i = 0; i < m; ++i, view += step, c += es) {
        if (es == 2)
            memcpy(gather ? c : view, gather ? view : c, 2);
        else if (es == 4)
            memcpy(gather ? c : view, gather ? view : c, 4);
        else
            memcpy(gather ? c : view, gather ? view : c, 8);
    }
}

/* The copying path's two queues, created on first use. */
static lrelu_status copy_queues(lrelu_ctx *ctx, cl_command_queue q[2])
{
    lrelu_status st = LRELU_OK;
    cl_int err = CL_SUCCESS;
    pthread_mutex_lock(&ctx->lock);
    for (int i = 0; i < 2 && st == LRELU_OK; ++i) {
        if (ctx->copy_queue[i] == NULL) {
            ctx->copy_queue[i] = clCreateCommandQueue(ctx->context, ctx->device, 0, &err);
            if (err != CL_SUCCESS) {
                ctx->copy_queue[i] = NULL;
                st = lrelu_cl_fail(err, "clCreateCommandQueue", __FILE__, __LINE__);
            }
        }
        q[i] = ctx->copy_queue[i];
    }
    pthread_mutex_unlock(&ctx->lock);
    return st;
}

void lrelu_stage_release(cl_command_queue q, lrelu_stage *s)
{
    for (int i = 0; i < 3; ++i) {
        if (s->host[i] != NULL)
            (void)clEnqueueUnmapMemObject(q, s->pin[i], s->host[i], 0, NULL, NULL);
        s->host[i] = NULL;
    }
    if (q != NULL)
        (void)clFinish(q);
    for (int i = 0; i < 3; ++i) {
        if (s->pin[i] != NULL)
            (void)clReleaseMemObject(s->pin[i]);
        if (s->dev[i] != NULL)
            (void)clReleaseMemObject(s->dev[i]);
        s->pin[i] = s->dev[i] = NULL;
    }
}

/* Operand i of a pipeline's staging, made where missing: a device buffer, and pinned host
 * memory (CL_MEM_ALLOC_HOST_PTR, mapped once for as long as it lives), which the driver
 * moves at the bus's speed where it would bounce pageable memory through buffers of its
 * own. */
static lrelu_status stage_make(lrelu_ctx *ctx, cl_command_queue q, size_t bytes, lrelu_stage *s,
                               int i)
{
    lrelu_status st = LRELU_OK;
    cl_int err = CL_SUCCESS;
    if (s->dev[i] == NULL) {
        s->dev[i] = clCreateBuffer(ctx->context, CL_MEM_READ_WRITE, bytes, NULL, &err);
        LRELU_CL_AS(err, "clCreateBuffer");
    }
    if (s->pin[i] == NULL) {
        s->pin[i] = clCreateBuffer(ctx->context, CL_MEM_READ_WRITE | CL_MEM_ALLOC_HOST_PTR, bytes,
                                   NULL, &err);
        LRELU_CL_AS(err, "clCreateBuffer");
    }
    if (s->host[i] == NULL) {
        s->host[i] = clEnqueueMapBuffer(q, s->pin[i], CL_TRUE, CL_MAP_READ | CL_MAP_WRITE, 0, bytes,
                                        0, NULL, NULL, &err);
        if (err != CL_SUCCESS)
            s->host[i] = NULL;
        LRELU_CL_AS(err, "clEnqueueMapBuffer");
    }
cleanup:
    return st;
}

/* Takes the ctx's staging when it is free, releasing it first where it is too small;
 * else leaves `stage` empty for the caller's own. Returns 1 when it is the ctx's. */
static int take_staging(lrelu_ctx *ctx, size_t bytes, const cl_command_queue q[2],
                        lrelu_stage stage[2])
{
    int mine = 0;
    pthread_mutex_lock(&ctx->lock);
    if (!ctx->staging_busy) {
        ctx->staging_busy = 1;
        mine = 1;
        if (ctx->staging_bytes < bytes) {
            for (int p = 0; p < 2; ++p)
                lrelu_stage_release(q[p], &ctx->staging[p]);
            ctx->staging_bytes = bytes;
        }
        memcpy(stage, ctx->staging, sizeof ctx->staging);
    }
    pthread_mutex_unlock(&ctx->lock);
    return mine;
}

static void give_back_staging(lrelu_ctx *ctx, const lrelu_stage stage[2])
{
    pthread_mutex_lock(&ctx->lock);
    memcpy(ctx->staging, stage, sizeof ctx->staging);
    ctx->staging_busy = 0;
    pthread_mutex_unlock(&ctx->lock);
}

/* A chunk whose output is on its way into a pipeline's pinned memory. */
typedef struct {
    cl_event read;
    size_t first, m;
} pending;

/* Waits for pipeline p's last output and copies it into the caller's array. */
static lrelu_status land(pending *w, const lrelu_stage *s, const lrelu_operand *out, int at,
                         size_t es)
{
    if (w->read == NULL)
        return LRELU_OK;
    cl_int err = clWaitForEvents(1, &w->read);
    (void)clReleaseEvent(w->read);
    w->read = NULL;
    if (err != CL_SUCCESS)
        return lrelu_cl_fail(err, "clWaitForEvents", __FILE__, __LINE__);
    move_host(s->host[at], out, w->first, w->m, es, 0);
    return LRELU_OK;
}

/* The copying path: chunk i goes through pipeline i % 2, each an in-order queue with
 * staging of its own. The host gathers the chunk's inputs into pinned memory, the queue
 * writes them to the device, runs the kernel and reads the output back into pinned
 * memory, flushed at once; the host scatters that output into the caller's array when
 * the pipeline comes round again, so one chunk's transfers overlap the other's kernel on
 * devices with copy engines, and the host's copies overlap both. Strided views cross the
 * bus as contiguous transfers of their elements. The staging stays with the ctx for the
 * next call: allocating and pinning memory costs more than the transfer on many
 * systems. */
static lrelu_status run_copy(lrelu_ctx *ctx, lrelu_op op, lrelu_dtype t, size_t n, double alpha,
                             const lrelu_opts *o, const lrelu_operand *ops, int nops, size_t chunk)
{
    /* the device buffers are contiguous: the kernel blends, the host's copies stride */
    lrelu_opts dev = *o;
    dev.src_stride = dev.dy_stride = dev.dst_stride = 1;
    int reads_out = (o->flags & LRELU_BLEND) && o->beta != 0, out = nops - 1;
    lrelu_status st = LRELU_OK;
    size_t es = lrelu_dtype_size(t);
    cl_command_queue q[2] = {NULL, NULL};
    lrelu_stage stage[2];
    pending wait[2] = {{NULL, 0, 0}, {NULL, 0, 0}};
    memset(stage, 0, sizeof stage);
    int pipes = n > chunk ? 2 : 1;
    if ((st = copy_queues(ctx, q)) != LRELU_OK)
        return st;
    size_t bytes = ctx->staging_bytes > chunk * es ? ctx->staging_bytes : chunk * es;
    int pooled = take_staging(ctx, bytes, q, stage);
    if (!pooled)
        bytes = chunk * es;
    for (int p = 0; p < pipes && st == LRELU_OK; ++p)
        for (int i = 0; i < nops && st == LRELU_OK; ++i)
            st = stage_make(ctx, q[p], bytes, &stage[p], i);
    for (size_t done = 0, c = 0; done < n && st == LRELU_OK; done += chunk, ++c) {
        size_t m = n - done < chunk ? n - done : chunk;
        int p = (int)(c % 2);
        lrelu_stage *s = &stage[p];
        if ((st = land(&wait[p], s, &ops[out], out, es)) != LRELU_OK)
            break;
        for (int i = 0; i < nops; ++i) {
            if (i == out && !reads_out)
                continue;
            move_host(s->host[i], &ops[i], done, m, es, 1);
            cl_int err = clEnqueueWriteBuffer(q[p], s->dev[i], CL_FALSE, 0, m * es, s->host[i], 0,
                                              NULL, NULL);
            if (err != CL_SUCCESS) {
                st = lrelu_cl_fail(err, "clEnqueueWriteBuffer", __FILE__, __LINE__);
                break;
            }
        }
        if (st == LRELU_OK)
            st = lrelu_enqueue(ctx, q[p], op, t, m, alpha, &dev, s->dev[0], 0,
                               nops == 3 ? s->dev[1] : NULL, 0, s->dev[out], 0, 0, NULL, NULL);
        if (st != LRELU_OK)
            break;
        cl_int err = clEnqueueReadBuffer(q[p], s->dev[out], CL_FALSE, 0, m * es, s->host[out], 0,
                                         NULL, &wait[p].read);
        if (err == CL_SUCCESS) {
            wait[p].first = done;
            wait[p].m = m;
            /* issue the chunk now: a driver may hold commands until a flush or a wait, and
             * then the two pipelines would not run side by side */
            err = clFlush(q[p]);
            if (err != CL_SUCCESS)
                st = lrelu_cl_fail(err, "clFlush", __FILE__, __LINE__);
        } else {
            wait[p].read = NULL;
            st = lrelu_cl_fail(err, "clEnqueueReadBuffer", __FILE__, __LINE__);
        }
    }
    /* the outputs still on their way; on failure they are waited for and dropped */
    for (int p = 0; p < 2; ++p) {
        if (st == LRELU_OK) {
            st = land(&wait[p], &stage[p], &ops[out], out, es);
        } else if (wait[p].read != NULL) {
            (void)clReleaseEvent(wait[p].read);
            wait[p].read = NULL;
        }
    }
    /* nothing may still read or write the staging when it goes back */
    for (int p = 0; p < 2; ++p) {
        cl_int err = q[p] != NULL ? clFinish(q[p]) : CL_SUCCESS;
        if (err != CL_SUCCESS && st == LRELU_OK)
            st = lrelu_cl_fail(err, "clFinish", __FILE__, __LINE__);
    }
    if (pooled) {
        give_back_staging(ctx, stage);
    } else {
        for (int p = 0; p < 2; ++p)
            lrelu_stage_release(q[p], &stage[p]);
    }
    return st;
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

/* ops: the inputs, then the output. */
static lrelu_status run_host(lrelu_ctx *ctx, lrelu_op op, lrelu_dtype t, size_t n, double alpha,
                             const lrelu_opts *opts, lrelu_operand *ops, int nops)
{
    /* named once, not formatted on every call: a small call costs well under a microsecond */
    static const char *const names[] = {"lrelu_forward_host", "lrelu_backward_host",
                                        "lrelu_backward_from_output_host"};
    const char *fn = names[op];
    lrelu_status st = lrelu_check_elementwise(ctx, fn, op, t, alpha, opts);
    if (st != LRELU_OK)
        return st;
    lrelu_opts o = lrelu_opts_resolve(opts);
    lrelu_elementwise_operands(&o, n, ops, nops);
    size_t es = lrelu_dtype_size(t);
    lrelu_checked c = {fn, t, es, n, 1, 0, NULL, ops, nops};
    if ((st = lrelu_check_operands(ctx, &c)) != LRELU_OK || n == 0)
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
    size_t chunk = ctx->host_chunk_bytes / es;
    if (chunk == 0)
        chunk = 1;
    if (r == LRELU_ROUTE_ZERO_COPY) {
        /* room for the rounding down in front of each chunk, and for its span */
        size_t inc = 1;
        for (int i = 0; i < nops; ++i)
            inc = ops[i].inc > inc ? ops[i].inc : inc;
        size_t room = ((size_t)ctx->max_alloc - ctx->base_align) / es / inc;
        if (chunk > room)
            chunk = room > 0 ? room : 1;
        return run_wrapped(ctx, op, t, n, alpha, &o, ops, nops, chunk > n ? n : chunk);
    }
    /* the copying path keeps its staging buffers, whose chunks are smaller (route.c) */
    if (chunk > ctx->staging_chunk_bytes / es)
        chunk = ctx->staging_chunk_bytes / es > 0 ? ctx->staging_chunk_bytes / es : 1;
    return run_copy(ctx, op, t, n, alpha, &o, ops, nops, chunk > n ? n : chunk);
}

lrelu_status lrelu_forward_host_ex(lrelu_ctx *ctx, lrelu_dtype t, size_t n, double alpha,
                                   const lrelu_opts *opts, const void *x, void *y)
{
    /* y is only written (or read and written when blending); cppcheck's whole-program
     * pass takes callers' fresh arrays for reads of uninitialized memory */
    // cppcheck-suppress ctuuninitvar
    lrelu_operand ops[2] = {{.name = "x", .ptr = x}, {.name = "y", .ptr = y}};
    return run_host(ctx, LRELU_OP_FORWARD, t, n, alpha, opts, ops, 2);
}

lrelu_status lrelu_backward_host_ex(lrelu_ctx *ctx, lrelu_dtype t, size_t n, double alpha,
                                    const lrelu_opts *opts, const void *x, const void *dy, void *dx)
{
    lrelu_operand ops[3] = {
        {.name = "x", .ptr = x}, {.name = "dy", .ptr = dy}, {.name = "dx", .ptr = dx}};
    return run_host(ctx, LRELU_OP_BACKWARD, t, n, alpha, opts, ops, 3);
}

lrelu_status lrelu_backward_from_output_host_ex(lrelu_ctx *ctx, lrelu_dtype t, size_t n,
                                                double alpha, const lrelu_opts *opts, const void *y,
                                                const void *dy, void *dx)
{
    lrelu_operand ops[3] = {
        {.name = "y", .ptr = y}, {.name = "dy", .ptr = dy}, {.name = "dx", .ptr = dx}};
    return run_host(ctx, LRELU_OP_BACKWARD_FROM_OUTPUT, t, n, alpha, opts, ops, 3);
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
