/* context.c: creating and destroying a ctx, either owning a context and queue of its own
 * or borrowing a caller's queue, and reading once what the device offers. */
#define _GNU_SOURCE /* sched_getaffinity, CPU_COUNT; sysconf */
#include "cl/cl.h"

#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Default chunk of the host-memory API; the device's largest allocation caps it. */
#define LRELU_HOST_CHUNK_DEFAULT ((size_t)64 << 20)
/* Bytes moved (inputs + output) up to which a CPU device's host call runs in-process,
 * per dtype (f32, f16, bf16, f64), measured on 2 cores against PoCL (docs/performance.md).
 * With the AVX2 or AVX-512 loops, the crew, and non-temporal stores past the caches, the
 * in-process path was ahead of PoCL or level with it at every size up to 2^26 elements,
 * so there is no crossover. The same loops on one thread against PoCL on two cores
 * (LRELU_HOST_THREADS=1, or a thread allowed one CPU) took 0.02-0.77 x PoCL's time up to
 * 8-12 MiB moved, every dtype and direction, and up to 2.1 x from 24-48 MiB: 8 MiB. With
 * the portable loops alone, the calling thread's loop
 * beats the launch up to about 2^16 f32 elements, and the f16 and bf16 loops run at a
 * sixth and half of that speed; the _ex calls that blend or stride run the reference's
 * loop, and keep those crossovers too. */
static const size_t inprocess_simd[LRELU_NUM_DTYPES] = {SIZE_MAX, SIZE_MAX, SIZE_MAX, SIZE_MAX};
static const size_t inprocess_simd1[LRELU_NUM_DTYPES] = {(size_t)8 << 20, (size_t)8 << 20,
                                                         (size_t)8 << 20, (size_t)8 << 20};
static const size_t inprocess_base[LRELU_NUM_DTYPES] = {(size_t)768 << 10, (size_t)64 << 10,
                                                        (size_t)192 << 10, (size_t)1536 << 10};
/* Bytes moved from which an in-process call is shared with the crew (host/crew.c): where
 * two threads beat one (with the helpers awake; f16's conversions shared a core's unit
 * between this machine's two vCPUs, so it gains less). */
static const size_t crew_default[LRELU_NUM_DTYPES] = {(size_t)128 << 10, (size_t)256 << 10,
                                                      (size_t)64 << 10, (size_t)256 << 10};

/* Bytes moved from which the in-process loops write with non-temporal stores: where the
 * arrays outgrow the caches (32 MiB of L3 here), so that skipping the read for ownership
 * of each output line pays (1.3-1.7 x from 2^22 f32 up on this EPYC) and keeping the
 * output cached would not (at 16 MiB moved streaming took twice as long). */
#define LRELU_STREAM_DEFAULT ((size_t)32 << 20)

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

