/* launch.c: every kernel launch of the library, split where it would pass a device's
 * launch limits. NVIDIA's OpenCL has been reported to compute wrong results past 2^31
 * work-items in a dimension, and CUDA devices take at most 65 535 work-groups along
 * dimensions 1 and 2. A launch past either becomes several, each over a part of the
 * range given by a global work offset: every kernel finds its elements from
 * get_global_id alone, so the parts compute exactly what one launch would. */
#include "cl/cl.h"

#include <stdlib.h>
#include <string.h>

lrelu_status lrelu_enqueue_kernel(const lrelu_ctx *ctx, cl_command_queue q, cl_kernel kern,
                                  cl_uint dims, const size_t *global, const size_t *local,
                                  cl_uint num_wait, const cl_event *wait, cl_event *done)
{
    lrelu_status st = LRELU_OK;
    cl_event *ev = NULL;
    size_t made = 0;
    /* the most work-items of one part along each dimension, whole work-groups */
    size_t step[2] = {global[0], dims > 1 ? global[1] : 1};
    size_t l0 = local[0], l1 = dims > 1 ? local[1] : 1;
    if (step[0] > ctx->launch_items)
        step[0] = ctx->launch_items / l0 > 0 ? ctx->launch_items / l0 * l0 : l0;
    if (dims > 1 && step[1] / l1 > ctx->launch_groups)
        step[1] = ctx->launch_groups * l1;
    size_t parts0 = (global[0] + step[0] - 1) / step[0];
    size_t parts1 = dims > 1 ? (global[1] + step[1] - 1) / step[1] : 1;
    if (parts0 == 1 && parts1 == 1) {
        LRELU_CL(clEnqueueNDRangeKernel(q, kern, dims, NULL, global, local, num_wait,
                                        num_wait ? wait : NULL, done));
        return LRELU_OK;
    }
    /* Each part waits for the caller's list (an out-of-order queue orders nothing else);
     * `done` is a marker after all of them. */
    size_t parts = parts0 * parts1;
    ev = done != NULL ? calloc(parts, sizeof *ev) : NULL;
    if (done != NULL && ev == NULL)
        return lrelu_fail(LRELU_ERR_OUT_OF_MEMORY, "no memory for %zu launch events", parts);
    for (size_t p1 = 0; p1 < parts1; ++p1)
        for (size_t p0 = 0; p0 < parts0; ++p0) {
            size_t off[2] = {p0 * step[0], p1 * step[1]};
            size_t size[2] = {global[0] - off[0] < step[0] ? global[0] - off[0] : step[0],
                              dims > 1 && global[1] - off[1] < step[1] ? global[1] - off[1]
                                                                       : step[1]};
            LRELU_CL(clEnqueueNDRangeKernel(q, kern, dims, off, size, local, num_wait,
                                            num_wait ? wait : NULL, ev ? &ev[made] : NULL));
            ++made;
        }
    if (done != NULL)
        LRELU_CL(clEnqueueMarkerWithWaitList(q, (cl_uint)made, ev, done));
cleanup:
    for (size_t i = 0; ev != NULL && i < made; ++i)
        (void)clReleaseEvent(ev[i]);
    free(ev);
    return st;
}

void lrelu_arg(lrelu_args *a, const void *value, size_t size)
{
    size_t at = a->count > 0 ? a->at[a->count - 1] + a->size[a->count - 1] : 0;
    at = (at + 7) / 8 * 8;
    /* the kernels' longest list is 19 arguments of at most 8 bytes: never full */
    if (a->count >= sizeof a->at / sizeof a->at[0] || at + size > sizeof a->bytes)
        return;
    memcpy(a->bytes + at, value, size);
    a->at[a->count] = at;
    a->size[a->count++] = size;
}

void lrelu_arg_ulong(lrelu_args *a, size_t v)
{
    cl_ulong u = v;
    lrelu_arg(a, &u, sizeof u);
}

void lrelu_arg_mem(lrelu_args *a, cl_mem m) { lrelu_arg(a, &m, sizeof m); }

void lrelu_arg_scalar(lrelu_args *a, lrelu_dtype t, double v)
{
    float f = (float)v;
    if (t == LRELU_F64)
        lrelu_arg(a, &v, sizeof v);
    else
        lrelu_arg(a, &f, sizeof f);
}

lrelu_status lrelu_set_args(cl_kernel kern, const lrelu_args *a)
{
    lrelu_status st = LRELU_OK;
    for (cl_uint i = 0; i < a->count; ++i)
        LRELU_CL(clSetKernelArg(kern, i, a->size[i], a->bytes + a->at[i]));
cleanup:
    return st;
}

lrelu_status lrelu_launch_1d(lrelu_ctx *ctx, size_t local, cl_kernel kern, size_t items,
                             cl_uint num_wait, const cl_event *wait, cl_event *done)
{
    local = local > 0 ? local : 1; /* always; the analyzer cannot know */
    size_t global = (items + local - 1) / local * local;
    return lrelu_enqueue_kernel(ctx, ctx->queue, kern, 1, &global, &local, num_wait, wait, done);
}

lrelu_status lrelu_launch_2d(lrelu_ctx *ctx, size_t local_size, cl_kernel kern, size_t items,
                             size_t rows, cl_uint num_wait, const cl_event *wait, cl_event *done)
{
    size_t l0 = 1, l1;
    while (l0 < items && l0 * 2 <= local_size && l0 * 2 <= ctx->max_items[0])
        l0 *= 2;
    l1 = local_size / l0 < ctx->max_items[1] ? local_size / l0 : ctx->max_items[1];
    while (l1 > 1 && l1 / 2 >= rows)
        l1 /= 2;
    size_t local[2] = {l0, l1};
    size_t global[2] = {(items + l0 - 1) / l0 * l0, (rows + l1 - 1) / l1 * l1};
    return lrelu_enqueue_kernel(ctx, ctx->queue, kern, 2, global, local, num_wait, wait, done);
}
