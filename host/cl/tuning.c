/* tuning.c: the launch shape of each dtype's kernels (elements per work-item, work-group
 * size). A ctx starts from a default for its device type, takes a measured shape from
 * the tuning cache when lrelu_tune() has written one for this device, driver and kernel
 * source, and lets $LRELU_KERNEL_SHAPE override both. lrelu_tune() measures every
 * candidate shape on the device and writes the cache. */
#include "cl/cl.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The candidates lrelu_tune() measures; tests/test_variants.c runs every one of them. */
static const size_t tune_vecs[] = {1, 2, 4, 8, 16};
static const size_t tune_locals[] = {64, 256, 1024};
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* Default: one 64-byte vector per work-item on CPUs, where a work-item becomes one wide
 * SIMD operation; 16 bytes on GPUs, the widest load that coalesces everywhere. vloadn has
 * no n above 16. 256 work-items per group: a multiple of every common SIMD width (NVIDIA
 * 32, AMD 64, Intel 8-32, PoCL 8) within AMD's usual limit, and one size keeps the number
 * of work-group functions PoCL compiles small. */
static lrelu_shape default_shape(const lrelu_ctx *ctx, lrelu_dtype t)
{
    size_t bytes = ctx->host_cpu ? 64 : 16;
    size_t v = bytes / lrelu_dtype_size(t);
    return (lrelu_shape){v > 16 ? 16 : v, 256};
}

/* The shapes' file, named by the device's identity and the plain kernels' source: a new
 * driver or a changed kernel never reuses an old measurement. */
static int cache_file(const lrelu_ctx *ctx, char *out, size_t len, int create)
{
    char ident[1024], name[64];
    lrelu_device_ident(ctx, ident, sizeof ident);
    unsigned long long key = lrelu_fnv(ident, strlen(ident), 1469598103934665603ull);
    snprintf(name, sizeof name, "shapes-%016llx.txt",
             lrelu_family_hash(LRELU_FAMILY_ELEMENTWISE, key));
    return lrelu_cache_path(ctx, name, out, len, create);
}

static void read_cache(lrelu_ctx *ctx)
{
    char path[1200], line[256], name[8];
    unsigned long vec, local;
    if (!cache_file(ctx, path, sizeof path, 0))
        return;
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return;
    /* lines "f32 16 256", then the measurements as "#" comments; anything unexpected is
     * skipped */
    while (fgets(line, sizeof line, f) != NULL)
        if (line[0] != '#' && sscanf(line, "%7s %lu %lu", name, &vec, &local) == 3)
            for (int t = 0; t < LRELU_NUM_DTYPES; ++t)
                if (strcmp(name, lrelu_dtype_name((lrelu_dtype)t)) == 0 &&
                    lrelu_shape_valid(vec, local))
                    ctx->shape[t] = (lrelu_shape){vec, local};
    (void)fclose(f);
}

void lrelu_shapes_init(lrelu_ctx *ctx)
{
    for (int t = 0; t < LRELU_NUM_DTYPES; ++t)
        ctx->shape[t] = default_shape(ctx, (lrelu_dtype)t);
    const lrelu_config *cfg = &ctx->config;
    if (!cfg->tune.set || cfg->tune.v[0])
        read_cache(ctx);
    const lrelu_setting *forced = &cfg->kernel_shape; /* checked at creation */
    if (forced->set)
        for (int t = 0; t < LRELU_NUM_DTYPES; ++t)
            ctx->shape[t] = (lrelu_shape){(size_t)forced->v[0], (size_t)forced->v[1]};
}

lrelu_status lrelu_kernel_shape(const lrelu_ctx *ctx, lrelu_dtype t, size_t *vec, size_t *local)
{
    if (ctx == NULL || vec == NULL || local == NULL)
        return lrelu_fail(LRELU_ERR_INVALID_ARG, "lrelu_kernel_shape: NULL argument");
    if (lrelu_dtype_size(t) == 0)
        return lrelu_fail(LRELU_ERR_INVALID_ARG,
                          "lrelu_kernel_shape: dtype %d is not an "
                          "lrelu_dtype",
                          (int)t);
    lrelu_ctx *c = (lrelu_ctx *)ctx; /* the lock guards the fields, not the ctx's meaning */
    pthread_mutex_lock(&c->lock);
    const lrelu_kernels *k = &c->k[t];
    int built = k->program[LRELU_FAMILY_ELEMENTWISE] != NULL;
    *vec = built ? k->vec : c->shape[t].vec;
    *local = built ? k->local[LRELU_FAMILY_ELEMENTWISE] : c->shape[t].local;
    pthread_mutex_unlock(&c->lock);
    return LRELU_OK;
}

/* The bytes of each of the tuner's three buffers: four times the device's last-level
 * cache as it reports it, and at least 512 MiB, since GPUs' reports leave out their
 * largest caches (and PoCL reports none); within one allocation and a quarter of the
 * device's memory. $LRELU_TUNE_BYTES sets it (tests). */
