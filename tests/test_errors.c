/* test_errors.c: every error of the contract, through every entry point: the exact
 * status, the check order (INVALID_ARG, UNSUPPORTED, OUT_OF_RANGE, OVERLAP), a message
 * that names the problem, no event handed out, nothing written, no reference leaked,
 * and the ctx still working afterwards. */
#include "common.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define N ((size_t)1024)
static size_t passed, failed;
static lrelu_ctx *ctx;
static cl_command_queue q;
static cl_mem bx, by, bdy, bdx; /* f32, N elements each */

/* The status, and for a failure a last-error text that starts with the status name and
 * contains `needle`. */
static void expect(const char *what, lrelu_status got, lrelu_status want, const char *needle)
{
    const char *msg = lrelu_last_error();
    const char *name = lrelu_status_str(want);
    size_t name_len = strcspn(name, ":");
    int ok = got == want;
    if (ok && want != LRELU_OK)
        ok = strncmp(msg, name, name_len) == 0 && (needle == NULL || strstr(msg, needle));
    if (ok) {
        ++passed;
        return;
    }
    ++failed;
    printf("FAIL %s: want %s, got %s\n  last error: %s\n", what, name, lrelu_status_str(got), msg);
}

static void poison(cl_mem b)
{
    unsigned char p = 0xa5;
    if (clEnqueueFillBuffer(q, b, &p, 1, 0, N * 4, 0, NULL, NULL) != CL_SUCCESS ||
        clFinish(q) != CL_SUCCESS)
        lt_die("poison");
}

/* The outputs hold only poison: the failed call wrote nothing. */
static void untouched(const char *what)
{
    static unsigned char img[N * 4];
    cl_mem outs[2] = {by, bdx};
    if (clFinish(q) != CL_SUCCESS)
        lt_die("clFinish");
    for (int k = 0; k < 2; ++k) {
        if (clEnqueueReadBuffer(q, outs[k], CL_TRUE, 0, sizeof img, img, 0, NULL, NULL) !=
            CL_SUCCESS)
            lt_die("read");
        for (size_t i = 0; i < sizeof img; ++i)
            if (img[i] != 0xa5) {
                ++failed;
                printf("FAIL %s: output byte %zu was written\n", what, i);
                return;
            }
    }
    ++passed;
}

/* The 64 host floats still hold the -7 they were filled with: the failed calls wrote
 * nothing. */
static void host_untouched(const float *hy, const char *what)
{
    int clean = 1;
    for (int i = 0; i < 64; ++i)
        clean &= hy[i] == -7.0f;
    if (clean)
        ++passed;
    else
        ++failed, printf("FAIL %s wrote the output\n", what);
}

static cl_uint refcount(cl_mem m)
{
    cl_uint r = 0;
    clGetMemObjectInfo(m, CL_MEM_REFERENCE_COUNT, sizeof r, &r, NULL);
    return r;
}

/* A call that must fail with `want`: checks the event and the outputs too. */
#define CALL_FAILS(what, fn, want, needle, ...)                                                    \
    do {                                                                                           \
        cl_event ev_ = (cl_event)(uintptr_t)1;                                                     \
        expect(what, fn(__VA_ARGS__, &ev_), want, needle);                                         \
        if (ev_ != NULL) {                                                                         \
            ++failed;                                                                              \
            printf("FAIL %s: an event was handed out on failure\n", what);                         \
        }                                                                                          \
        untouched(what);                                                                           \
    } while (0)
#define FWD_FAILS(what, want, needle, ...)                                                         \
    CALL_FAILS(what, lrelu_forward, want, needle, __VA_ARGS__)
#define BWD_FAILS CALL_FAILS

