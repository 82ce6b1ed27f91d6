/* test_faults.c: fault injection. Linked against the static library with the linker's
 * --wrap, every OpenCL call and host allocation the library makes passes through a
 * wrapper here that counts it and can make the k-th one fail. For each scenario (create
 * plus one call of each kind, on every host path) and every k the scenario reaches:
 * the call returns a failure whose message names the failed OpenCL call (or succeeds
 * with right results where the library tolerates that failure by design: an ignored
 * release, a name query), nothing crashes, the device API's output is untouched, every
 * OpenCL object and allocation made inside is released after lrelu_destroy, and the
 * same ctx (or a new one, where creation failed) computes right afterwards. Prints
 * "N fault points, N survived". */
#include "common.h"
#include "fault_layer.h"

#include <stdlib.h>
#include <string.h>

/* ---- the scenarios ---- */

enum { N = 5003 };
static float hx[N], hdy[N], hout[N], want[N];
static cl_mem bx, bdy, bout; /* the test's own buffers, made outside the fault window */
static cl_command_queue user_q;

typedef enum {
    SC_DEVICE_FORWARD,
    SC_DEVICE_BACKWARD_F16,
    SC_DEVICE_FROM_OUTPUT_N0,
    SC_DEVICE_PRELU_BACKWARD, /* the block sums: scratch buffer, two kernels, an event */
    SC_HOST_ZERO_COPY,
    SC_HOST_COPYING,
    SC_HOST_INPROCESS,
    SC_HOST_Q8,            /* the wrapped-array path of the quantized and per-channel host calls */
    SC_HOST_PRELU_WIDE,    /* in-process, channels last in groups wider than the stack holds */
    SC_HOST_Q8_COPYING,    /* the copying path's chunks, the kernel on the ctx's queue */
    SC_HOST_PRELU_COPYING, /* ... and the block sums of each chunk read back */
    SC_FROM_QUEUE,
    SC_COUNT
} scenario;

static const char *sc_name[] = {
    "device forward f32",           "device backward f16",
    "device from-output n=0",       "device PReLU backward, slope gradient only",
    "host forward, zero copy",      "host backward, copying",
    "host forward, in-process",     "host int8 forward",
    "host PReLU backward, wide",    "host int8 forward, copying",
    "host PReLU backward, copying", "embedded in a caller's queue"};
/* the wide scenario: 300 channels last over 4 blocks of rows, so that the in-process
 * backward takes one group of all 300 (its lanes on the heap, or in spans from the stack
 * where the heap fails) */
static const lrelu_layout wide = {1024, 300, 1};
enum { NW = 1024 * 300 };
static float wx[NW], wdy[NW], wslope[300], wdx[NW], wds[300], want_dx[NW], want_ds[300];
static const lrelu_quant q_in = {0.25, 3}, q_out = {0.125, -2};
/* the copying scenarios: arrays larger than the chunk (8 KiB), which only ever has
 * buffers of its size: the int8 forward over NQ bytes, and a PReLU backward with the
 * slope gradient whose chunks are 8 rows (whole blocks of each channel) */
enum { NQ = 20000, NR = 20 * 3 * 64 };
static const lrelu_layout rows = {20, 3, 64};
static signed char want_q8[NQ];
static float want_rdx[NR], rds[3], want_rds[3];

static void set_env(scenario s)
{
    int wide_s = s == SC_HOST_PRELU_WIDE;
    setenv("LRELU_HOST_INPROCESS_BYTES", s == SC_HOST_INPROCESS || wide_s ? "100000000" : "0", 1);
    /* in-process, every call shared with a helper thread, so that its start fails too;
     * the wide backward on one thread, whose allocations this layer counts in order */
    setenv("LRELU_HOST_CREW_BYTES", s == SC_HOST_INPROCESS ? "0" : "", 1);
    setenv("LRELU_HOST_THREADS", wide_s ? "1" : "2", 1);
    int copying = s == SC_HOST_COPYING || s == SC_HOST_Q8_COPYING || s == SC_HOST_PRELU_COPYING;
    setenv("LRELU_HOST_ZERO_COPY", copying ? "0" : "1", 1);
    setenv("LRELU_HOST_CHUNK", "8192", 1); /* several chunks, both pipelines */
}

