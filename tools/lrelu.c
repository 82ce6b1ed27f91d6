/* lrelu.c: the lrelu command. `lrelu demo` runs forward and backward over the classic
 * example on the default device, checks every value against the CPU reference and prints
 * the table; `lrelu devices` lists what OpenCL offers. Exit codes: 0 ok, 1 runtime
 * failure, 2 usage. */
#include "lrelu.h"
#ifdef LRELU_WITH_BENCH
#include "bench.h"
#endif

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N_DEMO 38 /* x = -19 ... 18 */

static int usage(FILE *f, int code)
{
    fprintf(f, "usage: lrelu demo [--device SEL] [--alpha A]\n"
               "       lrelu devices\n"
               "       lrelu tune [--device SEL]\n"
               "       lrelu bench [--help | options]\n"
               "  demo     forward and backward over x = -19 ... 18 on the device, checked\n"
               "           against the CPU reference\n"
               "  devices  the OpenCL devices and the selector of each\n"
               "  tune     measure the fastest kernel shapes on the device and cache them\n"
               "  bench    the benchmark against baselines measured in the same run\n"
               "SEL: gpu, cpu, P:D or part of the platform and device name; the default is\n"
               "$LRELU_DEVICE, else the first GPU, else the first device.\n"
               "exit codes: 0 ok, 1 runtime failure, 2 usage\n");
    return code;
}

static int fail(const char *what, lrelu_status st)
{
    fprintf(stderr, "lrelu: %s: %s\n%s\n", what, lrelu_status_str(st), lrelu_last_error());
    return 1;
}

static void device_line(cl_device_id dev, const char *label)
{
    char name[256] = "", ver[256] = "", drv[256] = "";
    clGetDeviceInfo(dev, CL_DEVICE_NAME, sizeof name - 1, name, NULL);
    clGetDeviceInfo(dev, CL_DEVICE_VERSION, sizeof ver - 1, ver, NULL);
    clGetDeviceInfo(dev, CL_DRIVER_VERSION, sizeof drv - 1, drv, NULL);
    printf("%s%s (%s, driver %s)\n", label, name, ver, drv);
}

static int demo(const char *device, double alpha)
{
    lrelu_ctx *ctx = NULL;
    lrelu_status st = lrelu_create(&ctx, device);
    if (st != LRELU_OK)
        return fail("create", st);
    device_line(lrelu_cl_device(ctx), "device: ");
    float x[N_DEMO], dy[N_DEMO], y[N_DEMO], dx[N_DEMO], ry[N_DEMO], rdx[N_DEMO];
    for (int i = 0; i < N_DEMO; ++i) {
        x[i] = (float)(i - 19);
        dy[i] = 1.0f; /* dx is then f'(x) itself */
    }
    if ((st = lrelu_forward_host(ctx, LRELU_F32, N_DEMO, alpha, x, y)) != LRELU_OK ||
        (st = lrelu_backward_host(ctx, LRELU_F32, N_DEMO, alpha, x, dy, dx)) != LRELU_OK) {
        lrelu_destroy(ctx);
        return fail("run", st);
    }
    lrelu_ref_forward(LRELU_F32, N_DEMO, alpha, x, ry);
    lrelu_ref_backward(LRELU_F32, N_DEMO, alpha, x, dy, rdx);
    printf("Leaky ReLU, alpha = %g: f(x) = x > 0 ? x : %g * x\n\n", alpha, alpha);
    printf("%6s | %10s | %6s\n", "x", "f(x)", "f'(x)");
    printf("-------+------------+-------\n");
    int bad = 0;
    for (int i = 0; i < N_DEMO; ++i) {
        int ok =
            memcmp(&y[i], &ry[i], sizeof y[i]) == 0 && memcmp(&dx[i], &rdx[i], sizeof dx[i]) == 0;
        bad += !ok;
        printf("%6g | %10g | %6g%s\n", x[i], y[i], dx[i], ok ? "" : "   MISMATCH");
    }
    lrelu_destroy(ctx);
    printf("\n%d of %d values match the CPU reference bit for bit.\n", N_DEMO - bad, N_DEMO);
    printf("Range: %s\n", alpha > 0    ? "(-inf, inf)"
                          : alpha == 0 ? "[0, inf)"
                                       : "(-inf, inf), not monotonic (alpha < 0)");
    return bad ? 1 : 0;
}

static int devices(void)
{
    cl_platform_id plats[16];
    cl_uint np = 0;
    if (clGetPlatformIDs(16, plats, &np) != CL_SUCCESS || np == 0) {
        fprintf(stderr, "lrelu: no OpenCL platform\n");
        return 1;
    }
    for (cl_uint p = 0; p < np && p < 16; ++p) {
        char pname[256] = "";
        clGetPlatformInfo(plats[p], CL_PLATFORM_NAME, sizeof pname - 1, pname, NULL);
        cl_device_id devs[64];
        cl_uint nd = 0;
        if (clGetDeviceIDs(plats[p], CL_DEVICE_TYPE_ALL, 64, devs, &nd) != CL_SUCCESS)
            continue;
        for (cl_uint d = 0; d < nd && d < 64; ++d) {
            char label[300];
            snprintf(label, sizeof label, "%u:%u  %s / ", p, d, pname);
            device_line(devs[d], label);
        }
    }
    return 0;
}

static int tune(const char *device)
{
    lrelu_ctx *ctx = NULL;
    lrelu_status st = lrelu_create(&ctx, device);
    if (st != LRELU_OK)
        return fail("create", st);
    device_line(lrelu_cl_device(ctx), "tuning ");
    char path[1200];
    if ((st = lrelu_tune(ctx, path, sizeof path)) != LRELU_OK) {
        lrelu_destroy(ctx);
        return fail("tune", st);
    }
    for (int t = 0; t < 4; ++t) {
        size_t vec, local;
        if (lrelu_kernel_shape(ctx, (lrelu_dtype)t, &vec, &local) == LRELU_OK)
            printf("  %-4s %2zu elements per work-item, %4zu work-items per group\n",
                   lrelu_dtype_name((lrelu_dtype)t), vec, local);
    }
    printf(path[0] ? "cached in %s\n" : "the cache could not be written%s\n", path);
    lrelu_destroy(ctx);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return usage(stderr, 2);
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
        return usage(stdout, 0);
    if (strcmp(argv[1], "devices") == 0)
        return argc == 2 ? devices() : usage(stderr, 2);
#ifdef LRELU_WITH_BENCH
    if (strcmp(argv[1], "bench") == 0)
        return lrelu_bench_main(argc - 1, argv + 1);
#endif
    if (strcmp(argv[1], "tune") == 0) {
        if (argc == 2)
            return tune(NULL);
        if (argc == 4 && strcmp(argv[2], "--device") == 0)
            return tune(argv[3]);
        return usage(stderr, 2);
    }
    if (strcmp(argv[1], "demo") == 0) {
        const char *device = NULL;
        double alpha = LRELU_DEFAULT_ALPHA;
        for (int i = 2; i < argc; ++i) {
            if (strcmp(argv[i], "--device") == 0 && i + 1 < argc)
                device = argv[++i];
            else if (strcmp(argv[i], "--alpha") == 0 && i + 1 < argc)
                alpha = strtod(argv[++i], NULL);
            else if (strcmp(argv[i], "--help") == 0)
                return usage(stdout, 0);
            else
                return usage(stderr, 2);
        }
        return demo(device, alpha);
    }
    return usage(stderr, 2);
}