static void invalid_args(void)
{
    const double bad_alpha[] = {NAN, INFINITY, -INFINITY};
    FWD_FAILS("NULL ctx", LRELU_ERR_INVALID_ARG, "ctx", NULL, LRELU_F32, N, 0.01, bx, 0, by, 0, 0,
              NULL);
    FWD_FAILS("unknown dtype", LRELU_ERR_INVALID_ARG, "dtype", ctx, (lrelu_dtype)7, N, 0.01, bx, 0,
              by, 0, 0, NULL);
    FWD_FAILS("negative dtype", LRELU_ERR_INVALID_ARG, "dtype", ctx, (lrelu_dtype)-1, N, 0.01, bx,
              0, by, 0, 0, NULL);
    for (int i = 0; i < 3; ++i) {
        FWD_FAILS("non-finite alpha", LRELU_ERR_INVALID_ARG, "alpha", ctx, LRELU_F32, N,
                  bad_alpha[i], bx, 0, by, 0, 0, NULL);
        BWD_FAILS("non-finite alpha backward", lrelu_backward, LRELU_ERR_INVALID_ARG, "alpha", ctx,
                  LRELU_F32, N, bad_alpha[i], bx, 0, bdy, 0, bdx, 0, 0, NULL);
    }
    FWD_FAILS("alpha beyond float", LRELU_ERR_INVALID_ARG, "float", ctx, LRELU_F16, N, 1e300, bx, 0,
              by, 0, 0, NULL);
    BWD_FAILS("from output, alpha < 0", lrelu_backward_from_output, LRELU_ERR_INVALID_ARG, "alpha",
              ctx, LRELU_F32, N, -0.5, by, 0, bdy, 0, bdx, 0, 0, NULL);
    BWD_FAILS("from output, alpha < 0, n == 0", lrelu_backward_from_output, LRELU_ERR_INVALID_ARG,
              "alpha", ctx, LRELU_F32, 0, -1e-30, by, 0, bdy, 0, bdx, 0, 0, NULL);
    FWD_FAILS("NULL x", LRELU_ERR_INVALID_ARG, "x is NULL", ctx, LRELU_F32, N, 0.01, NULL, 0, by, 0,
              0, NULL);
    FWD_FAILS("NULL y", LRELU_ERR_INVALID_ARG, "y is NULL", ctx, LRELU_F32, N, 0.01, bx, 0, NULL, 0,
              0, NULL);
    BWD_FAILS("NULL dy", lrelu_backward, LRELU_ERR_INVALID_ARG, "dy is NULL", ctx, LRELU_F32, N,
              0.01, bx, 0, NULL, 0, bdx, 0, 0, NULL);
    BWD_FAILS("NULL dx", lrelu_backward, LRELU_ERR_INVALID_ARG, "dx is NULL", ctx, LRELU_F32, N,
              0.01, bx, 0, bdy, 0, NULL, 0, 0, NULL);
    BWD_FAILS("NULL y from output", lrelu_backward_from_output, LRELU_ERR_INVALID_ARG, "y is NULL",
              ctx, LRELU_F32, N, 0.01, NULL, 0, bdy, 0, bdx, 0, 0, NULL);
    FWD_FAILS("wait list NULL with num_wait 2", LRELU_ERR_INVALID_ARG, "num_wait", ctx, LRELU_F32,
              N, 0.01, bx, 0, by, 0, 2, NULL);
    FWD_FAILS("wait list NULL with num_wait 1, n == 0", LRELU_ERR_INVALID_ARG, "num_wait", ctx,
              LRELU_F32, 0, 0.01, bx, 0, by, 0, 1, NULL);
    /* invalid arguments come before out-of-range ones */
    FWD_FAILS("NULL y and a huge offset", LRELU_ERR_INVALID_ARG, "y is NULL", ctx, LRELU_F32, N,
              0.01, bx, SIZE_MAX, NULL, 0, 0, NULL);
    FWD_FAILS("NaN alpha and overlap", LRELU_ERR_INVALID_ARG, "alpha", ctx, LRELU_F32, N, NAN, bx,
              0, bx, 1, 0, NULL);

    /* a buffer of another context */
    cl_int err;
    cl_device_id dev = lrelu_cl_device(ctx);
    cl_context other = clCreateContext(NULL, 1, &dev, NULL, NULL, &err);
    if (err != CL_SUCCESS)
        lt_die("clCreateContext");
    cl_mem foreign = clCreateBuffer(other, CL_MEM_READ_WRITE, N * 4, NULL, &err);
    if (err != CL_SUCCESS)
        lt_die("clCreateBuffer");
    FWD_FAILS("x of another context", LRELU_ERR_INVALID_ARG, "another cl_context", ctx, LRELU_F32,
              N, 0.01, foreign, 0, by, 0, 0, NULL);
    clReleaseMemObject(foreign);
    clReleaseContext(other);

    /* n == 0 checks no buffer, pointer or offset */
    expect("n == 0 with NULL buffers",
           lrelu_forward(ctx, LRELU_F32, 0, 0.01, NULL, SIZE_MAX, NULL, 7, 0, NULL, NULL), LRELU_OK,
           NULL);
    expect("n == 0 backward with NULL buffers",
           lrelu_backward(ctx, LRELU_F32, 0, 0.01, NULL, 0, NULL, 0, NULL, 0, 0, NULL, NULL),
           LRELU_OK, NULL);
    expect("from output accepts alpha == 0",
           lrelu_backward_from_output(ctx, LRELU_F32, N, 0.0, by, 0, bdy, 0, bdx, 0, 0, NULL, NULL),
           LRELU_OK, NULL);
    expect(
        "from output accepts alpha == -0.0",
        lrelu_backward_from_output(ctx, LRELU_F32, N, -0.0, by, 0, bdy, 0, bdx, 0, 0, NULL, NULL),
        LRELU_OK, NULL);
    expect("f64 takes an alpha beyond float",
           lrelu_forward(ctx, LRELU_F64, 0, 1e300, NULL, 0, NULL, 0, 0, NULL, NULL), LRELU_OK,
           NULL);
    poison(by);
    poison(bdx);
}

static void out_of_range(void)
{
    FWD_FAILS("n one past the end", LRELU_ERR_OUT_OF_RANGE, "end past", ctx, LRELU_F32, N + 1, 0.01,
              bx, 0, by, 0, 0, NULL);
    FWD_FAILS("offset pushes past the end", LRELU_ERR_OUT_OF_RANGE, "y elements", ctx, LRELU_F32, N,
              0.01, bx, 0, by, 1, 0, NULL);
    FWD_FAILS("f64 view of an f32-sized buffer", LRELU_ERR_OUT_OF_RANGE, "end past", ctx, LRELU_F64,
              N, 0.01, bx, 0, by, 0, 0, NULL);
    FWD_FAILS("offset + n wraps", LRELU_ERR_OUT_OF_RANGE, "overflows", ctx, LRELU_F32, 2, 0.01, bx,
              SIZE_MAX, by, 0, 0, NULL);
    FWD_FAILS("(offset + n) * size overflows", LRELU_ERR_OUT_OF_RANGE, "overflows", ctx, LRELU_F32,
              1, 0.01, bx, SIZE_MAX / 4, by, 0, 0, NULL);
    FWD_FAILS("n * size overflows", LRELU_ERR_OUT_OF_RANGE, "overflows", ctx, LRELU_F32,
              SIZE_MAX / 2, 0.01, bx, 0, by, 0, 0, NULL);
    BWD_FAILS("dy out of range", lrelu_backward, LRELU_ERR_OUT_OF_RANGE, "dy", ctx, LRELU_F32, N,
              0.01, bx, 0, bdy, 3, bdx, 0, 0, NULL);
    BWD_FAILS("dx out of range", lrelu_backward, LRELU_ERR_OUT_OF_RANGE, "dx", ctx, LRELU_F32,
              N / 2 + 1, 0.01, bx, 0, bdy, 0, bdx, N / 2, 0, NULL);
    /* out of range comes before overlap */
    FWD_FAILS("out of range and overlapping", LRELU_ERR_OUT_OF_RANGE, NULL, ctx, LRELU_F32, N, 0.01,
              bx, 0, bx, 1, 0, NULL);
    /* a sub-buffer's own size bounds the range, not its parent's */
    cl_int err;
    cl_buffer_region r = {0, 256};
    cl_mem sub = clCreateSubBuffer(by, CL_MEM_READ_WRITE, CL_BUFFER_CREATE_TYPE_REGION, &r, &err);
    if (err != CL_SUCCESS)
        lt_die("clCreateSubBuffer");
    FWD_FAILS("past a sub-buffer's end", LRELU_ERR_OUT_OF_RANGE, "end past", ctx, LRELU_F32, 65,
              0.01, bx, 0, sub, 0, 0, NULL);
    clReleaseMemObject(sub);
}

