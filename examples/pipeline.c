/* pipeline.c: lrelu inside a caller's own OpenCL pipeline. The caller's kernel produces
 * x, lrelu's forward runs after it, the caller's next kernel consumes y, all on the
 * caller's queue and chained by events, with no blocking call until the final read. */
#include <lrelu.h>

#include <stdio.h>
#include <string.h>

static const char *src = "__kernel void produce(__global float *x) {\n"
                         "    size_t i = get_global_id(0);\n"
                         "    x[i] = (float)i - 512.0f;\n"
                         "}\n"
                         "__kernel void consume(__global const float *y, __global float *z) {\n"
                         "    size_t i = get_global_id(0);\n"
                         "    z[i] = 2.0f * y[i];\n"
                         "}\n";

#define CHECK(what, err)                                                                           \
    do {                                                                                           \
        if ((err) != CL_SUCCESS) {                                                                 \
            fprintf(stderr, "%s failed: %d\n", what, (int)(err));                                  \
            return 1;                                                                              \
        }                                                                                          \
    } while (0)

int main(void)
{
    enum { N = 1024 };
    /* The caller's own context and queue, here on the device lrelu would pick. */
    lrelu_ctx *probe = NULL;
    if (lrelu_create(&probe, NULL) != LRELU_OK) {
        fprintf(stderr, "%s\n", lrelu_last_error());
        return 1;
    }
    cl_device_id dev = lrelu_cl_device(probe);
    lrelu_destroy(probe);
    cl_int err;
    cl_context cx = clCreateContext(NULL, 1, &dev, NULL, NULL, &err);
    CHECK("clCreateContext", err);
    cl_command_queue q = clCreateCommandQueue(cx, dev, 0, &err);
    CHECK("clCreateCommandQueue", err);
    cl_program prog = clCreateProgramWithSource(cx, 1, &src, NULL, &err);
    CHECK("clCreateProgramWithSource", err);
    CHECK("clBuildProgram", clBuildProgram(prog, 1, &dev, "", NULL, NULL));
    cl_kernel produce = clCreateKernel(prog, "produce", &err);
    CHECK("produce", err);
    cl_kernel consume = clCreateKernel(prog, "consume", &err);
    CHECK("consume", err);
    cl_mem x = clCreateBuffer(cx, CL_MEM_READ_WRITE, N * sizeof(float), NULL, &err);
    cl_mem y = clCreateBuffer(cx, CL_MEM_READ_WRITE, N * sizeof(float), NULL, &err);
    cl_mem z = clCreateBuffer(cx, CL_MEM_READ_WRITE, N * sizeof(float), NULL, &err);
    CHECK("clCreateBuffer", err);

    /* lrelu on the caller's queue */
    lrelu_ctx *ctx = NULL;
    if (lrelu_create_from_queue(&ctx, q) != LRELU_OK) {
        fprintf(stderr, "%s\n", lrelu_last_error());
        return 1;
    }
    size_t global = N;
    cl_event produced, activated, consumed;
    CHECK("arg", clSetKernelArg(produce, 0, sizeof x, &x));
    CHECK("produce",
          clEnqueueNDRangeKernel(q, produce, 1, NULL, &global, NULL, 0, NULL, &produced));
    lrelu_status st = lrelu_forward(ctx, LRELU_F32, N, 0.1, x, 0, y, 0, 1, &produced, &activated);
    if (st != LRELU_OK) {
        fprintf(stderr, "%s\n%s\n", lrelu_status_str(st), lrelu_last_error());
        return 1;
    }
    CHECK("arg", clSetKernelArg(consume, 0, sizeof y, &y));
    CHECK("arg", clSetKernelArg(consume, 1, sizeof z, &z));
    CHECK("consume",
          clEnqueueNDRangeKernel(q, consume, 1, NULL, &global, NULL, 1, &activated, &consumed));

    /* the one blocking call: the result */
    float out[N];
    CHECK("read", clEnqueueReadBuffer(q, z, CL_TRUE, 0, sizeof out, out, 1, &consumed, NULL));
    int bad = 0;
    for (int i = 0; i < N; ++i) {
        float xi = (float)i - 512.0f;
        float want = 2.0f * (xi > 0 ? xi : xi * 0.1f);
        bad += memcmp(&out[i], &want, sizeof want) != 0;
    }
    printf("pipeline: %d of %d values right\n", N - bad, N);

    lrelu_destroy(ctx); /* releases only what lrelu retained */
    clReleaseEvent(produced);
    clReleaseEvent(activated);
    clReleaseEvent(consumed);
    clReleaseMemObject(z);
    clReleaseMemObject(y);
    clReleaseMemObject(x);
    clReleaseKernel(consume);
    clReleaseKernel(produce);
    clReleaseProgram(prog);
    clReleaseCommandQueue(q);
    clReleaseContext(cx);
    return bad ? 1 : 0;
}
