/* fused.c: a caller's own kernel that fuses Leaky ReLU through the installed lrelu.clh
 * (its folder in LRELU_CLH_DIR: pkg-config's clh_dir, or the CMake package's
 * LRELU_CLH_DIR), built with -I that folder, against lrelu's calls on the same buffers:
 * the forward and the backward of every dtype the device has, bit for bit (NaN as any
 * NaN, as lrelu's own tests take it), over every special value and random bit patterns.
 * Built and run by tests/install_test.sh. */
#include <lrelu.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef LRELU_CLH_DIR
#error "build with -DLRELU_CLH_DIR=\"the folder of lrelu.clh\""
#endif

static const char *src =
    "#include \"lrelu.clh\"\n"
    "__kernel void fused_f32(__global const float *x, __global const float *dy,\n"
    "                        __global float *y, __global float *dx, float alpha) {\n"
    "    size_t i = get_global_id(0);\n"
    "    y[i] = lrelu_fwd_f32(x[i], alpha);\n"
    "    dx[i] = lrelu_bwd_f32(x[i], dy[i], alpha);\n"
    "}\n"
    "__kernel void fused_f16(__global const ushort *x, __global const ushort *dy,\n"
    "                        __global ushort *y, __global ushort *dx, float alpha) {\n"
    "    size_t i = get_global_id(0);\n"
    "    y[i] = lrelu_fwd_f16(x[i], alpha);\n"
    "    dx[i] = lrelu_bwd_f16(x[i], dy[i], alpha);\n"
    "}\n"
    "__kernel void fused_bf16(__global const ushort *x, __global const ushort *dy,\n"
    "                         __global ushort *y, __global ushort *dx, float alpha) {\n"
    "    size_t i = get_global_id(0);\n"
    "    y[i] = lrelu_fwd_bf16(x[i], alpha);\n"
    "    dx[i] = lrelu_bwd_bf16(x[i], dy[i], alpha);\n"
    "}\n"
    "#ifdef cl_khr_fp64\n"
    "__kernel void fused_f64(__global const double *x, __global const double *dy,\n"
    "                        __global double *y, __global double *dx, double alpha) {\n"
    "    size_t i = get_global_id(0);\n"
    "    y[i] = lrelu_fwd_f64(x[i], alpha);\n"
    "    dx[i] = lrelu_bwd_f64(x[i], dy[i], alpha);\n"
    "}\n"
    "#endif\n";

enum { N = 4099 };

/* random bit patterns, the dtype's specials first: zeros, infinities, NaNs, subnormals */
static void fill(lrelu_dtype t, unsigned char *p, uint64_t *s)
{
    size_t es = lrelu_dtype_size(t);
    for (size_t i = 0; i < N * es; ++i) {
        *s = *s * 6364136223846793005ull + 1442695040888963407ull;
        p[i] = (unsigned char)(*s >> 56);
    }
    static const uint16_t h16[] = {0x0000, 0x8000, 0x7c00, 0xfc00, 0x7e00,
                                   0x7c01, 0x0001, 0x8001, 0x3c00, 0xbc00};
    static const uint16_t b16[] = {0x0000, 0x8000, 0x7f80, 0xff80, 0x7fc0,
                                   0x7f81, 0x0001, 0x8001, 0x3f80, 0xbf80};
    static const uint32_t f32[] = {0x0,         0x80000000u, 0x7f800000u, 0xff800000u, 0x7fc00000u,
                                   0x7f800001u, 0x1,         0x80000001u, 0x3f800000u, 0xbf800000u};
    static const uint64_t f64[] = {0x0,
                                   1ull << 63,
                                   0x7ffull << 52,
                                   0xfffull << 52,
                                   0x7ff8ull << 48,
                                   (0x7ffull << 52) | 1,
                                   0x1,
                                   (1ull << 63) | 1,
                                   0x3ffull << 52,
                                   0xbffull << 52};
    const void *sp = t == LRELU_F16    ? (const void *)h16
                     : t == LRELU_BF16 ? (const void *)b16
                     : t == LRELU_F32  ? (const void *)f32
                                       : (const void *)f64;
    memcpy(p, sp, 10 * es);
}

static int is_nan(lrelu_dtype t, const unsigned char *p, size_t i)
{
    uint64_t b = 0;
    memcpy(&b, p + i * lrelu_dtype_size(t), lrelu_dtype_size(t));
    switch (t) {
    case LRELU_F16:
        return (b & 0x7fff) > 0x7c00;
    case LRELU_BF16:
        return (b & 0x7fff) > 0x7f80;
    case LRELU_F32:
        return (b & 0x7fffffffu) > 0x7f800000u;
    default:
        return (b & ~(1ull << 63)) > (0x7ffull << 52);
    }
}

