/* dispatch.c: the asynchronous device-buffer API. Checks every argument in the
 * contract's order (INVALID_ARG, UNSUPPORTED, OUT_OF_RANGE, OVERLAP) before anything is
 * enqueued, then sets the kernel's arguments and enqueues it under the ctx lock. */
#include "internal.h"

#include <math.h>

/* A blend factor must be finite in the compute type, as alpha. */
static lrelu_status check_factor(lrelu_op op, lrelu_dtype t, const char *name, double v)
{
    if (!isfinite(v) || (t != LRELU_F64 && !isfinite((float)v)))
        return lrelu_fail(LRELU_ERR_INVALID_ARG,
                          "%s: opts->%s %g is not finite in the compute type of %s",
                          lrelu_op_name(op), name, v, lrelu_dtype_name(t));
    return LRELU_OK;
}

lrelu_status lrelu_check_call(const lrelu_ctx *ctx, lrelu_op op, lrelu_dtype t, double alpha,
                              const lrelu_opts *opts)
{
    const char *fn = lrelu_op_name(op);
    if (ctx == NULL)
        return lrelu_fail(LRELU_ERR_INVALID_ARG, "%s: ctx is NULL", fn);
    if (lrelu_dtype_size(t) == 0)
        return lrelu_fail(LRELU_ERR_INVALID_ARG, "%s: dtype %d is not an lrelu_dtype", fn, (int)t);
    if (!isfinite(alpha))
        return lrelu_fail(LRELU_ERR_INVALID_ARG, "%s: alpha %g is not finite", fn, alpha);
    /* alpha is converted once to the compute type; a double beyond float's range would
     * become an infinite slope there. */
    if (t != LRELU_F64 && !isfinite((float)alpha))
        return lrelu_fail(LRELU_ERR_INVALID_ARG,
                          "%s: alpha %g is not finite as a float, the compute type of %s", fn,
                          alpha, lrelu_dtype_name(t));
    if (op == LRELU_OP_BACKWARD_FROM_OUTPUT && alpha < 0)
        return lrelu_fail(LRELU_ERR_INVALID_ARG,
                          "%s: alpha %g < 0: y no longer tells the sign of x; use the "
                          "backward from the input",
                          fn, alpha);
    if (opts != NULL && (opts->flags & ~LRELU_BLEND) != 0)
        return lrelu_fail(LRELU_ERR_INVALID_ARG, "%s: opts->flags 0x%x has unknown bits", fn,
                          opts->flags);
    if (opts != NULL && (opts->flags & LRELU_BLEND)) {
        lrelu_status st = check_factor(op, t, "scale", opts->scale);
        if (st == LRELU_OK)
            st = check_factor(op, t, "beta", opts->beta);
        return st;
    }
    return LRELU_OK;
}

static lrelu_status check_support(const lrelu_ctx *ctx, lrelu_op op, lrelu_dtype t)
{
    if (t == LRELU_F64 && !ctx->has_fp64)
        return lrelu_fail(LRELU_ERR_UNSUPPORTED, "%s: the device has no fp64 (cl_khr_fp64)",
                          lrelu_op_name(op));
    return LRELU_OK;
}

