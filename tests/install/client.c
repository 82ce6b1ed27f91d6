/* client.c: the smallest program a user of the installed library writes; built once
 * with pkg-config and once with find_package(lrelu) by tests/install_test.sh. */
#include <lrelu.h>

#include <stdio.h>
#include <string.h>

int main(void)
{
    float x[6] = {-3, -1, -0.0f, 0, 2, 5}, y[6], want[6];
    lrelu_ctx *ctx = NULL;
    lrelu_status st = lrelu_create(&ctx, NULL);
    if (st == LRELU_OK)
        st = lrelu_forward_host(ctx, LRELU_F32, 6, LRELU_DEFAULT_ALPHA, x, y);
    lrelu_destroy(ctx);
    if (st != LRELU_OK) {
        fprintf(stderr, "%s\n%s\n", lrelu_status_str(st), lrelu_last_error());
        return 1;
    }
    lrelu_ref_forward(LRELU_F32, 6, LRELU_DEFAULT_ALPHA, x, want);
    if (memcmp(y, want, sizeof y) != 0) {
        fprintf(stderr, "results differ from the reference\n");
        return 1;
    }
    printf("client OK with lrelu %s\n", lrelu_version());
    return 0;
}
