/* test_from_queue.c: lrelu_create_from_queue embeds in a caller's pipeline: it runs on
 * the caller's own (here out-of-order) queue, and after lrelu_destroy the caller's
 * context and queue have exactly the reference counts they had before. */
#include "common.h"

#include <string.h>
#include <time.h>

static cl_uint ctx_refs(cl_context c)
{
    cl_uint r = 0;
    clGetContextInfo(c, CL_CONTEXT_REFERENCE_COUNT, sizeof r, &r, NULL);
    return r;
}

static cl_uint queue_refs(cl_command_queue q)
{
    cl_uint r = 0;
    clGetCommandQueueInfo(q, CL_QUEUE_REFERENCE_COUNT, sizeof r, &r, NULL);
    return r;
}

/* The driver drops the references its finished commands hold on the queue in its own
 * threads, a moment after clFinish returns: wait up to 2 s for the counts to settle. A
 * reference lrelu leaked never settles. */
static int settles(cl_context cx, cl_uint c0, cl_command_queue q, cl_uint q0)
{
    for (int i = 0; i < 200; ++i) {
        if (ctx_refs(cx) == c0 && queue_refs(q) == q0)
            return 1;
        struct timespec ts = {0, 10000000L};
        nanosleep(&ts, NULL);
    }
    printf("  context references %u (want %u), queue references %u (want %u)\n", ctx_refs(cx), c0,
           queue_refs(q), q0);
    return 0;
}

int main(void)
{
    /* the caller's own objects, on the device lrelu would pick; out of order where the
     * device allows it, the harder case for the host API */
    cl_context cx;
    cl_command_queue probe_q = lt_caller_queue(0, &cx);
    cl_device_id dev;
    clGetCommandQueueInfo(probe_q, CL_QUEUE_DEVICE, sizeof dev, &dev, NULL);
    clReleaseCommandQueue(probe_q);
    clReleaseContext(cx);
    cl_command_queue_properties supported = 0;
    clGetDeviceInfo(dev, CL_DEVICE_QUEUE_PROPERTIES, sizeof supported, &supported, NULL);
    cl_command_queue q = lt_caller_queue(supported & CL_QUEUE_OUT_OF_ORDER_EXEC_MODE_ENABLE, &cx);
    cl_int err;
    cl_uint c0 = ctx_refs(cx), q0 = queue_refs(q);

    for (int round = 0; round < 2; ++round) {
        lrelu_ctx *ctx = NULL;
        lt_ok(lrelu_create_from_queue(&ctx, q), "lrelu_create_from_queue");
        lt_check(lrelu_cl_queue(ctx) == q, "the ctx uses the caller's queue");
        lt_check(lrelu_cl_context(ctx) == cx, "the ctx uses the caller's context");
        lt_check(lrelu_cl_device(ctx) == dev, "the ctx uses the queue's device");
        enum { N = 10007 };
        static float x[N], dy[N], y[N], dx[N], want[N];
        for (int i = 0; i < N; ++i)
            x[i] = (float)(i % 37) - 18.5f, dy[i] = (float)(i % 5) + 0.25f;
        /* device API on the caller's buffers */
        cl_mem bx = clCreateBuffer(cx, CL_MEM_READ_ONLY | CL_MEM_COPY_HOST_PTR, sizeof x, x, &err);
        cl_mem by = clCreateBuffer(cx, CL_MEM_READ_WRITE, sizeof y, NULL, &err);
        cl_event done;
        lt_ok(lrelu_forward(ctx, LRELU_F32, N, 0.3, bx, 0, by, 0, 0, NULL, &done), "forward");
        clEnqueueReadBuffer(q, by, CL_TRUE, 0, sizeof y, y, 1, &done, NULL);
        clReleaseEvent(done);
        lrelu_ref_forward(LRELU_F32, N, 0.3, x, want);
        lt_check(memcmp(y, want, sizeof y) == 0, "forward on the caller's queue");
        /* host API streams through the caller's (out-of-order) queue */
        lt_ok(lrelu_backward_host(ctx, LRELU_F32, N, 0.3, x, dy, dx), "backward_host");
        lrelu_ref_backward(LRELU_F32, N, 0.3, x, dy, want);
        lt_check(memcmp(dx, want, sizeof dx) == 0, "host API on the caller's queue");
        /* per-channel backwards queued with no wait between them: on an out-of-order
         * queue they may run at once, so each needs block sums of its own */
        uint64_t rng = 0x9e3779b97f4a7c15ull + (uint64_t)round;
        lt_check(lt_chan_pipeline(ctx, &rng) == 0,
                 "pipelined per-channel backwards on the caller's queue");
        clReleaseMemObject(by);
        clReleaseMemObject(bx);
        clFinish(q);
        lrelu_destroy(ctx);
        lt_check(settles(cx, c0, q, q0),
                 "the context's and queue's reference counts are back where they were");
    }
    clReleaseCommandQueue(q);
    clReleaseContext(cx);
    return lt_report(lt_passed, lt_failed);
}