lrelu_status lrelu_describe_operand(const lrelu_ctx *ctx, const char *fn, lrelu_operand *o,
                                    int is_output)
{
    cl_mem_flags flags = 0;
    cl_mem_object_type type = 0;
    cl_context owner = NULL;
    if (o->mem == NULL)
        return lrelu_fail(LRELU_ERR_INVALID_ARG, "%s: %s is NULL", fn, o->name);
    cl_int err = clGetMemObjectInfo(o->mem, CL_MEM_TYPE, sizeof type, &type, NULL);
    if (err == CL_SUCCESS)
        err = clGetMemObjectInfo(o->mem, CL_MEM_CONTEXT, sizeof owner, &owner, NULL);
    if (err == CL_SUCCESS)
        err = clGetMemObjectInfo(o->mem, CL_MEM_SIZE, sizeof o->size, &o->size, NULL);
    if (err == CL_SUCCESS)
        err =
            clGetMemObjectInfo(o->mem, CL_MEM_ASSOCIATED_MEMOBJECT, sizeof o->root, &o->root, NULL);
    if (err == CL_SUCCESS)
        err = clGetMemObjectInfo(o->mem, CL_MEM_OFFSET, sizeof o->origin, &o->origin, NULL);
    if (err == CL_SUCCESS)
        err = clGetMemObjectInfo(o->mem, CL_MEM_FLAGS, sizeof flags, &flags, NULL);
    if (err != CL_SUCCESS)
        return lrelu_fail(LRELU_ERR_INVALID_ARG,
                          "%s: %s is not a valid cl_mem (clGetMemObjectInfo: %s)", fn, o->name,
                          lrelu_cl_error_name(err));
    if (type != CL_MEM_OBJECT_BUFFER)
        return lrelu_fail(LRELU_ERR_INVALID_ARG, "%s: %s is not a buffer", fn, o->name);
    /* a kernel that writes a read-only buffer, or reads a write-only one, is undefined */
    if (is_output && (flags & CL_MEM_READ_ONLY))
        return lrelu_fail(LRELU_ERR_INVALID_ARG, "%s: output %s was created CL_MEM_READ_ONLY", fn,
                          o->name);
    if (!is_output && (flags & CL_MEM_WRITE_ONLY))
        return lrelu_fail(LRELU_ERR_INVALID_ARG, "%s: input %s was created CL_MEM_WRITE_ONLY", fn,
                          o->name);
    if (owner != ctx->context)
        return lrelu_fail(LRELU_ERR_INVALID_ARG,
                          "%s: %s belongs to another cl_context than the ctx's", fn, o->name);
    if (o->root == NULL) {
        o->root = o->mem;
        o->origin = 0;
    }
    return LRELU_OK;
}

/* The view's last element is off + (n - 1) * inc; it must end inside the buffer. */
lrelu_status lrelu_check_range(const char *fn, size_t n, size_t es, const lrelu_operand *o)
{
    size_t end = o->off + (n - 1) * o->inc + 1;
    if ((n - 1) > (SIZE_MAX - 1) / o->inc || end <= o->off || end > SIZE_MAX / es)
        return lrelu_fail(LRELU_ERR_OUT_OF_RANGE,
                          "%s: %s offset %zu + n %zu elements (stride %zu) of %zu bytes "
                          "overflows size_t",
                          fn, o->name, o->off, n, o->inc, es);
    if (end * es > o->size)
        return lrelu_fail(LRELU_ERR_OUT_OF_RANGE,
                          "%s: %s elements [%zu, %zu) (stride %zu) of %zu bytes end past its %zu "
                          "bytes",
                          fn, o->name, o->off, end, o->inc, es, o->size);
    return LRELU_OK;
}

static lrelu_status check_overlap(lrelu_op op, size_t n, size_t es, const lrelu_operand *out,
                                  const lrelu_operand *in)
{
    if (out->root != in->root)
        return LRELU_OK;
    size_t a = out->origin + out->off * es, b = in->origin + in->off * es;
    /* The ranges fit their buffers (checked before), so these sums cannot wrap. */
    if (a == b && (out->inc == in->inc || n == 1))
        return LRELU_OK; /* the very same view: in place */
    if (!lrelu_views_meet(a, out->inc * es, b, in->inc * es, n, es))
        return LRELU_OK;
    return lrelu_fail(LRELU_ERR_OVERLAP,
                      "%s: output %s partly overlaps input %s (from byte %zu of their buffer "
                      "with a stride of %zu elements, against from byte %zu with %zu); only the "
                      "very same view is allowed (in place)",
                      lrelu_op_name(op), out->name, in->name, a, out->inc, b, in->inc);
}