static void overlap(void)
{
    FWD_FAILS("y one element after x", LRELU_ERR_OVERLAP, "overlaps input x", ctx, LRELU_F32, N / 2,
              0.01, by, 0, by, 1, 0, NULL);
    FWD_FAILS("y one element before x", LRELU_ERR_OVERLAP, "overlaps", ctx, LRELU_F32, N / 2, 0.01,
              by, 1, by, 0, 0, NULL);
    BWD_FAILS("dx partly over x", lrelu_backward, LRELU_ERR_OVERLAP, "overlaps input x", ctx,
              LRELU_F32, N / 2, 0.01, bdx, 3, bdy, 0, bdx, 0, 0, NULL);
    BWD_FAILS("dx partly over dy", lrelu_backward, LRELU_ERR_OVERLAP, "overlaps input dy", ctx,
              LRELU_F32, N / 2, 0.01, bx, 0, bdx, 100, bdx, 101, 0, NULL);
    BWD_FAILS("from output: dx partly over y", lrelu_backward_from_output, LRELU_ERR_OVERLAP,
              "overlaps input y", ctx, LRELU_F32, N / 2, 0.01, bdx, 8, bdy, 0, bdx, 0, 0, NULL);
    /* sub-buffers of one parent are compared through the parent */
    cl_int err;
    cl_buffer_region r1 = {0, 2048}, r2 = {128, 2048}, r3 = {128, 1024};
    cl_mem s1 = clCreateSubBuffer(by, CL_MEM_READ_WRITE, CL_BUFFER_CREATE_TYPE_REGION, &r1, &err);
    cl_mem s2 = clCreateSubBuffer(by, CL_MEM_READ_WRITE, CL_BUFFER_CREATE_TYPE_REGION, &r2, &err);
    cl_mem s3 = clCreateSubBuffer(by, CL_MEM_READ_WRITE, CL_BUFFER_CREATE_TYPE_REGION, &r3, &err);
    if (err != CL_SUCCESS || !s1 || !s2)
        lt_die("clCreateSubBuffer");
    FWD_FAILS("sub-buffers overlapping in the parent", LRELU_ERR_OVERLAP, "overlaps", ctx,
              LRELU_F32, 64, 0.01, s1, 0, s2, 0, 0, NULL);
    FWD_FAILS("sub-buffer against its parent", LRELU_ERR_OVERLAP, "overlaps", ctx, LRELU_F32, 64,
              0.01, by, 0, s2, 0, 0, NULL);
    /* the very same range through two views is in place, and allowed */
    expect("same range through a sub-buffer and the parent",
           lrelu_forward(ctx, LRELU_F32, 64, 0.01, by, 32, s2, 0, 0, NULL, NULL), LRELU_OK, NULL);
    expect("same range through two sub-buffers",
           lrelu_forward(ctx, LRELU_F32, 64, 0.01, s3, 0, s2, 0, 0, NULL, NULL), LRELU_OK, NULL);
    expect("adjacent ranges in one buffer",
           lrelu_forward(ctx, LRELU_F32, 64, 0.01, bdy, 0, bdy, 64, 0, NULL, NULL), LRELU_OK, NULL);
    expect("inputs may overlap each other",
           lrelu_backward(ctx, LRELU_F32, 64, 0.01, bx, 0, bx, 1, bdx, 0, 0, NULL, NULL), LRELU_OK,
           NULL);
    clReleaseMemObject(s3);
    clReleaseMemObject(s2);
    clReleaseMemObject(s1);
    if (clFinish(q) != CL_SUCCESS)
        lt_die("clFinish");
    poison(by);
    poison(bdx);
}

