/* lrelu.c: the lrelu command: devices, demo, plot, apply, tune and bench. Errors go to
 * stderr with the library's status name. Exit codes: 0 ok, 1 runtime failure, 2 usage. */
#include "cli.h"

#ifdef LRELU_WITH_BENCH
#include "bench.h"
#endif

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define N_DEMO 38 /* x = -19 ... 18 */

static int usage(int code)
{
    fprintf(code ? stderr : stdout,
            "usage: lrelu COMMAND [--help | options]\n"
            "  devices  every OpenCL device, what it offers, and the selector that picks it\n"
            "  demo     forward and backward over x = -19 ... 18 on the device, checked\n"
            "           against the CPU reference, the graph, and a bandwidth figure\n"
            "  plot     the graph of f and f' as SVG, computed on the device\n"
            "  apply    forward or backward over NumPy .npy files\n"
            "  tune     measure the fastest kernel shapes on the device and cache them\n"
#ifdef LRELU_WITH_BENCH
            "  bench    the benchmark against baselines measured in the same run\n"
#endif
            "Devices are chosen with --device SEL: gpu, cpu, P:D or part of the platform and\n"
            "device name; the default is $LRELU_DEVICE, else the first GPU, else the first\n"
            "device. Exit codes: 0 ok, 1 runtime failure, 2 usage.\n");
    return code;
}

int cli_fail(const char *what, lrelu_status st)
{
    fprintf(stderr, "lrelu: %s: %s\n%s\n", what, lrelu_status_str(st), lrelu_last_error());
    return CLI_FAIL;
}

int cli_usage_error(int (*usage_of)(int), const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "lrelu %s: ", cmd);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return usage_of(CLI_USAGE);
}

static void device_name(cl_device_id dev, char *out, size_t len)
{
    out[0] = '\0';
    clGetDeviceInfo(dev, CL_DEVICE_NAME, len - 1, out, NULL);
}

/* ---- devices ---- */