/* Runs the checks over the operands (inputs first, the output last) and enqueues. */
static lrelu_status run(lrelu_ctx *ctx, lrelu_op op, lrelu_dtype t, size_t n, double alpha,
                        const lrelu_opts *opts, lrelu_operand *ops, int nops, cl_uint num_wait,
                        const cl_event *wait, cl_event *done)
{
    if (done != NULL)
        *done = NULL;
    lrelu_status st = lrelu_check_call(ctx, op, t, alpha, opts);
    if (st != LRELU_OK)
        return st;
    lrelu_opts o = lrelu_opts_resolve(opts);
    ops[0].inc = o.src_stride;
    if (nops == 3)
        ops[1].inc = o.dy_stride;
    ops[nops - 1].inc = o.dst_stride;
    if (num_wait > 0 && wait == NULL)
        return lrelu_fail(LRELU_ERR_INVALID_ARG, "%s: num_wait is %u but wait is NULL",
                          lrelu_op_name(op), (unsigned)num_wait);
    if (n > 0)
        for (int i = 0; i < nops; ++i)
            if ((st = lrelu_describe_operand(ctx, lrelu_op_name(op), &ops[i], i == nops - 1)) !=
                LRELU_OK)
                return st;
    if ((st = check_support(ctx, op, t)) != LRELU_OK)
        return st;
    if (n == 0) {
        return lrelu_enqueue_marker(ctx, num_wait, wait, done);
    }
    size_t es = lrelu_dtype_size(t);
    for (int i = 0; i < nops; ++i)
        if ((st = lrelu_check_range(lrelu_op_name(op), n, es, &ops[i])) != LRELU_OK)
            return st;
    const lrelu_operand *out = &ops[nops - 1];
    for (int i = 0; i < nops - 1; ++i)
        if ((st = check_overlap(op, n, es, out, &ops[i])) != LRELU_OK)
            return st;
    if (op == LRELU_OP_FORWARD)
        return lrelu_enqueue(ctx, ctx->queue, op, t, n, alpha, &o, ops[0].mem, ops[0].off, NULL, 0,
                             out->mem, out->off, num_wait, wait, done);
    return lrelu_enqueue(ctx, ctx->queue, op, t, n, alpha, &o, ops[0].mem, ops[0].off, ops[1].mem,
                         ops[1].off, out->mem, out->off, num_wait, wait, done);
}

lrelu_status lrelu_enqueue_marker(lrelu_ctx *ctx, cl_uint num_wait, const cl_event *wait,
                                  cl_event *done)
{
    if (done == NULL)
        return LRELU_OK;
    cl_int err = clEnqueueMarkerWithWaitList(ctx->queue, num_wait, wait, done);
    return err == CL_SUCCESS
               ? LRELU_OK
               : lrelu_cl_fail(err, "clEnqueueMarkerWithWaitList", __FILE__, __LINE__);
}

cl_int lrelu_set_scalar(cl_kernel kern, cl_uint arg, lrelu_dtype t, double v)
{
    float f = (float)v;
    return t == LRELU_F64 ? clSetKernelArg(kern, arg, sizeof v, &v)
                          : clSetKernelArg(kern, arg, sizeof f, &f);
}

/* The general kernel: (n, alpha, scale, beta, s, s_off, s_inc, v, v_off, v_inc, out,
 * out_off, out_inc); the forward reads its values from s. */
