/* test_select.c: device selection: the default (first GPU, else first device),
 * LRELU_DEVICE, "gpu"/"cpu", "P:D", a case-insensitive name fragment, and selectors that
 * match nothing: LRELU_ERR_NO_DEVICE with the existing devices named. */
#include "common.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

/* Creates a ctx with sel and returns its device, or NULL with *st set. */
static cl_device_id pick(const char *sel, lrelu_status *st)
{
    lrelu_ctx *ctx = NULL;
    *st = lrelu_create(&ctx, sel);
    cl_device_id d = lrelu_cl_device(ctx);
    lrelu_destroy(ctx);
    return d;
}

int main(void)
{
    unsetenv("LRELU_DEVICE");
    cl_platform_id plats[16];
    cl_uint np = 0;
    if (clGetPlatformIDs(16, plats, &np) != CL_SUCCESS || np == 0) {
        printf("SKIP: no OpenCL platform\n");
        return LT_SKIP;
    }
    /* what the contract says the default is, worked out independently */
    cl_device_id first = NULL, first_gpu = NULL, first_cpu = NULL, dev00 = NULL;
    char name00[512] = "";
    for (cl_uint p = 0; p < np; ++p) {
        cl_device_id devs[16];
        cl_uint nd = 0;
        if (clGetDeviceIDs(plats[p], CL_DEVICE_TYPE_ALL, 16, devs, &nd) != CL_SUCCESS)
            continue;
        for (cl_uint d = 0; d < nd; ++d) {
            cl_device_type ty;
            clGetDeviceInfo(devs[d], CL_DEVICE_TYPE, sizeof ty, &ty, NULL);
            if (!first)
                first = devs[d];
            if (!first_gpu && (ty & CL_DEVICE_TYPE_GPU))
                first_gpu = devs[d];
            if (!first_cpu && (ty & CL_DEVICE_TYPE_CPU))
                first_cpu = devs[d];
            if (p == 0 && d == 0) {
                dev00 = devs[d];
                clGetDeviceInfo(devs[d], CL_DEVICE_NAME, sizeof name00 - 1, name00, NULL);
            }
        }
    }
    if (first == NULL) {
        printf("SKIP: no OpenCL device\n");
        return LT_SKIP;
    }
    lrelu_status st;
    cl_device_id d = pick(NULL, &st);
    lt_check(st == LRELU_OK && d == (first_gpu ? first_gpu : first), "default device");
    d = pick("", &st);
    lt_check(st == LRELU_OK && d == (first_gpu ? first_gpu : first), "empty selector = default");
    d = pick("0:0", &st);
    lt_check(st == LRELU_OK && d == dev00, "selector 0:0");
    d = pick("CPU", &st);
    lt_check(first_cpu ? st == LRELU_OK && d == first_cpu : st == LRELU_ERR_NO_DEVICE,
             "selector CPU (case-insensitive type)");
    d = pick("gpu", &st);
    lt_check(first_gpu ? st == LRELU_OK && d == first_gpu : st == LRELU_ERR_NO_DEVICE,
             "selector gpu");
    /* a fragment of device 0:0's name, upper-cased */
    char frag[8] = "";
    for (size_t i = 0; i < 5 && name00[i] != '\0'; ++i)
        frag[i] = (char)toupper((unsigned char)name00[i]);
    d = pick(frag, &st);
    lt_check(st == LRELU_OK && d != NULL, "selector by name fragment");
    (void)pick("no-such-device-xyz", &st);
    lt_check(st == LRELU_ERR_NO_DEVICE && strstr(lrelu_last_error(), "0:0") &&
                 strstr(lrelu_last_error(), "no-such-device-xyz"),
             "unknown name: NO_DEVICE naming the devices");
    (void)pick("99:0", &st);
    lt_check(st == LRELU_ERR_NO_DEVICE, "index past the platforms");
    d = pick("0:99", &st);
    lt_check(st == LRELU_ERR_NO_DEVICE && d == NULL, "index past the devices");
    setenv("LRELU_DEVICE", "no-such-device-xyz", 1);
    (void)pick(NULL, &st);
    lt_check(st == LRELU_ERR_NO_DEVICE && strstr(lrelu_last_error(), "LRELU_DEVICE"),
             "LRELU_DEVICE is used when the selector is NULL");
    setenv("LRELU_DEVICE", "0:0", 1);
    d = pick(NULL, &st);
    lt_check(st == LRELU_OK && d == dev00, "LRELU_DEVICE=0:0");
    (void)pick("no-such-device-xyz", &st);
    lt_check(st == LRELU_ERR_NO_DEVICE, "an explicit selector beats LRELU_DEVICE");
    unsetenv("LRELU_DEVICE");
    return lt_report(lt_passed, lt_failed);
}
