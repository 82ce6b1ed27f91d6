/* elementwise.c: the asynchronous device-buffer API of the elementwise calls (forward,
 * backward, from the output; blending and strides through the _ex calls). Checks every
 * argument (common/checks.c) before anything is enqueued, then sets the kernel's
 * arguments and enqueues it under the ctx lock. */
#include "cl/cl.h"

/* Checks the call and its operands (inputs first, the output last), then enqueues. */
static lrelu_status run(lrelu_ctx *ctx, lrelu_op op, lrelu_dtype t, size_t n, double alpha,
                        const lrelu_opts *opts, lrelu_operand *ops, int nops, cl_uint num_wait,
                        const cl_event *wait, cl_event *done)
{
    const char *fn = lrelu_op_name(op);
    if (done != NULL)
        *done = NULL;
    lrelu_status st = lrelu_check_elementwise(ctx, fn, op, t, alpha, opts);
    if (st != LRELU_OK)
        return st;
    lrelu_opts o = lrelu_opts_resolve(opts);
    lrelu_elementwise_operands(&o, n, ops, nops);
    lrelu_checked c = {fn, t, lrelu_dtype_size(t), n, 0, num_wait, wait, ops, nops};
    if ((st = lrelu_check_operands(ctx, &c)) != LRELU_OK)
        return st;
    if (n == 0)
        return lrelu_enqueue_marker(ctx, num_wait, wait, done);
    const lrelu_operand *out = &ops[nops - 1];
    cl_mem dy = op == LRELU_OP_FORWARD ? NULL : ops[1].mem;
    size_t dy_off = op == LRELU_OP_FORWARD ? 0 : ops[1].off;
    return lrelu_enqueue(ctx, ctx->queue, op, t, n, alpha, &o, ops[0].mem, ops[0].off, dy, dy_off,
                         out->mem, out->off, num_wait, wait, done);
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
                            {.name = "y", .mem = y, .off = y_off, .out = 1}};
    return run(ctx, LRELU_OP_FORWARD, t, n, alpha, opts, ops, 2, num_wait, wait, done);
}

lrelu_status lrelu_backward_ex(lrelu_ctx *ctx, lrelu_dtype t, size_t n, double alpha,
                               const lrelu_opts *opts, cl_mem x, size_t x_off, cl_mem dy,
                               size_t dy_off, cl_mem dx, size_t dx_off, cl_uint num_wait,
                               const cl_event *wait, cl_event *done)
{
    lrelu_operand ops[3] = {{.name = "x", .mem = x, .off = x_off},
                            {.name = "dy", .mem = dy, .off = dy_off},
                            {.name = "dx", .mem = dx, .off = dx_off, .out = 1}};
    return run(ctx, LRELU_OP_BACKWARD, t, n, alpha, opts, ops, 3, num_wait, wait, done);
}

lrelu_status lrelu_backward_from_output_ex(lrelu_ctx *ctx, lrelu_dtype t, size_t n, double alpha,
                                           const lrelu_opts *opts, cl_mem y, size_t y_off,
                                           cl_mem dy, size_t dy_off, cl_mem dx, size_t dx_off,
                                           cl_uint num_wait, const cl_event *wait, cl_event *done)
{
    lrelu_operand ops[3] = {{.name = "y", .mem = y, .off = y_off},
                            {.name = "dy", .mem = dy, .off = dy_off},
                            {.name = "dx", .mem = dx, .off = dx_off, .out = 1}};
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