static lrelu_status create(scenario s, lrelu_ctx **ctx)
{
    return s == SC_FROM_QUEUE ? lrelu_create_from_queue(ctx, user_q) : lrelu_create(ctx, NULL);
}

/* Runs the scenario's call; device calls wait for their event here. */
static lrelu_status call(scenario s, lrelu_ctx *ctx)
{
    cl_event done = NULL;
    lrelu_status st;
    switch (s) {
    case SC_DEVICE_FORWARD:
    case SC_FROM_QUEUE:
        st = lrelu_forward(ctx, LRELU_F32, N, 0.3, bx, 0, bout, 0, 0, NULL, &done);
        break;
    case SC_DEVICE_BACKWARD_F16:
        st = lrelu_backward(ctx, LRELU_F16, N, 0.3, bx, 1, bdy, 2, bout, 3, 0, NULL, &done);
        break;
    case SC_DEVICE_FROM_OUTPUT_N0:
        st = lrelu_backward_from_output(ctx, LRELU_F32, 0, 0.3, NULL, 0, NULL, 0, NULL, 0, 0, NULL,
                                        &done);
        break;
    case SC_DEVICE_PRELU_BACKWARD:
        st = lrelu_prelu_backward(ctx, LRELU_F32, (lrelu_layout){1, 1, N}, bx, 0, bdy, 0, bdy, 0,
                                  NULL, 0, bout, 0, 0, NULL, &done);
        break;
    case SC_HOST_Q8:
        return lrelu_forward_q8_host(ctx, LRELU_QS8, N, 0.3, q_in, q_out, hx, hout);
    case SC_HOST_PRELU_WIDE:
        return lrelu_prelu_backward_host(ctx, LRELU_F32, wide, wx, wslope, wdy, wdx, wds);
    case SC_HOST_Q8_COPYING:
        return lrelu_forward_q8_host(ctx, LRELU_QS8, NQ, 0.3, q_in, q_out, wx, wdx);
    case SC_HOST_PRELU_COPYING:
        return lrelu_prelu_backward_host(ctx, LRELU_F32, rows, hx, wslope, hdy, hout, rds);
    case SC_HOST_ZERO_COPY:
    case SC_HOST_INPROCESS:
        return lrelu_forward_host(ctx, LRELU_F32, N, 0.3, hx, hout);
    case SC_HOST_COPYING:
        return lrelu_backward_host(ctx, LRELU_F32, N, 0.3, hx, hdy, hout);
    default:
        return LRELU_ERR_INVALID_ARG;
    }
    if (st == LRELU_OK && done != NULL) {
        (void)clWaitForEvents(1, &done);
        (void)clReleaseEvent(done);
    }
    return st;
}

static void expected(scenario s, void *out, size_t *bytes)
{
    switch (s) {
    case SC_DEVICE_FORWARD:
    case SC_FROM_QUEUE:
    case SC_HOST_ZERO_COPY:
    case SC_HOST_INPROCESS:
        lrelu_ref_forward(LRELU_F32, N, 0.3, hx, out);
        *bytes = (size_t)N * 4;
        break;
    case SC_HOST_COPYING:
        lrelu_ref_backward(LRELU_F32, N, 0.3, hx, hdy, out);
        *bytes = (size_t)N * 4;
        break;
    case SC_DEVICE_PRELU_BACKWARD:
        lrelu_ref_prelu_backward(LRELU_F32, (lrelu_layout){1, 1, N}, hx, hdy, hdy, NULL, out);
        *bytes = 4;
        break;
    case SC_HOST_Q8:
        lrelu_ref_forward_q8(LRELU_QS8, N, 0.3, q_in, q_out, hx, out);
        *bytes = N;
        break;
    case SC_DEVICE_BACKWARD_F16:
        lrelu_ref_backward(LRELU_F16, N, 0.3, (const char *)hx + 2, (const char *)hdy + 4,
                           (char *)out + 6);
        *bytes = (size_t)N * 2; /* compared from byte 6 */
        break;
    default:
        *bytes = 0;
    }
}

