/* programs.c: builds the kernels of one dtype and family from the sources embedded in
 * the library (or their binary in the cache, cache.c), once per ctx and on first use, in
 * the shape (elements per work-item, work-group size) that tuning.c chose for the device. One table
 * names every kernel and its family; the constants the host shares with the kernels are passed as
 * -D options. */
#include "cl/cl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern const char lrelu_src_clh[], lrelu_src_common[], lrelu_src_elementwise[],
    lrelu_src_channels[], lrelu_src_q8[];
extern const size_t lrelu_src_clh_len, lrelu_src_common_len, lrelu_src_elementwise_len,
    lrelu_src_channels_len, lrelu_src_q8_len;

/* Each family's file, built after include/lrelu.clh (what callers' kernels fuse) and
 * common.cl. */
static const struct {
    const char *src;
    const size_t *len;
} family_src[LRELU_NUM_FAMILIES] = {
    [LRELU_FAMILY_ELEMENTWISE] = {lrelu_src_elementwise, &lrelu_src_elementwise_len},
    [LRELU_FAMILY_CHANNELS] = {lrelu_src_channels, &lrelu_src_channels_len},
    [LRELU_FAMILY_Q8] = {lrelu_src_q8, &lrelu_src_q8_len},
};

/* Every kernel: its family and name, then "_" and the dtype's name (or sfx). */
enum { ANY, CPU_ONLY };       /* CPU_ONLY: built only with -DLRELU_GROUP_MAX */
enum { FAMILY_LOCAL, GROUP }; /* GROUP: launched with group_local, its own size */
static const struct {
    lrelu_family family;
    const char *name, *sfx;
    int where, local;
} kernels[LRELU_NUM_KERNELS] = {
    [LRELU_K_FORWARD] = {LRELU_FAMILY_ELEMENTWISE, "lrelu_forward", NULL, ANY, FAMILY_LOCAL},
    [LRELU_K_BACKWARD] = {LRELU_FAMILY_ELEMENTWISE, "lrelu_backward", NULL, ANY, FAMILY_LOCAL},
    [LRELU_K_GENERAL] = {LRELU_FAMILY_ELEMENTWISE, "lrelu_general", NULL, ANY, FAMILY_LOCAL},
    [LRELU_K_CHAN_FORWARD] = {LRELU_FAMILY_CHANNELS, "lrelu_chan_forward", NULL, ANY, FAMILY_LOCAL},
    [LRELU_K_PRELU_ROWS] = {LRELU_FAMILY_CHANNELS, "lrelu_prelu_rows", NULL, ANY, FAMILY_LOCAL},
    [LRELU_K_BIAS_ROWS] = {LRELU_FAMILY_CHANNELS, "lrelu_bias_rows", NULL, ANY, FAMILY_LOCAL},
    [LRELU_K_PRELU_COLS] = {LRELU_FAMILY_CHANNELS, "lrelu_prelu_cols", NULL, ANY, FAMILY_LOCAL},
    [LRELU_K_BIAS_COLS] = {LRELU_FAMILY_CHANNELS, "lrelu_bias_cols", NULL, ANY, FAMILY_LOCAL},
    [LRELU_K_PRELU_BACKWARD] = {LRELU_FAMILY_CHANNELS, "lrelu_prelu_backward", NULL, ANY,
                                FAMILY_LOCAL},
    [LRELU_K_BIAS_BACKWARD] = {LRELU_FAMILY_CHANNELS, "lrelu_bias_backward", NULL, ANY,
                               FAMILY_LOCAL},
    [LRELU_K_PRELU_BCOLS] = {LRELU_FAMILY_CHANNELS, "lrelu_prelu_bcols", NULL, ANY, FAMILY_LOCAL},
    [LRELU_K_BIAS_BCOLS] = {LRELU_FAMILY_CHANNELS, "lrelu_bias_bcols", NULL, ANY, FAMILY_LOCAL},
    [LRELU_K_PRELU_BGROUP] = {LRELU_FAMILY_CHANNELS, "lrelu_prelu_bgroup", NULL, CPU_ONLY, GROUP},
    [LRELU_K_BIAS_BGROUP] = {LRELU_FAMILY_CHANNELS, "lrelu_bias_bgroup", NULL, CPU_ONLY, GROUP},
    [LRELU_K_PRELU_BTILE] = {LRELU_FAMILY_CHANNELS, "lrelu_prelu_btile", NULL, ANY, FAMILY_LOCAL},
    [LRELU_K_BIAS_BTILE] = {LRELU_FAMILY_CHANNELS, "lrelu_bias_btile", NULL, ANY, FAMILY_LOCAL},
    [LRELU_K_PRELU_BCOL1] = {LRELU_FAMILY_CHANNELS, "lrelu_prelu_bcol1", NULL, ANY, FAMILY_LOCAL},
    [LRELU_K_BIAS_BCOL1] = {LRELU_FAMILY_CHANNELS, "lrelu_bias_bcol1", NULL, ANY, FAMILY_LOCAL},
    [LRELU_K_CHAN_SUM] = {LRELU_FAMILY_CHANNELS, "lrelu_chan_sum", NULL, ANY, FAMILY_LOCAL},
    [LRELU_K_CHAN_SUMG] = {LRELU_FAMILY_CHANNELS, "lrelu_chan_sumg", NULL, ANY, FAMILY_LOCAL},
    [LRELU_K_Q8_S8] = {LRELU_FAMILY_Q8, "lrelu_forward_q8", "s8", ANY, FAMILY_LOCAL},
    [LRELU_K_Q8_U8] = {LRELU_FAMILY_Q8, "lrelu_forward_q8", "u8", ANY, FAMILY_LOCAL},
};