static void unsupported(void)
{
    setenv("LRELU_DISABLE_FP64", "1", 1);
    lrelu_ctx *nofp64 = lt_open();
    unsetenv("LRELU_DISABLE_FP64");
    cl_mem big;
    cl_int err;
    big = clCreateBuffer(lrelu_cl_context(nofp64), CL_MEM_READ_WRITE, N * 8, NULL, &err);
    if (err != CL_SUCCESS)
        lt_die("clCreateBuffer");
    double h[4] = {-1, 2, -3, 4}, o[4];
    expect("f64 without fp64",
           lrelu_forward(nofp64, LRELU_F64, N, 0.01, big, 0, big, 0, 0, NULL, NULL),
           LRELU_ERR_UNSUPPORTED, "fp64");
    expect("f64 without fp64, from output",
           lrelu_backward_from_output(nofp64, LRELU_F64, N, 0.01, big, 0, big, 0, big, 0, 0, NULL,
                                      NULL),
           LRELU_ERR_UNSUPPORTED, "fp64");
    expect("f64 without fp64 beats out of range",
           lrelu_forward(nofp64, LRELU_F64, N + 1, 0.01, big, 0, big, 0, 0, NULL, NULL),
           LRELU_ERR_UNSUPPORTED, "fp64");
    expect("invalid beats unsupported",
           lrelu_forward(nofp64, LRELU_F64, N, 0.01, NULL, 0, big, 0, 0, NULL, NULL),
           LRELU_ERR_INVALID_ARG, "x is NULL");
    expect("f64 host without fp64", lrelu_forward_host(nofp64, LRELU_F64, 4, 0.01, h, o),
           LRELU_ERR_UNSUPPORTED, "fp64");
    expect("f64 host backward without fp64",
           lrelu_backward_host(nofp64, LRELU_F64, 4, 0.01, h, h, o), LRELU_ERR_UNSUPPORTED, "fp64");
    float hf[4] = {-1, 2, -3, 4}, of[4];
    expect("f32 still runs on that ctx", lrelu_forward_host(nofp64, LRELU_F32, 4, 0.5, hf, of),
           LRELU_OK, NULL);
    if (of[0] != -0.5f || of[1] != 2.0f)
        ++failed, printf("FAIL f32 on the no-fp64 ctx gave wrong values\n");
    clReleaseMemObject(big);
    lrelu_destroy(nofp64);
}

static void host_api(void)
{
    float x[64], y[64], dy[64], dx[64];
    for (int i = 0; i < 64; ++i)
        x[i] = (float)(i - 32), dy[i] = 1.0f, y[i] = dx[i] = -7.0f;
    float y0[64], dx0[64];
    memcpy(y0, y, sizeof y);
    memcpy(dx0, dx, sizeof dx);
#define HOST_UNTOUCHED(what)                                                                       \
    do {                                                                                           \
        if (memcmp(y, y0, sizeof y) != 0 || memcmp(dx, dx0, sizeof dx) != 0)                       \
            ++failed, printf("FAIL %s: host output written\n", what);                              \
        else                                                                                       \
            ++passed;                                                                              \
    } while (0)
    expect("host NULL ctx", lrelu_forward_host(NULL, LRELU_F32, 64, 0.01, x, y),
           LRELU_ERR_INVALID_ARG, "ctx");
    expect("host bad dtype", lrelu_forward_host(ctx, (lrelu_dtype)4, 64, 0.01, x, y),
           LRELU_ERR_INVALID_ARG, "dtype");
    expect("host NaN alpha", lrelu_backward_host(ctx, LRELU_F32, 64, NAN, x, dy, dx),
           LRELU_ERR_INVALID_ARG, "alpha");
    expect("host from output alpha < 0",
           lrelu_backward_from_output_host(ctx, LRELU_F32, 64, -1.0, y, dy, dx),
           LRELU_ERR_INVALID_ARG, "alpha");
    expect("host NULL x", lrelu_forward_host(ctx, LRELU_F32, 64, 0.01, NULL, y),
           LRELU_ERR_INVALID_ARG, "x is NULL");
    expect("host NULL dy", lrelu_backward_host(ctx, LRELU_F32, 64, 0.01, x, NULL, dx),
           LRELU_ERR_INVALID_ARG, "dy is NULL");
    expect("host NULL dx", lrelu_backward_from_output_host(ctx, LRELU_F32, 64, 0.01, y, dy, NULL),
           LRELU_ERR_INVALID_ARG, "dx is NULL");
    expect("host n * size overflows", lrelu_forward_host(ctx, LRELU_F32, SIZE_MAX / 2, 0.01, x, y),
           LRELU_ERR_OUT_OF_RANGE, "overflows");
    expect("host range wraps the address space",
           lrelu_forward_host(ctx, LRELU_F32, SIZE_MAX / 4, 0.01, x, y), LRELU_ERR_OUT_OF_RANGE,
           "wraps");
    expect("host y partly over x", lrelu_forward_host(ctx, LRELU_F32, 32, 0.01, y, y + 1),
           LRELU_ERR_OVERLAP, "overlaps input x");
    expect("host dx partly over dy", lrelu_backward_host(ctx, LRELU_F32, 32, 0.01, x, dx + 5, dx),
           LRELU_ERR_OVERLAP, "overlaps input dy");
    expect("host dx partly over y",
           lrelu_backward_from_output_host(ctx, LRELU_F32, 32, 0.01, dx + 31, dy, dx),
           LRELU_ERR_OVERLAP, "overlaps input y");
    /* an array off its elements' alignment (y's bytes from its second on), whatever path
     * the call would take */
    expect("host y not aligned to its elements",
           lrelu_forward_host(ctx, LRELU_F32, 8, 0.01, x, (char *)y + 2), LRELU_ERR_INVALID_ARG,
           "not aligned");
    expect("host dx not aligned, backward",
           lrelu_backward_host(ctx, LRELU_F32, 8, 0.01, x, dy, (char *)dx + 1),
           LRELU_ERR_INVALID_ARG, "dx");
    HOST_UNTOUCHED("host failures");
    expect("host n == 0 with NULL pointers",
           lrelu_backward_host(ctx, LRELU_F32, 0, 0.01, NULL, NULL, NULL), LRELU_OK, NULL);
    expect("host adjacent ranges", lrelu_forward_host(ctx, LRELU_F32, 32, 0.5, x, x + 32), LRELU_OK,
           NULL);
    if (x[32] != -16.0f || x[63] != -0.5f) /* x[0..31] = -32..-1 scaled by 0.5 */
        ++failed, printf("FAIL host adjacent ranges gave wrong values\n");
#undef HOST_UNTOUCHED
}

