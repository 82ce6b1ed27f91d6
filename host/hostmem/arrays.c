/* arrays.c: how the host-memory versions of the per-channel and int8 calls run, where
 * route.c sends them: in-process (the family's vectorized loops or the reference's loop,
 * bit for bit the kernels' results), or on the device: streamed through the copying
 * path (pipeline.c) where the device does not work on host memory and the family can cut
 * the call, else each array wrapped whole in a buffer (zero copy where the device works
 * on host memory, else copied in and read back), the device call on the ctx's queue and
 * the outputs made visible to the host before returning; such an array must fit one
 * device allocation. */
#include "hostmem/hostmem.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Wraps operand i: the very same array as an earlier input shares its buffer, which
 * spans the longest of the operands that are that array (inputs may be one array at
 * different lengths: PReLU's slopes the first elements of dy, say). */
static lrelu_status wrap(lrelu_ctx *ctx, int zero_copy, const char *fn, size_t es, lrelu_array *ops,
                         int nops, int i, int *owner)
{
    lrelu_array *o = &ops[i];
    for (int j = 0; j < i; ++j)
        if (ops[j].ptr == o->ptr && ops[j].mem != NULL) {
            o->mem = ops[j].mem;
            o->off = ops[j].off;
            return LRELU_OK;
        }
    size_t n = o->n;
    for (int j = i + 1; j < nops; ++j)
        n = ops[j].ptr == o->ptr && ops[j].n > n ? ops[j].n : n;
    size_t bytes = n * es;
    if (bytes > ctx->max_alloc)
        return lrelu_fail(LRELU_ERR_OUT_OF_MEMORY,
                          "%s: %s's %zu bytes exceed the device's largest allocation (%llu); the "
                          "per-channel and quantized host calls stream only on the copying path",
                          fn, o->name, bytes, (unsigned long long)ctx->max_alloc);
    cl_int err = CL_SUCCESS;
    if (zero_copy) {
        uintptr_t p = (uintptr_t)o->ptr, base = p - p % ctx->base_align;
        o->off = (p - base) / es;
        o->mem = clCreateBuffer(ctx->context, CL_MEM_USE_HOST_PTR | CL_MEM_READ_WRITE,
                                bytes + (p - base), (void *)base, &err);
    } else {
        o->off = 0; /* READ_WRITE: an output may share an input's buffer */
        o->mem =
            clCreateBuffer(ctx->context, CL_MEM_READ_WRITE | (o->out ? 0 : CL_MEM_COPY_HOST_PTR),
                           bytes, o->out ? NULL : (void *)o->ptr, &err);
    }
    if (err != CL_SUCCESS) {
        o->mem = NULL;
        return lrelu_cl_fail(err, "clCreateBuffer", __FILE__, __LINE__);
    }
    *owner = 1;
    return LRELU_OK;
}

lrelu_status lrelu_arrays_run(lrelu_ctx *ctx, const char *fn, lrelu_dtype t, size_t es, size_t n,
                              lrelu_array *ops, int nops, lrelu_host_kind kind,
                              const lrelu_arrays_ways *ways, const void *call, lrelu_host_mode mode)
{
    for (int i = 0; i < nops; ++i)
        ops[i].inc = 1;
    lrelu_checked c = {fn, t, es, n, 1, 0, NULL, ops, nops};
    lrelu_status st = lrelu_check_operands(ctx, &c);
    if (st != LRELU_OK || n == 0 || mode == LRELU_HOST_CHECK)
        return st;
    int owner[5] = {0, 0, 0, 0, 0};
    size_t moved = 0;
    for (int i = 0; i < nops; ++i)
        moved += ops[i].ptr != NULL ? ops[i].n * es : 0;
    lrelu_host_call hc = {kind, t, moved, 1};
    lrelu_route r = lrelu_route_host(ctx, &hc);
    if (r == LRELU_ROUTE_INPROCESS && ways->fast(ctx, call, ops, moved))
        return LRELU_OK;
    if (r == LRELU_ROUTE_REFERENCE && ways->ref != NULL) {
        ways->ref(call, ops);
        return LRELU_OK;
    }
    int zero_copy = ctx->zero_copy, taken = 0; /* also where the loops could not run */
    if (!zero_copy && ways->piped != NULL) {
        st = ways->piped(ctx, call, ops, &taken);
        if (taken)
            return st;
    }
    cl_event done = NULL;
    for (int i = 0; i < nops && st == LRELU_OK; ++i)
        if (ops[i].ptr != NULL)
            st = wrap(ctx, zero_copy, fn, es, ops, nops, i, &owner[i]);
    if (st == LRELU_OK)
        st = ways->device(ctx, call, ops, &done);
    for (int i = 0; i < nops && st == LRELU_OK; ++i) {
        if (!ops[i].out || ops[i].ptr == NULL)
            continue;
        cl_int err = CL_SUCCESS;
        const char *what = "clEnqueueReadBuffer";
        size_t bytes = ops[i].n * es;
        if (zero_copy) {
            what = "clEnqueueMapBuffer";
            void *m = clEnqueueMapBuffer(ctx->queue, ops[i].mem, CL_TRUE, CL_MAP_READ,
                                         ops[i].off * es, bytes, 1, &done, NULL, &err);
            if (err == CL_SUCCESS) {
                what = "clEnqueueUnmapMemObject";
                err = clEnqueueUnmapMemObject(ctx->queue, ops[i].mem, m, 0, NULL, NULL);
            }
        } else {
            err = clEnqueueReadBuffer(ctx->queue, ops[i].mem, CL_TRUE, ops[i].off * es, bytes,
                                      (void *)ops[i].ptr, 1, &done, NULL);
        }
        if (err != CL_SUCCESS)
            st = lrelu_cl_fail(err, what, __FILE__, __LINE__);
    }
    if (st == LRELU_OK && zero_copy) {
        cl_int err = clFinish(ctx->queue);
        if (err != CL_SUCCESS)
            st = lrelu_cl_fail(err, "clFinish", __FILE__, __LINE__);
    }
    if (done != NULL) {
        if (st != LRELU_OK)
            (void)clWaitForEvents(1, &done); /* nothing may still use the caller's arrays */
        (void)clReleaseEvent(done);
    }
    for (int i = 0; i < nops; ++i)
        if (owner[i])
            (void)clReleaseMemObject(ops[i].mem);
    return st;
}
