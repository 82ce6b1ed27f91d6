/* test_config.c: the environment is read once, at creation, and checked: a value that
 * does not parse makes lrelu_create and lrelu_create_from_queue fail with
 * LRELU_ERR_INVALID_ARG naming the variable, handing out no ctx; values that parse are
 * taken, an empty one is unset, and what a ctx read stays with it when the environment
 * changes afterwards. */
#include "common.h"

#include <stdlib.h>
#include <string.h>

static int failures;

static void check(int ok, const char *what)
{
    printf("%s %s\n", ok ? "ok  " : "FAIL", what);
    if (!ok)
        ++failures;
}

/* Both creators refuse var=value, naming var; then, unset, both work. */
static void refused(cl_command_queue q, const char *var, const char *value)
{
    char what[256];
    setenv(var, value, 1);
    lrelu_ctx *ctx = (lrelu_ctx *)&failures; /* must come back NULL */
    lrelu_status st = lrelu_create(&ctx, NULL);
    int named = strstr(lrelu_last_error(), var) != NULL;
    snprintf(what, sizeof what, "lrelu_create refuses %s='%s' (%s)", var, value,
             lrelu_last_error());
    check(st == LRELU_ERR_INVALID_ARG && ctx == NULL && named, what);
    ctx = (lrelu_ctx *)&failures;
    st = lrelu_create_from_queue(&ctx, q);
    named = strstr(lrelu_last_error(), var) != NULL;
    snprintf(what, sizeof what, "lrelu_create_from_queue refuses %s='%s'", var, value);
    check(st == LRELU_ERR_INVALID_ARG && ctx == NULL && named, what);
    unsetenv(var);
}

/* var=value is taken: a ctx comes out and runs a call. */
static void taken(const char *var, const char *value)
{
    char what[256];
    setenv(var, value, 1);
    lrelu_ctx *ctx = NULL;
    lrelu_status st = lrelu_create(&ctx, NULL);
    float y[4] = {0};
    if (st == LRELU_OK) {
        const float x[4] = {-2.0f, -0.0f, 1.0f, 3.0f};
        st = lrelu_forward_host(ctx, LRELU_F32, 4, 0.5, x, y);
    }
    snprintf(what, sizeof what, "%s='%s' is taken (%s)", var, value,
             st == LRELU_OK ? "runs" : lrelu_last_error());
    check(st == LRELU_OK && y[0] == -1.0f && y[3] == 3.0f, what);
    lrelu_destroy(ctx);
    unsetenv(var);
}

int main(void)
{
    lrelu_destroy(lt_open()); /* skips where there is no device */
    cl_context cx = NULL;
    cl_command_queue q = lt_caller_queue(0, &cx);
    static const char *const bad[][2] = {
        {"LRELU_HOST_CHUNK", "abc"},
        {"LRELU_HOST_CHUNK", "12"}, /* below 64 bytes */
        {"LRELU_HOST_CHUNK", "4096x"},
        {"LRELU_HOST_CHUNK", "-4096"},
        {"LRELU_HOST_CHUNK", "99999999999999999999999"},
        {"LRELU_HOST_ZERO_COPY", "yes"},
        {"LRELU_HOST_INPROCESS_BYTES", "1e6"},
        {"LRELU_HOST_CREW_BYTES", " 5"},
        {"LRELU_HOST_STREAM_BYTES", "32M"},
        {"LRELU_HOST_THREADS", "-1"},
        {"LRELU_HOST_SIMD", "sse9"},
        {"LRELU_CHAN_GROUP", "wide"},
        {"LRELU_CHAN_BLOCKS", "0x10"},
        {"LRELU_LAUNCH_LIMITS", "0:2"},
        {"LRELU_LAUNCH_LIMITS", "64:"},
        {"LRELU_POISON_SCRATCH", "2"},
        {"LRELU_DISABLE_FP64", "true"},
        {"LRELU_TUNE", "off"},
        {"LRELU_PROGRAM_CACHE", "yes"},
        {"LRELU_KERNEL_SHAPE", "3:64"},
        {"LRELU_KERNEL_SHAPE", "4:96"},
        {"LRELU_KERNEL_SHAPE", "4"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; ++i)
        refused(q, bad[i][0], bad[i][1]);
    static const char *const good[][2] = {
        {"LRELU_HOST_CHUNK", "4096"},
        {"LRELU_HOST_ZERO_COPY", "0"},
        {"LRELU_HOST_INPROCESS_BYTES", "0"},
        {"LRELU_HOST_THREADS", "1"},
        {"LRELU_HOST_SIMD", "base"},
        {"LRELU_CHAN_GROUP", "24"},
        {"LRELU_LAUNCH_LIMITS", "256"},
        {"LRELU_LAUNCH_LIMITS", "256:2"},
        {"LRELU_POISON_SCRATCH", "1"},
        {"LRELU_KERNEL_SHAPE", "4:64"},
        {"LRELU_TUNE", "0"},
        {"LRELU_PROGRAM_CACHE", "0"},
        {"LRELU_HOST_CHUNK", ""}, /* empty: unset */
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; ++i)
        taken(good[i][0], good[i][1]);

    /* read once: a ctx keeps what it read, whatever the environment says later */
    setenv("LRELU_KERNEL_SHAPE", "2:32", 1);
    lrelu_ctx *ctx = NULL;
    lt_ok(lrelu_create(&ctx, NULL), "lrelu_create with a shape");
    setenv("LRELU_KERNEL_SHAPE", "8:128", 1);
    size_t vec = 0, local = 0;
    lt_ok(lrelu_kernel_shape(ctx, LRELU_F32, &vec, &local), "lrelu_kernel_shape");
    check(vec == 2 && local == 32, "the shape read at creation stays with the ctx");
    lrelu_destroy(ctx);
    unsetenv("LRELU_KERNEL_SHAPE");

    clReleaseCommandQueue(q);
    clReleaseContext(cx);
    printf("%s\n", failures ? "FAILED" : "all passed");
    return failures != 0;
}