static void poison_outputs(void)
{
    float p = -12345.0f;
    for (int i = 0; i < N; ++i)
        hout[i] = p;
    for (int i = 0; i < NW; ++i)
        wdx[i] = p;
    for (int i = 0; i < 300; ++i)
        wds[i] = p;
    for (int i = 0; i < 3; ++i)
        rds[i] = p;
    if (clEnqueueWriteBuffer(user_q, bout, CL_TRUE, 0, sizeof hout, hout, 0, NULL, NULL) !=
        CL_SUCCESS)
        lt_die("poison");
}

/* The scenario's output is right (ok = 1) or untouched poison (ok = 0). */
static int output_is(scenario s, int right)
{
    static float got[N], ref[N];
    size_t bytes = 0, at = s == SC_DEVICE_BACKWARD_F16 ? 6 : 0;
    if (s == SC_DEVICE_FROM_OUTPUT_N0)
        return 1;
    /* host calls: only ever asked to be right */
    if (s == SC_HOST_PRELU_WIDE)
        return memcmp(wdx, want_dx, sizeof wdx) == 0 && memcmp(wds, want_ds, sizeof wds) == 0;
    if (s == SC_HOST_Q8_COPYING)
        return memcmp(wdx, want_q8, NQ) == 0;
    if (s == SC_HOST_PRELU_COPYING)
        return memcmp(hout, want_rdx, sizeof want_rdx) == 0 &&
               memcmp(rds, want_rds, sizeof rds) == 0;
    if (s < SC_HOST_ZERO_COPY || s == SC_FROM_QUEUE) {
        if (clEnqueueReadBuffer(user_q, bout, CL_TRUE, 0, sizeof got, got, 0, NULL, NULL) !=
            CL_SUCCESS)
            lt_die("read");
    } else {
        memcpy(got, hout, sizeof got);
    }
    if (!right) {
        for (int i = 0; i < N; ++i)
            if (got[i] != -12345.0f)
                return 0;
        return 1;
    }
    memcpy(ref, got, sizeof ref);
    expected(s, ref, &bytes);
    return memcmp((char *)ref + at, (char *)got + at, bytes) == 0;
}

