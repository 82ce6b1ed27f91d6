/* fault_layer.c: the wrappers of tests/fault_layer.h. Every OpenCL call the library
 * makes comes here first; creators fail with CL_OUT_OF_RESOURCES and NULL, plain calls
 * and enqueues fail without acting, releases and waits act and then report failure (so
 * nothing is lost), allocations return NULL. */
#include "fault_layer.h"

#include "lrelu.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int counting;
long calls, fail_at;
const char *failed_name;
long live_objects;
void *allocs[MAX_ALLOCS];

_Thread_local int fault_exempt;
/* the allocations' table and the largest buffer, shared by a device group's threads */
static pthread_mutex_t track_lock = PTHREAD_MUTEX_INITIALIZER;

static int fault(const char *name)
{
    if (!counting || fault_exempt)
        return 0;
    if (__atomic_add_fetch(&calls, 1, __ATOMIC_SEQ_CST) == fail_at) {
        failed_name = name;
        return 1;
    }
    return 0;
}

static void obj(int delta)
{
    if (counting)
        __atomic_add_fetch(&live_objects, delta, __ATOMIC_SEQ_CST);
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
size_t largest_buffer;
cl_mem __real_clCreateBuffer(cl_context c, cl_mem_flags f, size_t s, void *h, cl_int *e);
cl_mem __wrap_clCreateBuffer(cl_context c, cl_mem_flags f, size_t s, void *h, cl_int *e);
cl_mem __wrap_clCreateBuffer(cl_context c, cl_mem_flags f, size_t s, void *h, cl_int *e)
{
    if (fault("clCreateBuffer")) {
        if (e)
            *e = FAIL_ERR;
        return NULL;
    }
    cl_mem r = __real_clCreateBuffer(c, f, s, h, e);
    if (r != NULL)
        obj(1);
    pthread_mutex_lock(&track_lock);
    if (r != NULL && counting && s > largest_buffer)
        largest_buffer = s;
    pthread_mutex_unlock(&track_lock);
    return r;
}
long programs_from_source, programs_from_binary;
cl_program __real_clCreateProgramWithSource(cl_context c, cl_uint n, const char **s,
                                            const size_t *l, cl_int *e);
cl_program __wrap_clCreateProgramWithSource(cl_context c, cl_uint n, const char **s,
                                            const size_t *l, cl_int *e);
cl_program __wrap_clCreateProgramWithSource(cl_context c, cl_uint n, const char **s,
                                            const size_t *l, cl_int *e)
{
    ++programs_from_source;
    if (fault("clCreateProgramWithSource")) {
        if (e)
            *e = FAIL_ERR;
        return NULL;
    }
    cl_program r = __real_clCreateProgramWithSource(c, n, s, l, e);
    if (r != NULL)
        obj(1);
    return r;
}
cl_program __real_clCreateProgramWithBinary(cl_context c, cl_uint n, const cl_device_id *d,
                                            const size_t *l, const unsigned char **b, cl_int *bs,
                                            cl_int *e);
cl_program __wrap_clCreateProgramWithBinary(cl_context c, cl_uint n, const cl_device_id *d,
                                            const size_t *l, const unsigned char **b, cl_int *bs,
                                            cl_int *e);
cl_program __wrap_clCreateProgramWithBinary(cl_context c, cl_uint n, const cl_device_id *d,
                                            const size_t *l, const unsigned char **b, cl_int *bs,
                                            cl_int *e)
{
    ++programs_from_binary;
    if (fault("clCreateProgramWithBinary")) {
        if (e)
            *e = FAIL_ERR;
        return NULL;
    }
    cl_program r = __real_clCreateProgramWithBinary(c, n, d, l, b, bs, e);
    if (r != NULL)
        obj(1);
    return r;
}
cl_device_type fake_device_type;
long launches, watched_kernels;
size_t last_launch_offset[2];
const char *kernel_watch;

cl_kernel __real_clCreateKernel(cl_program p, const char *n, cl_int *e);
cl_kernel __wrap_clCreateKernel(cl_program p, const char *n, cl_int *e);
cl_kernel __wrap_clCreateKernel(cl_program p, const char *n, cl_int *e)
{
    if (fault("clCreateKernel")) {
        if (e)
            *e = FAIL_ERR;
        return NULL;
    }
    cl_kernel r = __real_clCreateKernel(p, n, e);
    if (r != NULL) {
        obj(1);
        if (kernel_watch != NULL && strstr(n, kernel_watch) != NULL)
            ++watched_kernels;
    }
    return r;
}

WRAP_CALL(clGetPlatformIDs, (cl_uint n, cl_platform_id *p, cl_uint *np), (n, p, np))
WRAP_CALL(clGetDeviceIDs,
          (cl_platform_id p, cl_device_type t, cl_uint n, cl_device_id *d, cl_uint *nd),
          (p, t, n, d, nd))
WRAP_CALL(clGetPlatformInfo, (cl_platform_id p, cl_platform_info i, size_t s, void *v, size_t *r),
          (p, i, s, v, r))
cl_int __real_clGetDeviceInfo(cl_device_id d, cl_device_info i, size_t s, void *v, size_t *r);
cl_int __wrap_clGetDeviceInfo(cl_device_id d, cl_device_info i, size_t s, void *v, size_t *r);
cl_int __wrap_clGetDeviceInfo(cl_device_id d, cl_device_info i, size_t s, void *v, size_t *r)
{
    if (fault("clGetDeviceInfo"))
        return FAIL_ERR;
    cl_int e = __real_clGetDeviceInfo(d, i, s, v, r);
    if (e == CL_SUCCESS && i == CL_DEVICE_TYPE && fake_device_type != 0 && v != NULL &&
        s >= sizeof fake_device_type)
        memcpy(v, &fake_device_type, sizeof fake_device_type);
    return e;
}
WRAP_CALL(clGetMemObjectInfo, (cl_mem m, cl_mem_info i, size_t s, void *v, size_t *r),
          (m, i, s, v, r))
WRAP_CALL(clGetCommandQueueInfo,
          (cl_command_queue q, cl_command_queue_info i, size_t s, void *v, size_t *r),
          (q, i, s, v, r))
WRAP_CALL(clGetProgramBuildInfo,
          (cl_program p, cl_device_id d, cl_program_build_info i, size_t s, void *v, size_t *r),
          (p, d, i, s, v, r))
WRAP_CALL(clFlush, (cl_command_queue q), (q))
WRAP_CALL(clGetProgramInfo, (cl_program p, cl_program_info i, size_t s, void *v, size_t *r),
          (p, i, s, v, r))
WRAP_CALL(clGetKernelWorkGroupInfo,
          (cl_kernel k, cl_device_id d, cl_kernel_work_group_info i, size_t s, void *v, size_t *r),
          (k, d, i, s, v, r))
WRAP_CALL(clBuildProgram,
          (cl_program p, cl_uint n, const cl_device_id *d, const char *o,
           void(CL_CALLBACK *cb)(cl_program, void *), void *u),
          (p, n, d, o, cb, u))
/* Besides faults: the buffer set as a kernel's output must be writable. The output is
 * argument 4 of lrelu_forward_* and 6 of lrelu_backward_* (kernels/elementwise.cl). */
long readonly_outputs;
cl_int __real_clSetKernelArg(cl_kernel k, cl_uint i, size_t s, const void *v);
cl_int __wrap_clSetKernelArg(cl_kernel k, cl_uint i, size_t s, const void *v);
cl_int __wrap_clSetKernelArg(cl_kernel k, cl_uint i, size_t s, const void *v)
{
    if (fault("clSetKernelArg"))
        return FAIL_ERR;
    char name[64] = "";
    if ((i == 4 || i == 6) && s == sizeof(cl_mem) && v != NULL &&
        clGetKernelInfo(k, CL_KERNEL_FUNCTION_NAME, sizeof name - 1, name, NULL) == CL_SUCCESS &&
        (i == 4) == (strncmp(name, "lrelu_forward_", 14) == 0) && strncmp(name, "lrelu_", 6) == 0) {
        cl_mem_flags flags = 0;
        if (clGetMemObjectInfo(*(const cl_mem *)v, CL_MEM_FLAGS, sizeof flags, &flags, NULL) ==
                CL_SUCCESS &&
            (flags & CL_MEM_READ_ONLY))
            ++readonly_outputs;
    }
    return __real_clSetKernelArg(k, i, s, v);
}

cl_int __real_clEnqueueNDRangeKernel(cl_command_queue q, cl_kernel k, cl_uint dim, const size_t *o,
                                     const size_t *g, const size_t *l, cl_uint nw,
                                     const cl_event *w, cl_event *ev);
cl_int __wrap_clEnqueueNDRangeKernel(cl_command_queue q, cl_kernel k, cl_uint dim, const size_t *o,
                                     const size_t *g, const size_t *l, cl_uint nw,
                                     const cl_event *w, cl_event *ev);
cl_int __wrap_clEnqueueNDRangeKernel(cl_command_queue q, cl_kernel k, cl_uint dim, const size_t *o,
                                     const size_t *g, const size_t *l, cl_uint nw,
                                     const cl_event *w, cl_event *ev)
{
    if (fault("clEnqueueNDRangeKernel"))
        return FAIL_ERR;
    cl_int e = __real_clEnqueueNDRangeKernel(q, k, dim, o, g, l, nw, w, ev);
    if (e == CL_SUCCESS) {
        ++launches;
        last_launch_offset[0] = o != NULL ? o[0] : 0;
        last_launch_offset[1] = o != NULL && dim > 1 ? o[1] : 0;
        if (ev != NULL)
            obj(1);
    }
    return e;
}
WRAP_ENQUEUE(clEnqueueWriteBuffer,
             (cl_command_queue q, cl_mem m, cl_bool b, size_t o, size_t s, const void *p,
              cl_uint nw, const cl_event *w, cl_event *ev),
             (q, m, b, o, s, p, nw, w, ev), ev)
WRAP_ENQUEUE(clEnqueueReadBuffer,
             (cl_command_queue q, cl_mem m, cl_bool b, size_t o, size_t s, void *p, cl_uint nw,
              const cl_event *w, cl_event *ev),
             (q, m, b, o, s, p, nw, w, ev), ev)
WRAP_ENQUEUE(clEnqueueWriteBufferRect,
             (cl_command_queue q, cl_mem m, cl_bool b, const size_t *bo, const size_t *ho,
              const size_t *r, size_t brp, size_t bsp, size_t hrp, size_t hsp, const void *p,
              cl_uint nw, const cl_event *w, cl_event *ev),
             (q, m, b, bo, ho, r, brp, bsp, hrp, hsp, p, nw, w, ev), ev)
WRAP_ENQUEUE(clEnqueueReadBufferRect,
             (cl_command_queue q, cl_mem m, cl_bool b, const size_t *bo, const size_t *ho,
              const size_t *r, size_t brp, size_t bsp, size_t hrp, size_t hsp, void *p, cl_uint nw,
              const cl_event *w, cl_event *ev),
             (q, m, b, bo, ho, r, brp, bsp, hrp, hsp, p, nw, w, ev), ev)
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
    pthread_mutex_lock(&track_lock);
    for (int i = 0; p && counting && i < MAX_ALLOCS; ++i)
        if (allocs[i] == NULL) {
            allocs[i] = p;
            break;
        }
    pthread_mutex_unlock(&track_lock);
    return p;
}

void *__wrap_malloc(size_t n) { return fault("malloc") ? NULL : track(__real_malloc(n)); }
void *__wrap_calloc(size_t n, size_t s)
{
    return fault("calloc") ? NULL : track(__real_calloc(n, s));
}
void __wrap_free(void *p)
{
    pthread_mutex_lock(&track_lock);
    for (int i = 0; p && i < MAX_ALLOCS; ++i)
        if (allocs[i] == p)
            allocs[i] = NULL;
    pthread_mutex_unlock(&track_lock);
    __real_free(p);
}

int allocs_alive(void)
{
    int n = 0;
    for (int i = 0; i < MAX_ALLOCS; ++i)
        n += allocs[i] != NULL;
    return n;
}

int fault_leaks(char *why, size_t len)
{
    int leaked = 0;
    if (live_objects != 0)
        leaked = 1, snprintf(why, len, "%ld OpenCL objects leaked", live_objects);
    if (allocs_alive() != 0)
        leaked = 1, snprintf(why, len, "%d allocations leaked", allocs_alive());
    memset(allocs, 0, sizeof allocs);
    return leaked;
}
