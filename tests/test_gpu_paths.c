/* test_gpu_paths.c: the paths are chosen by what the device is, and launches stay within
 * the launch limits. Linked like test_faults (the --wrap layer of fault_layer.c), which
 * here reports a device type of the test's choosing and counts launches and kernels.
 *   - Only a device whose type is CPU alone is the host's own CPU: it takes small host
 *     calls in-process, 64-byte kernel shapes and the CPU-only per-channel backward.
 *     Any type with GPU or ACCELERATOR in it (Oclgrind reports every bit) gets the GPU
 *     paths: kernels for every host call, 16-byte shapes, no CPU-only kernels.
 *   - With LRELU_LAUNCH_LIMITS lowered, 1-D launches past the item limit and 2-D
 *     launches past the group limit along dimension 1 are split, and compute the
 *     reference's bits. */
#include "common.h"
#include "fault_layer.h"

#include <stdlib.h>
#include <string.h>

enum { N = 48000, C = 24, ROWS = 300 };
/* xm: moderate values for the per-channel calls, whose sums must stay finite */
static float x[N], xm[N], dy[N], y[N], want[N], slope[C], ds[C], want_ds[C], dx[N];

static cl_mem upload(lrelu_ctx *ctx, const float *p, size_t n)
{
    cl_int err;
    cl_mem m = clCreateBuffer(lrelu_cl_context(ctx), CL_MEM_READ_WRITE | CL_MEM_COPY_HOST_PTR,
                              n * sizeof(float), (void *)p, &err);
    if (err != CL_SUCCESS)
        lt_die("clCreateBuffer: %d", err);
    return m;
}

static void download(lrelu_ctx *ctx, cl_mem m, float *p, size_t n)
{
    if (clEnqueueReadBuffer(lrelu_cl_queue(ctx), m, CL_TRUE, 0, n * sizeof(float), p, 0, NULL,
                            NULL) != CL_SUCCESS)
        lt_die("clEnqueueReadBuffer");
}

/* A PReLU backward, channels last (where a CPU device takes its rows of channel groups),
 * on device buffers; checks dx and dslope against the reference. */
static int prelu_backward_right(lrelu_ctx *ctx, lrelu_layout l)
{
    size_t n = l.outer * l.channels * l.inner;
    cl_mem bx = upload(ctx, xm, n), bs = upload(ctx, slope, l.channels), bdy = upload(ctx, dy, n);
    cl_mem bdx = upload(ctx, y, n), bds = upload(ctx, y, l.channels);
    lt_ok(lrelu_prelu_backward(ctx, LRELU_F32, l, bx, 0, bs, 0, bdy, 0, bdx, 0, bds, 0, 0, NULL,
                               NULL),
          "lrelu_prelu_backward");
    download(ctx, bdx, dx, n);
    download(ctx, bds, ds, l.channels);
    lrelu_ref_prelu_backward(LRELU_F32, l, xm, slope, dy, want, want_ds);
    int ok = memcmp(dx, want, n * sizeof(float)) == 0 &&
             memcmp(ds, want_ds, l.channels * sizeof(float)) == 0;
    cl_mem all[] = {bx, bs, bdy, bdx, bds};
    for (size_t i = 0; i < 5; ++i)
        clReleaseMemObject(all[i]);
    return ok;
}

static void device_kinds(void)
{
    static const struct {
        cl_device_type type;
        const char *name;
        int host_cpu;
    } kinds[] = {
        {CL_DEVICE_TYPE_CPU, "CPU", 1},
        {CL_DEVICE_TYPE_GPU, "GPU", 0},
        {CL_DEVICE_TYPE_CPU | CL_DEVICE_TYPE_GPU, "CPU|GPU", 0},
        {CL_DEVICE_TYPE_CPU | CL_DEVICE_TYPE_GPU | CL_DEVICE_TYPE_ACCELERATOR |
             CL_DEVICE_TYPE_DEFAULT,
         "every bit (Oclgrind)", 0},
        {CL_DEVICE_TYPE_CPU | CL_DEVICE_TYPE_ACCELERATOR, "CPU|ACCELERATOR", 0},
    };
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; ++k) {
        char what[160];
        fake_device_type = kinds[k].type;
        kernel_watch = "_bgroup_";
        watched_kernels = 0;
        lrelu_ctx *ctx = lt_open();
        size_t vec = 0, local = 0;
        lt_ok(lrelu_kernel_shape(ctx, LRELU_F32, &vec, &local), "lrelu_kernel_shape");
        snprintf(what, sizeof what, "%s: f32 kernel shape %zu elements a work-item", kinds[k].name,
                 vec);
        lt_check(vec == (kinds[k].host_cpu ? 16u : 4u), what);
        long before = launches;
        lt_ok(lrelu_forward_host(ctx, LRELU_F32, 1000, 0.25, x, y), "lrelu_forward_host");
        lrelu_ref_forward(LRELU_F32, 1000, 0.25, x, want);
        snprintf(what, sizeof what, "%s: a small host call %s", kinds[k].name,
                 kinds[k].host_cpu ? "runs in-process" : "runs a kernel");
        lt_check((launches > before) != kinds[k].host_cpu &&
                     memcmp(y, want, 1000 * sizeof(float)) == 0,
                 what);
        lrelu_layout l = {ROWS, C, 1};
        int right = prelu_backward_right(ctx, l);
        snprintf(what, sizeof what, "%s: the per-channel backward %s the CPU-only kernels",
                 kinds[k].name, kinds[k].host_cpu ? "builds" : "never builds");
        lt_check(right && (watched_kernels > 0) == kinds[k].host_cpu, what);
        lrelu_destroy(ctx);
    }
    fake_device_type = 0;
    kernel_watch = NULL;
}

