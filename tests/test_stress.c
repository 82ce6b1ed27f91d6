/* test_stress.c: threads at once on one shared ctx and on ctxs of their own that they
 * create and destroy while the others work, device and host API mixed, every dtype and
 * call, every result checked against the reference. Run under ThreadSanitizer by
 * ./run.sh tsan. */
#include "common.h"

#include <pthread.h>

#define THREADS 6
#define ROUNDS  12

static lrelu_ctx *shared;
static uint64_t seed;

static void *worker(void *arg)
{
    size_t id = (size_t)arg, bad = 0;
    uint64_t rng = seed + id * 104729;
    static const size_t sizes[] = {3, 777, 5001, 70001};
    for (int r = 0; r < ROUNDS; ++r) {
        /* odd threads make a ctx of their own every other round */
        lrelu_ctx *own = NULL;
        if ((id + (size_t)r) % 2 == 1 && lrelu_create(&own, NULL) != LRELU_OK) {
            printf("FAIL thread %zu: lrelu_create: %s\n", id, lrelu_last_error());
            return (void *)(bad + 1);
        }
        lrelu_ctx *ctx = own ? own : shared;
        for (int k = 0; k < 3; ++k) {
            lt_case c;
            c.t = (lrelu_dtype)(lt_rand(&rng) % 4);
            c.op = (lt_op)(lt_rand(&rng) % 3);
            c.n = sizes[lt_rand(&rng) % 4];
            c.off = lt_rand(&rng) % 4;
            c.alpha = (double)(lt_rand(&rng) % 50) / 32.0;
            c.alias = (lt_alias)(lt_rand(&rng) % (c.op == LT_FORWARD ? 2 : 3));
            static _Thread_local unsigned char s[70001 * 8], dy[70001 * 8];
            lt_fill(c.t, s, c.n, &rng, 1, 0);
            lt_fill(c.t, dy, c.n, &rng, 1, 0);
            const void *d = c.op == LT_FORWARD ? NULL : dy;
            bad += (k == 1) ? lt_run_host(ctx, &c, s, d) : lt_run_device(ctx, &c, s, d);
        }
        lrelu_destroy(own);
    }
    return (void *)bad;
}

int main(void)
{
    shared = lt_open();
    seed = lt_seed();
    pthread_t th[THREADS];
    for (size_t i = 0; i < THREADS; ++i)
        if (pthread_create(&th[i], NULL, worker, (void *)i) != 0)
            lt_die("pthread_create");
    size_t failed = 0;
    for (size_t i = 0; i < THREADS; ++i) {
        void *r;
        pthread_join(th[i], &r);
        failed += (size_t)r;
    }
    lrelu_destroy(shared);
    return lt_report((size_t)THREADS * ROUNDS * 3 - failed, failed);
}
