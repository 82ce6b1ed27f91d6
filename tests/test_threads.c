/* test_threads.c: 8 threads share one ctx, each making many calls of every kind (device
 * and host API, every dtype, forward and both backwards, in place and out of place), all
 * results checked against the reference. Threads also race to the first build of each
 * dtype. */
#include "common.h"

#include <pthread.h>

#define THREADS 8
#define CALLS   60

static lrelu_ctx *ctx;
static uint64_t seed;

static void *worker(void *arg)
{
    size_t id = (size_t)arg, bad = 0;
    uint64_t rng = seed + id * 7919;
    static const size_t sizes[] = {1, 17, 255, 1000, 4097, 30011};
    for (int i = 0; i < CALLS; ++i) {
        lt_case c;
        c.t = (lrelu_dtype)((id + (size_t)i) % 4);
        c.op = (lt_op)(lt_rand(&rng) % 3);
        c.n = sizes[lt_rand(&rng) % 6];
        c.off = lt_rand(&rng) % 5;
        c.alpha = (double)(lt_rand(&rng) % 100) / 64.0;
        c.alias = (lt_alias)(lt_rand(&rng) % (c.op == LT_FORWARD ? 2 : 3));
        unsigned char s[30011 * 8], dy[30011 * 8];
        lt_fill(c.t, s, c.n, &rng, i % 2, id);
        lt_fill(c.t, dy, c.n, &rng, 1, 0);
        const void *d = c.op == LT_FORWARD ? NULL : dy;
        bad += (i % 3 == 0) ? lt_run_host(ctx, &c, s, d) : lt_run_device(ctx, &c, s, d);
    }
    return (void *)bad;
}

int main(void)
{
    ctx = lt_open();
    seed = lt_seed();
    pthread_t th[THREADS];
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 4u << 20);
    for (size_t i = 0; i < THREADS; ++i)
        if (pthread_create(&th[i], &attr, worker, (void *)i) != 0)
            lt_die("pthread_create");
    size_t failed = 0;
    for (size_t i = 0; i < THREADS; ++i) {
        void *r;
        pthread_join(th[i], &r);
        failed += (size_t)r;
    }
    lrelu_destroy(ctx);
    return lt_report((size_t)THREADS * CALLS - failed, failed);
}
