/* test_tune.c: lrelu_tune() measures, picks one of its candidates, writes the cache;
 * a new ctx on the same device takes the shape from the cache, LRELU_TUNE=0 ignores it,
 * a damaged cache file is ignored, and results after tuning are right. */
#include "common.h"

#include <stdlib.h>
#include <string.h>

static int candidate(size_t vec, size_t local)
{
    return (vec == 1 || vec == 2 || vec == 4 || vec == 8 || vec == 16) &&
           (local == 64 || local == 256 || local == 1024);
}

/* The cache file's measurement lines ("# f32 16 256 FWD BWD", GB/s): every width of every
 * dtype the device runs, at every group size, both directions measured; and the buffers'
 * size line says $LRELU_TUNE_BYTES. */
static void check_measurements(lrelu_ctx *ctx, FILE *f)
{
    char line[256], name[8];
    unsigned long vec, local, mib;
    double fwd, bwd;
    int seen[4][17][3] = {{{0}}}, sized[4] = {0}, zero = 0;
    const char *want = getenv("LRELU_TUNE_BYTES");
    unsigned long want_mib = want != NULL ? strtoul(want, NULL, 10) >> 20 : 0;
    while (fgets(line, sizeof line, f) != NULL)
        for (int t = 0; t < 4; ++t) {
            char head[32];
            snprintf(head, sizeof head, "# %s", lrelu_dtype_name((lrelu_dtype)t));
            if (strncmp(line, head, strlen(head)) != 0)
                continue;
            if (sscanf(line, "# %7[^:]: %*u elements (%lu MiB", name, &mib) == 2 &&
                strcmp(name, lrelu_dtype_name((lrelu_dtype)t)) == 0)
                sized[t] = mib == want_mib;
            else if (sscanf(line, "# %7s %lu %lu %lf %lf", name, &vec, &local, &fwd, &bwd) == 5 &&
                     strcmp(name, lrelu_dtype_name((lrelu_dtype)t)) == 0 && vec <= 16) {
                int l = local == 64 ? 0 : local == 256 ? 1 : local == 1024 ? 2 : -1;
                if (l >= 0)
                    seen[t][vec][l] = 1;
                zero += !(fwd > 0 && bwd > 0);
            }
        }
    size_t max_wg = 0;
    (void)clGetDeviceInfo(lrelu_cl_device(ctx), CL_DEVICE_MAX_WORK_GROUP_SIZE, sizeof max_wg,
                          &max_wg, NULL);
    for (int t = 0; t < 4; ++t) {
        if (t == LRELU_F64 && !lt_supported(ctx, LRELU_F64))
            continue;
        int all = sized[t];
        for (size_t v = 1; v <= 16; v *= 2)
            for (int l = 0; l < 3; ++l)
                all &= seen[t][v][l] || ((size_t)64 << (2 * l)) > max_wg;
        char msg[96];
        snprintf(msg, sizeof msg, "%s: every width and group size measured over %lu MiB",
                 lrelu_dtype_name((lrelu_dtype)t), want_mib);
        lt_check(all, msg);
    }
    lt_check(zero == 0, "every measurement is a bandwidth");
}

int main(void)
{
    if (getenv("LRELU_CACHE_DIR") == NULL)
        lt_die("LRELU_CACHE_DIR must point at a scratch directory");
    lrelu_ctx *ctx = lt_open();
    size_t v0, l0;
    lt_ok(lrelu_kernel_shape(ctx, LRELU_F32, &v0, &l0), "shape");
    char path[1200];
    lt_ok(lrelu_tune(ctx, path, sizeof path), "lrelu_tune");
    printf("cache: %s\n", path);
    lt_check(path[0] != '\0', "the cache was written");
    FILE *f = fopen(path, "r");
    lt_check(f != NULL, "the cache file exists");
    if (f != NULL)
        check_measurements(ctx, f);
    size_t tuned[4][2];
    for (int t = 0; t < 4; ++t) {
        lt_ok(lrelu_kernel_shape(ctx, (lrelu_dtype)t, &tuned[t][0], &tuned[t][1]), "shape");
        printf("%s: %zu per work-item, %zu per group\n", lrelu_dtype_name((lrelu_dtype)t),
               tuned[t][0], tuned[t][1]);
        lt_check(candidate(tuned[t][0], tuned[t][1]), "the tuned shape is a candidate");
    }
    /* right results with the tuned shapes */
    uint64_t rng = 7;
    static unsigned char x[40009 * 8], dy[40009 * 8];
    for (int t = 0; t < 4; ++t) {
        lt_fill((lrelu_dtype)t, x, 40009, &rng, 1, 0);
        lt_fill((lrelu_dtype)t, dy, 40009, &rng, 1, 0);
        lt_case c = {LT_BACKWARD, (lrelu_dtype)t, 40001, 5, 0.3, LT_OUT_OF_PLACE};
        lt_check(lt_run_device(ctx, &c, x, dy) == 0, "backward after tuning");
    }
    lrelu_destroy(ctx);
    /* a new ctx reads the cache */
    ctx = lt_open();
    size_t v, l;
    lt_ok(lrelu_kernel_shape(ctx, LRELU_F16, &v, &l), "shape");
    lt_check(v == tuned[1][0] && l == tuned[1][1], "a new ctx takes the shape from the cache");
    lrelu_destroy(ctx);
    setenv("LRELU_TUNE", "0", 1);
    ctx = lt_open();
    unsetenv("LRELU_TUNE");
    lt_ok(lrelu_kernel_shape(ctx, LRELU_F32, &v, &l), "shape");
    lt_check(v == v0 && l == l0, "LRELU_TUNE=0 ignores the cache");
    lrelu_destroy(ctx);
    /* a damaged cache is ignored */
    if (f != NULL)
        fclose(f);
    f = fopen(path, "w");
    if (f == NULL)
        lt_die("cannot rewrite %s", path);
    fputs("f32 3 100\nf16 banana\n\x01\x02", f);
    fclose(f);
    ctx = lt_open();
    lt_ok(lrelu_kernel_shape(ctx, LRELU_F32, &v, &l), "shape");
    lt_check(v == v0 && l == l0, "a damaged cache is ignored");
    lrelu_destroy(ctx);
    lt_check(lrelu_tune(NULL, NULL, 0) == LRELU_ERR_INVALID_ARG, "lrelu_tune(NULL)");
    lt_check(lrelu_kernel_shape(NULL, LRELU_F32, &v, &l) == LRELU_ERR_INVALID_ARG,
             "lrelu_kernel_shape(NULL)");
    remove(path);
    return lt_report(lt_passed, lt_failed);
}