/* The _ex calls: their options are checked with the arguments (INVALID_ARG first), the
 * strided range covers the last element, and the overlap check sees strides. */
static void ex_calls(void)
{
    lrelu_opts o = {0};
    o.flags = 4;
    CALL_FAILS("ex unknown flag", lrelu_forward_ex, LRELU_ERR_INVALID_ARG, "flags", ctx, LRELU_F32,
               N, 0.01, &o, bx, 0, by, 0, 0, NULL);
    o = (lrelu_opts){LRELU_BLEND, NAN, 0.0, 0, 0, 0};
    CALL_FAILS("ex NaN scale", lrelu_backward_ex, LRELU_ERR_INVALID_ARG, "scale", ctx, LRELU_F32, N,
               0.01, &o, bx, 0, bdy, 0, bdx, 0, 0, NULL);
    o = (lrelu_opts){LRELU_BLEND, 1.0, 1e300, 0, 0, 0}; /* finite as a double only */
    CALL_FAILS("ex beta infinite as a float", lrelu_forward_ex, LRELU_ERR_INVALID_ARG, "beta", ctx,
               LRELU_F16, N, 0.01, &o, bx, 0, by, 0, 0, NULL);
    /* the order: a bad option is INVALID_ARG even where the range is also bad */
    o = (lrelu_opts){LRELU_BLEND, INFINITY, 0.0, 5, 0, 0};
    CALL_FAILS("ex bad scale before a bad range", lrelu_forward_ex, LRELU_ERR_INVALID_ARG, "scale",
               ctx, LRELU_F32, N, 0.01, &o, bx, 0, by, 0, 0, NULL);
    /* without LRELU_BLEND, scale and beta are not looked at */
    o = (lrelu_opts){0, NAN, NAN, 0, 0, 0};
    expect("ex factors ignored without the flag",
           lrelu_forward_ex(ctx, LRELU_F32, 0, 0.01, &o, bx, 0, by, 0, 0, NULL, NULL), LRELU_OK,
           NULL);
    /* N / 4 elements of stride 4 from element 4 end at element N: one past the buffer */
    o = (lrelu_opts){0, 0, 0, 4, 0, 0};
    CALL_FAILS("ex strided x past its buffer", lrelu_forward_ex, LRELU_ERR_OUT_OF_RANGE, "stride",
               ctx, LRELU_F32, N / 4, 0.01, &o, bx, 4, by, 0, 0, NULL);
    expect("ex strided x just fits",
           lrelu_forward_ex(ctx, LRELU_F32, N / 4, 0.01, &o, bx, 3, bdx, 0, 0, NULL, NULL),
           LRELU_OK, NULL);
    (void)clFinish(q);
    poison(bdx);
    o = (lrelu_opts){0, 0, 0, 0, 0, SIZE_MAX / 2};
    CALL_FAILS("ex stride overflows", lrelu_forward_ex, LRELU_ERR_OUT_OF_RANGE, "overflows", ctx,
               LRELU_F32, 3, 0.01, &o, bx, 0, by, 0, 0, NULL);
    /* x on even elements, y on odd ones of the same buffer: no element shared, fine; y one
     * element further with stride 2 shares x's elements 1.. */
    o = (lrelu_opts){0, 0, 0, 2, 0, 2};
    expect("ex interleaved views",
           lrelu_forward_ex(ctx, LRELU_F32, N / 2, 0.01, &o, bdy, 0, bdy, 1, 0, NULL, NULL),
           LRELU_OK, NULL);
    CALL_FAILS("ex strided y over x", lrelu_forward_ex, LRELU_ERR_OVERLAP, "overlaps input x", ctx,
               LRELU_F32, N / 4, 0.01, &o, by, 0, by, 2, 0, NULL);
    o = (lrelu_opts){0, 0, 0, 1, 0, 2};
    CALL_FAILS("ex same start, other stride", lrelu_forward_ex, LRELU_ERR_OVERLAP, "overlaps", ctx,
               LRELU_F32, N / 4, 0.01, &o, by, 0, by, 0, 0, NULL);
    /* host: the same checks on pointers */
    float hx[64], hy[64];
    for (int i = 0; i < 64; ++i)
        hx[i] = (float)i, hy[i] = -7.0f;
    o = (lrelu_opts){0, 0, 0, 2, 0, 2};
    expect("ex host strided y over x",
           lrelu_forward_host_ex(ctx, LRELU_F32, 16, 0.01, &o, hy, hy + 2), LRELU_ERR_OVERLAP,
           "overlaps input x");
    o = (lrelu_opts){0, 0, 0, 0, 0, SIZE_MAX / 4};
    expect("ex host stride overflows", lrelu_forward_host_ex(ctx, LRELU_F32, 3, 0.01, &o, hx, hy),
           LRELU_ERR_OUT_OF_RANGE, "overflows");
    o = (lrelu_opts){LRELU_BLEND, 1.0, NAN, 0, 0, 0};
    expect("ex host NaN beta", lrelu_forward_host_ex(ctx, LRELU_F32, 64, 0.01, &o, hx, hy),
           LRELU_ERR_INVALID_ARG, "beta");
    host_untouched(hy, "ex host failures");
}

