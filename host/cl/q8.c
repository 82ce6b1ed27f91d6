/* q8.c: the device-buffer API of the int8 forward: quantized inputs dequantized, the
 * forward in float, requantized with one rounding (kernels/q8.cl). */
#include "cl/cl.h"

/* Work-items of the quantized kernel: where both offsets are multiples of 4 it takes
 * 4 * vec bytes as words per work-item, the one after those the tail; else vec bytes. */
static size_t q8_items(size_t n, size_t vec, size_t x_off, size_t y_off)
{
    if (((x_off | y_off) & 3) == 0)
        return n / (4 * vec) + 1;
    return n / vec + (n % vec != 0);
}

lrelu_status lrelu_forward_q8(lrelu_ctx *ctx, lrelu_qtype t, size_t n, double alpha, lrelu_quant in,
                              lrelu_quant out, cl_mem x, size_t x_off, cl_mem y, size_t y_off,
                              cl_uint num_wait, const cl_event *wait, cl_event *done)
{
    const char *fn = "lrelu_forward_q8";
    lrelu_q8_args a;
    if (done != NULL)
        *done = NULL;
    lrelu_status st = lrelu_check_q8(ctx, fn, t, alpha, in, out, &a);
    if (st != LRELU_OK)
        return st;
    lrelu_operand ops[2] = {
        {.name = "x", .mem = x, .off = x_off, .n = n, .inc = 1},
        {.name = "y", .mem = y, .off = y_off, .n = n, .inc = 1, .out = 1, .alias = 1u}};
    lrelu_checked chk = {fn, LRELU_F32, 1, n, 0, num_wait, wait, ops, 2};
    st = lrelu_check_operands(ctx, &chk);
    if (st != LRELU_OK || n == 0)
        return st != LRELU_OK ? st : lrelu_enqueue_marker(ctx, num_wait, wait, done);
    const lrelu_kernels *k = NULL;
    pthread_mutex_lock(&ctx->lock);
    st = lrelu_get_kernels(ctx, LRELU_F32, LRELU_FAMILY_Q8, &k);
    if (st == LRELU_OK) {
        lrelu_args args = {.count = 0};
        lrelu_arg_ulong(&args, n);
        lrelu_arg(&args, &a.alpha, sizeof a.alpha);
        lrelu_arg(&args, &a.s_in, sizeof a.s_in);
        lrelu_arg(&args, &a.zp_in, sizeof a.zp_in);
        lrelu_arg(&args, &a.inv_out, sizeof a.inv_out);
        lrelu_arg(&args, &a.zp_out, sizeof a.zp_out);
        lrelu_arg_mem(&args, x);
        lrelu_arg_ulong(&args, x_off);
        lrelu_arg_mem(&args, y);
        lrelu_arg_ulong(&args, y_off);
        st = lrelu_set_args(k->kern[LRELU_K_Q8_S8 + t], &args);
        if (st == LRELU_OK)
            st = lrelu_launch_1d(ctx, k->local[LRELU_FAMILY_Q8], k->kern[LRELU_K_Q8_S8 + t],
                                 q8_items(n, k->vec, x_off, y_off), num_wait, wait, done);
    }
    pthread_mutex_unlock(&ctx->lock);
    return st;
}
