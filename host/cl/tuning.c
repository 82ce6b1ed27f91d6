/* tuning.c: the launch shape of each dtype's kernels (elements per work-item, work-group
 * size). A ctx starts from a default for its device type, takes a measured shape from
 * the tuning cache when lrelu_tune() has written one for this device, driver and kernel
 * source, and lets $LRELU_KERNEL_SHAPE override both. lrelu_tune() measures every
 * candidate shape on the device and writes the cache. */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */
#include "cl/cl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The candidates lrelu_tune() measures; tests/test_variants.c runs every one of them. */
static const size_t tune_vecs[] = {4, 8, 16};
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
    char path[1200], name[8];
    unsigned long vec, local;
    if (!cache_file(ctx, path, sizeof path, 0))
        return;
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return;
    /* lines "f32 16 256"; anything unexpected is skipped */
    while (fscanf(f, "%7s %lu %lu", name, &vec, &local) == 3)
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

static double seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Median time of 5 forward launches (after one to warm up) with kernels k. */
static lrelu_status time_shape(lrelu_ctx *ctx, const lrelu_kernels *k, lrelu_dtype t, size_t n,
                               cl_mem x, cl_mem y, double *out)
{
    double times[5];
    for (int r = -1; r < 5; ++r) {
        double t0 = seconds();
        lrelu_status st = lrelu_launch(ctx, ctx->queue, k, LRELU_OP_FORWARD, t, n, 0.01, NULL, x, 0,
                                       NULL, 0, y, 0, 0, NULL, NULL);
        cl_int err = st == LRELU_OK ? clFinish(ctx->queue) : CL_SUCCESS;
        if (st != LRELU_OK)
            return st;
        if (err != CL_SUCCESS)
            return lrelu_cl_fail(err, "clFinish", __FILE__, __LINE__);
        if (r >= 0)
            times[r] = seconds() - t0;
    }
    for (int i = 1; i < 5; ++i) /* insertion sort of five */
        for (int j = i; j > 0 && times[j] < times[j - 1]; --j) {
            double tmp = times[j];
            times[j] = times[j - 1];
            times[j - 1] = tmp;
        }
    *out = times[2];
    return LRELU_OK;
}

/* Measures the candidates for dtype t and returns the fastest in *best. */
static lrelu_status tune_dtype(lrelu_ctx *ctx, lrelu_dtype t, lrelu_shape *best)
{
    lrelu_status st = LRELU_OK;
    size_t es = lrelu_dtype_size(t);
    /* 32 MiB per buffer: past the caches of most devices, small enough for any */
    size_t n = ((size_t)32 << 20) / es;
    if (ctx->max_alloc != 0 && n * es > ctx->max_alloc)
        n = (size_t)ctx->max_alloc / es;
    cl_int err = CL_SUCCESS;
    cl_mem x = NULL, y = NULL;
    lrelu_kernels k = {0};
    const float pattern[2] = {1.5f, -2.5f}; /* both branches, in every dtype's bits */
    double best_time = -1;
    x = clCreateBuffer(ctx->context, CL_MEM_READ_WRITE, n * es, NULL, &err);
    LRELU_CL_AS(err, "clCreateBuffer");
    y = clCreateBuffer(ctx->context, CL_MEM_READ_WRITE, n * es, NULL, &err);
    LRELU_CL_AS(err, "clCreateBuffer");
    LRELU_CL(clEnqueueFillBuffer(ctx->queue, x, pattern, sizeof pattern, 0, n * es / 8 * 8, 0, NULL,
                                 NULL));
    for (size_t v = 0; v < COUNT(tune_vecs); ++v) {
        st = lrelu_build_family(ctx, t, LRELU_FAMILY_ELEMENTWISE,
                                (lrelu_shape){tune_vecs[v], tune_locals[0]}, 0, &k);
        if (st != LRELU_OK)
            goto cleanup;
        size_t max_local = k.local[LRELU_FAMILY_ELEMENTWISE];
        for (size_t l = 0; l < COUNT(tune_locals); ++l) {
            if (tune_locals[l] > max_local && l > 0)
                break; /* the device takes no more work-items for these kernels */
            /* a device that allows fewer than the smallest candidate gets what it allows */
            k.local[LRELU_FAMILY_ELEMENTWISE] =
                tune_locals[l] < max_local ? tune_locals[l] : max_local;
            double secs = 0;
            st = time_shape(ctx, &k, t, n, x, y, &secs);
            if (st != LRELU_OK)
                goto cleanup;
            if (best_time < 0 || secs < best_time) {
                best_time = secs;
                *best = (lrelu_shape){tune_vecs[v], k.local[LRELU_FAMILY_ELEMENTWISE]};
            }
        }
        lrelu_kernels_release(&k);
    }
cleanup:
    lrelu_kernels_release(&k);
    if (y != NULL)
        (void)clReleaseMemObject(y);
    if (x != NULL)
        (void)clReleaseMemObject(x);
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
    pthread_mutex_lock(&ctx->lock);
    for (int t = 0; t < LRELU_NUM_DTYPES && st == LRELU_OK; ++t) {
        tuned[t] = ctx->shape[t];
        if (t == LRELU_F64 && !ctx->has_fp64)
            continue;
        st = tune_dtype(ctx, (lrelu_dtype)t, &tuned[t]);
    }
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
    char path[1200], text[512];
    size_t at = 0;
    for (int t = 0; t < LRELU_NUM_DTYPES; ++t)
        if (t != LRELU_F64 || ctx->has_fp64)
            at += (size_t)snprintf(text + at, sizeof text - at, "%s %zu %zu\n",
                                   lrelu_dtype_name((lrelu_dtype)t), tuned[t].vec, tuned[t].local);
    const void *parts[1] = {text};
    if (cache_file(ctx, path, sizeof path, 1) && lrelu_cache_write(path, parts, &at, 1) &&
        cache_path != NULL && cache_path_len > 0)
        snprintf(cache_path, cache_path_len, "%s", path);
    return LRELU_OK;
}
