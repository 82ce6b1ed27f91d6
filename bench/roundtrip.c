/* roundtrip.c: what lrelu adds to a small call. A raw clEnqueueNDRangeKernel + clFinish of
 * a one-element-per-work-item kernel and lrelu_forward + clFinish on the same buffers and
 * queue, alternating call by call (so that the machine's load falls on both alike), many
 * times; prints the medians, 10th percentiles and their ratio.
 *
 *   lrelu-roundtrip [n] [calls]     (default 1024 elements, 2001 calls each)
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */
#include "lrelu.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static const char *src = "kernel void raw(global const float *x, global float *y, float a)\n"
                         "{\n"
                         "    size_t i = get_global_id(0);\n"
                         "    float v = x[i];\n"
                         "    y[i] = v > 0.0f ? v : v * a;\n"
                         "}\n";

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec * 1e-3;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 1024;
    int calls = argc > 2 ? atoi(argv[2]) : 2001;
    if (n == 0 || calls < 1) {
        fprintf(stderr, "usage: lrelu-roundtrip [n > 0] [calls > 0]\n");
        return 2;
    }
    lrelu_ctx *ctx;
    if (lrelu_create(&ctx, NULL) != LRELU_OK) {
        fprintf(stderr, "%s\n", lrelu_last_error());
        return 1;
    }
    cl_context cx = lrelu_cl_context(ctx);
    cl_command_queue q = lrelu_cl_queue(ctx);
    cl_device_id dev = lrelu_cl_device(ctx);
    cl_int err;
    cl_program prog = clCreateProgramWithSource(cx, 1, &src, NULL, &err);
    cl_kernel k = NULL;
    cl_mem x = clCreateBuffer(cx, CL_MEM_READ_WRITE, n * sizeof(float), NULL, &err);
    cl_mem y = clCreateBuffer(cx, CL_MEM_READ_WRITE, n * sizeof(float), NULL, &err);
    float a = 0.01f;
    double *raw = malloc((size_t)calls * sizeof *raw), *lib = malloc((size_t)calls * sizeof *lib);
    int ok = prog != NULL && x != NULL && y != NULL && raw != NULL && lib != NULL &&
             clBuildProgram(prog, 1, &dev, "", NULL, NULL) == CL_SUCCESS &&
             (k = clCreateKernel(prog, "raw", &err)) != NULL &&
             clSetKernelArg(k, 0, sizeof x, &x) == CL_SUCCESS &&
             clSetKernelArg(k, 1, sizeof y, &y) == CL_SUCCESS &&
             clSetKernelArg(k, 2, sizeof a, &a) == CL_SUCCESS;
    /* 20 warm-up calls of each, then the alternating ones */
    for (int i = -20; ok && i < calls; ++i) {
        double t0 = now_us();
        ok = clEnqueueNDRangeKernel(q, k, 1, NULL, &n, NULL, 0, NULL, NULL) == CL_SUCCESS &&
             clFinish(q) == CL_SUCCESS;
        double t1 = now_us();
        ok = ok && lrelu_forward(ctx, LRELU_F32, n, a, x, 0, y, 0, 0, NULL, NULL) == LRELU_OK &&
             clFinish(q) == CL_SUCCESS;
        double t2 = now_us();
        if (i >= 0) {
            raw[i] = t1 - t0;
            lib[i] = t2 - t1;
        }
    }
    if (ok) {
        qsort(raw, (size_t)calls, sizeof *raw, cmp_double);
        qsort(lib, (size_t)calls, sizeof *lib, cmp_double);
        printf("n %zu, %d calls each, microseconds\n"
               "raw enqueue + clFinish:      median %.1f  p10 %.1f\n"
               "lrelu_forward + clFinish:    median %.1f  p10 %.1f\n"
               "lrelu / raw: median %.3f, p10 %.3f\n",
               n, calls, raw[calls / 2], raw[calls / 10], lib[calls / 2], lib[calls / 10],
               lib[calls / 2] / raw[calls / 2], lib[calls / 10] / raw[calls / 10]);
    } else {
        fprintf(stderr, "an OpenCL call failed\n");
    }
    free(raw);
    free(lib);
    if (k)
        clReleaseKernel(k);
    if (prog)
        clReleaseProgram(prog);
    if (x)
        clReleaseMemObject(x);
    if (y)
        clReleaseMemObject(y);
    lrelu_destroy(ctx);
    return ok ? 0 : 1;
}