/* The quantized and per-channel calls: each status with its message, nothing written. */
static void feature_calls(void)
{
    lrelu_quant qi = {0.1, 0}, qo = {0.1, 0};
    CALL_FAILS("q8 NULL ctx", lrelu_forward_q8, LRELU_ERR_INVALID_ARG, "ctx", NULL, LRELU_QS8, N,
               0.01, qi, qo, bx, 0, by, 0, 0, NULL);
    CALL_FAILS("q8 unknown qtype", lrelu_forward_q8, LRELU_ERR_INVALID_ARG, "qtype", ctx,
               (lrelu_qtype)7, N, 0.01, qi, qo, bx, 0, by, 0, 0, NULL);
    CALL_FAILS("q8 NaN alpha", lrelu_forward_q8, LRELU_ERR_INVALID_ARG, "alpha", ctx, LRELU_QS8, N,
               NAN, qi, qo, bx, 0, by, 0, 0, NULL);
    const double bad_in[] = {0.0, -1.0, 1e-40, 1e37, NAN};
    for (size_t i = 0; i < sizeof bad_in / sizeof bad_in[0]; ++i)
        CALL_FAILS("q8 bad in.scale", lrelu_forward_q8, LRELU_ERR_INVALID_ARG, "in.scale", ctx,
                   LRELU_QU8, N, 0.01, (lrelu_quant){bad_in[i], 0}, qo, bx, 0, by, 0, 0, NULL);
    const double bad_out[] = {0.0, 1e-39, 1e38, INFINITY};
    for (size_t i = 0; i < sizeof bad_out / sizeof bad_out[0]; ++i)
        CALL_FAILS("q8 bad out.scale", lrelu_forward_q8, LRELU_ERR_INVALID_ARG, "out.scale", ctx,
                   LRELU_QU8, N, 0.01, qi, (lrelu_quant){bad_out[i], 0}, bx, 0, by, 0, 0, NULL);
    CALL_FAILS("q8 s8 zero point 128", lrelu_forward_q8, LRELU_ERR_INVALID_ARG, "zero points", ctx,
               LRELU_QS8, N, 0.01, qi, (lrelu_quant){0.1, 128}, bx, 0, by, 0, 0, NULL);
    CALL_FAILS("q8 u8 zero point -1", lrelu_forward_q8, LRELU_ERR_INVALID_ARG, "zero points", ctx,
               LRELU_QU8, N, 0.01, (lrelu_quant){0.1, -1}, qo, bx, 0, by, 0, 0, NULL);
    CALL_FAILS("q8 NULL x", lrelu_forward_q8, LRELU_ERR_INVALID_ARG, "x is NULL", ctx, LRELU_QS8, N,
               0.01, qi, qo, NULL, 0, by, 0, 0, NULL);
    CALL_FAILS("q8 wait NULL", lrelu_forward_q8, LRELU_ERR_INVALID_ARG, "wait", ctx, LRELU_QS8, N,
               0.01, qi, qo, bx, 0, by, 0, 2, NULL);
    CALL_FAILS("q8 past the buffer", lrelu_forward_q8, LRELU_ERR_OUT_OF_RANGE, "end past", ctx,
               LRELU_QS8, N * 4, 0.01, qi, qo, bx, 1, by, 0, 0, NULL);
    CALL_FAILS("q8 y partly over x", lrelu_forward_q8, LRELU_ERR_OVERLAP, "overlaps x", ctx,
               LRELU_QS8, N, 0.01, qi, qo, bdy, 0, bdy, 1, 0, NULL);
    expect("q8 in place",
           lrelu_forward_q8(ctx, LRELU_QS8, N, 0.01, qi, qo, bdy, 1, bdy, 1, 0, NULL, NULL),
           LRELU_OK, NULL);

    lrelu_layout l = {4, 8, N / 32}; /* N elements, 8 channels */
    lrelu_bias_act ba = {0.2, 1.0, 0.0};
    CALL_FAILS("prelu unknown dtype", lrelu_prelu_forward, LRELU_ERR_INVALID_ARG, "dtype", ctx,
               (lrelu_dtype)9, l, bx, 0, bdy, 0, by, 0, 0, NULL);
    CALL_FAILS("prelu NULL slope", lrelu_prelu_forward, LRELU_ERR_INVALID_ARG, "slope is NULL", ctx,
               LRELU_F32, l, bx, 0, NULL, 0, by, 0, 0, NULL);
    CALL_FAILS("prelu layout overflows, after the NULL check", lrelu_prelu_forward,
               LRELU_ERR_INVALID_ARG, "y is NULL", ctx, LRELU_F32,
               ((lrelu_layout){SIZE_MAX / 2, 4, 1}), bx, 0, bdy, 0, NULL, 0, 0, NULL);
    CALL_FAILS("prelu layout overflows", lrelu_prelu_forward, LRELU_ERR_OUT_OF_RANGE, "overflows",
               ctx, LRELU_F32, ((lrelu_layout){SIZE_MAX / 2, 4, 1}), bx, 0, bdy, 0, by, 0, 0, NULL);
    CALL_FAILS("prelu slope past its buffer", lrelu_prelu_forward, LRELU_ERR_OUT_OF_RANGE, "slope",
               ctx, LRELU_F32, l, bx, 0, bdy, N - 7, by, 0, 0, NULL);
    CALL_FAILS("prelu y partly over x", lrelu_prelu_forward, LRELU_ERR_OVERLAP, "overlaps x", ctx,
               LRELU_F32, ((lrelu_layout){1, 1, N / 2}), by, 0, bdy, 0, by, 1, 0, NULL);
    CALL_FAILS("prelu y over the slope", lrelu_prelu_forward, LRELU_ERR_OVERLAP, "overlaps slope",
               ctx, LRELU_F32, ((lrelu_layout){1, 1, N / 2}), bx, 0, by, 0, by, 0, 0, NULL);
    CALL_FAILS("prelu backward wants nothing", lrelu_prelu_backward, LRELU_ERR_INVALID_ARG,
               "both NULL", ctx, LRELU_F32, l, bx, 0, bx, 0, bx, 0, NULL, 0, NULL, 0, 0, NULL);
    CALL_FAILS("prelu dslope over dx", lrelu_prelu_backward, LRELU_ERR_OVERLAP, "dslope", ctx,
               LRELU_F32, l, bx, 0, bx, 0, bx, 0, bdx, 0, bdx, 3, 0, NULL);
    CALL_FAILS("prelu dslope over x", lrelu_prelu_backward, LRELU_ERR_OVERLAP, "overlaps x", ctx,
               LRELU_F32, l, bdx, 0, bx, 0, bx, 0, NULL, 0, bdx, 8, 0, NULL);
    CALL_FAILS("bias_act negative limit", lrelu_bias_act_forward, LRELU_ERR_INVALID_ARG, "limit",
               ctx, LRELU_F32, l, ((lrelu_bias_act){0.2, 1.0, -1.0}), bx, 0, bdy, 0, by, 0, 0,
               NULL);
    CALL_FAILS("bias_act NaN limit", lrelu_bias_act_backward, LRELU_ERR_INVALID_ARG, "limit", ctx,
               LRELU_F32, l, ((lrelu_bias_act){0.2, 1.0, NAN}), bx, 0, bdy, 0, bx, 0, bdx, 0, NULL,
               0, 0, NULL);
    CALL_FAILS("bias_act infinite gain", lrelu_bias_act_forward, LRELU_ERR_INVALID_ARG, "gain", ctx,
               LRELU_F32, l, ((lrelu_bias_act){0.2, INFINITY, 0.0}), bx, 0, bdy, 0, by, 0, 0, NULL);
    CALL_FAILS("bias_act alpha infinite as a float", lrelu_bias_act_forward, LRELU_ERR_INVALID_ARG,
               "alpha", ctx, LRELU_F16, l, ((lrelu_bias_act){1e300, 1.0, 0.0}), bx, 0, bdy, 0, by,
               0, 0, NULL);
    CALL_FAILS("bias_act NULL dy", lrelu_bias_act_backward, LRELU_ERR_INVALID_ARG, "dy is NULL",
               ctx, LRELU_F32, l, ba, bx, 0, NULL, 0, NULL, 0, bdx, 0, NULL, 0, 0, NULL);
    expect("bias_act without a bias, dx in place on dy",
           lrelu_bias_act_backward(ctx, LRELU_F32, l, ba, bx, 0, NULL, 0, bdy, 0, bdy, 0, NULL, 0,
                                   0, NULL, NULL),
           LRELU_OK, NULL);
    expect("an empty layout does nothing",
           lrelu_prelu_forward(ctx, LRELU_F32, (lrelu_layout){0, 3, 3}, NULL, 0, NULL, 0, NULL, 0,
                               0, NULL, NULL),
           LRELU_OK, NULL);
    (void)clFinish(q);

    /* host versions: the same checks on pointers, nothing written */
    float hx[64], hy[64], hs[4];
    for (int i = 0; i < 64; ++i)
        hx[i] = (float)i - 30.0f, hy[i] = -7.0f;
    for (int i = 0; i < 4; ++i)
        hs[i] = 0.5f;
    lrelu_layout hl = {2, 4, 8};
    expect("host prelu NULL x", lrelu_prelu_forward_host(ctx, LRELU_F32, hl, NULL, hs, hy),
           LRELU_ERR_INVALID_ARG, "x is NULL");
    expect("host prelu y partly over x",
           lrelu_prelu_forward_host(ctx, LRELU_F32, hl, hy, hs, hy + 1), LRELU_ERR_OVERLAP,
           "overlaps x");
    expect("host prelu dslope over dy",
           lrelu_prelu_backward_host(ctx, LRELU_F32, hl, hx, hs, hy, NULL, hy + 60),
           LRELU_ERR_OVERLAP, "dslope");
    expect("host prelu layout overflows",
           lrelu_prelu_forward_host(ctx, LRELU_F32, (lrelu_layout){SIZE_MAX / 2, 4, 1}, hx, hs, hy),
           LRELU_ERR_OUT_OF_RANGE, "overflow");
    expect("host bias_act NaN limit",
           lrelu_bias_act_forward_host(ctx, LRELU_F32, hl, (lrelu_bias_act){0.2, 1.0, NAN}, hx,
                                       NULL, hy),
           LRELU_ERR_INVALID_ARG, "limit");
    expect("host q8 bad zero point",
           lrelu_forward_q8_host(ctx, LRELU_QS8, 64, 0.1, qi, (lrelu_quant){0.1, 200}, hx, hy),
           LRELU_ERR_INVALID_ARG, "zero points");
    expect("host q8 partly in place",
           lrelu_forward_q8_host(ctx, LRELU_QS8, 64, 0.1, qi, qo, hy, (char *)hy + 1),
           LRELU_ERR_OVERLAP, "overlaps x");
    host_untouched(hy, "feature host failures");
}

