/* dense_layer.c: a dense layer, y = lrelu(W x + b) for a batch, on one queue: CLBlast's
 * SGEMM computes Z = X W^T, and lrelu's bias_act adds the bias per output, applies Leaky
 * ReLU and the gain, chained to the GEMM by its event with no blocking call until the
 * final reads. Checked against the CPU: Z against a GEMM in double (to the tolerance of
 * float sums in another order), and y against lrelu's reference applied to the device's
 * own Z, bit for bit. Exits 0 when both hold. */
#include <lrelu.h>

#include <clblast_c.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { BATCH = 64, IN = 300, OUT = 129 };

#define CHECK(what, err)                                                                           \
    do {                                                                                           \
        if ((err) != CL_SUCCESS) {                                                                 \
            fprintf(stderr, "%s failed: %d\n", what, (int)(err));                                  \
            return 1;                                                                              \
        }                                                                                          \
    } while (0)

static float value(unsigned *s)
{
    *s = *s * 1664525u + 1013904223u;
    return (float)(*s >> 8) / (float)(1u << 24) - 0.5f;
}

/* Z against a GEMM in double: float sums in any order stay within IN * 2^-24 of the sum
 * of the products' magnitudes. */
static int gemm_close(const float *X, const float *W, const float *Z)
{
    int bad = 0;
    for (int r = 0; r < BATCH; ++r)
        for (int o = 0; o < OUT; ++o) {
            double sum = 0, mag = 0;
            for (int i = 0; i < IN; ++i) {
                sum += (double)X[r * IN + i] * W[o * IN + i];
                mag += fabs((double)X[r * IN + i] * W[o * IN + i]);
            }
            if (fabs(Z[r * OUT + o] - sum) > IN * 0x1p-24 * mag + 1e-30 && bad++ < 5)
                fprintf(stderr, "Z[%d][%d] = %.9g, a double GEMM gives %.9g\n", r, o,
                        Z[r * OUT + o], sum);
        }
    return bad == 0;
}

int main(void)
{
    static float X[BATCH * IN], W[OUT * IN], b[OUT], Z[BATCH * OUT], y[BATCH * OUT],
        want[BATCH * OUT];
    unsigned s = 12345;
    for (int i = 0; i < BATCH * IN; ++i)
        X[i] = value(&s);
    for (int i = 0; i < OUT * IN; ++i)
        W[i] = value(&s) * 0.1f;
    for (int i = 0; i < OUT; ++i)
        b[i] = value(&s);
    memset(y, 0xa5, sizeof y); /* poison */

    /* the caller's context and queue, on the device lrelu would pick */
    lrelu_ctx *probe = NULL;
    if (lrelu_create(&probe, NULL) != LRELU_OK) {
        fprintf(stderr, "%s\n", lrelu_last_error());
        return 1;
    }
    cl_device_id dev = lrelu_cl_device(probe);
    lrelu_destroy(probe);
    cl_int err;
    cl_context cx = clCreateContext(NULL, 1, &dev, NULL, NULL, &err);
    CHECK("clCreateContext", err);
    cl_command_queue q = clCreateCommandQueue(cx, dev, 0, &err);
    CHECK("clCreateCommandQueue", err);
    cl_mem dX = clCreateBuffer(cx, CL_MEM_READ_ONLY | CL_MEM_COPY_HOST_PTR, sizeof X, X, &err);
    CHECK("clCreateBuffer", err);
    cl_mem dW = clCreateBuffer(cx, CL_MEM_READ_ONLY | CL_MEM_COPY_HOST_PTR, sizeof W, W, &err);
    CHECK("clCreateBuffer", err);
    cl_mem db = clCreateBuffer(cx, CL_MEM_READ_ONLY | CL_MEM_COPY_HOST_PTR, sizeof b, b, &err);
    CHECK("clCreateBuffer", err);
    cl_mem dZ = clCreateBuffer(cx, CL_MEM_READ_WRITE, sizeof Z, NULL, &err);
    CHECK("clCreateBuffer", err);
    cl_mem dy = clCreateBuffer(cx, CL_MEM_READ_WRITE | CL_MEM_COPY_HOST_PTR, sizeof y, y, &err);
    CHECK("clCreateBuffer", err);

    lrelu_ctx *ctx = NULL;
    if (lrelu_create_from_queue(&ctx, q) != LRELU_OK) {
        fprintf(stderr, "%s\n", lrelu_last_error());
        return 1;
    }
    /* Z (BATCH x OUT) = X (BATCH x IN) * W^T (IN x OUT), row-major */
    cl_event gemm = NULL, act = NULL;
    CLBlastStatusCode bs =
        CLBlastSgemm(CLBlastLayoutRowMajor, CLBlastTransposeNo, CLBlastTransposeYes, BATCH, OUT, IN,
                     1.0f, dX, 0, IN, dW, 0, IN, 0.0f, dZ, 0, OUT, &q, &gemm);
    if (bs != CLBlastSuccess) {
        fprintf(stderr, "CLBlastSgemm failed: %d\n", (int)bs);
        return 1;
    }
    /* y = sqrt(2) * lrelu(Z + b), b per output: channels last (outer BATCH, OUT channels) */
    const lrelu_layout l = {BATCH, OUT, 1};
    const lrelu_bias_act p = {0.2, sqrt(2.0), 0.0};
    if (lrelu_bias_act_forward(ctx, LRELU_F32, l, p, dZ, 0, db, 0, dy, 0, 1, &gemm, &act) !=
        LRELU_OK) {
        fprintf(stderr, "%s\n", lrelu_last_error());
        return 1;
    }
    CHECK("clEnqueueReadBuffer",
          clEnqueueReadBuffer(q, dZ, CL_FALSE, 0, sizeof Z, Z, 1, &act, NULL));
    CHECK("clEnqueueReadBuffer",
          clEnqueueReadBuffer(q, dy, CL_TRUE, 0, sizeof y, y, 0, NULL, NULL));

    int ok = gemm_close(X, W, Z);
    lrelu_ref_bias_act_forward(LRELU_F32, l, p, Z, b, want);
    size_t differ = 0;
    for (size_t i = 0; i < (size_t)BATCH * OUT; ++i)
        differ += memcmp(&want[i], &y[i], sizeof y[i]) != 0;
    printf("dense layer %d x %d -> %d: GEMM %s; bias_act %zu of %d outputs differ from the "
           "reference\n",
           BATCH, IN, OUT, ok ? "within float rounding" : "WRONG", differ, BATCH * OUT);
    clReleaseEvent(act);
    clReleaseEvent(gemm);
    lrelu_destroy(ctx);
    clReleaseMemObject(dy);
    clReleaseMemObject(dZ);
    clReleaseMemObject(db);
    clReleaseMemObject(dW);
    clReleaseMemObject(dX);
    clReleaseCommandQueue(q);
    clReleaseContext(cx);
    return ok && differ == 0 ? 0 : 1;
}
