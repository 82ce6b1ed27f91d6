/* cache.c: what a ctx keeps in the user's cache folder ($LRELU_CACHE_DIR, else
 * $XDG_CACHE_HOME/lrelu): the tuner's shapes (tuning.c) and the binary of every program it
 * builds, so that a process after the first skips the compiler (some AMD and Intel drivers
 * cache nothing between processes). All of it is a convenience: a file that is missing,
 * damaged, or written for another device, driver, source or build options, and a folder
 * that cannot be written, fall back to building from source, silently. */
#define _POSIX_C_SOURCE 200809L /* mkdir, mkstemp, fdopen */
#include "cl/cl.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

unsigned long long lrelu_fnv(const void *p, size_t n, unsigned long long h)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; ++i)
        h = (h ^ b[i]) * 1099511628211ull;
    return h;
}

void lrelu_device_ident(const lrelu_ctx *ctx, char *out, size_t len)
{
    const cl_device_info infos[] = {CL_DEVICE_NAME, CL_DEVICE_VENDOR, CL_DEVICE_VERSION,
                                    CL_DRIVER_VERSION};
    char buf[256];
    size_t at = 0;
    out[0] = '\0';
    for (size_t i = 0; i <= sizeof infos / sizeof infos[0]; ++i) {
        memset(buf, 0, sizeof buf);
        if (i < sizeof infos / sizeof infos[0]) {
            (void)clGetDeviceInfo(ctx->device, infos[i], sizeof buf - 1, buf, NULL);
        } else { /* last, the platform's version: the runtime's own */
            cl_platform_id plat = NULL;
            (void)clGetDeviceInfo(ctx->device, CL_DEVICE_PLATFORM, sizeof plat, &plat, NULL);
            (void)clGetPlatformInfo(plat, CL_PLATFORM_VERSION, sizeof buf - 1, buf, NULL);
        }
        int w = snprintf(out + at, len - at, "%s\n", buf);
        if (w < 0 || (size_t)w >= len - at)
            return; /* cut short: still the same for the same device */
        at += (size_t)w;
    }
}

int lrelu_cache_path(const lrelu_ctx *ctx, const char *name, char *out, size_t len, int create)
{
    const char *dir = ctx->config.cache_dir;
    int w = snprintf(out, len, "%s/%s", dir, name);
    if (dir[0] == '\0' || w < 0 || (size_t)w >= len)
        return 0;
    if (create) { /* each missing level of the folder */
        size_t end = strlen(dir);
        for (size_t i = 1; i <= end; ++i)
            if (out[i] == '/') {
                out[i] = '\0';
                int made = mkdir(out, 0755) == 0 || errno == EEXIST;
                out[i] = '/';
                if (!made)
                    return 0;
            }
    }
    return 1;
}

int lrelu_cache_write(const char *path, const void *const *parts, const size_t *lens, int count)
{
    char tmp[1300];
    if (snprintf(tmp, sizeof tmp, "%s.XXXXXX", path) >= (int)sizeof tmp)
        return 0;
    /* a file of its own, renamed over the old one: a reader never sees half a file, and two
     * processes (or two ctxs of one) writing the same entry do not mix */
    int fd = mkstemp(tmp);
    if (fd < 0)
        return 0;
    FILE *f = fdopen(fd, "wb");
    if (f == NULL) {
        (void)close(fd);
        (void)remove(tmp);
        return 0;
    }
    int ok = 1;
    for (int i = 0; i < count; ++i)
        ok &= fwrite(parts[i], 1, lens[i], f) == lens[i];
    ok &= fclose(f) == 0;
    (void)chmod(tmp, 0644); /* mkstemp's 0600 would hide it from the user's other accounts */
    if (ok && rename(tmp, path) == 0)
        return 1;
    (void)remove(tmp);
    return 0;
}

/* A program binary's file, program-<key>.bin, all in the host's byte order:
 *   8 bytes   "lrelupb1"
 *   uint64    the length of the identity
 *   uint64    the length of the binary
 *   uint64    FNV-1a of the identity and then the binary (a cut or damaged file fails it)
 *   identity  the device's (lrelu_device_ident), the build options, the source's hash
 *   binary    what clGetProgramInfo(CL_PROGRAM_BINARIES) gave
 * key is the identity's FNV-1a; the identity itself is compared on reading, so a file of
 * another device or driver under the same name is refused. tests/test_program_cache.c
 * damages files by this layout. */
static const unsigned char magic[8] = {'l', 'r', 'e', 'l', 'u', 'p', 'b', '1'};
#define HEAD       (8 + 3 * sizeof(uint64_t))
#define MAX_BINARY ((size_t)1 << 30)

