/* test_events.c: the asynchronous contract. A call gated on a user event does not run
 * before the event completes; the returned event completes with the result in place;
 * n == 0 hands back a marker that completes with its wait list; done == NULL works. */
#include "common.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

static cl_int status_of(cl_event e)
{
    cl_int s = 0;
    if (clGetEventInfo(e, CL_EVENT_COMMAND_EXECUTION_STATUS, sizeof s, &s, NULL) != CL_SUCCESS)
        lt_die("clGetEventInfo");
    return s;
}

/* Submits what is queued, so that a device that could run the gated command has the
 * chance to. Not with $LT_NO_FLUSH (the oclgrind/ tests): Oclgrind's clFlush runs the
 * commands on the calling thread and waits for the user event, which only this thread
 * can set. The specification promises only that clFlush issues the commands, not that
 * it waits for them (docs/reliability.md). */
static void flush(cl_command_queue q)
{
    const char *env = getenv("LT_NO_FLUSH");
    if (env == NULL || env[0] == '\0')
        clFlush(q);
}

static void pause_ms(long ms)
{
    struct timespec ts = {0, ms * 1000000L};
    nanosleep(&ts, NULL);
}

int main(void)
{
    lrelu_ctx *ctx = lt_open();
    cl_context cx = lrelu_cl_context(ctx);
    cl_command_queue q = lrelu_cl_queue(ctx);
    enum { N = 4099 };
    static float x[N], y[N], want[N];
    for (int i = 0; i < N; ++i)
        x[i] = (float)(i % 19) - 9.0f;
    cl_int err;
    cl_mem bx = clCreateBuffer(cx, CL_MEM_READ_WRITE | CL_MEM_COPY_HOST_PTR, sizeof x, x, &err);
    cl_mem by = clCreateBuffer(cx, CL_MEM_READ_WRITE, sizeof y, NULL, &err);
    if (err != CL_SUCCESS)
        lt_die("clCreateBuffer");
    /* poison: written whole, not filled (a fill pattern's small stores leave Oclgrind's
     * uninitialized-value checker with only their shadow; docs/reliability.md) */
    for (int i = 0; i < N; ++i)
        y[i] = -12345.0f;
    clEnqueueWriteBuffer(q, by, CL_TRUE, 0, sizeof y, y, 0, NULL, NULL);

    /* gated on a user event */
    cl_event gate = clCreateUserEvent(cx, &err), done = NULL;
    if (err != CL_SUCCESS)
        lt_die("clCreateUserEvent");
    lt_ok(lrelu_forward(ctx, LRELU_F32, N, 0.1, bx, 0, by, 0, 1, &gate, &done), "forward");
    flush(q);
    pause_ms(100);
    lt_check(done != NULL, "forward hands back an event");
    lt_check(status_of(done) != CL_COMPLETE, "the kernel waits for the user event");
    clSetUserEventStatus(gate, CL_COMPLETE);
    lt_check(clWaitForEvents(1, &done) == CL_SUCCESS && status_of(done) == CL_COMPLETE,
             "the event completes after the gate opens");
    clEnqueueReadBuffer(q, by, CL_TRUE, 0, sizeof y, y, 0, NULL, NULL);
    lrelu_ref_forward(LRELU_F32, N, 0.1, x, want);
    lt_check(memcmp(y, want, sizeof y) == 0, "the result is there when the event completes");
    clReleaseEvent(done);
    clReleaseEvent(gate);

    /* n == 0: a marker that completes with its wait list */
    gate = clCreateUserEvent(cx, &err);
    done = NULL;
    lt_ok(lrelu_backward(ctx, LRELU_F32, 0, 0.1, NULL, 0, NULL, 0, NULL, 0, 1, &gate, &done),
          "backward n == 0");
    flush(q);
    pause_ms(50);
    lt_check(done != NULL, "n == 0 hands back an event");
    lt_check(status_of(done) != CL_COMPLETE, "the n == 0 marker waits for its wait list");
    clSetUserEventStatus(gate, CL_COMPLETE);
    lt_check(clWaitForEvents(1, &done) == CL_SUCCESS, "the n == 0 marker completes");
    clReleaseEvent(done);
    clReleaseEvent(gate);
    done = NULL;
    lt_ok(lrelu_forward(ctx, LRELU_F32, 0, 0.1, NULL, 0, NULL, 0, 0, NULL, &done), "n == 0");
    lt_check(done != NULL && clWaitForEvents(1, &done) == CL_SUCCESS,
             "n == 0 without a wait list completes");
    if (done)
        clReleaseEvent(done);

    /* a chain of calls through events, done == NULL on the last */
    cl_event e1 = NULL;
    lt_ok(lrelu_forward(ctx, LRELU_F32, N, 0.5, bx, 0, by, 0, 0, NULL, &e1), "forward 1");
    lt_ok(lrelu_backward(ctx, LRELU_F32, N, 0.5, bx, 0, by, 0, by, 0, 1, &e1, NULL),
          "backward in place on dy after forward");
    clFinish(q);
    clEnqueueReadBuffer(q, by, CL_TRUE, 0, sizeof y, y, 0, NULL, NULL);
    lrelu_ref_forward(LRELU_F32, N, 0.5, x, want);
    lrelu_ref_backward(LRELU_F32, N, 0.5, x, want, want);
    lt_check(memcmp(y, want, sizeof y) == 0, "a chained forward then backward");
    clReleaseEvent(e1);

    clReleaseMemObject(by);
    clReleaseMemObject(bx);
    lrelu_destroy(ctx);
    return lt_report(lt_passed, lt_failed);
}
