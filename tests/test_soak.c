/* test_soak.c: N calls in a loop (default 100 000), device and host API, several
 * dtypes and sizes, every path of the host API: resident memory and the number of live
 * OpenCL objects the library holds stay flat, no allocation outlives its call, and
 * sampled results stay right. Bounded in time: it prints how long it took. */
#include "common.h"
#include "fault_layer.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

static long rss_kib(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long pages = 0, resident = 0;
    if (f == NULL || fscanf(f, "%ld %ld", &pages, &resident) != 2)
        lt_die("cannot read /proc/self/statm");
    fclose(f);
    return resident * 4;
}

#ifdef __SANITIZE_ADDRESS__
/* ASan keeps freed memory in a quarantine (256 MiB by default) and resident with its
 * redzones and headers, enough to blur a leak of this size: a small one here, read
 * before ASAN_OPTIONS, which does not set it */
const char *__asan_default_options(void);
const char *__asan_default_options(void) { return "quarantine_size_mb=16"; }
#endif

enum { NMAX = 140000 }; /* f32 forward: 1.1 MB moved, above the crossover set below */
static float x[NMAX], dy[NMAX], out[NMAX], want[NMAX];

int main(int argc, char **argv)
{
    long n_calls = argc > 1 ? atol(argv[1]) : 100000;
    setenv("LRELU_HOST_CHUNK", "131072", 1); /* several chunks per zero-copy call */
    /* the crossover pinned between the two host calls below, so that one takes each path,
     * and the in-process one (above the crew's threshold) its helper threads too */
    setenv("LRELU_HOST_INPROCESS_BYTES", "393216", 1);
    setenv("LRELU_HOST_THREADS", "2", 1);
    counting = 1; /* from here every object and allocation the library makes is counted */
    lrelu_ctx *ctx = lt_open();
    counting = 0;
    cl_context cx = lrelu_cl_context(ctx);
    cl_command_queue q = lrelu_cl_queue(ctx);
    for (int i = 0; i < NMAX; ++i)
        x[i] = (float)(i % 97) - 48.5f, dy[i] = (float)(i % 13) - 6.0f;
    cl_int err;
    cl_mem bx = clCreateBuffer(cx, CL_MEM_READ_WRITE | CL_MEM_COPY_HOST_PTR, sizeof x, x, &err);
    cl_mem bdy = clCreateBuffer(cx, CL_MEM_READ_WRITE | CL_MEM_COPY_HOST_PTR, sizeof dy, dy, &err);
    cl_mem bout = clCreateBuffer(cx, CL_MEM_READ_WRITE, sizeof out, NULL, &err);
    if (err != CL_SUCCESS)
        lt_die("set-up");
    size_t passed = 0, failed = 0;
    long rss0 = 0;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    counting = 1;
    for (long i = 0; i < n_calls; ++i) {
        static const size_t sizes[] = {1, 1000, 4097, 65536};
        size_t n = sizes[(i / 4) % 4];
        lrelu_status st = LRELU_OK;
        cl_event done = NULL;
        int check = i % 9973 == 0;
        switch (i % 4) {
        case 0:
            st = lrelu_forward(ctx, LRELU_F32, n, 0.2, bx, 0, bout, 0, 0, NULL,
                               check || i % 64 == 0 ? &done : NULL);
            break;
        case 1:
            st = lrelu_backward(ctx, LRELU_F16, n, 0.2, bx, 3, bdy, 5, bout, 7, 0, NULL, NULL);
            break;
        case 2: /* above the in-process crossover: the zero-copy path; in place on
                 * every other round, where the output shares the input's buffer */
            if (i % 8 == 6) {
                memcpy(out, x, sizeof out);
                st = lrelu_forward_host(ctx, LRELU_F32, NMAX - (size_t)(i % 7), 0.2, out, out);
            } else {
                st = lrelu_forward_host(ctx, LRELU_F32, NMAX - (size_t)(i % 7), 0.2, x, out);
            }
            break;
        default: /* below the crossover (96 KiB moved): in-process, with the crew */
            st = lrelu_backward_host(ctx, LRELU_BF16, n < 16384 ? n : 16384, 0.2, x, dy, out);
            break;
        }
        if (st != LRELU_OK) {
            ++failed;
            printf("FAIL call %ld: %s\n%s\n", i, lrelu_status_str(st), lrelu_last_error());
            break;
        }
        if (done != NULL) {
            clWaitForEvents(1, &done);
            clReleaseEvent(done);
        }
        if (i % 64 == 63)
            clFinish(q);
        if (check && i % 4 == 0) {
            clEnqueueReadBuffer(q, bout, CL_TRUE, 0, n * 4, out, 0, NULL, NULL);
            lrelu_ref_forward(LRELU_F32, n, 0.2, x, want);
            memcmp(out, want, n * 4) == 0 ? ++passed : ++failed;
        } else if (check && i % 4 == 2) {
            lrelu_ref_forward(LRELU_F32, NMAX - (size_t)(i % 7), 0.2, x, want);
            memcmp(out, want, (NMAX - (size_t)(i % 7)) * 4) == 0 ? ++passed : ++failed;
        }
        if (i == n_calls / 10) {
            clFinish(q);
            rss0 = rss_kib();
        }
    }
    clFinish(q);
    long rss1 = rss_kib();
    long objects = live_objects;
    int alive = allocs_alive();
    counting = 0;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
    /* what the ctx keeps across calls: programs and kernels (built once), staging */
    printf("%ld calls in %.1f s; resident memory %ld KiB after warm-up, %ld KiB at the end; "
           "%ld OpenCL objects the ctx holds; %d allocations alive\n",
           n_calls, secs, rss0, rss1, objects, alive);
    long bound = 16L * 1024;
#ifdef __SANITIZE_ADDRESS__
    bound += 32L * 1024; /* ASan's quarantine of 16 MiB, with redzones and headers */
#endif
    if (rss1 - rss0 > bound) {
        ++failed;
        printf("FAIL resident memory grew by %ld KiB\n", rss1 - rss0);
    } else {
        ++passed;
    }
    /* alive now: the ctx's context and queue, and a program with three kernels (forward,
     * backward, general) for each of the two dtypes the loop sent to the device (f32,
     * f16; its bf16 calls all run in-process); the ctx itself and its crew of helper
     * threads */
    if (objects != 10 || alive != 2) {
        ++failed;
        printf("FAIL %ld OpenCL objects and %d allocations alive, expected 10 and 2\n", objects,
               alive);
    } else {
        ++passed;
    }
    if (readonly_outputs != 0) {
        ++failed;
        printf("FAIL %ld kernel launches wrote to a CL_MEM_READ_ONLY buffer\n", readonly_outputs);
    } else {
        ++passed;
    }
    counting = 1;
    lrelu_destroy(ctx);
    counting = 0;
    if (live_objects != 0 || allocs_alive() != 0) {
        ++failed;
        printf("FAIL after lrelu_destroy: %ld objects, %d allocations alive\n", live_objects,
               allocs_alive());
    } else {
        ++passed;
    }
    clReleaseMemObject(bout);
    clReleaseMemObject(bdy);
    clReleaseMemObject(bx);
    return lt_report(passed, failed);
}