static lrelu_status set_general_args(cl_kernel kern, lrelu_op op, lrelu_dtype t, size_t n,
                                     double alpha, const lrelu_opts *o, cl_mem s, size_t s_off,
                                     cl_mem dy, size_t dy_off, cl_mem out, size_t out_off)
{
    lrelu_status st = LRELU_OK;
    int fwd = op == LRELU_OP_FORWARD;
    cl_mem v = fwd ? s : dy;
    cl_ulong u[7] = {n,
                     s_off,
                     o->src_stride,
                     fwd ? s_off : dy_off,
                     fwd ? o->src_stride : o->dy_stride,
                     out_off,
                     o->dst_stride};
    LRELU_CL(clSetKernelArg(kern, 0, sizeof u[0], &u[0]));
    LRELU_CL_AS(lrelu_set_scalar(kern, 1, t, alpha), "clSetKernelArg");
    LRELU_CL_AS(lrelu_set_scalar(kern, 2, t, o->scale), "clSetKernelArg");
    LRELU_CL_AS(lrelu_set_scalar(kern, 3, t, o->beta), "clSetKernelArg");
    LRELU_CL(clSetKernelArg(kern, 4, sizeof s, &s));
    LRELU_CL(clSetKernelArg(kern, 5, sizeof u[1], &u[1]));
    LRELU_CL(clSetKernelArg(kern, 6, sizeof u[2], &u[2]));
    LRELU_CL(clSetKernelArg(kern, 7, sizeof v, &v));
    LRELU_CL(clSetKernelArg(kern, 8, sizeof u[3], &u[3]));
    LRELU_CL(clSetKernelArg(kern, 9, sizeof u[4], &u[4]));
    LRELU_CL(clSetKernelArg(kern, 10, sizeof out, &out));
    LRELU_CL(clSetKernelArg(kern, 11, sizeof u[5], &u[5]));
    LRELU_CL(clSetKernelArg(kern, 12, sizeof u[6], &u[6]));
cleanup:
    return st;
}

lrelu_status lrelu_launch(lrelu_ctx *ctx, cl_command_queue q, const lrelu_kernels *k, lrelu_op op,
                          lrelu_dtype t, size_t n, double alpha, const lrelu_opts *o, cl_mem s,
                          size_t s_off, cl_mem dy, size_t dy_off, cl_mem out, size_t out_off,
                          cl_uint num_wait, const cl_event *wait, cl_event *done)
{
    lrelu_status st = LRELU_OK;
    cl_ulong un = n, us = s_off, udy = dy_off, uout = out_off;
    cl_uint arg = 0;
    cl_kernel kern = op == LRELU_OP_FORWARD ? k->forward : k->backward;
    size_t per = k->item, items = 0, global = 0;
    if (o != NULL && !lrelu_opts_plain(o)) {
        kern = k->general;
        per = k->vec;
        st = set_general_args(kern, op, t, n, alpha, o, s, s_off, dy, dy_off, out, out_off);
        if (st != LRELU_OK)
            return st;
        goto enqueue;
    }
    LRELU_CL(clSetKernelArg(kern, arg++, sizeof un, &un));
    LRELU_CL_AS(lrelu_set_scalar(kern, arg++, t, alpha), "clSetKernelArg");
    LRELU_CL(clSetKernelArg(kern, arg++, sizeof s, &s));
    LRELU_CL(clSetKernelArg(kern, arg++, sizeof us, &us));
    if (op != LRELU_OP_FORWARD) {
        LRELU_CL(clSetKernelArg(kern, arg++, sizeof dy, &dy));
        LRELU_CL(clSetKernelArg(kern, arg++, sizeof udy, &udy));
    }
    LRELU_CL(clSetKernelArg(kern, arg++, sizeof out, &out));
    LRELU_CL(clSetKernelArg(kern, arg++, sizeof uout, &uout));
enqueue:
    items = n / per + (n % per != 0); /* work-items in use, then rounded up */
    global = (items + k->local - 1) / k->local * k->local;
    return lrelu_enqueue_kernel(ctx, q, kern, 1, &global, &k->local, num_wait, wait, done);
cleanup:
    return st;
}

lrelu_status lrelu_enqueue(lrelu_ctx *ctx, cl_command_queue q, lrelu_op op, lrelu_dtype t, size_t n,
                           double alpha, const lrelu_opts *o, cl_mem s, size_t s_off, cl_mem dy,
                           size_t dy_off, cl_mem out, size_t out_off, cl_uint num_wait,
                           const cl_event *wait, cl_event *done)
{
    const lrelu_kernels *k = NULL;
    pthread_mutex_lock(&ctx->lock);
    lrelu_status st = lrelu_get_kernels(ctx, t, &k);
    if (st == LRELU_OK)
        st = lrelu_launch(ctx, q, k, op, t, n, alpha, o, s, s_off, dy, dy_off, out, out_off,
                          num_wait, wait, done);
    pthread_mutex_unlock(&ctx->lock);
    return st;
}