static int devices(int argc, char **argv)
{
    if (argc > 1) {
        if (argc != 2 || strcmp(argv[1], "--help") != 0)
            fprintf(stderr, "lrelu devices: takes no options ('%s')\n", argv[1]);
        fprintf(argc == 2 && strcmp(argv[1], "--help") == 0 ? stdout : stderr,
                "usage: lrelu devices\nEvery OpenCL platform and device: type, compute units, "
                "memory, largest\nallocation, fp64, denormals, OpenCL C version, driver, and "
                "the selector\nthat picks it; the default is marked.\n");
        return argc == 2 && strcmp(argv[1], "--help") == 0 ? CLI_OK : CLI_USAGE;
    }
    cl_platform_id plats[16];
    cl_uint np = 0;
    if (clGetPlatformIDs(16, plats, &np) != CL_SUCCESS || np == 0) {
        fprintf(stderr, "lrelu: devices: no OpenCL platform is installed\n");
        return CLI_FAIL;
    }
    lrelu_ctx *def = NULL;
    cl_device_id def_dev = lrelu_create(&def, NULL) == LRELU_OK ? lrelu_cl_device(def) : NULL;
    lrelu_destroy(def);
    for (cl_uint p = 0; p < np && p < 16; ++p) {
        char pname[256] = "", pver[256] = "";
        clGetPlatformInfo(plats[p], CL_PLATFORM_NAME, sizeof pname - 1, pname, NULL);
        clGetPlatformInfo(plats[p], CL_PLATFORM_VERSION, sizeof pver - 1, pver, NULL);
        printf("platform %u: %s (%s)\n", p, pname, pver);
        cl_device_id devs[64];
        cl_uint nd = 0;
        if (clGetDeviceIDs(plats[p], CL_DEVICE_TYPE_ALL, 64, devs, &nd) != CL_SUCCESS)
            continue;
        for (cl_uint d = 0; d < nd && d < 64; ++d) {
            char name[256], cver[128] = "", drv[128] = "";
            cl_device_type ty = 0;
            cl_uint cus = 0;
            cl_ulong gmem = 0, maxalloc = 0;
            cl_device_fp_config sp = 0, dp = 0;
            device_name(devs[d], name, sizeof name);
            clGetDeviceInfo(devs[d], CL_DEVICE_TYPE, sizeof ty, &ty, NULL);
            clGetDeviceInfo(devs[d], CL_DEVICE_MAX_COMPUTE_UNITS, sizeof cus, &cus, NULL);
            clGetDeviceInfo(devs[d], CL_DEVICE_GLOBAL_MEM_SIZE, sizeof gmem, &gmem, NULL);
            clGetDeviceInfo(devs[d], CL_DEVICE_MAX_MEM_ALLOC_SIZE, sizeof maxalloc, &maxalloc,
                            NULL);
            clGetDeviceInfo(devs[d], CL_DEVICE_SINGLE_FP_CONFIG, sizeof sp, &sp, NULL);
            clGetDeviceInfo(devs[d], CL_DEVICE_DOUBLE_FP_CONFIG, sizeof dp, &dp, NULL);
            clGetDeviceInfo(devs[d], CL_DEVICE_OPENCL_C_VERSION, sizeof cver - 1, cver, NULL);
            clGetDeviceInfo(devs[d], CL_DRIVER_VERSION, sizeof drv - 1, drv, NULL);
            printf("  %u:%u  %s%s\n", p, d, name, devs[d] == def_dev ? "   [default]" : "");
            printf("       type %s, %u compute units, %.2f GiB global memory, largest "
                   "allocation %.2f GiB\n",
                   (ty & CL_DEVICE_TYPE_GPU)           ? "GPU"
                   : (ty & CL_DEVICE_TYPE_CPU)         ? "CPU"
                   : (ty & CL_DEVICE_TYPE_ACCELERATOR) ? "accelerator"
                                                       : "other",
                   cus, (double)gmem / (1 << 30), (double)maxalloc / (1 << 30));
            printf("       fp64 %s, denormals %s, %s, driver %s\n", dp ? "yes" : "no",
                   (sp & CL_FP_DENORM) ? "kept" : "flushed to zero", cver, drv);
            printf("       select with --device %u:%u (or LRELU_DEVICE=%u:%u)\n", p, d, p, d);
        }
    }
    return CLI_OK;
}

/* ---- demo ---- */

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Median GB/s of 7 forward calls over 2^24 f32 elements through the device API. */
static double bandwidth(lrelu_ctx *ctx)
{
    size_t n = (size_t)1 << 24;
    cl_int err;
    cl_mem x = clCreateBuffer(lrelu_cl_context(ctx), CL_MEM_READ_WRITE, n * 4, NULL, &err);
    cl_mem y = clCreateBuffer(lrelu_cl_context(ctx), CL_MEM_READ_WRITE, n * 4, NULL, &err);
    double t[9], gbs = -1;
    float pat[2] = {1.0f, -1.0f};
    if (x == NULL || y == NULL ||
        clEnqueueFillBuffer(lrelu_cl_queue(ctx), x, pat, sizeof pat, 0, n * 4, 0, NULL, NULL))
        goto done;
    for (int r = 0; r < 9; ++r) {
        double t0 = now();
        if (lrelu_forward(ctx, LRELU_F32, n, 0.01, x, 0, y, 0, 0, NULL, NULL) != LRELU_OK ||
            clFinish(lrelu_cl_queue(ctx)) != CL_SUCCESS)
            goto done;
        t[r] = now() - t0;
    }
    for (int i = 2; i < 9; ++i) /* the first two were warm-up */
        for (int j = i; j > 2 && t[j] < t[j - 1]; --j) {
            double s = t[j];
            t[j] = t[j - 1];
            t[j - 1] = s;
        }
    gbs = 2.0 * (double)n * 4 / t[5] / 1e9;
done:
    if (x)
        clReleaseMemObject(x);
    if (y)
        clReleaseMemObject(y);
    return gbs;
}