int main(void)
{
    cl_context cx;
    cl_int err;
    user_q = lt_caller_queue(0, &cx);
    for (int i = 0; i < N; ++i)
        hx[i] = (float)(i % 41) - 20.5f, hdy[i] = (float)(i % 7) - 3.0f;
    memcpy(want, hx, sizeof want);
    for (int i = 0; i < NW; ++i)
        wx[i] = (float)(i % 13) * 0.375f - 2.0f, wdy[i] = (float)(i % 11) * 0.1875f - 1.0f;
    for (int i = 0; i < 300; ++i)
        wslope[i] = 0.01f * (float)(i % 17);
    lrelu_ref_prelu_backward(LRELU_F32, wide, wx, wslope, wdy, want_dx, want_ds);
    lrelu_ref_forward_q8(LRELU_QS8, NQ, 0.3, q_in, q_out, wx, want_q8);
    lrelu_ref_prelu_backward(LRELU_F32, rows, hx, wslope, hdy, want_rdx, want_rds);
    /* the device scenarios other than from-queue need buffers of the ctx's context, so
     * they run on a ctx made from this context's queue too: the buffers must belong to it */
    bx = clCreateBuffer(cx, CL_MEM_READ_WRITE | CL_MEM_COPY_HOST_PTR, sizeof hx, hx, &err);
    bdy = clCreateBuffer(cx, CL_MEM_READ_WRITE | CL_MEM_COPY_HOST_PTR, sizeof hdy, hdy, &err);
    bout = clCreateBuffer(cx, CL_MEM_READ_WRITE, sizeof hout, NULL, &err);
    if (err != CL_SUCCESS)
        lt_die("set-up");
    long points = 0, survived = 0;
    for (int s = 0; s < SC_COUNT; ++s) {
        set_env((scenario)s);
        long k;
        for (k = 1;; ++k) {
            poison_outputs();
            calls = 0;
            fail_at = k;
            failed_name = NULL;
            live_objects = 0;
            largest_buffer = 0;
            counting = 1;
            lrelu_ctx *ctx = NULL;
            /* device scenarios need the ctx on the test's context: embed in its queue */
            scenario how =
                (s < SC_HOST_ZERO_COPY || s == SC_FROM_QUEUE) ? SC_FROM_QUEUE : (scenario)s;
            lrelu_status cst = create(how, &ctx), st = LRELU_OK;
            if (cst == LRELU_OK)
                st = call((scenario)s, ctx);
            fail_at = 0;               /* from here on: count, never fail */
            if (failed_name == NULL) { /* k is past the scenario's last call */
                if (cst != LRELU_OK || st != LRELU_OK || !output_is((scenario)s, 1)) {
                    printf("FAIL %s: wrong without a fault: %s\n", sc_name[s], lrelu_last_error());
                    ++points;
                }
                /* the copying path streams: no buffer larger than a chunk */
                if ((s == SC_HOST_Q8_COPYING || s == SC_HOST_PRELU_COPYING) &&
                    largest_buffer > 8192) {
                    printf("FAIL %s: a buffer of %zu bytes: not streamed in 8 KiB chunks\n",
                           sc_name[s], largest_buffer);
                    ++points;
                }
                lrelu_destroy(ctx);
                counting = 0;
                break;
            }
            ++points;
            int ok = 1;
            char why[256] = "";
            lrelu_status bad = cst != LRELU_OK ? cst : st;
            if (bad != LRELU_OK) {
                if (strstr(lrelu_last_error(), failed_name) == NULL) {
                    ok = 0;
                    snprintf(why, sizeof why, "message does not name it: %s", lrelu_last_error());
                }
                if (cst != LRELU_OK && ctx != NULL)
                    ok = 0, snprintf(why, sizeof why, "failed create left *ctx set");
                if (cst == LRELU_OK && (s < SC_HOST_ZERO_COPY || s == SC_FROM_QUEUE) &&
                    !output_is((scenario)s, 0))
                    ok = 0, snprintf(why, sizeof why, "failed device call wrote its output");
            } else if (!output_is((scenario)s, 1)) {
                ok = 0, snprintf(why, sizeof why, "tolerated failure gave wrong results");
            }
            /* the same ctx, or a new one, works now */
            if (ctx == NULL && create(how, &ctx) != LRELU_OK)
                ok = 0, snprintf(why, sizeof why, "cannot create a ctx afterwards");
            poison_outputs();
            if (ctx != NULL && (call((scenario)s, ctx) != LRELU_OK || !output_is((scenario)s, 1)))
                ok = 0, snprintf(why, sizeof why, "the ctx does not work afterwards: %s",
                                 lrelu_last_error());
            lrelu_destroy(ctx);
            (void)clFinish(user_q);
            counting = 0;
            if (fault_leaks(why, sizeof why))
                ok = 0;
            if (ok)
                ++survived;
            else
                printf("FAIL %s: fault %ld in %s: %s\n", sc_name[s], k, failed_name, why);
        }
        printf("%-30s %ld fault points\n", sc_name[s], k - 1);
    }
    clReleaseMemObject(bout);
    clReleaseMemObject(bdy);
    clReleaseMemObject(bx);
    clReleaseCommandQueue(user_q);
    clReleaseContext(cx);
    printf("%ld fault points, %ld survived\n", points, survived);
    return lt_report((size_t)survived, (size_t)(points - survived));
}