lrelu_status lrelu_forward_ex(lrelu_ctx *ctx, lrelu_dtype t, size_t n, double alpha,
                              const lrelu_opts *opts, cl_mem x, size_t x_off, cl_mem y,
                              size_t y_off, cl_uint num_wait, const cl_event *wait, cl_event *done)
{
    lrelu_operand ops[2] = {{.name = "x", .mem = x, .off = x_off},
                            {.name = "y", .mem = y, .off = y_off}};
    return run(ctx, LRELU_OP_FORWARD, t, n, alpha, opts, ops, 2, num_wait, wait, done);
}

lrelu_status lrelu_backward_ex(lrelu_ctx *ctx, lrelu_dtype t, size_t n, double alpha,
                               const lrelu_opts *opts, cl_mem x, size_t x_off, cl_mem dy,
                               size_t dy_off, cl_mem dx, size_t dx_off, cl_uint num_wait,
                               const cl_event *wait, cl_event *done)
{
    lrelu_operand ops[3] = {{.name = "x", .mem = x, .off = x_off},
                            {.name = "dy", .mem = dy, .off = dy_off},
                            {.name = "dx", .mem = dx, .off = dx_off}};
    return run(ctx, LRELU_OP_BACKWARD, t, n, alpha, opts, ops, 3, num_wait, wait, done);
}

lrelu_status lrelu_backward_from_output_ex(lrelu_ctx *ctx, lrelu_dtype t, size_t n, double alpha,
                                           const lrelu_opts *opts, cl_mem y, size_t y_off,
                                           cl_mem dy, size_t dy_off, cl_mem dx, size_t dx_off,
                                           cl_uint num_wait, const cl_event *wait, cl_event *done)
{
    lrelu_operand ops[3] = {{.name = "y", .mem = y, .off = y_off},
                            {.name = "dy", .mem = dy, .off = dy_off},
                            {.name = "dx", .mem = dx, .off = dx_off}};
    return run(ctx, LRELU_OP_BACKWARD_FROM_OUTPUT, t, n, alpha, opts, ops, 3, num_wait, wait, done);
}

lrelu_status lrelu_forward(lrelu_ctx *ctx, lrelu_dtype t, size_t n, double alpha, cl_mem x,
                           size_t x_off, cl_mem y, size_t y_off, cl_uint num_wait,
                           const cl_event *wait, cl_event *done)
{
    return lrelu_forward_ex(ctx, t, n, alpha, NULL, x, x_off, y, y_off, num_wait, wait, done);
}

lrelu_status lrelu_backward(lrelu_ctx *ctx, lrelu_dtype t, size_t n, double alpha, cl_mem x,
                            size_t x_off, cl_mem dy, size_t dy_off, cl_mem dx, size_t dx_off,
                            cl_uint num_wait, const cl_event *wait, cl_event *done)
{
    return lrelu_backward_ex(ctx, t, n, alpha, NULL, x, x_off, dy, dy_off, dx, dx_off, num_wait,
                             wait, done);
}

lrelu_status lrelu_backward_from_output(lrelu_ctx *ctx, lrelu_dtype t, size_t n, double alpha,
                                        cl_mem y, size_t y_off, cl_mem dy, size_t dy_off, cl_mem dx,
                                        size_t dx_off, cl_uint num_wait, const cl_event *wait,
                                        cl_event *done)
{
    return lrelu_backward_from_output_ex(ctx, t, n, alpha, NULL, y, y_off, dy, dy_off, dx, dx_off,
                                         num_wait, wait, done);
}