static size_t tune_bytes(const lrelu_ctx *ctx)
{
    if (ctx->config.tune_bytes.set)
        return (size_t)ctx->config.tune_bytes.v[0];
    cl_ulong cache = 0, global = 0;
    (void)clGetDeviceInfo(ctx->device, CL_DEVICE_GLOBAL_MEM_CACHE_SIZE, sizeof cache, &cache, NULL);
    (void)clGetDeviceInfo(ctx->device, CL_DEVICE_GLOBAL_MEM_SIZE, sizeof global, &global, NULL);
    cl_ulong bytes = 4 * cache > ((cl_ulong)512 << 20) ? 4 * cache : (cl_ulong)512 << 20;
    if (ctx->max_alloc != 0 && bytes > ctx->max_alloc)
        bytes = ctx->max_alloc;
    if (global != 0 && bytes > global / 4)
        bytes = global / 4;
    return (size_t)bytes;
}

/* The device's own time of one launch, from its profiling counters. */
static lrelu_status device_seconds(cl_event ev, double *out)
{
    lrelu_status st = LRELU_OK;
    cl_ulong start = 0, end = 0;
    LRELU_CL(clWaitForEvents(1, &ev));
    LRELU_CL(clGetEventProfilingInfo(ev, CL_PROFILING_COMMAND_START, sizeof start, &start, NULL));
    LRELU_CL(clGetEventProfilingInfo(ev, CL_PROFILING_COMMAND_END, sizeof end, &end, NULL));
    *out = end > start ? 1e-9 * (double)(end - start) : 0;
cleanup:
    return st;
}

/* Median device time of 5 launches of op (after one to warm up) with kernels k on q. */
static lrelu_status time_op(lrelu_ctx *ctx, cl_command_queue q, const lrelu_kernels *k, lrelu_op op,
                            lrelu_dtype t, size_t n, cl_mem x, cl_mem dy, cl_mem out,
                            double *median)
{
    double times[5];
    for (int r = -1; r < 5; ++r) {
        cl_event ev = NULL;
        double secs = 0;
        lrelu_status st = lrelu_launch(ctx, q, k, op, t, n, 0.01, NULL, x, 0,
                                       op == LRELU_OP_FORWARD ? NULL : dy, 0, out, 0, 0, NULL, &ev);
        if (st == LRELU_OK)
            st = device_seconds(ev, &secs);
        if (ev != NULL)
            (void)clReleaseEvent(ev);
        if (st != LRELU_OK)
            return st;
        if (r >= 0)
            times[r] = secs;
    }
    for (int i = 1; i < 5; ++i) /* insertion sort of five */
        for (int j = i; j > 0 && times[j] < times[j - 1]; --j) {
            double tmp = times[j];
            times[j] = times[j - 1];
            times[j - 1] = tmp;
        }
    *median = times[2];
    return LRELU_OK;
}

/* What the tuner measured, for the cache file's comments (lrelu tune prints them). */
typedef struct {
    char text[4096];
    size_t len;
} tune_log;