#define CHECK(what, err)                                                                           \
    do {                                                                                           \
        if ((err) != CL_SUCCESS) {                                                                 \
            fprintf(stderr, "%s failed: %d\n", what, (int)(err));                                  \
            return 1;                                                                              \
        }                                                                                          \
    } while (0)

int main(void)
{
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
    const char *options = "-cl-std=CL1.2 -I " LRELU_CLH_DIR;
    if (clBuildProgram(prog, 1, &dev, options, NULL, NULL) != CL_SUCCESS) {
        char log[8192] = "";
        clGetProgramBuildInfo(prog, dev, CL_PROGRAM_BUILD_LOG, sizeof log - 1, log, NULL);
        fprintf(stderr, "the caller's kernel does not build with %s:\n%s\n", options, log);
        return 1;
    }
    lrelu_ctx *ctx = NULL;
    if (lrelu_create_from_queue(&ctx, q) != LRELU_OK) {
        fprintf(stderr, "%s\n", lrelu_last_error());
        return 1;
    }
    static unsigned char hx[N * 8], hdy[N * 8], got[4][N * 8];
    uint64_t seed = 20261205;
    long failed = 0, checked = 0;
    const double alpha = 0.01;
    for (int ti = 0; ti < 4; ++ti) {
        lrelu_dtype t = (lrelu_dtype)ti;
        const char *names[] = {"fused_f32", "fused_f16", "fused_bf16", "fused_f64"};
        cl_kernel k = clCreateKernel(prog, names[ti], &err);
        if (t == LRELU_F64 && err != CL_SUCCESS) {
            printf("f64: the device has no fp64, nothing to compare\n");
            continue;
        }
        CHECK(names[ti], err);
        size_t es = lrelu_dtype_size(t), bytes = N * es, n = N;
        fill(t, hx, &seed);
        fill(t, hdy, &seed);
        cl_mem b[6];
        for (int i = 0; i < 6; ++i) {
            b[i] = clCreateBuffer(cx, CL_MEM_READ_WRITE | (i < 2 ? CL_MEM_COPY_HOST_PTR : 0), bytes,
                                  i == 0   ? hx
                                  : i == 1 ? hdy
                                           : NULL,
                                  &err);
            CHECK("clCreateBuffer", err);
        }
        float af = (float)alpha;
        for (int i = 0; i < 4; ++i)
            CHECK("clSetKernelArg", clSetKernelArg(k, (cl_uint)i, sizeof b[i], &b[i]));
        CHECK("clSetKernelArg", t == LRELU_F64 ? clSetKernelArg(k, 4, sizeof alpha, &alpha)
                                               : clSetKernelArg(k, 4, sizeof af, &af));
        CHECK("clEnqueueNDRangeKernel",
              clEnqueueNDRangeKernel(q, k, 1, NULL, &n, NULL, 0, NULL, NULL));
        if (lrelu_forward(ctx, t, N, alpha, b[0], 0, b[4], 0, 0, NULL, NULL) != LRELU_OK ||
            lrelu_backward(ctx, t, N, alpha, b[0], 0, b[1], 0, b[5], 0, 0, NULL, NULL) !=
                LRELU_OK) {
            fprintf(stderr, "%s\n", lrelu_last_error());
            return 1;
        }
        for (int i = 0; i < 4; ++i)
            CHECK("clEnqueueReadBuffer",
                  clEnqueueReadBuffer(q, b[2 + i], CL_TRUE, 0, bytes, got[i], 0, NULL, NULL));
        for (int o = 0; o < 2; ++o) /* got[o]: the fused kernel's; got[o + 2]: lrelu's */
            for (size_t i = 0; i < N; ++i, ++checked) {
                int both_nan = is_nan(t, got[o], i) && is_nan(t, got[o + 2], i);
                if (!both_nan && memcmp(got[o] + i * es, got[o + 2] + i * es, es) != 0 &&
                    failed++ < 10)
                    printf("FAIL %s %s element %zu differs from lrelu's call\n",
                           lrelu_dtype_name(t), o ? "backward" : "forward", i);
            }
        for (int i = 0; i < 6; ++i)
            clReleaseMemObject(b[i]);
        clReleaseKernel(k);
    }
    printf("lrelu.clh from %s: %ld elements against lrelu's calls, %ld differ\n", LRELU_CLH_DIR,
           checked, failed);
    lrelu_destroy(ctx);
    clReleaseProgram(prog);
    clReleaseCommandQueue(q);
    clReleaseContext(cx);
    return failed == 0 && checked > 0 ? 0 : 1;
}