unsigned long long lrelu_family_hash(lrelu_family f, unsigned long long h)
{
    h = lrelu_fnv(lrelu_src_clh, lrelu_src_clh_len, h);
    return lrelu_fnv(family_src[f].src, *family_src[f].len,
                     lrelu_fnv(lrelu_src_common, lrelu_src_common_len, h));
}

static lrelu_status build_log(lrelu_ctx *ctx, cl_program prog, const char *options)
{
    size_t len = 0;
    if (clGetProgramBuildInfo(prog, ctx->device, CL_PROGRAM_BUILD_LOG, 0, NULL, &len) !=
            CL_SUCCESS ||
        len == 0)
        return lrelu_fail(LRELU_ERR_BUILD,
                          "clBuildProgram failed with options \"%s\" and no "
                          "build log",
                          options);
    char *log = malloc(len + 1);
    if (log == NULL)
        return lrelu_fail(LRELU_ERR_BUILD,
                          "clBuildProgram failed with options \"%s\" (no "
                          "memory for the build log)",
                          options);
    if (clGetProgramBuildInfo(prog, ctx->device, CL_PROGRAM_BUILD_LOG, len, log, NULL) !=
        CL_SUCCESS)
        log[0] = '\0';
    log[len] = '\0';
    lrelu_status st =
        lrelu_fail(LRELU_ERR_BUILD, "clBuildProgram failed with options \"%s\":\n%s", options, log);
    free(log);
    return st;
}

/* The build options of family f of dtype t in shape vec (item: the plain kernels'
 * elements per work-item). */
static void build_options(const lrelu_ctx *ctx, lrelu_dtype t, lrelu_family f, size_t vec,
                          size_t item, char *out, size_t len)
{
    char family[128] = "";
    if (f == LRELU_FAMILY_CHANNELS)
        snprintf(family, sizeof family,
                 "-DLRELU_RBLOCK=%d -DLRELU_ITEM_VECS=%d -DLRELU_CHAN_TILE=%d ", LRELU_RBLOCK,
                 LRELU_ITEM_VECS, LRELU_CHAN_TILE);
    if (f == LRELU_FAMILY_CHANNELS && ctx->chan_group > 0) /* the CPUs' bgroup kernels */
        snprintf(family + strlen(family), sizeof family - strlen(family), "-DLRELU_GROUP_MAX=%zu ",
                 ctx->chan_group);
    else if (f == LRELU_FAMILY_CHANNELS) /* the GPUs' 2-D forwards */
        snprintf(family + strlen(family), sizeof family - strlen(family), "-DLRELU_COALESCE ");
    snprintf(out, len, "%s-DLRELU_DTYPE=%d -DLRELU_VEC=%zu -DLRELU_ITEM=%zu %s%s",
             ctx->cl_c_1_2 ? "-cl-std=CL1.2 " : "", (int)t, vec, item, family,
             ctx->config.build_options);
}

/* Creates kernel id of prog into *out and lowers *local to what it allows. */
static lrelu_status create_kernel(lrelu_ctx *ctx, cl_program prog, lrelu_dtype t, int id,
                                  cl_kernel *out, size_t *local)
{
    lrelu_status st = LRELU_OK;
    cl_int err = CL_SUCCESS;
    char name[64];
    size_t wg = 0;
    snprintf(name, sizeof name, "%s_%s", kernels[id].name,
             kernels[id].sfx ? kernels[id].sfx : lrelu_dtype_name(t));
    cl_kernel kern = clCreateKernel(prog, name, &err);
    LRELU_CL_AS(err, "clCreateKernel");
    LRELU_CL(clGetKernelWorkGroupInfo(kern, ctx->device, CL_KERNEL_WORK_GROUP_SIZE, sizeof wg, &wg,
                                      NULL));
    /* halve down to what the device takes for this kernel (a power of two always divides
     * the rounded-up global size) */
    while (*local > 1 && *local > wg)
        *local /= 2;
    *out = kern;
    return LRELU_OK;
cleanup:
    if (kern != NULL)
        (void)clReleaseKernel(kern);
    return st;
}

