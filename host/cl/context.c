/* context.c: creating and destroying a ctx, either owning a context and queue of its own
 * or borrowing a caller's queue, and reading once what the device offers. */
#define _GNU_SOURCE /* sched_getaffinity, CPU_COUNT; sysconf */
#include "cl/cl.h"
#include "hostmem/hostmem.h" /* the ctx sets up the host path too */

#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* How many CPUs the thread creating the ctx may run on (its affinity: taskset, a
 * container's cpuset); the CPUs online where that cannot be read. */
static long usable_cpus(void)
{
#ifdef __linux__
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0)
        return CPU_COUNT(&set);
#endif
    return sysconf(_SC_NPROCESSORS_ONLN);
}

static lrelu_status read_device_facts(lrelu_ctx *c)
{
    lrelu_status st = LRELU_OK;
    char ext[8192] = "", cver[128] = "";
    cl_device_fp_config dfp = 0;
    LRELU_CL(clGetDeviceInfo(c->device, CL_DEVICE_TYPE, sizeof c->type, &c->type, NULL));
    c->host_cpu = (c->type & CL_DEVICE_TYPE_CPU) != 0 &&
                  (c->type & (CL_DEVICE_TYPE_GPU | CL_DEVICE_TYPE_ACCELERATOR)) == 0;
    LRELU_CL(clGetDeviceInfo(c->device, CL_DEVICE_ENDIAN_LITTLE, sizeof c->little_endian,
                             &c->little_endian, NULL));
    LRELU_CL(clGetDeviceInfo(c->device, CL_DEVICE_MAX_MEM_ALLOC_SIZE, sizeof c->max_alloc,
                             &c->max_alloc, NULL));
    /* The extension string can exceed any fixed buffer; only a truncated read would fail,
     * and then fp64 is looked up through the double config alone. */
    if (clGetDeviceInfo(c->device, CL_DEVICE_EXTENSIONS, sizeof ext - 1, ext, NULL) != CL_SUCCESS)
        ext[0] = '\0';
    LRELU_CL(clGetDeviceInfo(c->device, CL_DEVICE_DOUBLE_FP_CONFIG, sizeof dfp, &dfp, NULL));
    LRELU_CL(clGetDeviceInfo(c->device, CL_DEVICE_OPENCL_C_VERSION, sizeof cver - 1, cver, NULL));
    cl_command_queue_properties qprops = 0;
    LRELU_CL(clGetCommandQueueInfo(c->queue, CL_QUEUE_PROPERTIES, sizeof qprops, &qprops, NULL));
    c->in_order = (qprops & CL_QUEUE_OUT_OF_ORDER_EXEC_MODE_ENABLE) == 0;
    cl_bool unified = CL_FALSE;
    cl_uint align_bits = 0;
    LRELU_CL(
        clGetDeviceInfo(c->device, CL_DEVICE_HOST_UNIFIED_MEMORY, sizeof unified, &unified, NULL));
    LRELU_CL(clGetDeviceInfo(c->device, CL_DEVICE_MEM_BASE_ADDR_ALIGN, sizeof align_bits,
                             &align_bits, NULL));
    c->base_align = align_bits >= 64 ? align_bits / 8 : 8;
    size_t items[64] = {0}; /* one per dimension; at least 3, at most what fits here */
    cl_uint dims = 0;
    LRELU_CL(
        clGetDeviceInfo(c->device, CL_DEVICE_MAX_WORK_ITEM_DIMENSIONS, sizeof dims, &dims, NULL));
    if (dims < 2 || dims > 64)
        dims = dims < 2 ? 2 : 64;
    LRELU_CL(clGetDeviceInfo(c->device, CL_DEVICE_MAX_WORK_ITEM_SIZES, dims * sizeof items[0],
                             items, NULL));
    c->max_items[0] = items[0] > 0 ? items[0] : 1;
    c->max_items[1] = items[1] > 0 ? items[1] : 1;
    const lrelu_config *cfg = &c->config;
    {
        /* the launch limits (launch.c), lowered by tests to split launches of small arrays */
        unsigned long long items0 = (size_t)1 << 31, groups1 = 65535;
        const lrelu_setting *l = &cfg->launch_limits;
        if (l->set && l->v[0] < items0)
            items0 = l->v[0];
        if (l->set && l->v[1] > 0 && l->v[1] < groups1)
            groups1 = l->v[1];
        c->launch_items = (size_t)items0;
        c->launch_groups = (size_t)groups1;
    }
    c->poison_scratch = cfg->poison_scratch.set && cfg->poison_scratch.v[0];
    {
        /* the per-channel backward by rows of channel groups on a CPU, where a
         * work-item runs alone; 0 for the GPUs' kernels */
        unsigned long long g = cfg->chan_group.set ? cfg->chan_group.v[0]
                               : c->host_cpu       ? LRELU_CHAN_GROUP_MAX
                                                   : 0;
        c->chan_group = g > LRELU_CHAN_GROUP_MAX ? LRELU_CHAN_GROUP_MAX : (size_t)g;
        c->chan_blocks = cfg->chan_blocks.set ? (size_t)cfg->chan_blocks.v[0] : 0;
    }
    cl_uint units = 1;
    LRELU_CL(clGetDeviceInfo(c->device, CL_DEVICE_MAX_COMPUTE_UNITS, sizeof units, &units, NULL));
    c->units = units > 0 ? units : 1;
    lrelu_route_init(c, unified == CL_TRUE, usable_cpus());
    c->has_fp64 = dfp != 0 || strstr(ext, "cl_khr_fp64") != NULL;
    if (cfg->disable_fp64.set && cfg->disable_fp64.v[0])
        c->has_fp64 = 0;
    /* "OpenCL C 1.2 ..." */
    {
        int major = 0, minor = 0;
        const char *v = strstr(cver, "OpenCL C ");
        if (v != NULL) {
            v += 9;
            major = atoi(v);
            const char *dot = strchr(v, '.');
            minor = dot ? atoi(dot + 1) : 0;
        }
        c->cl_c_1_2 = major > 1 || (major == 1 && minor >= 2);
    }
    lrelu_shapes_init(c);
cleanup:
    return st;
}

