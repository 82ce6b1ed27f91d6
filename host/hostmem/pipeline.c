/* pipeline.c: the host-memory API's copying path, for devices that do not work on host
 * memory (discrete GPUs): a call's operands stream through two pipelines of pinned
 * staging (CL_MEM_ALLOC_HOST_PTR, mapped once per ctx) and device buffers, one chunk at a
 * time, so that a call needs device memory for two chunks whatever its size. Every
 * family's host calls take it: the elementwise calls, the per-channel calls and int8. */
#include "hostmem/hostmem.h"

#include <string.h>

/* Copies m elements of a host view of stride inc, from element `first` on, to or from
 * contiguous memory (to it when `gather`): a strided view crosses the bus as one
 * contiguous transfer of only its elements. */
static void move_host(void *contiguous, const lrelu_operand *o, size_t first, size_t m, size_t es,
                      int gather)
{
    char *view = (char *)o->ptr + first * o->inc * es, *c = contiguous;
    size_t step = o->inc * es;
    if (c == NULL)
        return; /* never: every stage is made before the first chunk */
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
        else if (es == 8)
            memcpy(gather ? c : view, gather ? view : c, 8);
        else
            memcpy(gather ? c : view, gather ? view : c, es);
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

/* A chunk whose output is on its way into a pipeline's pinned memory (or, for a call
 * without one, whose kernel is on its way). */
typedef struct {
    cl_event read;
    size_t first, m;
} pending;

/* Waits for pipeline p's last chunk and copies its output into the caller's array. */
static lrelu_status land(pending *w, const lrelu_stage *s, const lrelu_piped *c)
{
    if (w->read == NULL)
        return LRELU_OK;
    cl_int err = clWaitForEvents(1, &w->read);
    (void)clReleaseEvent(w->read);
    w->read = NULL;
    if (err != CL_SUCCESS)
        return lrelu_cl_fail(err, "clWaitForEvents", __FILE__, __LINE__);
    if (c->out >= 0)
        move_host(s->host[c->out], &c->ops[c->out], w->first, w->m, c->es, 0);
    return LRELU_OK;
}

size_t lrelu_piped_chunk(const lrelu_ctx *ctx, size_t es)
{
    size_t bytes = ctx->host_chunk_bytes < ctx->staging_chunk_bytes ? ctx->host_chunk_bytes
                                                                    : ctx->staging_chunk_bytes;
    return bytes / es > 0 ? bytes / es : 1;
}

static lrelu_status flush(cl_command_queue q)
{
    cl_int err = clFlush(q);
    return err == CL_SUCCESS ? LRELU_OK : lrelu_cl_fail(err, "clFlush", __FILE__, __LINE__);
}

/* Gathers chunk [first, first + m)'s inputs into stage s and writes them to its device
 * buffers on q, each write's event into ev where it is not NULL (count into *nev). */
static lrelu_status send_inputs(cl_command_queue q, const lrelu_piped *c, const lrelu_stage *s,
                                size_t first, size_t m, cl_event *ev, cl_uint *nev)
{
    for (int i = 0; i < c->nops && i < 3; ++i) { /* at most 3: the stage's */
        if (i == c->out && !c->reads_out)
            continue;
        move_host(s->host[i], &c->ops[i], first, m, c->es, 1);
        cl_int err = clEnqueueWriteBuffer(q, s->dev[i], CL_FALSE, 0, m * c->es, s->host[i], 0, NULL,
                                          ev != NULL ? &ev[*nev] : NULL);
        if (err != CL_SUCCESS)
            return lrelu_cl_fail(err, "clEnqueueWriteBuffer", __FILE__, __LINE__);
        *nev += ev != NULL;
    }
    return LRELU_OK;
}

/* One chunk through pipeline q / s: its inputs written, its kernel (on whichever queue
 * the family's enqueues, waiting on the writes), its output read back into pinned memory
 * after the kernel; each queue flushed as soon as it has its commands, so that a driver
 * that holds commands until a flush or a wait runs the two pipelines side by side, and
 * a command waiting on another queue's is never left behind an unflushed one. */
static lrelu_status run_chunk(lrelu_ctx *ctx, cl_command_queue q, int pipe, const lrelu_piped *c,
                              const lrelu_stage *s, size_t first, size_t m, pending *w)
{
    cl_event ev[3] = {NULL, NULL, NULL}, kev = NULL;
    cl_uint nev = 0;
    /* a kernel on the ctx's queue waits for the writes by their events, issued first;
     * on the pipeline's own in-order queue it follows them anyway */
    lrelu_status st = send_inputs(q, c, s, first, m, c->ctx_queue ? ev : NULL, &nev);
    if (st == LRELU_OK && c->ctx_queue)
        st = flush(q);
    if (st == LRELU_OK)
        st = c->kernel(ctx, c, &(lrelu_chunk){q, pipe, s->dev, first, m}, nev, nev ? ev : NULL,
                       &kev);
    if (st == LRELU_OK && c->ctx_queue)
        st = flush(ctx->queue);
    if (st == LRELU_OK && c->out >= 0) {
        cl_int err = clEnqueueReadBuffer(q, s->dev[c->out], CL_FALSE, 0, m * c->es, s->host[c->out],
                                         1, &kev, &w->read);
        if (err != CL_SUCCESS) {
            w->read = NULL;
            st = lrelu_cl_fail(err, "clEnqueueReadBuffer", __FILE__, __LINE__);
        }
    } else if (st == LRELU_OK) {
        w->read = kev; /* nothing to read: the kernel's end is the chunk's */
        kev = NULL;
    }
    if (st == LRELU_OK) {
        w->first = first;
        w->m = m;
        st = flush(q);
    }
    for (cl_uint i = 0; i < nev && i < 3; ++i)
        (void)clReleaseEvent(ev[i]);
    if (kev != NULL)
        (void)clReleaseEvent(kev);
    return st;
}

/* Chunk i goes through pipeline i % 2, each an in-order queue with staging of its own.
 * The host gathers the chunk's inputs into pinned memory, the queue writes them to the
 * device, the kernel runs, and the queue reads the output back into pinned memory; the
 * host scatters that output into the caller's array when the pipeline comes round again,
 * so one chunk's transfers overlap the other's kernel on devices with copy engines, and
 * the host's copies overlap both. The staging stays with the ctx for the next call:
 * allocating and pinning memory costs more than the transfer on many systems. */
lrelu_status lrelu_piped_run(lrelu_ctx *ctx, const lrelu_piped *c)
{
    lrelu_status st = LRELU_OK;
    size_t chunk = c->chunk < c->n ? c->chunk : c->n, bytes = chunk * c->es;
    cl_command_queue q[2] = {NULL, NULL};
    lrelu_stage stage[2];
    pending wait[2] = {{NULL, 0, 0}, {NULL, 0, 0}};
    memset(stage, 0, sizeof stage);
    int pipes = c->n > chunk ? 2 : 1;
    if ((st = copy_queues(ctx, q)) != LRELU_OK)
        return st;
    bytes = ctx->staging_bytes > bytes ? ctx->staging_bytes : bytes;
    int pooled = take_staging(ctx, bytes, q, stage);
    if (!pooled)
        bytes = chunk * c->es;
    for (int p = 0; p < pipes && st == LRELU_OK; ++p)
        for (int i = 0; i < c->nops && st == LRELU_OK; ++i)
            st = stage_make(ctx, q[p], bytes, &stage[p], i);
    for (size_t first = 0, i = 0; first < c->n && st == LRELU_OK; ++i) {
        size_t m = c->cut != NULL ? c->cut(c, first) : c->n - first;
        m = m < chunk ? m : chunk;
        int p = (int)(i % 2);
        if ((st = land(&wait[p], &stage[p], c)) == LRELU_OK)
            st = run_chunk(ctx, q[p], p, c, &stage[p], first, m, &wait[p]);
        first += m;
    }
    /* the outputs still on their way; on failure they are waited for and dropped */
    for (int p = 0; p < 2; ++p) {
        if (st == LRELU_OK) {
            st = land(&wait[p], &stage[p], c);
        } else if (wait[p].read != NULL) {
            (void)clReleaseEvent(wait[p].read);
            wait[p].read = NULL;
        }
    }
    /* nothing may still read or write the staging when it goes back: neither pipeline,
     * nor a kernel on the ctx's queue */
    cl_command_queue all[3] = {q[0], q[1], c->ctx_queue ? ctx->queue : NULL};
    for (int i = 0; i < 3; ++i) {
        cl_int err = all[i] != NULL ? clFinish(all[i]) : CL_SUCCESS;
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
