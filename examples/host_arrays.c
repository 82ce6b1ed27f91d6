/* host_arrays.c: the shortest useful offload from a C program: an array in, the Leaky
 * ReLU of it out, on the default device (LRELU_DEVICE to choose another). */
#include <lrelu.h>

#include <stdio.h>
#include <stdlib.h>

int main(void)
{
    enum { N = 1 << 20 };
    float *x = malloc(N * sizeof *x), *y = malloc(N * sizeof *y);
    if (x == NULL || y == NULL)
        return 1;
    for (size_t i = 0; i < N; ++i)
        x[i] = (float)i / N - 0.5f; /* -0.5 ... 0.5 */

    lrelu_ctx *ctx = NULL;
    lrelu_status st = lrelu_create(&ctx, NULL);
    if (st == LRELU_OK)
        st = lrelu_forward_host(ctx, LRELU_F32, N, LRELU_DEFAULT_ALPHA, x, y);
    lrelu_destroy(ctx);
    if (st != LRELU_OK) {
        fprintf(stderr, "%s\n%s\n", lrelu_status_str(st), lrelu_last_error());
        return 1;
    }
    printf("f(%g) = %g, f(%g) = %g\n", x[0], y[0], x[N - 1], y[N - 1]);
    int ok = y[0] == x[0] * 0.01f && y[N - 1] == x[N - 1];
    free(x);
    free(y);
    return ok ? 0 : 1;
}