/* The last step of both creators: read the device's facts, then hand the ctx out, or
 * release everything it holds. */
static lrelu_status finish_create(lrelu_ctx *c, lrelu_ctx **out)
{
    lrelu_status st = read_device_facts(c);
    if (st != LRELU_OK) {
        lrelu_destroy(c);
        return st;
    }
    *out = c;
    return LRELU_OK;
}

static lrelu_ctx *ctx_alloc(void)
{
    lrelu_ctx *c = calloc(1, sizeof *c);
    if (c == NULL)
        return NULL;
    if (pthread_mutex_init(&c->lock, NULL) != 0) {
        free(c);
        return NULL;
    }
    return c;
}

lrelu_status lrelu_create(lrelu_ctx **ctx, const char *device)
{
    if (ctx == NULL)
        return lrelu_fail(LRELU_ERR_INVALID_ARG, "lrelu_create: ctx is NULL");
    *ctx = NULL;
    cl_platform_id platform;
    cl_device_id dev;
    lrelu_config cfg;
    lrelu_status st = lrelu_config_read("lrelu_create", &cfg);
    if (st == LRELU_OK)
        st = lrelu_select_device(device, cfg.device, &platform, &dev);
    if (st != LRELU_OK)
        return st;
    lrelu_ctx *c = ctx_alloc();
    if (c == NULL)
        return lrelu_fail(LRELU_ERR_OUT_OF_MEMORY, "lrelu_create: calloc of the ctx failed");
    c->config = cfg;
    cl_int err = CL_SUCCESS;
    cl_context_properties props[] = {CL_CONTEXT_PLATFORM, (cl_context_properties)platform, 0};
    c->device = dev;
    c->context = clCreateContext(props, 1, &dev, NULL, NULL, &err);
    LRELU_CL_AS(err, "clCreateContext");
    c->queue = clCreateCommandQueue(c->context, dev, 0, &err);
    LRELU_CL_AS(err, "clCreateCommandQueue");
    return finish_create(c, ctx);
cleanup:
    lrelu_destroy(c);
    return st;
}

lrelu_status lrelu_create_from_queue(lrelu_ctx **ctx, cl_command_queue queue)
{
    if (ctx == NULL)
        return lrelu_fail(LRELU_ERR_INVALID_ARG, "lrelu_create_from_queue: ctx is NULL");
    *ctx = NULL;
    if (queue == NULL)
        return lrelu_fail(LRELU_ERR_INVALID_ARG, "lrelu_create_from_queue: queue is NULL");
    cl_context context;
    cl_device_id dev;
    cl_int err = clGetCommandQueueInfo(queue, CL_QUEUE_CONTEXT, sizeof context, &context, NULL);
    if (err == CL_SUCCESS)
        err = clGetCommandQueueInfo(queue, CL_QUEUE_DEVICE, sizeof dev, &dev, NULL);
    if (err != CL_SUCCESS)
        return lrelu_fail(LRELU_ERR_INVALID_ARG,
                          "lrelu_create_from_queue: not a valid command queue "
                          "(clGetCommandQueueInfo: %s)",
                          lrelu_cl_error_name(err));
    lrelu_config cfg;
    lrelu_status st = lrelu_config_read("lrelu_create_from_queue", &cfg);
    if (st != LRELU_OK)
        return st;
    lrelu_ctx *c = ctx_alloc();
    if (c == NULL)
        return lrelu_fail(LRELU_ERR_OUT_OF_MEMORY,
                          "lrelu_create_from_queue: calloc of the ctx failed");
    c->config = cfg;
    c->device = dev;
    LRELU_CL(clRetainContext(context));
    c->context = context;
    LRELU_CL(clRetainCommandQueue(queue));
    c->queue = queue;
    return finish_create(c, ctx);
cleanup:
    lrelu_destroy(c);
    return st;
}

void lrelu_destroy(lrelu_ctx *ctx)
{
    if (ctx == NULL)
        return;
    lrelu_crew_destroy(atomic_load(&ctx->crew));
    lrelu_release_kernels(ctx);
    if (ctx->sums != NULL)
        (void)clReleaseMemObject(ctx->sums);
    for (int i = 0; i < 2; ++i) {
        lrelu_stage_release(ctx->copy_queue[i], &ctx->staging[i]);
        if (ctx->copy_queue[i] != NULL)
            (void)clReleaseCommandQueue(ctx->copy_queue[i]);
    }
    /* Release failures cannot be reported from a void function and must not mask
     * anything: they are ignored, in reverse order of creation. */
    if (ctx->queue != NULL)
        (void)clReleaseCommandQueue(ctx->queue);
    if (ctx->context != NULL)
        (void)clReleaseContext(ctx->context);
    pthread_mutex_destroy(&ctx->lock);
    free(ctx);
}

cl_context lrelu_cl_context(const lrelu_ctx *ctx) { return ctx ? ctx->context : NULL; }
cl_command_queue lrelu_cl_queue(const lrelu_ctx *ctx) { return ctx ? ctx->queue : NULL; }
cl_device_id lrelu_cl_device(const lrelu_ctx *ctx) { return ctx ? ctx->device : NULL; }
