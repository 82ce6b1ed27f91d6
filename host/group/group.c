/* group.c: device groups. A group holds a ctx per device; each call is checked whole on
 * every device, cut into one shard a device in proportion to the devices' measured
 * speeds, and run on all of them at once through the host-memory calls (hostmem/), the
 * calling thread taking the first shard and a thread each the others. Per-channel calls
 * are cut along outer; with the sums, at block boundaries, each shard leaving its block
 * sums for the host to add in the one call's order, so the bits never depend on the cut. */
#define _POSIX_C_SOURCE 200809L /* clock_gettime, pthread_sigmask, posix_memalign */
#include "hostmem/hostmem.h"

#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Shards of elementwise and int8 calls are multiples of this many elements (the last
 * takes the rest), so that they start on separate cache lines and pages. */
#define GROUP_GRAIN ((size_t)4096)
/* A device takes a shard only where it moves at least this much: below it a thread's
 * start and another device's launch cost more than the device could save.
 * LRELU_GROUP_MIN_BYTES (internal, docs/architecture.md) lowers it for the tests that
 * run groups on a simulator. */
#define GROUP_MIN_BYTES ((size_t)1 << 20)

struct lrelu_group {
    size_t count;
    lrelu_ctx *ctx[LRELU_GROUP_MAX];
    char name[LRELU_GROUP_MAX][96];
    int owned;        /* the ctxs are the group's */
    size_t min_bytes; /* GROUP_MIN_BYTES, or the environment's */
    pthread_mutex_t lock;
    double speed[LRELU_GROUP_MAX]; /* bytes a second (0: not measured yet), under lock */
    int fixed;                     /* set by the caller: not measured */
};

/* One device's shard of a call: units [first, first + count) (elements, or outer rows). */
typedef lrelu_status (*group_shard_fn)(lrelu_ctx *ctx, const void *call, size_t first, size_t count,
                                       size_t shard);
typedef struct {
    lrelu_group *g;
    size_t dev, shard, first, count, bytes;
    group_shard_fn fn;
    const void *call;
    const char *name; /* the call's */
    lrelu_status st;
    double secs;
    char err[1024];
    const char *msg; /* in err: what failed */
} group_task;

/* A call's shape for the split: its units, their grain, and the bytes a unit moves. */
typedef struct {
    size_t units, grain, unit_bytes;
} group_cut;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* The speeds the split uses: the measured or set ones, the unmeasured counted as the
 * measured ones' mean (1 where none is). */
static void split_speeds(lrelu_group *g, double *s)
{
    double sum = 0;
    size_t known = 0;
    pthread_mutex_lock(&g->lock);
    for (size_t i = 0; i < g->count; ++i) {
        s[i] = g->speed[i];
        if (s[i] > 0) {
            sum += s[i];
            ++known;
        }
    }
    pthread_mutex_unlock(&g->lock);
    for (size_t i = 0; i < g->count; ++i)
        if (!(s[i] > 0))
            s[i] = known ? sum / (double)known : 1.0;
}

/* Cuts the call into tasks (one a device that takes a shard, in device order: the
 * shards follow the data's order); returns how many. The slowest devices are left out
 * while their share would be under a grain or under GROUP_MIN_BYTES. */
static size_t group_plan(lrelu_group *g, const group_cut *cut, group_task *tasks)
{
    double s[LRELU_GROUP_MAX] = {0};
    split_speeds(g, s);
    int use[LRELU_GROUP_MAX];
    size_t k = g->count;
    for (size_t i = 0; i < LRELU_GROUP_MAX; ++i)
        use[i] = i < k;
    for (; k > 1; --k) {
        size_t slow = g->count; /* the slowest in use; of equals, the last */
        double total = 0;
        for (size_t i = 0; i < g->count; ++i) {
            if (!use[i])
                continue;
            total += s[i];
            if (slow == g->count || s[i] <= s[slow])
                slow = i;
        }
        double share = (double)cut->units * s[slow] / total;
        if (share >= (double)cut->grain && share * (double)cut->unit_bytes >= (double)g->min_bytes)
            break;
        use[slow] = 0;
    }
    double total = 0;
    for (size_t i = 0; i < g->count; ++i)
        total += use[i] ? s[i] : 0;
    size_t nt = 0, first = 0, left = k;
    for (size_t i = 0; i < g->count; ++i) {
        if (!use[i])
            continue;
        size_t count = cut->units - first;
        if (--left > 0) {
            double share = (double)cut->units * s[i] / total;
            size_t grains = (size_t)(share / (double)cut->grain);
            count = grains * cut->grain < count ? grains * cut->grain : count;
        }
        if (count == 0)
            continue;
        tasks[nt] = (group_task){.g = g,
                                 .dev = i,
                                 .shard = nt,
                                 .first = first,
                                 .count = count,
                                 .bytes = count * cut->unit_bytes};
        first += count;
        ++nt;
    }
    return nt;
}

