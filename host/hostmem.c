/* hostmem.c: the blocking host-memory API. Checks the pointers, then streams the arrays
 * through device buffers in chunks no larger than the device's largest allocation:
 * write the inputs, run the kernel, read the output, chunk after chunk. Works on in-order
 * and out-of-order queues alike: each step waits on the event of the one before. */
#include "internal.h"

#include <stdint.h>

typedef struct {
    const char *name;
    const void *ptr;
} host_operand;

static lrelu_status check_overlap(lrelu_op op, size_t bytes, const host_operand *out,
                                  const host_operand *in)
{
    uintptr_t a = (uintptr_t)out->ptr, b = (uintptr_t)in->ptr;
    if (a == b || a + bytes <= b || b + bytes <= a)
        return LRELU_OK;
    return lrelu_fail(LRELU_ERR_OVERLAP,
                      "%s_host: output %s [%p, +%zu bytes) partly overlaps input %s [%p); "
                      "only the very same pointer is allowed (in place)",
                      lrelu_op_name(op), out->name, out->ptr, bytes, in->name, in->ptr);
}

/* ops: the inputs, then the output. */
static lrelu_status run_host(lrelu_ctx *ctx, lrelu_op op, lrelu_dtype t, size_t n, double alpha,
                             const host_operand *ops, int nops)
{
    const char *fn = lrelu_op_name(op);
    lrelu_status st = lrelu_check_call(ctx, op, t, alpha);
    if (st != LRELU_OK || n == 0)
        return st;
    for (int i = 0; i < nops; ++i)
        if (ops[i].ptr == NULL)
            return lrelu_fail(LRELU_ERR_INVALID_ARG, "%s_host: %s is NULL", fn, ops[i].name);
    if (t == LRELU_F64 && !ctx->has_fp64)
        return lrelu_fail(LRELU_ERR_UNSUPPORTED, "%s_host: the device has no fp64 (cl_khr_fp64)",
                          fn);
    size_t es = lrelu_dtype_size(t);
    if (n > SIZE_MAX / es)
        return lrelu_fail(LRELU_ERR_OUT_OF_RANGE,
                          "%s_host: n %zu elements of %zu bytes overflows size_t", fn, n, es);
    for (int i = 0; i < nops; ++i)
        if ((uintptr_t)ops[i].ptr > UINTPTR_MAX - n * es)
            return lrelu_fail(LRELU_ERR_OUT_OF_RANGE,
                              "%s_host: %s + %zu bytes wraps the address space", fn, ops[i].name,
                              n * es);
    const host_operand *out = &ops[nops - 1];
    for (int i = 0; i < nops - 1; ++i)
        if ((st = check_overlap(op, n * es, out, &ops[i])) != LRELU_OK)
            return st;

    size_t chunk = ctx->host_chunk_bytes / es;
    if (chunk == 0)
        chunk = 1;
    if (chunk > n)
        chunk = n;
    cl_mem bufs[3] = {NULL, NULL, NULL};
    cl_event ev[3] = {NULL, NULL, NULL}, kev = NULL;
    cl_int err = CL_SUCCESS;
    for (int i = 0; i < nops; ++i) {
        bufs[i] = clCreateBuffer(ctx->context, CL_MEM_READ_WRITE, chunk * es, NULL, &err);
        LRELU_CL(err);
    }
    for (size_t done = 0; done < n; done += chunk) {
        size_t m = n - done < chunk ? n - done : chunk;
        size_t at = done * es;
        for (int i = 0; i < nops - 1; ++i)
            LRELU_CL(clEnqueueWriteBuffer(ctx->queue, bufs[i], CL_FALSE, 0, m * es,
                                          (const char *)ops[i].ptr + at, 0, NULL, &ev[i]));
        st = lrelu_enqueue(ctx, op, t, m, alpha, bufs[0], 0, nops == 3 ? bufs[1] : NULL, 0,
                           bufs[nops - 1], 0, (cl_uint)(nops - 1), ev, &kev);
        if (st != LRELU_OK)
            goto cleanup;
        LRELU_CL(clEnqueueReadBuffer(ctx->queue, bufs[nops - 1], CL_TRUE, 0, m * es,
                                     (char *)out->ptr + at, 1, &kev, NULL));
        for (int i = 0; i < nops - 1; ++i) {
            (void)clReleaseEvent(ev[i]);
            ev[i] = NULL;
        }
        (void)clReleaseEvent(kev);
        kev = NULL;
    }
cleanup:
    /* On a failure part way, commands may still be queued that read the caller's input or
     * write its output: wait for them before returning the memory to the caller. */
    if (st != LRELU_OK)
        (void)clFinish(ctx->queue);
    if (kev != NULL)
        (void)clReleaseEvent(kev);
    for (int i = 0; i < 3; ++i) {
        if (ev[i] != NULL)
            (void)clReleaseEvent(ev[i]);
        if (bufs[i] != NULL)
            (void)clReleaseMemObject(bufs[i]);
    }
    return st;
}

lrelu_status lrelu_forward_host(lrelu_ctx *ctx, lrelu_dtype t, size_t n, double alpha,
                                const void *x, void *y)
{
    host_operand ops[2] = {{"x", x}, {"y", y}};
    return run_host(ctx, LRELU_OP_FORWARD, t, n, alpha, ops, 2);
}

lrelu_status lrelu_backward_host(lrelu_ctx *ctx, lrelu_dtype t, size_t n, double alpha,
                                 const void *x, const void *dy, void *dx)
{
    host_operand ops[3] = {{"x", x}, {"dy", dy}, {"dx", dx}};
    return run_host(ctx, LRELU_OP_BACKWARD, t, n, alpha, ops, 3);
}

lrelu_status lrelu_backward_from_output_host(lrelu_ctx *ctx, lrelu_dtype t, size_t n, double alpha,
                                             const void *y, const void *dy, void *dx)
{
    host_operand ops[3] = {{"y", y}, {"dy", dy}, {"dx", dx}};
    return run_host(ctx, LRELU_OP_BACKWARD_FROM_OUTPUT, t, n, alpha, ops, 3);
}