static void creation(void)
{
    expect("create with NULL ctx", lrelu_create(NULL, NULL), LRELU_ERR_INVALID_ARG, "ctx");
    lrelu_ctx *c = (lrelu_ctx *)(uintptr_t)1;
    expect("create_from_queue with a NULL queue", lrelu_create_from_queue(&c, NULL),
           LRELU_ERR_INVALID_ARG, "queue");
    if (c != NULL)
        ++failed, printf("FAIL create_from_queue left *ctx set on failure\n");
    expect("create_from_queue with NULL ctx", lrelu_create_from_queue(NULL, q),
           LRELU_ERR_INVALID_ARG, "ctx");
    lrelu_destroy(NULL); /* a no-op */
    ++passed;
    /* a kernel build that fails: the status and the build log */
    setenv("LRELU_BUILD_OPTIONS", "-DLRELU_VEC=5", 1);
    setenv("LRELU_HOST_INPROCESS_BYTES", "0", 1); /* a small call must reach the kernels */
    lrelu_ctx *broken = lt_open();
    unsetenv("LRELU_BUILD_OPTIONS");
    unsetenv("LRELU_HOST_INPROCESS_BYTES");
    float v[4] = {1, -1, 2, -2}, o[4];
    expect("a failing build reports its log", lrelu_forward_host(broken, LRELU_F32, 4, 0.01, v, o),
           LRELU_ERR_BUILD, "LRELU_VEC");
    expect("and fails again, cleanly", lrelu_forward_host(broken, LRELU_F32, 4, 0.01, v, o),
           LRELU_ERR_BUILD, "LRELU_VEC");
    lrelu_destroy(broken);
}