static void split_launches(void)
{
    /* items of dimension 0 past 64 and work-groups of dimension 1 past 2 */
    setenv("LRELU_LAUNCH_LIMITS", "64:2", 1);
    setenv("LRELU_KERNEL_SHAPE", "4:64", 1);
    setenv("LRELU_CHAN_GROUP", "0", 1); /* the GPUs' per-channel backward */
    lrelu_ctx *ctx = lt_open();
    unsetenv("LRELU_LAUNCH_LIMITS");
    unsetenv("LRELU_KERNEL_SHAPE");
    unsetenv("LRELU_CHAN_GROUP");
    cl_mem bx = upload(ctx, x, N), by = upload(ctx, y, N);
    cl_event done = NULL;
    long before = launches;
    lt_ok(lrelu_forward(ctx, LRELU_F32, 5000, 0.25, bx, 0, by, 0, 0, NULL, &done), "lrelu_forward");
    long parts = launches - before;
    lt_check(done != NULL && clWaitForEvents(1, &done) == CL_SUCCESS,
             "the split forward's event completes");
    if (done != NULL)
        clReleaseEvent(done);
    download(ctx, by, y, 5000);
    lrelu_ref_forward(LRELU_F32, 5000, 0.25, x, want);
    /* 1250 work-items, rounded up to 1280, in parts of 64 */
    printf("1-D: %ld launches, the last at offset %zu\n", parts, last_launch_offset[0]);
    lt_check(parts == 20 && last_launch_offset[0] == 1216, "a 1-D launch is split at 64 items");
    lt_check(memcmp(y, want, 5000 * sizeof(float)) == 0,
             "the split forward gives the reference's bits");
    clReleaseMemObject(by);
    clReleaseMemObject(bx);

    /* (outer, channels, inner) = (1, 300, 16): 300 rows of 16, the 2-D rows forward over
     * 5 work-groups of 64 rows, in parts of 2 */
    lrelu_layout l = {1, ROWS, 16};
    size_t n = (size_t)ROWS * 16;
    float *p = malloc(ROWS * sizeof(float));
    if (p == NULL)
        lt_die("out of memory");
    for (size_t i = 0; i < ROWS; ++i)
        p[i] = (float)i / 64.0f - 2.0f;
    cl_mem cx = upload(ctx, x, n), cp = upload(ctx, p, ROWS), cy = upload(ctx, y, n);
    before = launches;
    lt_ok(lrelu_prelu_forward(ctx, LRELU_F32, l, cx, 0, cp, 0, cy, 0, 0, NULL, NULL),
          "lrelu_prelu_forward");
    parts = launches - before;
    download(ctx, cy, y, n);
    lrelu_ref_prelu_forward(LRELU_F32, l, x, p, want);
    printf("2-D: %ld launches, the last at offset (%zu, %zu)\n", parts, last_launch_offset[0],
           last_launch_offset[1]);
    lt_check(parts > 1 && last_launch_offset[1] > 0, "a 2-D launch is split along dimension 1");
    lt_check(memcmp(y, want, n * sizeof(float)) == 0,
             "the split 2-D forward gives the reference's bits");
    clReleaseMemObject(cx);
    clReleaseMemObject(cp);
    clReleaseMemObject(cy);
    free(p);
    /* 24 channels of 2000: 8 blocks each, a work-group of 64 per tile of 4 blocks (48,
     * each a part of its own), then the sums, a work-group of 8 per channel (192
     * work-items, 3 parts) */
    lrelu_layout rows = {1, C, 2000};
    before = launches;
    lt_check(prelu_backward_right(ctx, rows), "the split per-channel backward's dx and dslope");
    printf("per-channel backward: %ld launches\n", launches - before);
    lt_check(launches - before == 48 + 3, "the per-channel backward is split");
    lrelu_destroy(ctx);
}

int main(void)
{
    uint64_t rng = lt_seed();
    lt_fill(LRELU_F32, x, N, &rng, 1, 0);
    lt_fill(LRELU_F32, x, lt_special_count(LRELU_F32), &rng, 0, 0);
    for (size_t i = 0; i < N; ++i) {
        xm[i] = (float)((int)(lt_rand(&rng) % 2001) - 1000) / 61.0f;
        dy[i] = (float)((int)(lt_rand(&rng) % 2001) - 1000) / 61.0f;
    }
    for (size_t c = 0; c < C; ++c)
        slope[c] = (float)c / 8.0f - 1.0f;
    device_kinds();
    split_launches();
    return lt_report(lt_passed, lt_failed);
}
