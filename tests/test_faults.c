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

#include <stdlib.h>
#include <string.h>

/* ---- the fault layer ---- */

static int counting; /* track calls, objects and allocations */
static long calls, fail_at;
static const char *failed_name;
static long live_objects; /* created + retained - released, while counting */
#define MAX_ALLOCS 4096
static void *allocs[MAX_ALLOCS];

static int fault(const char *name)
{
    if (!counting)
        return 0;
    if (++calls == fail_at) {
        failed_name = name;
        return 1;
    }
    return 0;
}

static void obj(int delta)
{
    if (counting)
        live_objects += delta;
}

#define FAIL_ERR CL_OUT_OF_RESOURCES

/* Creators: fail with an error code and NULL, else count the object. */
#define WRAP_CREATE(ret, name, params, args, errp)                                                 \
    ret __real_##name params;                                                                      \
    ret __wrap_##name params;                                                                      \
    ret __wrap_##name params                                                                       \
    {                                                                                              \
        if (fault(#name)) {                                                                        \
            if (errp)                                                                              \
                *(errp) = FAIL_ERR;                                                                \
            return NULL;                                                                           \
        }                                                                                          \
        ret r = __real_##name args;                                                                \
        if (r != NULL)                                                                             \
            obj(1);                                                                                \
        return r;                                                                                  \
    }

/* Plain calls: fail without doing anything. */
#define WRAP_CALL(name, params, args)                                                              \
    cl_int __real_##name params;                                                                   \
    cl_int __wrap_##name params;                                                                   \
    cl_int __wrap_##name params                                                                    \
    {                                                                                              \
        if (fault(#name))                                                                          \
            return FAIL_ERR;                                                                       \
        return __real_##name args;                                                                 \
    }

/* Enqueues: fail without enqueueing; count the event they hand out. */
#define WRAP_ENQUEUE(name, params, args, evp)                                                      \
    cl_int __real_##name params;                                                                   \
    cl_int __wrap_##name params;                                                                   \
    cl_int __wrap_##name params                                                                    \
    {                                                                                              \
        if (fault(#name))                                                                          \
            return FAIL_ERR;                                                                       \
        cl_int e = __real_##name args;                                                             \
        if (e == CL_SUCCESS && (evp) != NULL)                                                      \
            obj(1);                                                                                \
        return e;                                                                                  \
    }

/* Releases and waits: do the real thing (no object is lost), then report a failure,
 * which the library must survive. */
#define WRAP_RELEASE(name, type)                                                                   \
    cl_int __real_##name(type o);                                                                  \
    cl_int __wrap_##name(type o);                                                                  \
    cl_int __wrap_##name(type o)                                                                   \
    {                                                                                              \
        int f = fault(#name);                                                                      \
        cl_int e = __real_##name(o);                                                               \
        if (e == CL_SUCCESS)                                                                       \
            obj(-1);                                                                               \
        return f ? FAIL_ERR : e;                                                                   \
    }
#define WRAP_RETAIN(name, type)                                                                    \
    cl_int __real_##name(type o);                                                                  \
    cl_int __wrap_##name(type o);                                                                  \
    cl_int __wrap_##name(type o)                                                                   \
    {                                                                                              \
        if (fault(#name))                                                                          \
            return FAIL_ERR;                                                                       \
        cl_int e = __real_##name(o);                                                               \
        if (e == CL_SUCCESS)                                                                       \
            obj(1);                                                                                \
        return e;                                                                                  \
    }

WRAP_CREATE(cl_context, clCreateContext,
            (const cl_context_properties *p, cl_uint n, const cl_device_id *d,
             void(CL_CALLBACK *cb)(const char *, const void *, size_t, void *), void *u, cl_int *e),
            (p, n, d, cb, u, e), e)
WRAP_CREATE(cl_command_queue, clCreateCommandQueue,
            (cl_context c, cl_device_id d, cl_command_queue_properties p, cl_int *e), (c, d, p, e),
            e)
WRAP_CREATE(cl_mem, clCreateBuffer, (cl_context c, cl_mem_flags f, size_t s, void *h, cl_int *e),
            (c, f, s, h, e), e)
WRAP_CREATE(cl_program, clCreateProgramWithSource,
            (cl_context c, cl_uint n, const char **s, const size_t *l, cl_int *e), (c, n, s, l, e),
            e)
WRAP_CREATE(cl_kernel, clCreateKernel, (cl_program p, const char *n, cl_int *e), (p, n, e), e)

WRAP_CALL(clGetPlatformIDs, (cl_uint n, cl_platform_id *p, cl_uint *np), (n, p, np))
WRAP_CALL(clGetDeviceIDs,
          (cl_platform_id p, cl_device_type t, cl_uint n, cl_device_id *d, cl_uint *nd),
          (p, t, n, d, nd))
WRAP_CALL(clGetPlatformInfo, (cl_platform_id p, cl_platform_info i, size_t s, void *v, size_t *r),
          (p, i, s, v, r))
WRAP_CALL(clGetDeviceInfo, (cl_device_id d, cl_device_info i, size_t s, void *v, size_t *r),
          (d, i, s, v, r))
WRAP_CALL(clGetMemObjectInfo, (cl_mem m, cl_mem_info i, size_t s, void *v, size_t *r),
          (m, i, s, v, r))
WRAP_CALL(clGetCommandQueueInfo,
          (cl_command_queue q, cl_command_queue_info i, size_t s, void *v, size_t *r),
          (q, i, s, v, r))
WRAP_CALL(clGetProgramBuildInfo,
          (cl_program p, cl_device_id d, cl_program_build_info i, size_t s, void *v, size_t *r),
          (p, d, i, s, v, r))
WRAP_CALL(clGetKernelWorkGroupInfo,
          (cl_kernel k, cl_device_id d, cl_kernel_work_group_info i, size_t s, void *v, size_t *r),
          (k, d, i, s, v, r))
WRAP_CALL(clBuildProgram,
          (cl_program p, cl_uint n, const cl_device_id *d, const char *o,
           void(CL_CALLBACK *cb)(cl_program, void *), void *u),
          (p, n, d, o, cb, u))
WRAP_CALL(clSetKernelArg, (cl_kernel k, cl_uint i, size_t s, const void *v), (k, i, s, v))

WRAP_ENQUEUE(clEnqueueNDRangeKernel,
             (cl_command_queue q, cl_kernel k, cl_uint dim, const size_t *o, const size_t *g,
              const size_t *l, cl_uint nw, const cl_event *w, cl_event *ev),
             (q, k, dim, o, g, l, nw, w, ev), ev)
WRAP_ENQUEUE(clEnqueueWriteBuffer,
             (cl_command_queue q, cl_mem m, cl_bool b, size_t o, size_t s, const void *p,
              cl_uint nw, const cl_event *w, cl_event *ev),
             (q, m, b, o, s, p, nw, w, ev), ev)
WRAP_ENQUEUE(clEnqueueReadBuffer,
             (cl_command_queue q, cl_mem m, cl_bool b, size_t o, size_t s, void *p, cl_uint nw,
              const cl_event *w, cl_event *ev),
             (q, m, b, o, s, p, nw, w, ev), ev)
WRAP_ENQUEUE(clEnqueueFillBuffer,
             (cl_command_queue q, cl_mem m, const void *pat, size_t ps, size_t o, size_t s,
              cl_uint nw, const cl_event *w, cl_event *ev),
             (q, m, pat, ps, o, s, nw, w, ev), ev)
WRAP_ENQUEUE(clEnqueueUnmapMemObject,
             (cl_command_queue q, cl_mem m, void *p, cl_uint nw, const cl_event *w, cl_event *ev),
             (q, m, p, nw, w, ev), ev)
WRAP_ENQUEUE(clEnqueueMarkerWithWaitList,
             (cl_command_queue q, cl_uint nw, const cl_event *w, cl_event *ev), (q, nw, w, ev), ev)

void *__real_clEnqueueMapBuffer(cl_command_queue q, cl_mem m, cl_bool b, cl_map_flags f, size_t o,
                                size_t s, cl_uint nw, const cl_event *w, cl_event *ev, cl_int *e);
void *__wrap_clEnqueueMapBuffer(cl_command_queue q, cl_mem m, cl_bool b, cl_map_flags f, size_t o,
                                size_t s, cl_uint nw, const cl_event *w, cl_event *ev, cl_int *e);
void *__wrap_clEnqueueMapBuffer(cl_command_queue q, cl_mem m, cl_bool b, cl_map_flags f, size_t o,
                                size_t s, cl_uint nw, const cl_event *w, cl_event *ev, cl_int *e)
{
    if (fault("clEnqueueMapBuffer")) {
        if (e)
            *e = FAIL_ERR;
        return NULL;
    }
    void *p = __real_clEnqueueMapBuffer(q, m, b, f, o, s, nw, w, ev, e);
    if (p != NULL && ev != NULL)
        obj(1);
    return p;
}

cl_int __real_clFinish(cl_command_queue q);
cl_int __wrap_clFinish(cl_command_queue q);
cl_int __wrap_clFinish(cl_command_queue q)
{
    int f = fault("clFinish");
    cl_int e = __real_clFinish(q);
    return f ? FAIL_ERR : e;
}

cl_int __real_clWaitForEvents(cl_uint n, const cl_event *l);
cl_int __wrap_clWaitForEvents(cl_uint n, const cl_event *l);
cl_int __wrap_clWaitForEvents(cl_uint n, const cl_event *l)
{
    int f = fault("clWaitForEvents");
    cl_int e = __real_clWaitForEvents(n, l);
    return f ? FAIL_ERR : e;
}

WRAP_RELEASE(clReleaseMemObject, cl_mem)
WRAP_RELEASE(clReleaseKernel, cl_kernel)
WRAP_RELEASE(clReleaseProgram, cl_program)
WRAP_RELEASE(clReleaseCommandQueue, cl_command_queue)
WRAP_RELEASE(clReleaseContext, cl_context)
WRAP_RELEASE(clReleaseEvent, cl_event)
WRAP_RETAIN(clRetainMemObject, cl_mem)
WRAP_RETAIN(clRetainContext, cl_context)
WRAP_RETAIN(clRetainCommandQueue, cl_command_queue)

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t s);
void __real_free(void *p);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t s);
void __wrap_free(void *p);

static void *track(void *p)
{
    for (int i = 0; p && counting && i < MAX_ALLOCS; ++i)
        if (allocs[i] == NULL) {
            allocs[i] = p;
            break;
        }
    return p;
}

void *__wrap_malloc(size_t n) { return fault("malloc") ? NULL : track(__real_malloc(n)); }
void *__wrap_calloc(size_t n, size_t s)
{
    return fault("calloc") ? NULL : track(__real_calloc(n, s));
}
void __wrap_free(void *p)
{
    for (int i = 0; p && i < MAX_ALLOCS; ++i)
        if (allocs[i] == p)
            allocs[i] = NULL;
    __real_free(p);
}

static int allocs_alive(void)
{
    int n = 0;
    for (int i = 0; i < MAX_ALLOCS; ++i)
        n += allocs[i] != NULL;
    return n;
}

/* ---- the scenarios ---- */

enum { N = 5003 };
static float hx[N], hdy[N], hout[N], want[N];
static cl_mem bx, bdy, bout; /* the test's own buffers, made outside the fault window */
static cl_command_queue user_q;

typedef enum {
    SC_DEVICE_FORWARD,
    SC_DEVICE_BACKWARD_F16,
    SC_DEVICE_FROM_OUTPUT_N0,
    SC_HOST_ZERO_COPY,
    SC_HOST_COPYING,
    SC_HOST_INPROCESS,
    SC_FROM_QUEUE,
    SC_COUNT
} scenario;

static const char *sc_name[] = {"device forward f32",          "device backward f16",
                                "device from-output n=0",      "host forward, zero copy",
                                "host backward, copying",      "host forward, in-process",
                                "embedded in a caller's queue"};

static void set_env(scenario s)
{
    setenv("LRELU_HOST_INPROCESS_BYTES", s == SC_HOST_INPROCESS ? "1000000" : "0", 1);
    setenv("LRELU_HOST_ZERO_COPY", s == SC_HOST_COPYING ? "0" : "1", 1);
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
    lrelu_ctx *probe = lt_open();
    cl_device_id dev = lrelu_cl_device(probe);
    lrelu_destroy(probe);
    cl_int err;
    cl_context cx = clCreateContext(NULL, 1, &dev, NULL, NULL, &err);
    user_q = clCreateCommandQueue(cx, dev, 0, &err);
    for (int i = 0; i < N; ++i)
        hx[i] = (float)(i % 41) - 20.5f, hdy[i] = (float)(i % 7) - 3.0f;
    memcpy(want, hx, sizeof want);
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
            counting = 1;
            lrelu_ctx *ctx = NULL;
            /* device scenarios need the ctx on the test's context: embed in its queue */
            scenario how =
                (s < SC_HOST_ZERO_COPY || s == SC_FROM_QUEUE) ? SC_FROM_QUEUE : (scenario)s;
            lrelu_status cst = create(how, &ctx), st = LRELU_OK;
            if (cst == LRELU_OK)
                st = call((scenario)s, ctx);
            fail_at = 0; /* from here on: count, never fail */
            if (failed_name == NULL) {
                lrelu_destroy(ctx);
                counting = 0;
                break; /* k is past the scenario's last call */
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
            if (live_objects != 0)
                ok = 0, snprintf(why, sizeof why, "%ld OpenCL objects leaked", live_objects);
            if (allocs_alive() != 0)
                ok = 0, snprintf(why, sizeof why, "%d allocations leaked", allocs_alive());
            memset(allocs, 0, sizeof allocs);
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