static int env_is_zero(const char *name)
{
    const char *v = getenv(name);
    return v != NULL && strcmp(v, "0") == 0;
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
    {
        /* LRELU_LAUNCH_LIMITS=ITEMS:GROUPS lowers the launch limits (launch.c) so that
         * tests run the split launches on small arrays */
        const char *env = getenv("LRELU_LAUNCH_LIMITS");
        unsigned long long items0 = (size_t)1 << 31, groups1 = 65535;
        if (env != NULL && env[0] != '\0') {
            char *end = NULL;
            unsigned long long a = strtoull(env, &end, 10), b = 0;
            if (end != NULL && *end == ':')
                b = strtoull(end + 1, NULL, 10);
            if (a > 0 && a < items0)
                items0 = a;
            if (b > 0 && b < groups1)
                groups1 = b;
        }
        c->launch_items = (size_t)items0;
        c->launch_groups = (size_t)groups1;
    }
    {
        const char *env = getenv("LRELU_POISON_SCRATCH");
        c->poison_scratch = env != NULL && env[0] != '\0' && strcmp(env, "0") != 0;
    }
    {
        /* the per-channel backward by rows of channel groups on a CPU, where a
         * work-item runs alone; LRELU_CHAN_GROUP sets the widest group (at most
         * LRELU_CHAN_GROUP_MAX), 0 for the GPUs' kernels */
        const char *env = getenv("LRELU_CHAN_GROUP");
        size_t g = c->host_cpu ? LRELU_CHAN_GROUP_MAX : 0;
        if (env != NULL && env[0] != '\0')
            g = (size_t)strtoull(env, NULL, 10);
        c->chan_group = g > LRELU_CHAN_GROUP_MAX ? LRELU_CHAN_GROUP_MAX : g;
        /* LRELU_CHAN_BLOCKS sets the blocks of each of its work-items (tests) */
        const char *blocks = getenv("LRELU_CHAN_BLOCKS");
        c->chan_blocks =
            blocks != NULL && blocks[0] != '\0' ? (size_t)strtoull(blocks, NULL, 10) : 0;
    }
    /* The host-memory API wraps the caller's arrays where the device works on host memory
     * (PoCL, integrated GPUs); LRELU_HOST_ZERO_COPY=0 forces the copying path. */
    c->zero_copy = unified == CL_TRUE && !env_is_zero("LRELU_HOST_ZERO_COPY");
    c->cpu = lrelu_cpu_pick();
    cl_uint units = 1;
    {
        /* threads for in-process calls: one per compute unit of the (CPU) device, no
         * more than this thread may run on; LRELU_HOST_THREADS sets it, 1 for none */
        LRELU_CL(
            clGetDeviceInfo(c->device, CL_DEVICE_MAX_COMPUTE_UNITS, sizeof units, &units, NULL));
        long online = usable_cpus();
        long n = online > 0 && (long)units > online ? online : (long)units;
        const char *env = getenv("LRELU_HOST_THREADS");
        if (env != NULL && env[0] != '\0')
            n = strtol(env, NULL, 10);
        c->threads = n < 1 ? 1 : n > 65 ? 65 : (int)n;
        c->units = units > 0 ? units : 1;
        const char *cb = getenv("LRELU_HOST_CREW_BYTES");
        for (int t = 0; t < LRELU_NUM_DTYPES; ++t)
            c->crew_bytes[t] =
                cb != NULL && cb[0] != '\0' ? (size_t)strtoull(cb, NULL, 10) : crew_default[t];
        /* non-temporal stores from LRELU_STREAM_DEFAULT bytes moved, or
         * $LRELU_HOST_STREAM_BYTES */
        const char *sb = getenv("LRELU_HOST_STREAM_BYTES");
        c->stream_bytes =
            sb != NULL && sb[0] != '\0' ? (size_t)strtoull(sb, NULL, 10) : LRELU_STREAM_DEFAULT;
    }
    /* On a CPU device small host calls run in-process (host/cpu.c), below a crossover
     * measured with bench/ on PoCL; LRELU_HOST_INPROCESS_BYTES sets it, 0 turns it off. */
    {
        /* LRELU_HOST_INPROCESS_BYTES sets one crossover for every dtype, 0 turns it off */
        const char *env = getenv("LRELU_HOST_INPROCESS_BYTES");
        int set = env != NULL && env[0] != '\0';
        /* no crossover holds for the wide loops shared over the device's cores */
        int wide = strcmp(c->cpu->name, "base") != 0;
        const size_t *inprocess = !wide                          ? inprocess_base
                                  : c->threads > 1 || units == 1 ? inprocess_simd
                                                                 : inprocess_simd1;
        size_t all = set ? (size_t)strtoull(env, NULL, 10) : 0;
        c->inprocess_set = set;
        for (int t = 0; t < LRELU_NUM_DTYPES; ++t) {
            c->inprocess_bytes[t] = set ? all : c->host_cpu ? inprocess[t] : 0;
            c->inprocess_ex_bytes[t] = set ? all : c->host_cpu ? inprocess_base[t] : 0;
        }
    }
    c->has_fp64 = dfp != 0 || strstr(ext, "cl_khr_fp64") != NULL;
    const char *off = getenv("LRELU_DISABLE_FP64");
    if (off != NULL && off[0] != '\0' && strcmp(off, "0") != 0)
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
    c->host_chunk_bytes = LRELU_HOST_CHUNK_DEFAULT;
    {
        /* LRELU_HOST_CHUNK (bytes) lowers the chunk, to test the streaming path on small
         * arrays or to bound the device memory a host call takes. */
        const char *env = getenv("LRELU_HOST_CHUNK");
        if (env != NULL && env[0] != '\0') {
            unsigned long long v = strtoull(env, NULL, 10);
            if (v >= 64)
                c->host_chunk_bytes = (size_t)v;
        }
    }
    {
        /* LRELU_BUILD_OPTIONS is appended to every kernel build, for diagnostics (say
         * -cl-opt-disable); a -D there overrides the library's own. */
        const char *env = getenv("LRELU_BUILD_OPTIONS");
        snprintf(c->build_extra, sizeof c->build_extra, "%s", env ? env : "");
    }
    if (c->max_alloc != 0 && c->host_chunk_bytes > c->max_alloc)
        c->host_chunk_bytes = (size_t)c->max_alloc;
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
    lrelu_status st = lrelu_select_device(device, &platform, &dev);
    if (st != LRELU_OK)
        return st;
    lrelu_ctx *c = ctx_alloc();
    if (c == NULL)
        return lrelu_fail(LRELU_ERR_OUT_OF_MEMORY, "lrelu_create: calloc of the ctx failed");
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
    lrelu_ctx *c = ctx_alloc();
    if (c == NULL)
        return lrelu_fail(LRELU_ERR_OUT_OF_MEMORY,
                          "lrelu_create_from_queue: calloc of the ctx failed");
    lrelu_status st = LRELU_OK;
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
        for (int k = 0; k < 3; ++k)
            if (ctx->staging[i][k] != NULL)
                (void)clReleaseMemObject(ctx->staging[i][k]);
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
