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

/* The general kernel's arguments (kernels/elementwise.cl); the forward reads its values
 * from s. */
static void general_args(lrelu_args *a, lrelu_op op, lrelu_dtype t, size_t n, double alpha,
                         const lrelu_opts *o, cl_mem s, size_t s_off, cl_mem dy, size_t dy_off,
                         cl_mem out, size_t out_off)
{
    int fwd = op == LRELU_OP_FORWARD;
    lrelu_arg_ulong(a, n);
    lrelu_arg_scalar(a, t, alpha);
    lrelu_arg_scalar(a, t, o->scale);
    lrelu_arg_scalar(a, t, o->beta);
    lrelu_arg_mem(a, s);
    lrelu_arg_ulong(a, s_off);
    lrelu_arg_ulong(a, o->src_stride);
    lrelu_arg_mem(a, fwd ? s : dy);
    lrelu_arg_ulong(a, fwd ? s_off : dy_off);
    lrelu_arg_ulong(a, fwd ? o->src_stride : o->dy_stride);
    lrelu_arg_mem(a, out);
    lrelu_arg_ulong(a, out_off);
    lrelu_arg_ulong(a, o->dst_stride);
}

lrelu_status lrelu_launch(lrelu_ctx *ctx, cl_command_queue q, const lrelu_kernels *k, lrelu_op op,
                          lrelu_dtype t, size_t n, double alpha, const lrelu_opts *o, cl_mem s,
                          size_t s_off, cl_mem dy, size_t dy_off, cl_mem out, size_t out_off,
                          cl_uint num_wait, const cl_event *wait, cl_event *done)
{
    lrelu_args a = {.count = 0};
    cl_kernel kern = k->kern[op == LRELU_OP_FORWARD ? LRELU_K_FORWARD : LRELU_K_BACKWARD];
    size_t per = k->item;
    if (o != NULL && !lrelu_opts_plain(o)) {
        kern = k->kern[LRELU_K_GENERAL];
        per = k->vec;
        general_args(&a, op, t, n, alpha, o, s, s_off, dy, dy_off, out, out_off);
    } else {
        lrelu_arg_ulong(&a, n);
        lrelu_arg_scalar(&a, t, alpha);
        lrelu_arg_mem(&a, s);
        lrelu_arg_ulong(&a, s_off);
        if (op != LRELU_OP_FORWARD) {
            lrelu_arg_mem(&a, dy);
            lrelu_arg_ulong(&a, dy_off);
        }
        lrelu_arg_mem(&a, out);
        lrelu_arg_ulong(&a, out_off);
    }
    lrelu_status st = lrelu_set_args(kern, &a);
    if (st != LRELU_OK)
        return st;
    size_t items = n / per + (n % per != 0); /* work-items in use, then rounded up */
    size_t local = k->local[LRELU_FAMILY_ELEMENTWISE];
    size_t global = (items + local - 1) / local * local;
    return lrelu_enqueue_kernel(ctx, q, kern, 1, &global, &local, num_wait, wait, done);
}

lrelu_status lrelu_enqueue(lrelu_ctx *ctx, cl_command_queue q, lrelu_op op, lrelu_dtype t, size_t n,
                           double alpha, const lrelu_opts *o, cl_mem s, size_t s_off, cl_mem dy,
                           size_t dy_off, cl_mem out, size_t out_off, cl_uint num_wait,
                           const cl_event *wait, cl_event *done)
{
    const lrelu_kernels *k = NULL;
    pthread_mutex_lock(&ctx->lock);
    lrelu_status st = lrelu_get_kernels(ctx, t, LRELU_FAMILY_ELEMENTWISE, &k);
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