static void log_line(tune_log *log, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void log_line(tune_log *log, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int w = vsnprintf(log->text + log->len, sizeof log->text - log->len, fmt, ap);
    va_end(ap);
    if (w > 0 && (size_t)w < sizeof log->text - log->len)
        log->len += (size_t)w;
}

/* Measures the candidates for dtype t on q, forward and backward, and returns in *best
 * the one whose forward and backward take the least time together: what a training step
 * spends. */
static lrelu_status tune_dtype(lrelu_ctx *ctx, cl_command_queue q, lrelu_dtype t, tune_log *log,
                               lrelu_shape *best)
{
    lrelu_status st = LRELU_OK;
    size_t es = lrelu_dtype_size(t), n = tune_bytes(ctx) / es;
    /* one launch, so that the kernel's event is the whole call */
    if (n > ctx->launch_items)
        n = ctx->launch_items;
    cl_int err = CL_SUCCESS;
    cl_mem b[3] = {NULL, NULL, NULL}; /* x, dy, out */
    lrelu_kernels k = {0};
    const float pattern[2] = {1.5f, -2.5f}; /* both branches, in every dtype's bits */
    double best_time = -1;
    for (int i = 0; i < 3; ++i) {
        b[i] = clCreateBuffer(ctx->context, CL_MEM_READ_WRITE, n * es, NULL, &err);
        LRELU_CL_AS(err, "clCreateBuffer");
        if (i < 2)
            LRELU_CL(clEnqueueFillBuffer(q, b[i], pattern, sizeof pattern, 0, n * es / 8 * 8, 0,
                                         NULL, NULL));
    }
    log_line(log, "# %s: %zu elements (%zu MiB a buffer); GB/s forward, backward\n",
             lrelu_dtype_name(t), n, n * es >> 20);
    for (size_t v = 0; v < COUNT(tune_vecs); ++v) {
        /* built for the largest group, which comes out as the most the device takes */
        st = lrelu_build_family(ctx, t, LRELU_FAMILY_ELEMENTWISE,
                                (lrelu_shape){tune_vecs[v], tune_locals[COUNT(tune_locals) - 1]}, 0,
                                &k);
        if (st != LRELU_OK)
            goto cleanup;
        size_t max_local = k.local[LRELU_FAMILY_ELEMENTWISE];
        for (size_t l = 0; l < COUNT(tune_locals); ++l) {
            if (tune_locals[l] > max_local && l > 0)
                break; /* the device takes no more work-items for these kernels */
            /* a device that allows fewer than the smallest candidate gets what it allows */
            size_t local = tune_locals[l] < max_local ? tune_locals[l] : max_local;
            k.local[LRELU_FAMILY_ELEMENTWISE] = local;
            double fwd = 0, bwd = 0;
            st = time_op(ctx, q, &k, LRELU_OP_FORWARD, t, n, b[0], NULL, b[2], &fwd);
            if (st == LRELU_OK)
                st = time_op(ctx, q, &k, LRELU_OP_BACKWARD, t, n, b[0], b[1], b[2], &bwd);
            if (st != LRELU_OK)
                goto cleanup;
            log_line(log, "# %s %2zu %4zu %8.1f %8.1f\n", lrelu_dtype_name(t), tune_vecs[v], local,
                     fwd > 0 ? 2e-9 * (double)(n * es) / fwd : 0,
                     bwd > 0 ? 3e-9 * (double)(n * es) / bwd : 0);
            if (best_time < 0 || fwd + bwd < best_time) {
                best_time = fwd + bwd;
                *best = (lrelu_shape){tune_vecs[v], local};
            }
        }
        lrelu_kernels_release(&k);
    }
cleanup:
    lrelu_kernels_release(&k);
    for (int i = 2; i >= 0; --i)
        if (b[i] != NULL)
            (void)clReleaseMemObject(b[i]);
    return st;
}

lrelu_status lrelu_tune(lrelu_ctx *ctx, char *cache_path, size_t cache_path_len)
{
    if (ctx == NULL)
        return lrelu_fail(LRELU_ERR_INVALID_ARG, "lrelu_tune: ctx is NULL");
    if (cache_path != NULL && cache_path_len > 0)
        cache_path[0] = '\0';
    lrelu_status st = LRELU_OK;
    lrelu_shape tuned[LRELU_NUM_DTYPES];
    tune_log log;
    cl_int err = CL_SUCCESS;
    pthread_mutex_lock(&ctx->lock);
    log.len = 0;
    log.text[0] = '\0';
    /* a queue of its own, profiled: the device's own times, not the host's view of them,
     * and nothing of the caller's waits behind the measurements */
    cl_command_queue q =
        clCreateCommandQueue(ctx->context, ctx->device, CL_QUEUE_PROFILING_ENABLE, &err);
    if (err != CL_SUCCESS)
        st = lrelu_cl_fail(err, "clCreateCommandQueue", __FILE__, __LINE__);
    for (int t = 0; t < LRELU_NUM_DTYPES && st == LRELU_OK; ++t) {
        tuned[t] = ctx->shape[t];
        if (t == LRELU_F64 && !ctx->has_fp64)
            continue;
        st = tune_dtype(ctx, q, (lrelu_dtype)t, &log, &tuned[t]);
    }
    if (q != NULL)
        (void)clReleaseCommandQueue(q);
    if (st == LRELU_OK) {
        /* the measured shapes take effect at each dtype's next build */
        for (int t = 0; t < LRELU_NUM_DTYPES; ++t) {
            ctx->shape[t] = tuned[t];
            lrelu_kernels_release(&ctx->k[t]);
        }
    }
    pthread_mutex_unlock(&ctx->lock);
    if (st != LRELU_OK)
        return st;
    /* The cache is a convenience: a ctx works without it, so failing to write it is
     * reported through cache_path staying empty, not as an error. */
    char path[1200], text[512 + sizeof log.text];
    size_t at = 0;
    for (int t = 0; t < LRELU_NUM_DTYPES; ++t)
        if (t != LRELU_F64 || ctx->has_fp64)
            at += (size_t)snprintf(text + at, sizeof text - at, "%s %zu %zu\n",
                                   lrelu_dtype_name((lrelu_dtype)t), tuned[t].vec, tuned[t].local);
    at += (size_t)snprintf(text + at, sizeof text - at, "%s", log.text);
    const void *parts[1] = {text};
    if (cache_file(ctx, path, sizeof path, 1) && lrelu_cache_write(path, parts, &at, 1) &&
        cache_path != NULL && cache_path_len > 0)
        snprintf(cache_path, cache_path_len, "%s", path);
    return LRELU_OK;
}