static int demo_usage(int code)
{
    fprintf(code == CLI_OK ? stdout : stderr,
            "usage: lrelu demo [--device SEL] [--alpha A] [-o GRAPH.svg]\n"
            "Forward and backward over x = -19 ... 18 on the device, every value\n"
            "checked against the CPU reference; writes the graph (default\n"
            "leaky_relu.svg) and measures the bandwidth on a large array.\n");
    return code;
}

static int demo(int argc, char **argv)
{
    const char *device = NULL, *svg = "leaky_relu.svg";
    double alpha = LRELU_DEFAULT_ALPHA;
    for (int i = 1; i < argc; ++i) {
        if (strcmp(argv[i], "--device") == 0 && i + 1 < argc) {
            device = argv[++i];
        } else if (strcmp(argv[i], "--alpha") == 0 && i + 1 < argc) {
            char *end;
            const char *v = argv[++i];
            alpha = strtod(v, &end);
            if (*end || end == v || !isfinite(alpha))
                return cli_usage_error(demo_usage, "demo",
                                       "--alpha wants a finite number, not '%s'", v);
        } else if (strcmp(argv[i], "-o") == 0 && i + 1 < argc) {
            svg = argv[++i];
        } else if (strcmp(argv[i], "--help") == 0) {
            return demo_usage(CLI_OK);
        } else {
            return cli_usage_error(demo_usage, "demo",
                                   "unknown option '%s', or one without its value", argv[i]);
        }
    }
    lrelu_ctx *ctx = NULL;
    lrelu_status st = lrelu_create(&ctx, device);
    if (st != LRELU_OK)
        return cli_fail("demo", st);
    char name[256];
    device_name(lrelu_cl_device(ctx), name, sizeof name);
    printf("device: %s\n", name);
    /* the device-buffer API, so every value really comes from the device */
    float x[N_DEMO], dy[N_DEMO], y[N_DEMO], dx[N_DEMO], ry[N_DEMO], rdx[N_DEMO];
    for (int i = 0; i < N_DEMO; ++i) {
        x[i] = (float)(i - 19);
        dy[i] = 1.0f; /* dx is then f'(x) itself */
    }
    cl_int err;
    cl_context cx = lrelu_cl_context(ctx);
    cl_mem bx = clCreateBuffer(cx, CL_MEM_READ_ONLY | CL_MEM_COPY_HOST_PTR, sizeof x, x, &err);
    cl_mem bdy = clCreateBuffer(cx, CL_MEM_READ_ONLY | CL_MEM_COPY_HOST_PTR, sizeof dy, dy, &err);
    cl_mem by = clCreateBuffer(cx, CL_MEM_WRITE_ONLY, sizeof y, NULL, &err);
    cl_mem bdx = clCreateBuffer(cx, CL_MEM_WRITE_ONLY, sizeof dx, NULL, &err);
    if (err != CL_SUCCESS || !bx || !bdy || !by || !bdx) {
        fprintf(stderr, "lrelu: demo: clCreateBuffer failed\n");
        lrelu_destroy(ctx);
        return CLI_FAIL;
    }
    if ((st = lrelu_forward(ctx, LRELU_F32, N_DEMO, alpha, bx, 0, by, 0, 0, NULL, NULL)) ==
            LRELU_OK &&
        (st = lrelu_backward(ctx, LRELU_F32, N_DEMO, alpha, bx, 0, bdy, 0, bdx, 0, 0, NULL,
                             NULL)) == LRELU_OK) {
        clEnqueueReadBuffer(lrelu_cl_queue(ctx), by, CL_TRUE, 0, sizeof y, y, 0, NULL, NULL);
        clEnqueueReadBuffer(lrelu_cl_queue(ctx), bdx, CL_TRUE, 0, sizeof dx, dx, 0, NULL, NULL);
    }
    clReleaseMemObject(bx);
    clReleaseMemObject(bdy);
    clReleaseMemObject(by);
    clReleaseMemObject(bdx);
    if (st != LRELU_OK) {
        lrelu_destroy(ctx);
        return cli_fail("demo", st);
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
    printf("\n%d of %d values match the CPU reference bit for bit.\n", N_DEMO - bad, N_DEMO);
    printf("Range: %s\n", alpha > 0    ? "(-inf, inf)"
                          : alpha == 0 ? "[0, inf) (plain ReLU)"
                                       : "[0, inf), not monotonic (alpha < 0)");
    double alphas[1] = {alpha};
    if (cli_plot_svg(ctx, svg, alphas, 1, -19, 18, 371) == CLI_OK)
        printf("Graph: %s\n", svg);
    else
        bad = 1;
    double gbs = bandwidth(ctx);
    if (gbs > 0)
        printf("Bandwidth: %.1f GB/s forward over 2^24 f32 elements on this device (median "
               "of 7; bytes read + written)\n",
               gbs);
    lrelu_destroy(ctx);
    return bad ? CLI_FAIL : CLI_OK;
}

/* ---- tune ---- */

static int tune(int argc, char **argv)
{
    const char *device = NULL;
    if (argc == 3 && strcmp(argv[1], "--device") == 0) {
        device = argv[2];
    } else if (argc != 1) {
        int help = argc == 2 && strcmp(argv[1], "--help") == 0;
        if (!help)
            fprintf(stderr, "lrelu tune: takes only --device SEL\n");
        fprintf(help ? stdout : stderr,
                "usage: lrelu tune [--device SEL]\n"
                "Measures 1, 2, 4, 8 and 16 elements per work-item x 64, 256 and 1024 per group\n"
                "for each dtype, forward and backward, by the device's own counters over\n"
                "buffers past its caches (at least 512 MiB), prints the measurements, and\n"
                "caches the fastest for this device and driver\n"
                "($LRELU_CACHE_DIR, else $XDG_CACHE_HOME/lrelu, else ~/.cache/lrelu).\n"
                "Delete the cache file to reset; LRELU_TUNE=0 ignores it.\n");
        return help ? CLI_OK : CLI_USAGE;
    }
    lrelu_ctx *ctx = NULL;
    lrelu_status st = lrelu_create(&ctx, device);
    if (st != LRELU_OK)
        return cli_fail("tune", st);
    char name[256], path[1200];
    device_name(lrelu_cl_device(ctx), name, sizeof name);
    printf("tuning %s\n", name);
    if ((st = lrelu_tune(ctx, path, sizeof path)) != LRELU_OK) {
        lrelu_destroy(ctx);
        return cli_fail("tune", st);
    }
    for (int t = 0; t < 4; ++t) {
        size_t vec, local;
        if (lrelu_kernel_shape(ctx, (lrelu_dtype)t, &vec, &local) == LRELU_OK)
            printf("  %-4s %2zu elements per work-item, %4zu work-items per group\n",
                   lrelu_dtype_name((lrelu_dtype)t), vec, local);
    }
    FILE *f = path[0] ? fopen(path, "r") : NULL;
    if (f != NULL) { /* the measurements: the file's comments */
        char line[256];
        while (fgets(line, sizeof line, f) != NULL)
            if (line[0] == '#')
                printf("  %s", line + 2);
        (void)fclose(f);
    }
    if (path[0])
        printf("cached in %s\n", path);
    else
        printf("the cache could not be written; the shapes hold for this run only\n");
    lrelu_destroy(ctx);
    return CLI_OK;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "lrelu: no command given\n");
        return usage(CLI_USAGE);
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0)
        return usage(CLI_OK);
    if (strcmp(cmd, "devices") == 0)
        return devices(argc - 1, argv + 1);
    if (strcmp(cmd, "demo") == 0)
        return demo(argc - 1, argv + 1);
    if (strcmp(cmd, "plot") == 0)
        return cli_plot(argc - 1, argv + 1);
    if (strcmp(cmd, "apply") == 0)
        return cli_apply(argc - 1, argv + 1);
    if (strcmp(cmd, "tune") == 0)
        return tune(argc - 1, argv + 1);
#ifdef LRELU_WITH_BENCH
    if (strcmp(cmd, "bench") == 0)
        return lrelu_bench_main(argc - 1, argv + 1);
#endif
    fprintf(stderr, "lrelu: unknown command '%s'\n", cmd);
    return usage(CLI_USAGE);
}