static void strings(void)
{
    const lrelu_status all[] = {LRELU_OK,          LRELU_ERR_INVALID_ARG,   LRELU_ERR_OUT_OF_RANGE,
                                LRELU_ERR_OVERLAP, LRELU_ERR_UNSUPPORTED,   LRELU_ERR_NO_DEVICE,
                                LRELU_ERR_BUILD,   LRELU_ERR_OUT_OF_MEMORY, LRELU_ERR_OPENCL};
    const char *names[] = {
        "LRELU_OK:",          "LRELU_ERR_INVALID_ARG:",   "LRELU_ERR_OUT_OF_RANGE:",
        "LRELU_ERR_OVERLAP:", "LRELU_ERR_UNSUPPORTED:",   "LRELU_ERR_NO_DEVICE:",
        "LRELU_ERR_BUILD:",   "LRELU_ERR_OUT_OF_MEMORY:", "LRELU_ERR_OPENCL:"};
    for (int i = 0; i < 9; ++i) {
        const char *s = lrelu_status_str(all[i]);
        if (strncmp(s, names[i], strlen(names[i])) == 0 && strlen(s) > strlen(names[i]) + 2)
            ++passed;
        else
            ++failed, printf("FAIL lrelu_status_str(%d) = \"%s\"\n", (int)all[i], s);
    }
    if (strncmp(lrelu_status_str((lrelu_status)99), "LRELU_ERR_UNKNOWN", 17) == 0)
        ++passed;
    else
        ++failed, printf("FAIL unknown status string\n");
    char want[32];
    snprintf(want, sizeof want, "%d.%d.%d", LRELU_VERSION_MAJOR, LRELU_VERSION_MINOR,
             LRELU_VERSION_PATCH);
    if (strcmp(lrelu_version(), want) == 0)
        ++passed;
    else
        ++failed, printf("FAIL lrelu_version() %s != %s\n", lrelu_version(), want);
}

/* After all the failures: the same ctx still computes the right thing. */
static void still_works(void)
{
    float x[N], y[N], want[N];
    for (size_t i = 0; i < N; ++i)
        x[i] = (float)i - 500.25f;
    if (clEnqueueWriteBuffer(q, bx, CL_TRUE, 0, sizeof x, x, 0, NULL, NULL) != CL_SUCCESS)
        lt_die("write");
    cl_event done = NULL;
    lt_ok(lrelu_forward(ctx, LRELU_F32, N, 0.2, bx, 0, by, 0, 0, NULL, &done), "forward");
    if (clEnqueueReadBuffer(q, by, CL_TRUE, 0, sizeof y, y, 1, &done, NULL) != CL_SUCCESS)
        lt_die("read");
    clReleaseEvent(done);
    lrelu_ref_forward(LRELU_F32, N, 0.2, x, want);
    if (memcmp(y, want, sizeof y) == 0) /* bit for bit */
        ++passed;
    else
        ++failed, printf("FAIL the ctx computes wrong results after the failures\n");
}

int main(void)
{
    ctx = lt_open();
    q = lrelu_cl_queue(ctx);
    cl_int err;
    cl_mem *const all[4] = {&bx, &by, &bdy, &bdx};
    for (int i = 0; i < 4; ++i) {
        *all[i] =
            clCreateBuffer(lrelu_cl_context(ctx), CL_MEM_READ_WRITE, (size_t)N * 4, NULL, &err);
        if (err != CL_SUCCESS)
            lt_die("clCreateBuffer");
        cl_mem m = *all[i];
        poison(m);
    }
    cl_uint before[4];
    for (int i = 0; i < 4; ++i)
        before[i] = refcount(*all[i]);
    invalid_args();
    out_of_range();
    overlap();
    unsupported();
    host_api();
    ex_calls();
    feature_calls();
    creation();
    strings();
    for (int i = 0; i < 4; ++i) {
        if (refcount(*all[i]) == before[i])
            ++passed;
        else
            ++failed, printf("FAIL buffer %d reference count %u -> %u: leaked\n", i, before[i],
                             refcount(*all[i]));
    }
    still_works();
    for (int i = 0; i < 4; ++i)
        (void)clReleaseMemObject(*all[i]);
    lrelu_destroy(ctx);
    return lt_report(passed, failed);
}
