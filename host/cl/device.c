/* device.c: device selection. Turns a selector string ("gpu", "cpu", "P:D", a name
 * fragment, or NULL for $LRELU_DEVICE and then the default) into a platform and device,
 * and on a miss names every device that exists so the user can pick one. */
#include "cl/cl.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_PLATFORMS 16
#define MAX_DEVICES   64

typedef struct {
    cl_platform_id platform;
    cl_device_id device;
    cl_uint p, d; /* indices */
    cl_device_type type;
    char name[512]; /* "platform name device name" */
} device_entry;

static void entry_name(device_entry *e)
{
    char pname[256] = "", dname[256] = "";
    /* A failing name query leaves the name empty; selection by index still works. */
    (void)clGetPlatformInfo(e->platform, CL_PLATFORM_NAME, sizeof pname - 1, pname, NULL);
    (void)clGetDeviceInfo(e->device, CL_DEVICE_NAME, sizeof dname - 1, dname, NULL);
    snprintf(e->name, sizeof e->name, "%s %s", pname, dname);
}

/* Every device of every platform, in platform then device order. */
static lrelu_status list_devices(device_entry *out, size_t cap, size_t *count)
{
    cl_platform_id plats[MAX_PLATFORMS];
    cl_uint np = 0;
    cl_int last_err = CL_DEVICE_NOT_FOUND;
    *count = 0;
    cl_int err = clGetPlatformIDs(MAX_PLATFORMS, plats, &np);
    /* The ICD loader answers CL_PLATFORM_NOT_FOUND_KHR (-1001) when no ICD is installed. */
    if (err == -1001 || (err == CL_SUCCESS && np == 0))
        return lrelu_fail(LRELU_ERR_NO_DEVICE, "no OpenCL platform is installed (is an ICD "
                                               "such as pocl-opencl-icd present?)");
    if (err != CL_SUCCESS)
        return lrelu_cl_fail(err, "clGetPlatformIDs", __FILE__, __LINE__);
    if (np > MAX_PLATFORMS)
        np = MAX_PLATFORMS;
    for (cl_uint p = 0; p < np; ++p) {
        cl_device_id devs[MAX_DEVICES];
        cl_uint nd = 0;
        cl_int derr = clGetDeviceIDs(plats[p], CL_DEVICE_TYPE_ALL, MAX_DEVICES, devs, &nd);
        if (derr != CL_SUCCESS) { /* a platform without devices is no error */
            last_err = derr;
            continue;
        }
        if (nd > MAX_DEVICES)
            nd = MAX_DEVICES;
        for (cl_uint d = 0; d < nd && *count < cap; ++d) {
            device_entry *e = &out[(*count)++];
            e->platform = plats[p];
            e->device = devs[d];
            e->p = p;
            e->d = d;
            e->type = 0;
            (void)clGetDeviceInfo(devs[d], CL_DEVICE_TYPE, sizeof e->type, &e->type, NULL);
            entry_name(e);
        }
    }
    if (*count == 0)
        return lrelu_fail(LRELU_ERR_NO_DEVICE,
                          "the OpenCL platforms have no device (last "
                          "clGetDeviceIDs: %s)",
                          lrelu_cl_error_name(last_err));
    return LRELU_OK;
}

static int contains_nocase(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    for (; *hay; ++hay) {
        size_t i = 0;
        while (i < n && hay[i] &&
               tolower((unsigned char)hay[i]) == tolower((unsigned char)needle[i]))
            ++i;
        if (i == n)
            return 1;
    }
    return n == 0;
}

static int equals_nocase(const char *a, const char *b)
{
    for (; *a && *b; ++a, ++b)
        if (tolower((unsigned char)*a) != tolower((unsigned char)*b))
            return 0;
    return *a == *b;
}

/* "P:D" with decimal indices; returns 1 and the indices when sel has that form. */
static int parse_index(const char *sel, unsigned long *p, unsigned long *d)
{
    char *end;
    if (!isdigit((unsigned char)sel[0]))
        return 0;
    *p = strtoul(sel, &end, 10);
    if (*end != ':' || !isdigit((unsigned char)end[1]))
        return 0;
    *d = strtoul(end + 1, &end, 10);
    return *end == '\0';
}

static const device_entry *find(const device_entry *e, size_t n, const char *sel)
{
    unsigned long p, d;
    if (sel == NULL) { /* the default: first GPU, else the first device */
        for (size_t i = 0; i < n; ++i)
            if (e[i].type & CL_DEVICE_TYPE_GPU)
                return &e[i];
        return n ? &e[0] : NULL;
    }
    cl_device_type want = 0;
    if (equals_nocase(sel, "gpu"))
        want = CL_DEVICE_TYPE_GPU;
    else if (equals_nocase(sel, "cpu"))
        want = CL_DEVICE_TYPE_CPU;
    else if (equals_nocase(sel, "accelerator"))
        want = CL_DEVICE_TYPE_ACCELERATOR;
    if (want) {
        for (size_t i = 0; i < n; ++i)
            if (e[i].type & want)
                return &e[i];
        return NULL;
    }
    if (parse_index(sel, &p, &d)) {
        for (size_t i = 0; i < n; ++i)
            if (e[i].p == p && e[i].d == d)
                return &e[i];
        return NULL;
    }
    for (size_t i = 0; i < n; ++i)
        if (contains_nocase(e[i].name, sel))
            return &e[i];
    return NULL;
}

lrelu_status lrelu_select_device(const char *selector, const char *env, cl_platform_id *platform,
                                 cl_device_id *device)
{
    device_entry all[MAX_DEVICES];
    size_t n = 0;
    const char *origin = "selector";
    if (selector == NULL || selector[0] == '\0') {
        selector = env[0] != '\0' ? env : NULL;
        origin = "LRELU_DEVICE";
    }
    lrelu_status st = list_devices(all, MAX_DEVICES, &n);
    if (st != LRELU_OK)
        return st;
    const device_entry *hit = find(all, n, selector);
    if (hit == NULL) {
        char list[4096];
        size_t used = 0;
        list[0] = '\0';
        for (size_t i = 0; i < n && used < sizeof list; ++i) {
            int w = snprintf(list + used, sizeof list - used, "%s%u:%u \"%s\"", i ? ", " : "",
                             all[i].p, all[i].d, all[i].name);
            if (w < 0)
                break;
            used += (size_t)w;
        }
        return lrelu_fail(LRELU_ERR_NO_DEVICE,
                          "%s \"%s\" matches no device; the devices are: %s (select with "
                          "gpu, cpu, accelerator, P:D or part of a name)",
                          origin, selector, list);
    }
    *platform = hit->platform;
    *device = hit->device;
    return LRELU_OK;
}
