/* program.c: builds the kernels of one dtype from the source embedded in the library,
 * once per ctx and on first use, in the shape (elements per work-item, work-group size)
 * that tune.c chose for the device. */
#include "cl/cl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern const char lrelu_src_lrelu[];
extern const size_t lrelu_src_lrelu_len;

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

lrelu_status lrelu_build_kernels(lrelu_ctx *ctx, lrelu_dtype t, lrelu_shape shape, lrelu_kernels *k)
{
    lrelu_status st = LRELU_OK;
    cl_int err = CL_SUCCESS;
    char options[512], name[64], group[48] = "";
    size_t vec = shape.vec;
    /* bf16's plain kernels take 16 pairs (32 elements) a work-item at VEC 16, where the
     * device holds two elements in a uint the kernels' way (little-endian) */
    size_t item = t == LRELU_BF16 && vec == 16 && ctx->little_endian ? 2 * vec : vec;
    if (ctx->chan_group > 0) /* the backward by rows of channel groups, CPUs' */
        snprintf(group, sizeof group, "-DLRELU_GROUP_MAX=%zu ", ctx->chan_group);
    snprintf(options, sizeof options, "%s-DLRELU_DTYPE=%d -DLRELU_VEC=%zu -DLRELU_ITEM=%zu %s%s",
             ctx->cl_c_1_2 ? "-cl-std=CL1.2 " : "", (int)t, vec, item, group, ctx->build_extra);
    const char *src = lrelu_src_lrelu;
    size_t len = lrelu_src_lrelu_len;
    cl_program prog = clCreateProgramWithSource(ctx->context, 1, &src, &len, &err);
    cl_kernel fwd = NULL, bwd = NULL, gen = NULL;
    LRELU_CL_AS(err, "clCreateProgramWithSource");
    err = clBuildProgram(prog, 1, &ctx->device, options, NULL, NULL);
    if (err == CL_BUILD_PROGRAM_FAILURE) {
        st = build_log(ctx, prog, options);
        goto cleanup;
    }
    LRELU_CL_AS(err, "clBuildProgram");
    snprintf(name, sizeof name, "lrelu_forward_%s", lrelu_dtype_name(t));
    fwd = clCreateKernel(prog, name, &err);
    LRELU_CL_AS(err, "clCreateKernel");
    snprintf(name, sizeof name, "lrelu_backward_%s", lrelu_dtype_name(t));
    bwd = clCreateKernel(prog, name, &err);
    LRELU_CL_AS(err, "clCreateKernel");
    snprintf(name, sizeof name, "lrelu_general_%s", lrelu_dtype_name(t));
    gen = clCreateKernel(prog, name, &err);
    LRELU_CL_AS(err, "clCreateKernel");
    size_t wg_f = 0, wg_b = 0, wg_g = 0;
    LRELU_CL(clGetKernelWorkGroupInfo(fwd, ctx->device, CL_KERNEL_WORK_GROUP_SIZE, sizeof wg_f,
                                      &wg_f, NULL));
    LRELU_CL(clGetKernelWorkGroupInfo(bwd, ctx->device, CL_KERNEL_WORK_GROUP_SIZE, sizeof wg_b,
                                      &wg_b, NULL));
    LRELU_CL(clGetKernelWorkGroupInfo(gen, ctx->device, CL_KERNEL_WORK_GROUP_SIZE, sizeof wg_g,
                                      &wg_g, NULL));
    size_t local = shape.local;
    /* A device may allow fewer work-items for these kernels; halve down to what it takes
     * (a power of two always divides the rounded-up global size). */
    while (local > 1 && (local > wg_f || local > wg_b || local > wg_g))
        local /= 2;
    k->program = prog;
    k->forward = fwd;
    k->backward = bwd;
    k->general = gen;
    k->vec = vec;
    k->item = item;
    k->local = local;
    return LRELU_OK;
cleanup:
    if (gen != NULL)
        (void)clReleaseKernel(gen);
    if (bwd != NULL)
        (void)clReleaseKernel(bwd);
    if (fwd != NULL)
        (void)clReleaseKernel(fwd);
    if (prog != NULL)
        (void)clReleaseProgram(prog);
    return st;
}

lrelu_status lrelu_get_kernels(lrelu_ctx *ctx, lrelu_dtype t, const lrelu_kernels **out)
{
    lrelu_kernels *k = &ctx->k[t];
    if (k->program == NULL) {
        lrelu_status st = lrelu_build_kernels(ctx, t, ctx->shape[t], k);
        if (st != LRELU_OK)
            return st;
    }
    *out = k;
    return LRELU_OK;
}

/* Creates kernel `name`_SFX of k's program into *out and lowers *local to what it allows. */
static lrelu_status ext_kernel(lrelu_ctx *ctx, const lrelu_kernels *k, const char *name,
                               const char *sfx, cl_kernel *out, size_t *local)
{
    lrelu_status st = LRELU_OK;
    cl_int err = CL_SUCCESS;
    char full[64];
    size_t wg = 0;
    snprintf(full, sizeof full, "%s_%s", name, sfx);
    cl_kernel kern = clCreateKernel(k->program, full, &err);
    LRELU_CL_AS(err, "clCreateKernel");
    LRELU_CL(clGetKernelWorkGroupInfo(kern, ctx->device, CL_KERNEL_WORK_GROUP_SIZE, sizeof wg, &wg,
                                      NULL));
    while (*local > 1 && *local > wg)
        *local /= 2;
    *out = kern;
    return LRELU_OK;
cleanup:
    if (kern != NULL)
        (void)clReleaseKernel(kern);
    return st;
}