/* The identity of family f built with options on the ctx's device. */
static void program_ident(const lrelu_ctx *ctx, lrelu_family f, const char *options, char *out,
                          size_t len)
{
    lrelu_device_ident(ctx, out, len);
    size_t at = strlen(out);
    (void)snprintf(out + at, len - at, "%s\n%016llx\n", options,
                   lrelu_family_hash(f, 1469598103934665603ull));
}

static int program_path(const lrelu_ctx *ctx, const char *ident, char *out, size_t len, int create)
{
    char name[64];
    snprintf(name, sizeof name, "program-%016llx.bin",
             lrelu_fnv(ident, strlen(ident), 1469598103934665603ull));
    return lrelu_cache_path(ctx, name, out, len, create);
}

/* The binary in path for ident, malloc'ed, or NULL where there is none that checks out. */
static unsigned char *read_binary(const char *path, const char *ident, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    unsigned char head[HEAD], *bin = NULL;
    char *id = NULL;
    uint64_t lens[3];
    size_t ilen = strlen(ident);
    if (fread(head, 1, HEAD, f) != HEAD || memcmp(head, magic, sizeof magic) != 0)
        goto cleanup;
    memcpy(lens, head + 8, sizeof lens);
    if (lens[0] != ilen || lens[1] == 0 || lens[1] > MAX_BINARY)
        goto cleanup;
    id = malloc(ilen + 1);
    bin = malloc((size_t)lens[1]);
    if (id == NULL || bin == NULL || fread(id, 1, ilen, f) != ilen ||
        memcmp(id, ident, ilen) != 0 || fread(bin, 1, (size_t)lens[1], f) != lens[1] ||
        fgetc(f) != EOF ||
        lrelu_fnv(bin, (size_t)lens[1], lrelu_fnv(id, ilen, 1469598103934665603ull)) != lens[2]) {
        free(bin);
        bin = NULL;
        goto cleanup;
    }
    *len = (size_t)lens[1];
cleanup:
    free(id);
    (void)fclose(f);
    return bin;
}

cl_program lrelu_program_cached(const lrelu_ctx *ctx, lrelu_family f, const char *options)
{
    char ident[2048], path[1200];
    size_t len = 0;
    if (ctx->config.program_cache.set && ctx->config.program_cache.v[0] == 0)
        return NULL;
    program_ident(ctx, f, options, ident, sizeof ident);
    if (!program_path(ctx, ident, path, sizeof path, 0))
        return NULL;
    unsigned char *bin = read_binary(path, ident, &len);
    if (bin == NULL)
        return NULL;
    cl_int err = CL_SUCCESS, status = CL_SUCCESS;
    const unsigned char *b = bin;
    cl_program prog =
        clCreateProgramWithBinary(ctx->context, 1, &ctx->device, &len, &b, &status, &err);
    free(bin);
    if (prog != NULL &&
        (err != CL_SUCCESS || status != CL_SUCCESS ||
         clBuildProgram(prog, 1, &ctx->device, options, NULL, NULL) != CL_SUCCESS)) {
        (void)clReleaseProgram(prog);
        return NULL; /* a driver that takes the file no more (updated in place, say) */
    }
    return err == CL_SUCCESS ? prog : NULL;
}

void lrelu_program_keep(const lrelu_ctx *ctx, lrelu_family f, const char *options, cl_program prog)
{
    char ident[2048], path[1200];
    size_t len = 0;
    if (ctx->config.program_cache.set && ctx->config.program_cache.v[0] == 0)
        return;
    program_ident(ctx, f, options, ident, sizeof ident);
    if (clGetProgramInfo(prog, CL_PROGRAM_BINARY_SIZES, sizeof len, &len, NULL) != CL_SUCCESS ||
        len == 0 || len > MAX_BINARY || !program_path(ctx, ident, path, sizeof path, 1))
        return;
    unsigned char *bin = malloc(len);
    if (bin == NULL)
        return;
    if (clGetProgramInfo(prog, CL_PROGRAM_BINARIES, sizeof bin, &bin, NULL) == CL_SUCCESS) {
        size_t ilen = strlen(ident);
        uint64_t lens[3] = {ilen, len,
                            lrelu_fnv(bin, len, lrelu_fnv(ident, ilen, 1469598103934665603ull))};
        unsigned char head[HEAD];
        memcpy(head, magic, sizeof magic);
        memcpy(head + 8, lens, sizeof lens);
        const void *parts[3] = {head, ident, bin};
        const size_t sizes[3] = {HEAD, ilen, len};
        (void)lrelu_cache_write(path, parts, sizes, 3);
    }
    free(bin);
}