/* Builds family f from its source into *out. */
static lrelu_status source_program(lrelu_ctx *ctx, lrelu_family f, const char *options,
                                   cl_program *out)
{
    lrelu_status st = LRELU_OK;
    cl_int err = CL_SUCCESS;
    const char *src[3] = {lrelu_src_clh, lrelu_src_common, family_src[f].src};
    size_t len[3] = {lrelu_src_clh_len, lrelu_src_common_len, *family_src[f].len};
    cl_program prog = clCreateProgramWithSource(ctx->context, 3, src, len, &err);
    LRELU_CL_AS(err, "clCreateProgramWithSource");
    err = clBuildProgram(prog, 1, &ctx->device, options, NULL, NULL);
    if (err == CL_BUILD_PROGRAM_FAILURE) {
        st = build_log(ctx, prog, options);
        goto cleanup;
    }
    LRELU_CL_AS(err, "clBuildProgram");
    *out = prog;
    return LRELU_OK;
cleanup:
    if (prog != NULL)
        (void)clReleaseProgram(prog);
    return st;
}

lrelu_status lrelu_build_family(lrelu_ctx *ctx, lrelu_dtype t, lrelu_family f, lrelu_shape shape,
                                int cached, lrelu_kernels *k)
{
    lrelu_status st = LRELU_OK;
    char options[512];
    size_t vec = shape.vec;
    /* bf16's plain kernels take 16 pairs (32 elements) a work-item at VEC 16, where the
     * device holds two elements in a uint the kernels' way (little-endian) */
    size_t item = t == LRELU_BF16 && vec == 16 && ctx->little_endian ? 2 * vec : vec;
    build_options(ctx, t, f, vec, item, options, sizeof options);
    cl_kernel made[LRELU_NUM_KERNELS] = {NULL};
    size_t local = shape.local, group_local = 64;
    cl_program prog = cached ? lrelu_program_cached(ctx, f, options) : NULL;
    int from_cache = prog != NULL;
    for (;;) {
        if (prog == NULL) {
            if ((st = source_program(ctx, f, options, &prog)) != LRELU_OK)
                return st;
            if (cached)
                lrelu_program_keep(ctx, f, options, prog);
        }
        for (int id = 0; id < LRELU_NUM_KERNELS && st == LRELU_OK; ++id)
            if (kernels[id].family == f && (kernels[id].where == ANY || ctx->chan_group > 0))
                st = create_kernel(ctx, prog, t, id, &made[id],
                                   kernels[id].local == GROUP ? &group_local : &local);
        if (st == LRELU_OK || !from_cache)
            break;
        /* a cached program that lacks a kernel: build from source after all */
        for (int id = 0; id < LRELU_NUM_KERNELS; ++id)
            if (made[id] != NULL)
                (void)clReleaseKernel(made[id]);
        memset(made, 0, sizeof made);
        (void)clReleaseProgram(prog);
        prog = NULL;
        from_cache = 0;
        local = shape.local;
        group_local = 64;
        st = LRELU_OK;
    }
    if (st != LRELU_OK)
        goto cleanup;
    /* all or nothing: the program is set last and marks the family complete */
    for (int id = 0; id < LRELU_NUM_KERNELS; ++id)
        if (kernels[id].family == f)
            k->kern[id] = made[id];
    k->local[f] = local;
    if (f == LRELU_FAMILY_CHANNELS)
        k->group_local = group_local;
    k->vec = vec; /* every family of a dtype is built in its one shape */
    k->item = item;
    k->program[f] = prog;
    return LRELU_OK;
cleanup:
    for (int id = 0; id < LRELU_NUM_KERNELS; ++id)
        if (made[id] != NULL)
            (void)clReleaseKernel(made[id]);
    (void)clReleaseProgram(prog);
    return st;
}

lrelu_status lrelu_get_kernels(lrelu_ctx *ctx, lrelu_dtype t, lrelu_family f,
                               const lrelu_kernels **out)
{
    if (f == LRELU_FAMILY_Q8)
        t = LRELU_F32; /* the int8 kernels compute in float: they live with f32's */
    lrelu_kernels *k = &ctx->k[t];
    if (k->program[f] == NULL) {
        lrelu_status st = lrelu_build_family(ctx, t, f, ctx->shape[t], 1, k);
        if (st != LRELU_OK)
            return st;
    }
    *out = k;
    return LRELU_OK;
}

void lrelu_kernels_release(lrelu_kernels *k)
{
    for (int id = LRELU_NUM_KERNELS - 1; id >= 0; --id)
        if (k->kern[id] != NULL)
            (void)clReleaseKernel(k->kern[id]);
    for (int f = LRELU_NUM_FAMILIES - 1; f >= 0; --f)
        if (k->program[f] != NULL)
            (void)clReleaseProgram(k->program[f]);
    memset(k, 0, sizeof *k);
}

void lrelu_release_kernels(lrelu_ctx *ctx)
{
    for (int t = 0; t < LRELU_NUM_DTYPES; ++t)
        lrelu_kernels_release(&ctx->k[t]);
}
