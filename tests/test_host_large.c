/* test_host_large.c: a host array larger than the device's largest allocation
 * (CL_DEVICE_MAX_MEM_ALLOC_SIZE) streams through the device and comes back right, with
 * the guard band after the output untouched. */
#include "common.h"

#include <stdlib.h>
#include <string.h>

int main(void)
{
    lrelu_ctx *ctx = lt_open();
    cl_ulong max_alloc = 0;
    if (clGetDeviceInfo(lrelu_cl_device(ctx), CL_DEVICE_MAX_MEM_ALLOC_SIZE, sizeof max_alloc,
                        &max_alloc, NULL) != CL_SUCCESS)
        lt_die("clGetDeviceInfo");
    size_t n = (size_t)(max_alloc / sizeof(float)) + 1000003; /* past it, and odd */
    size_t guard = 4096;
    printf("device max allocation %llu bytes; n = %zu f32 (%zu bytes)\n",
           (unsigned long long)max_alloc, n, n * sizeof(float));
    float *x = malloc(n * sizeof(float));
    float *y = malloc((n + guard) * sizeof(float));
    if (x == NULL || y == NULL)
        lt_die("cannot allocate %zu bytes on the host", 2 * n * sizeof(float));
    for (size_t i = 0; i < n; ++i)
        x[i] = (float)((int)(i % 2001) - 1000) * 0.125f;
    memset(y, 0xa5, (n + guard) * sizeof(float));
    lt_ok(lrelu_forward_host(ctx, LRELU_F32, n, 0.01, x, y), "lrelu_forward_host");
    size_t failed = 0, passed = 0;
    float want[4096];
    for (size_t at = 0; at < n; at += 4096) {
        size_t m = n - at < 4096 ? n - at : 4096;
        lrelu_ref_forward(LRELU_F32, m, 0.01, x + at, want);
        if (memcmp(want, y + at, m * sizeof(float)) != 0) {
            if (failed++ < 5)
                printf("FAIL elements [%zu, %zu) differ from the reference\n", at, at + m);
        } else {
            ++passed;
        }
    }
    const unsigned char *g = (const unsigned char *)(y + n);
    for (size_t i = 0; i < guard * sizeof(float); ++i)
        if (g[i] != 0xa5) {
            ++failed;
            printf("FAIL guard byte %zu after the output was written\n", i);
            break;
        }
    free(x);
    free(y);
    lrelu_destroy(ctx);
    return lt_report(passed, failed);
}