/* Releases the per-channel and quantized kernels k holds. */
static void release_ext(lrelu_kernels *k)
{
    cl_kernel ext[] = {k->chan_forward,
                       k->chan_rows[0],
                       k->chan_rows[1],
                       k->chan_cols[0],
                       k->chan_cols[1],
                       k->chan_backward[0],
                       k->chan_backward[1],
                       k->chan_bcols[0],
                       k->chan_bcols[1],
                       k->chan_bgroup[0],
                       k->chan_bgroup[1],
                       k->chan_sum,
                       k->q8[0],
                       k->q8[1]};
    for (size_t i = 0; i < sizeof ext / sizeof ext[0]; ++i)
        if (ext[i] != NULL)
            (void)clReleaseKernel(ext[i]);
}

lrelu_status lrelu_get_ext_kernels(lrelu_ctx *ctx, lrelu_dtype t, const lrelu_kernels **out)
{
    const lrelu_kernels *base = NULL;
    lrelu_status st = lrelu_get_kernels(ctx, t, &base);
    lrelu_kernels *k = &ctx->k[t];
    if (st != LRELU_OK || k->chan_sum != NULL) {
        *out = k;
        return st;
    }
    /* all or nothing: chan_sum, created last, marks the set complete */
    lrelu_kernels e = {.ext_local = k->local};
    const char *sfx = lrelu_dtype_name(t);
    /* in this order; the quantized kernels only in the f32 program, the backward by rows
     * of channel groups only where it was built */
    int f32 = t == LRELU_F32, grp = ctx->chan_group > 0;
    const struct {
        const char *name, *sfx;
        cl_kernel *slot;
    } want[] = {
        {"lrelu_chan_forward", sfx, &e.chan_forward},
        {"lrelu_prelu_rows", sfx, &e.chan_rows[0]},
        {"lrelu_bias_rows", sfx, &e.chan_rows[1]},
        {"lrelu_prelu_cols", sfx, &e.chan_cols[0]},
        {"lrelu_bias_cols", sfx, &e.chan_cols[1]},
        {"lrelu_prelu_backward", sfx, &e.chan_backward[0]},
        {"lrelu_bias_backward", sfx, &e.chan_backward[1]},
        {"lrelu_prelu_bcols", sfx, &e.chan_bcols[0]},
        {"lrelu_bias_bcols", sfx, &e.chan_bcols[1]},
        {"lrelu_prelu_bgroup", sfx, grp ? &e.chan_bgroup[0] : NULL},
        {"lrelu_bias_bgroup", sfx, grp ? &e.chan_bgroup[1] : NULL},
        {"lrelu_forward_q8", "s8", f32 ? &e.q8[LRELU_QS8] : NULL},
        {"lrelu_forward_q8", "u8", f32 ? &e.q8[LRELU_QU8] : NULL},
        {"lrelu_chan_sum", sfx, &e.chan_sum},
    };
    e.group_local = 64;
    for (size_t i = 0; st == LRELU_OK && i < sizeof want / sizeof want[0]; ++i) {
        /* the backward by rows of channel groups has work-groups of its own size: its
         * private lanes may allow a device fewer work-items than the rest take */
        int own = want[i].slot == &e.chan_bgroup[0] || want[i].slot == &e.chan_bgroup[1];
        if (want[i].slot != NULL)
            st = ext_kernel(ctx, k, want[i].name, want[i].sfx, want[i].slot,
                            own ? &e.group_local : &e.ext_local);
    }
    if (st != LRELU_OK) {
        release_ext(&e);
        return st;
    }
    k->chan_forward = e.chan_forward;
    k->chan_rows[0] = e.chan_rows[0];
    k->chan_rows[1] = e.chan_rows[1];
    k->chan_cols[0] = e.chan_cols[0];
    k->chan_cols[1] = e.chan_cols[1];
    k->chan_backward[0] = e.chan_backward[0];
    k->chan_backward[1] = e.chan_backward[1];
    k->chan_bcols[0] = e.chan_bcols[0];
    k->chan_bcols[1] = e.chan_bcols[1];
    k->chan_bgroup[0] = e.chan_bgroup[0];
    k->chan_bgroup[1] = e.chan_bgroup[1];
    k->chan_sum = e.chan_sum;
    k->q8[0] = e.q8[0];
    k->q8[1] = e.q8[1];
    k->ext_local = e.ext_local;
    k->group_local = e.group_local;
    *out = k;
    return LRELU_OK;
}

void lrelu_kernels_release(lrelu_kernels *k)
{
    release_ext(k);
    if (k->general != NULL)
        (void)clReleaseKernel(k->general);
    if (k->backward != NULL)
        (void)clReleaseKernel(k->backward);
    if (k->forward != NULL)
        (void)clReleaseKernel(k->forward);
    if (k->program != NULL)
        (void)clReleaseProgram(k->program);
    memset(k, 0, sizeof *k);
}

void lrelu_release_kernels(lrelu_ctx *ctx)
{
    for (int t = 0; t < LRELU_NUM_DTYPES; ++t)
        lrelu_kernels_release(&ctx->k[t]);
}
