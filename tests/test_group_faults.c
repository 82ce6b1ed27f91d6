/* test_group_faults.c: a device of a group that fails part way through a call. The
 * group runs on two PoCL devices through the copying path (the environment CMake sets;
 * where there is one device, on two ctxs on it),
 * split 1:1; the fault layer (tests/fault_layer.h) fails the k-th OpenCL call or
 * allocation of the second device's thread alone, for every k its shard reaches, in an
 * elementwise call, a PReLU backward with its gradient (block sums) and an int8 forward:
 * each call must fail with the device named, then the same group must give the right
 * results, and creating, failing, recovering and destroying must leak no OpenCL object
 * or allocation. */
#include "common.h"
#include "fault_layer.h"

#include <stdlib.h>
#include <string.h>

#define N  40000
#define NQ 50000
static const lrelu_layout lay = {64, 3, 256};
#define NC (64 * 3 * 256)

static float x[N], dy[N], y[N], want_y[N];
static float cx[NC], cdy[NC], slope[3], cdx[NC], cds[3], want_dx[NC], want_ds[3];
static signed char qx[NQ], qy[NQ], want_q[NQ];
static const lrelu_quant q_in = {0.25, 3}, q_out = {0.125, -2};
enum { S_ELEMENTWISE, S_PRELU_BACKWARD, S_Q8, S_COUNT };
static const char *name[S_COUNT] = {"backward_host_ex", "prelu_backward_host", "forward_q8_host"};

static lrelu_status call(lrelu_group *g, int s)
{
    memset(y, 0xff, sizeof y);
    memset(cdx, 0xff, sizeof cdx);
    memset(cds, 0xff, sizeof cds);
    memset(qy, 0x7f, sizeof qy);
    if (s == S_ELEMENTWISE)
        return lrelu_group_backward_host_ex(g, LRELU_F32, N, 0.1, NULL, x, dy, y);
    if (s == S_PRELU_BACKWARD)
        return lrelu_group_prelu_backward_host(g, LRELU_F32, lay, cx, slope, cdy, cdx, cds);
    return lrelu_group_forward_q8_host(g, LRELU_QS8, NQ, 0.3, q_in, q_out, qx, qy);
}

static int right(int s)
{
    if (s == S_ELEMENTWISE)
        return memcmp(y, want_y, sizeof y) == 0;
    if (s == S_PRELU_BACKWARD)
        return memcmp(cdx, want_dx, sizeof cdx) == 0 && memcmp(cds, want_ds, sizeof cds) == 0;
    return memcmp(qy, want_q, sizeof qy) == 0;
}

int main(void)
{
    uint64_t rng = lt_seed();
    for (int i = 0; i < N; ++i)
        x[i] = (float)(i % 41) - 20.5f, dy[i] = (float)(i % 7) - 3.0f;
    for (int i = 0; i < NC; ++i)
        cx[i] = (float)(lt_rand(&rng) % 64) * 0.125f - 4.0f,
        cdy[i] = (float)(lt_rand(&rng) % 32) * 0.0625f - 1.0f;
    for (int i = 0; i < NQ; ++i)
        qx[i] = (signed char)lt_rand(&rng);
    slope[0] = 0.25f, slope[1] = -0.5f, slope[2] = 0.0625f;
    lrelu_ref_backward(LRELU_F32, N, 0.1, x, dy, want_y);
    lrelu_ref_prelu_backward(LRELU_F32, lay, cx, slope, cdy, want_dx, want_ds);
    lrelu_ref_forward_q8(LRELU_QS8, NQ, 0.3, q_in, q_out, qx, want_q);
    fault_exempt = 1; /* the first device's shards run on this thread */
    const double even[2] = {1, 1};
    long points = 0, survived = 0;
    for (int s = 0; s < S_COUNT; ++s) {
        long k;
        for (k = 1;; ++k) {
            calls = 0;
            fail_at = k;
            failed_name = NULL;
            live_objects = 0;
            counting = 1;
            lrelu_group *g = NULL;
            lrelu_ctx *own[2] = {NULL, NULL};
            lrelu_status st = lrelu_group_create(&g, "0:0,0:1");
            if (st == LRELU_ERR_NO_DEVICE) { /* one device (a GPU): two ctxs on it */
                lt_ok(lrelu_create(&own[0], NULL), "lrelu_create");
                lt_ok(lrelu_create(&own[1], NULL), "lrelu_create");
                st = lrelu_group_create_from_ctxs(&g, 2, own);
            }
            lt_ok(st, "lrelu_group_create");
            lt_ok(lrelu_group_set_speeds(g, even), "lrelu_group_set_speeds");
            size_t counts[2];
            lt_ok(lrelu_group_split(g, LRELU_F32, N, counts), "lrelu_group_split");
            if (counts[1] == 0)
                lt_die("the second device takes no shard: LRELU_GROUP_MIN_BYTES=0 expected");
            st = call(g, s);
            fail_at = 0; /* from here on: count, never fail */
            int ok = 1;
            char why[512] = "";
            if (failed_name == NULL) { /* past the shard's last call */
                if (st != LRELU_OK || !right(s))
                    ok = 0,
                    snprintf(why, sizeof why, "wrong without a fault: %s", lrelu_last_error());
            } else {
                ++points;
                const char *e = lrelu_last_error();
                if (st == LRELU_OK) {
                    /* a tolerated failure (a release, say) must still give the results */
                    if (!right(s))
                        ok = 0, snprintf(why, sizeof why, "tolerated failure gave wrong results");
                } else if (strstr(e, "device 1 (") == NULL || strstr(e, name[s]) == NULL) {
                    ok = 0, snprintf(why, sizeof why, "message names no device or call: %s", e);
                }
                /* the group works afterwards */
                if (call(g, s) != LRELU_OK || !right(s))
                    ok = 0, snprintf(why, sizeof why, "the group does not work afterwards: %s",
                                     lrelu_last_error());
            }
            lrelu_group_destroy(g);
            lrelu_destroy(own[0]);
            lrelu_destroy(own[1]);
            counting = 0;
            if (fault_leaks(why, sizeof why))
                ok = 0;
            if (!ok)
                printf("FAIL %s: fault %ld in %s: %s\n", name[s], k,
                       failed_name ? failed_name : "(none)", why);
            else if (failed_name != NULL)
                ++survived;
            if (failed_name == NULL || !ok) {
                if (!ok)
                    ++points;
                break;
            }
        }
        printf("%-22s %ld fault points on device 1\n", name[s], k - 1);
        if (k < 5)
            lt_die("%s: only %ld calls on device 1: is the copying path on?", name[s], k - 1);
    }
    printf("%ld of %ld fault points handled\n", survived, points);
    return survived == points ? 0 : 1;
}