/* The thread's last error copied into buf (lrelu_fail rewrites the thread's text), less
 * its status name and fn's name leading it, which the group's message repeats. */
static const char *last_message(char *buf, size_t len, const char *fn)
{
    snprintf(buf, len, "%s", lrelu_last_error());
    const char *m = buf, *colon = strstr(m, ": ");
    size_t fl = strlen(fn);
    m = colon != NULL ? colon + 2 : m;
    return strncmp(m, fn, fl) == 0 && strncmp(m + fl, ": ", 2) == 0 ? m + fl + 2 : m;
}

static void task_run(group_task *k)
{
    double t0 = now();
    k->st = k->fn(k->g->ctx[k->dev], k->call, k->first, k->count, k->shard);
    k->secs = now() - t0;
    if (k->st != LRELU_OK)
        k->msg = last_message(k->err, sizeof k->err, k->name);
}

static void *task_thread(void *arg)
{
    task_run(arg);
    return NULL;
}

/* Runs the tasks at once, waits for all of them, folds their times into the speeds and
 * reports the first failure (in device order) as the group's. */
static lrelu_status group_launch(lrelu_group *g, const char *fn, group_shard_fn shard,
                                 const void *call, group_task *tasks, size_t nt)
{
    pthread_t th[LRELU_GROUP_MAX];
    int started[LRELU_GROUP_MAX] = {0};
    /* the shards' threads take no signals: the caller's handlers stay on its threads */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    for (size_t i = 0; i < nt; ++i) {
        tasks[i].fn = shard;
        tasks[i].call = call;
        tasks[i].name = fn;
        if (i > 0)
            started[i] = pthread_create(&th[i], NULL, task_thread, &tasks[i]) == 0;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    task_run(&tasks[0]);
    for (size_t i = 1; i < nt; ++i) {
        if (started[i])
            pthread_join(th[i], NULL);
        else /* no thread to be had: the shard runs here, after the others */
            task_run(&tasks[i]);
    }
    pthread_mutex_lock(&g->lock);
    for (size_t i = 0; i < nt && !g->fixed; ++i) {
        const group_task *k = &tasks[i];
        if (k->st != LRELU_OK || k->bytes < g->min_bytes || !(k->secs > 0))
            continue;
        double v = (double)k->bytes / k->secs, *s = &g->speed[k->dev];
        *s = *s > 0 ? 0.5 * *s + 0.5 * v : v;
    }
    pthread_mutex_unlock(&g->lock);
    for (size_t i = 0; i < nt; ++i)
        if (tasks[i].st != LRELU_OK)
            return lrelu_fail(tasks[i].st, "%s: device %zu (%s): %s", fn, tasks[i].dev,
                              g->name[tasks[i].dev], tasks[i].msg);
    return LRELU_OK;
}

/* The whole call's checks on each device, so that nothing runs anywhere when one of them
 * fails; a failure that only a later device finds is that device's, and names it. */
typedef lrelu_status (*group_check_fn)(lrelu_ctx *ctx, const void *call);
static lrelu_status group_check(lrelu_group *g, const char *fn, group_check_fn check,
                                const void *call)
{
    if (g == NULL)
        return lrelu_fail(LRELU_ERR_INVALID_ARG, "%s: group is NULL", fn);
    for (size_t i = 0; i < g->count; ++i) {
        lrelu_status st = check(g->ctx[i], call);
        if (st != LRELU_OK && i > 0) {
            char e[1024];
            return lrelu_fail(st, "%s: device %zu (%s): %s", fn, i, g->name[i],
                              last_message(e, sizeof e, fn));
        }
        if (st != LRELU_OK)
            return st;
    }
    return LRELU_OK;
}

/* ---- creation ---- */

static lrelu_status group_new(lrelu_group **out, size_t count, lrelu_ctx *const *ctxs, int owned)
{
    size_t min_bytes = GROUP_MIN_BYTES;
    const char *env = getenv("LRELU_GROUP_MIN_BYTES");
    if (env != NULL && env[0] != '\0') {
        char *end = NULL;
        unsigned long long v = strtoull(env, &end, 10);
        if (*end != '\0' || env[0] == '-' || v > SIZE_MAX)
            return lrelu_fail(
                LRELU_ERR_INVALID_ARG,
                "lrelu_group_create: LRELU_GROUP_MIN_BYTES=\"%s\" is not a byte count", env);
        min_bytes = (size_t)v;
    }
    lrelu_group *g = calloc(1, sizeof *g);
    if (g == NULL)
        return lrelu_fail(LRELU_ERR_OUT_OF_MEMORY, "lrelu_group_create: calloc failed");
    if (pthread_mutex_init(&g->lock, NULL) != 0) {
        free(g);
        return lrelu_fail(LRELU_ERR_OUT_OF_MEMORY, "lrelu_group_create: no mutex to be had");
    }
    g->count = count;
    g->owned = owned;
    g->min_bytes = min_bytes;
    for (size_t i = 0; i < count; ++i) {
        g->ctx[i] = ctxs[i];
        if (clGetDeviceInfo(lrelu_cl_device(ctxs[i]), CL_DEVICE_NAME, sizeof g->name[i] - 1,
                            g->name[i], NULL) != CL_SUCCESS)
            snprintf(g->name[i], sizeof g->name[i], "?");
    }
    *out = g;
    return LRELU_OK;
}

/* The selectors "P:D" of every device of every platform (of type gpu alone if gpus),
 * comma-separated into sel; the count. */
static size_t every_device(int gpus, char *sel, size_t len)
{
    cl_platform_id p[32];
    cl_uint np = 0;
    size_t count = 0, at = 0;
    sel[0] = '\0';
    if (clGetPlatformIDs(32, p, &np) != CL_SUCCESS)
        return 0;
    for (cl_uint i = 0; i < np && i < 32; ++i) {
        cl_uint nd = 0;
        cl_device_type type = gpus ? CL_DEVICE_TYPE_GPU : CL_DEVICE_TYPE_ALL;
        if (clGetDeviceIDs(p[i], type, 0, NULL, &nd) != CL_SUCCESS || nd == 0)
            continue;
        cl_device_id d[LRELU_GROUP_MAX], all[LRELU_GROUP_MAX];
        cl_uint na = 0;
        /* "P:D" counts every device of the platform: find each one's index among them */
        if (clGetDeviceIDs(p[i], type, LRELU_GROUP_MAX, d, NULL) != CL_SUCCESS ||
            clGetDeviceIDs(p[i], CL_DEVICE_TYPE_ALL, LRELU_GROUP_MAX, all, &na) != CL_SUCCESS)
            continue;
        for (cl_uint j = 0; j < nd && j < LRELU_GROUP_MAX; ++j)
            for (cl_uint a = 0; a < na && a < LRELU_GROUP_MAX; ++a)
                if (all[a] == d[j] && count < LRELU_GROUP_MAX && at + 24 < len) {
                    at += (size_t)snprintf(sel + at, len - at, "%s%u:%u", count ? "," : "", i, a);
                    ++count;
                }
    }
    return count;
}

lrelu_status lrelu_group_create(lrelu_group **g, const char *devices)
{
    const char *fn = "lrelu_group_create";
    if (g == NULL)
        return lrelu_fail(LRELU_ERR_INVALID_ARG, "%s: g is NULL", fn);
    *g = NULL;
    char every[LRELU_GROUP_MAX * 24];
    const char *list = devices;
    if (devices == NULL || devices[0] == '\0' || strcmp(devices, "all") == 0) {
        int all = devices != NULL && devices[0] != '\0';
        if ((all || every_device(1, every, sizeof every) == 0) &&
            every_device(0, every, sizeof every) == 0)
            return lrelu_fail(LRELU_ERR_NO_DEVICE, "%s: no OpenCL device", fn);
        list = every;
    }
    lrelu_ctx *ctxs[LRELU_GROUP_MAX];
    size_t count = 0;
    lrelu_status st = LRELU_OK;
    for (const char *s = list; st == LRELU_OK;) {
        const char *end = strchr(s, ',');
        size_t len = end != NULL ? (size_t)(end - s) : strlen(s);
        char one[256];
        if (len == 0 || len >= sizeof one)
            st = lrelu_fail(LRELU_ERR_INVALID_ARG, "%s: selector %zu of \"%s\" is %s", fn, count,
                            list, len == 0 ? "empty" : "too long");
        else if (count == LRELU_GROUP_MAX)
            st = lrelu_fail(LRELU_ERR_INVALID_ARG, "%s: \"%s\" lists more than %d devices", fn,
                            list, LRELU_GROUP_MAX);
        if (st != LRELU_OK)
            break;
        memcpy(one, s, len);
        one[len] = '\0';
        if ((st = lrelu_create(&ctxs[count], one)) != LRELU_OK) {
            char e[1024];
            st = lrelu_fail(st, "%s: device %zu (\"%s\"): %s", fn, count, one,
                            last_message(e, sizeof e, fn));
            break;
        }
        ++count;
        if (end == NULL)
            break;
        s = end + 1;
    }
    if (st == LRELU_OK)
        st = group_new(g, count, ctxs, 1);
    if (st != LRELU_OK)
        for (size_t i = 0; i < count; ++i)
            lrelu_destroy(ctxs[i]);
    return st;
}

lrelu_status lrelu_group_create_from_ctxs(lrelu_group **g, size_t count, lrelu_ctx *const *ctxs)
{
    const char *fn = "lrelu_group_create_from_ctxs";
    if (g == NULL || ctxs == NULL)
        return lrelu_fail(LRELU_ERR_INVALID_ARG, "%s: %s is NULL", fn, g == NULL ? "g" : "ctxs");
    *g = NULL;
    if (count == 0 || count > LRELU_GROUP_MAX)
        return lrelu_fail(LRELU_ERR_INVALID_ARG, "%s: count %zu is not in 1..%d", fn, count,
                          LRELU_GROUP_MAX);
    for (size_t i = 0; i < count; ++i)
        if (ctxs[i] == NULL)
            return lrelu_fail(LRELU_ERR_INVALID_ARG, "%s: ctxs[%zu] is NULL", fn, i);
    return group_new(g, count, ctxs, 0);
}

void lrelu_group_destroy(lrelu_group *g)
{
    if (g == NULL)
        return;
    for (size_t i = 0; i < g->count && g->owned; ++i)
        lrelu_destroy(g->ctx[i]);
    pthread_mutex_destroy(&g->lock);
    free(g);
}

size_t lrelu_group_size(const lrelu_group *g) { return g != NULL ? g->count : 0; }

lrelu_ctx *lrelu_group_ctx(const lrelu_group *g, size_t i)
{
    return g != NULL && i < g->count ? g->ctx[i] : NULL;
}

lrelu_status lrelu_group_speeds(const lrelu_group *g, double *speeds)
{
    if (g == NULL || speeds == NULL)
        return lrelu_fail(LRELU_ERR_INVALID_ARG, "lrelu_group_speeds: %s is NULL",
                          g == NULL ? "g" : "speeds");
    pthread_mutex_lock((pthread_mutex_t *)&g->lock);
    memcpy(speeds, g->speed, g->count * sizeof *speeds);
    pthread_mutex_unlock((pthread_mutex_t *)&g->lock);
    return LRELU_OK;
}

lrelu_status lrelu_group_set_speeds(lrelu_group *g, const double *speeds)
{
    if (g == NULL)
        return lrelu_fail(LRELU_ERR_INVALID_ARG, "lrelu_group_set_speeds: g is NULL");
    for (size_t i = 0; speeds != NULL && i < g->count; ++i)
        if (!isfinite(speeds[i]) || !(speeds[i] > 0))
            return lrelu_fail(LRELU_ERR_INVALID_ARG,
                              "lrelu_group_set_speeds: speeds[%zu] %g is not finite and > 0", i,
                              speeds[i]);
    pthread_mutex_lock(&g->lock);
    for (size_t i = 0; i < g->count; ++i)
        g->speed[i] = speeds != NULL ? speeds[i] : 0;
    g->fixed = speeds != NULL;
    pthread_mutex_unlock(&g->lock);
    return LRELU_OK;
}

/* ---- elementwise and int8 ---- */

typedef struct {
    lrelu_op op;
    int q8;
    lrelu_dtype t;
    size_t n, es;
    double alpha;
    const lrelu_opts *opts;
    lrelu_opts o; /* resolved: the strides */
    lrelu_qtype qt;
    lrelu_quant in, out;
    const char *fn;
    const char *in0, *in1;
    char *dst;
} group_ew;

/* p's byte `at` on (NULL stays NULL, for the checks to name) */
static const char *byte_at(const char *p, size_t at) { return p != NULL ? p + at : NULL; }

static lrelu_status ew_call(lrelu_ctx *ctx, const group_ew *e, size_t first, size_t n,
                            lrelu_host_mode mode)
{
    size_t es = e->es;
    char *dst = (char *)byte_at(e->dst, first * e->o.dst_stride * es);
    if (e->q8)
        return lrelu_q8_host(ctx, e->fn, e->qt, n, e->alpha, e->in, e->out, byte_at(e->in0, first),
                             dst, mode);
    return lrelu_ew_host(ctx, e->fn, e->op, e->t, n, e->alpha, e->opts,
                         byte_at(e->in0, first * e->o.src_stride * es),
                         byte_at(e->in1, first * e->o.dy_stride * es), dst, mode);
}

static lrelu_status ew_check(lrelu_ctx *ctx, const void *call)
{
    const group_ew *e = call;
    return ew_call(ctx, e, 0, e->n, LRELU_HOST_CHECK);
}

static lrelu_status ew_shard(lrelu_ctx *ctx, const void *call, size_t first, size_t count,
                             size_t shard)
{
    (void)shard;
    return ew_call(ctx, call, first, count, LRELU_HOST_RUN);
}

static lrelu_status ew_run(lrelu_group *g, group_ew *e)
{
    lrelu_status st = group_check(g, e->fn, ew_check, e);
    if (st != LRELU_OK || e->n == 0)
        return st;
    group_task tasks[LRELU_GROUP_MAX];
    group_cut cut = {e->n, GROUP_GRAIN, e->es * (e->in1 != NULL ? 3 : 2)};
    size_t nt = group_plan(g, &cut, tasks);
    return group_launch(g, e->fn, ew_shard, e, tasks, nt);
}

/* The elementwise call's fields; the pointers may be anything the checks refuse. */
static group_ew ew_of(const char *fn, lrelu_op op, lrelu_dtype t, size_t n, double alpha,
                      const lrelu_opts *opts, const void *in0, const void *in1, void *out)
{
    group_ew e = {.op = op,
                  .t = t,
                  .n = n,
                  .es = lrelu_dtype_size(t),
                  .alpha = alpha,
                  .opts = opts,
                  .o = lrelu_opts_resolve(opts),
                  .fn = fn,
                  .in0 = in0,
                  .in1 = in1,
                  .dst = out};
    return e;
}

lrelu_status lrelu_group_split(const lrelu_group *g, lrelu_dtype t, size_t n, size_t *counts)
{
    if (g == NULL || counts == NULL || lrelu_dtype_size(t) == 0)
        return lrelu_fail(LRELU_ERR_INVALID_ARG, "lrelu_group_split: %s",
                          g == NULL        ? "g is NULL"
                          : counts == NULL ? "counts is NULL"
                                           : "dtype is not an lrelu_dtype");
    group_task tasks[LRELU_GROUP_MAX];
    group_cut cut = {n, GROUP_GRAIN, 2 * lrelu_dtype_size(t)};
    memset(counts, 0, g->count * sizeof *counts);
    size_t nt = group_plan((lrelu_group *)g, &cut, tasks);
    for (size_t i = 0; i < nt; ++i)
        counts[tasks[i].dev] = tasks[i].count;
    return LRELU_OK;
}

lrelu_status lrelu_group_forward_host_ex(lrelu_group *g, lrelu_dtype t, size_t n, double alpha,
                                         const lrelu_opts *opts, const void *x, void *y)
{
    group_ew e =
        ew_of("lrelu_group_forward_host_ex", LRELU_OP_FORWARD, t, n, alpha, opts, x, NULL, y);
    return ew_run(g, &e);
}

lrelu_status lrelu_group_backward_host_ex(lrelu_group *g, lrelu_dtype t, size_t n, double alpha,
                                          const lrelu_opts *opts, const void *x, const void *dy,
                                          void *dx)
{
    group_ew e =
        ew_of("lrelu_group_backward_host_ex", LRELU_OP_BACKWARD, t, n, alpha, opts, x, dy, dx);
    return ew_run(g, &e);
}

lrelu_status lrelu_group_backward_from_output_host_ex(lrelu_group *g, lrelu_dtype t, size_t n,
                                                      double alpha, const lrelu_opts *opts,
                                                      const void *y, const void *dy, void *dx)
{
    group_ew e = ew_of("lrelu_group_backward_from_output_host_ex", LRELU_OP_BACKWARD_FROM_OUTPUT, t,
                       n, alpha, opts, y, dy, dx);
    return ew_run(g, &e);
}

lrelu_status lrelu_group_forward_q8_host(lrelu_group *g, lrelu_qtype t, size_t n, double alpha,
                                         lrelu_quant in, lrelu_quant out, const void *x, void *y)
{
    group_ew e = ew_of("lrelu_group_forward_q8_host", LRELU_OP_FORWARD, LRELU_F32, n, alpha, NULL,
                       x, NULL, y);
    e.q8 = 1;
    e.es = 1;
    e.qt = t;
    e.in = in;
    e.out = out;
    return ew_run(g, &e);
}

/* ---- per-channel ---- */

typedef struct {
    lrelu_chan_host c;
    const char *fn;
    const char *x, *p, *dy;
    char *dx;
    void *ds;
    size_t row;    /* bytes of one outer row */
    int in_blocks; /* each shard leaves its block sums in blocks[shard], not ds */
    void *blocks[LRELU_GROUP_MAX];
} group_chan;

static lrelu_status chan_check(lrelu_ctx *ctx, const void *call)
{
    const group_chan *k = call;
    lrelu_chan_host c = k->c;
    c.mode = LRELU_HOST_CHECK;
    return lrelu_chan_host_call(ctx, k->fn, &c, k->x, k->p, k->dy, k->dx, k->ds);
}

static lrelu_status chan_shard(lrelu_ctx *ctx, const void *call, size_t first, size_t count,
                               size_t shard)
{
    const group_chan *k = call;
    lrelu_chan_host c = k->c;
    c.l.outer = count;
    size_t off = first * k->row;
    void *ds = k->ds;
    if (k->in_blocks) {
        c.mode = LRELU_HOST_BLOCKS;
        ds = k->blocks[shard];
    }
    return lrelu_chan_host_call(ctx, k->fn, &c, byte_at(k->x, off), k->p, byte_at(k->dy, off),
                                (char *)byte_at(k->dx, off), ds);
}

static lrelu_status chan_run(lrelu_group *g, group_chan *k)
{
    lrelu_status st = group_check(g, k->fn, chan_check, k);
    size_t n = lrelu_layout_count(k->c.l), es = lrelu_dtype_size(k->c.t);
    if (st != LRELU_OK || n == 0)
        return st;
    lrelu_layout l = k->c.l;
    int sums = k->c.backward && k->ds != NULL;
    size_t grain = sums ? lrelu_chan_block_rows(l.inner) : 1;
    k->row = l.channels * l.inner * es;
    size_t moved = k->c.backward ? (k->dx != NULL ? 3 : 2) : 2;
    group_task tasks[LRELU_GROUP_MAX];
    group_cut cut = {l.outer, grain, k->row * moved};
    size_t nt = group_plan(g, &cut, tasks);
    if (nt == 1 || !sums) /* one shard leaves ds itself */
        return group_launch(g, k->fn, chan_shard, k, tasks, nt);
    void **blocks = k->blocks;
    size_t nb[LRELU_GROUP_MAX], cs = k->c.t == LRELU_F64 ? 8 : 4;
    for (size_t i = 0; i < nt && st == LRELU_OK; ++i) {
        /* aligned as the device wraps host memory: the blocks start at a buffer's start */
        size_t align = g->ctx[tasks[i].dev]->base_align;
        align = align < 64 ? 64 : align;
        lrelu_layout sl = {tasks[i].count, l.channels, l.inner};
        nb[i] = lrelu_chan_blocks(sl);
        size_t bytes = (l.channels * nb[i] * cs + align - 1) / align * align;
        if (posix_memalign(&blocks[i], align, bytes) != 0) {
            blocks[i] = NULL;
            st = lrelu_fail(LRELU_ERR_OUT_OF_MEMORY, "%s: %zu bytes of block sums", k->fn, bytes);
        }
    }
    k->in_blocks = 1;
    if (st == LRELU_OK)
        st = group_launch(g, k->fn, chan_shard, k, tasks, nt);
    if (st == LRELU_OK)
        st =
            lrelu_chan_sums_combine(k->c.t, l.channels, nt, nb, (const void *const *)blocks, k->ds);
    for (size_t i = 0; i < nt; ++i)
        free(blocks[i]);
    return st;
}

static group_chan chan_of(const char *fn, lrelu_dtype t, lrelu_layout l, const lrelu_bias_act *p,
                          int backward, const void *x, const void *per, const void *dy, void *dx,
                          void *ds)
{
    group_chan k = {.c = {.t = t, .l = l, .bias_act = p != NULL, .backward = backward},
                    .fn = fn,
                    .x = x,
                    .p = per,
                    .dy = dy,
                    .dx = dx,
                    .ds = ds};
    if (p != NULL)
        k.c.p = *p;
    return k;
}

lrelu_status lrelu_group_prelu_forward_host(lrelu_group *g, lrelu_dtype t, lrelu_layout l,
                                            const void *x, const void *slope, void *y)
{
    group_chan k =
        chan_of("lrelu_group_prelu_forward_host", t, l, NULL, 0, x, slope, NULL, y, NULL);
    return chan_run(g, &k);
}

lrelu_status lrelu_group_prelu_backward_host(lrelu_group *g, lrelu_dtype t, lrelu_layout l,
                                             const void *x, const void *slope, const void *dy,
                                             void *dx, void *dslope)
{
    group_chan k =
        chan_of("lrelu_group_prelu_backward_host", t, l, NULL, 1, x, slope, dy, dx, dslope);
    return chan_run(g, &k);
}

lrelu_status lrelu_group_bias_act_forward_host(lrelu_group *g, lrelu_dtype t, lrelu_layout l,
                                               lrelu_bias_act p, const void *x, const void *bias,
                                               void *y)
{
    group_chan k =
        chan_of("lrelu_group_bias_act_forward_host", t, l, &p, 0, x, bias, NULL, y, NULL);
    return chan_run(g, &k);
}

lrelu_status lrelu_group_bias_act_backward_host(lrelu_group *g, lrelu_dtype t, lrelu_layout l,
                                                lrelu_bias_act p, const void *x, const void *bias,
                                                const void *dy, void *dx, void *dbias)
{
    group_chan k =
        chan_of("lrelu_group_bias_act_backward_host", t, l, &p, 1, x, bias, dy, dx, dbias);
    return chan_run(g, &k);
}
