/* crew.c: threads kept alive between host calls that share an in-process call with the
 * calling thread, so that mid-size arrays on a CPU device use every core without paying
 * for a kernel launch or a thread start.
 *
 * A call is cut into one contiguous part per thread (the calling thread's is the first),
 * each of a few chunks, claimed one at a time from the part's atomic ticket (generation |
 * end | next chunk). Every thread works through its own part first, so that calls
 * repeated on the same arrays find each part in the cache of the core that did it last
 * time, and then takes chunks left in the others' parts. The calling thread starts at
 * once and never waits for a helper to wake: a helper that is late, or absent, only
 * leaves it more chunks. It waits at the end only for chunks that helpers have claimed.
 * Helpers spin for a short while after each call (calls tend to come in runs), then
 * sleep on a condition variable.
 *
 * Where a helper runs matters as much. Linux may queue a woken (or new) helper on the
 * CPU of the thread that woke it, even with another CPU idle: on KVM guests an idle
 * vCPU looks preempted, so the wake-up does not pick it. There the helper waits for the
 * caller, which never blocks, until the load balancer moves it, often milliseconds: on
 * 2 vCPUs, blocks of 70 calls at 2^16 f32 after a pause ran whole on one thread. So a
 * caller that wakes helpers gives up its core once, and a helper that finds itself on
 * the CPU its caller last published from steps aside: it narrows its affinity to the
 * other CPUs it may use, which moves it at once, and widens it back. It does so only
 * where the crew has no more threads than it has CPUs, and never touches the caller.
 *
 * Why a ticket holds all three: a compare-and-swap can only succeed while its
 * generation is current and chunks are left in the part, and the calling thread does not
 * touch the job again until every claimed chunk is done; so a claimed chunk always reads
 * the job it was claimed from. */
#define _GNU_SOURCE /* sched_getcpu, sched_setaffinity and CPU_SET; clock_gettime */
#include "cpu/cpu.h"

#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

/* How long a helper spins for the next call before it sleeps. */
#define CREW_SPIN_NS     100000
#define CREW_MAX_THREADS 64

/* a part's ticket = generation << 32 | end << 16 | next (chunk numbers of the call) */
#define T_GEN(t)  ((uint32_t)((t) >> 32))
#define T_END(t)  ((uint32_t)((t) >> 16) & 0xffffu)
#define T_NEXT(t) ((uint32_t)(t)&0xffffu)

/* a helper's argument: its crew and its part */
typedef struct {
    lrelu_crew *crew;
    int part;
} helper_arg;

/* A part's ticket 64 bytes from the next, so that each lies on a cache line of its own
 * (calloc's alignment suffices for that): each thread claims from its own part without
 * taking the line from the others. */
typedef struct {
    _Atomic uint64_t ticket;
    // cppcheck-suppress unusedStructMember
    char pad[56];
} crew_part;

struct lrelu_crew {
    crew_part part[CREW_MAX_THREADS + 1];
    /* what every thread writes, apart from the job they read */
    _Atomic uint32_t done; /* chunks finished in the current generation */
    _Atomic int sleepers;
    // cppcheck-suppress unusedStructMember
    char pad[56];
    _Atomic uint32_t gen_pub; /* the call to join: set after its parts */
    _Atomic int stop;
    _Atomic int caller_cpu; /* where the calling thread last published a call; -1: unknown */
    atomic_flag busy;       /* one call at a time; another caller runs alone */
    uint32_t gen;           /* the calling side's: the last generation handed out */
    /* the current call: written before its parts are published */
    lrelu_crew_body body;
    const void *job;
    size_t n, chunk;
    int parts; /* threads + 1: the calling thread's part first, then one per helper */
    int size;  /* the threads asked for with the caller's, set before any starts */
    pthread_mutex_t lock;
    pthread_cond_t wake;
    int threads; /* helpers started */
    pthread_t thread[CREW_MAX_THREADS];
    helper_arg arg[CREW_MAX_THREADS];
};

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Claims and runs chunks of generation gen from part p, then from the others, until none
 * is left. */
static void work(lrelu_crew *c, uint32_t gen, int p)
{
    for (int k = 0; k < c->parts; ++k) {
        _Atomic uint64_t *ticket = &c->part[(p + k) % c->parts].ticket;
        uint64_t t = atomic_load_explicit(ticket, memory_order_acquire);
        while (T_GEN(t) == gen && T_NEXT(t) < T_END(t)) {
            if (!atomic_compare_exchange_weak_explicit(ticket, &t, t + 1, memory_order_acq_rel,
                                                       memory_order_acquire))
                continue;
            size_t first = (size_t)T_NEXT(t) * c->chunk;
            c->body(c->job, first, c->n - first < c->chunk ? c->n - first : c->chunk);
            atomic_fetch_add_explicit(&c->done, 1, memory_order_release);
            t = atomic_load_explicit(ticket, memory_order_acquire);
        }
    }
}

/* Waits for a generation other than seen (or stop) and returns it. */
static uint32_t next_call(lrelu_crew *c, uint32_t seen)
{
    uint64_t start = now_ns();
    for (unsigned i = 1;; ++i) {
        uint32_t g = atomic_load_explicit(&c->gen_pub, memory_order_acquire);
        if (g != seen || atomic_load_explicit(&c->stop, memory_order_relaxed))
            return g;
        cpu_relax();
        if (i % 64 == 0 && now_ns() - start > CREW_SPIN_NS)
            break;
        if (i % 1024 == 0) /* give the core back now and then, should others want it */
            sched_yield();
    }
    /* sleep; sleepers is raised before the generation is read again, and the caller reads
     * sleepers after publishing it (both sequentially consistent): one of the two sees
     * the other, so no wake-up is lost */
    pthread_mutex_lock(&c->lock);
    atomic_fetch_add(&c->sleepers, 1);
    uint32_t g;
    while ((g = atomic_load(&c->gen_pub)) == seen && !atomic_load(&c->stop))
        pthread_cond_wait(&c->wake, &c->lock);
    atomic_fetch_sub(&c->sleepers, 1);
    pthread_mutex_unlock(&c->lock);
    return g;
}

static int current_cpu(void)
{
#ifdef __linux__
    return sched_getcpu();
#else
    return -1;
#endif
}

#ifdef __linux__
/* The CPUs a helper may run on, read at its start (inherited from the thread that
 * created the crew), and whether it may step aside at all: more than one of them, and
 * no more threads in the crew than them. */
typedef struct {
    cpu_set_t cpus;
    int movable;
} helper_cpus;

static void helper_cpus_init(helper_cpus *hc, const lrelu_crew *c)
{
    hc->movable = sched_getaffinity(0, sizeof hc->cpus, &hc->cpus) == 0 &&
                  CPU_COUNT(&hc->cpus) > 1 && c->size <= CPU_COUNT(&hc->cpus);
}

/* Off the calling thread's CPU, should this helper be on it (see the top of the file). */
static void step_aside(const lrelu_crew *c, const helper_cpus *hc)
{
    int cc = atomic_load_explicit(&c->caller_cpu, memory_order_relaxed);
    if (!hc->movable || cc < 0 || cc >= CPU_SETSIZE || !CPU_ISSET(cc, &hc->cpus) ||
        sched_getcpu() != cc)
        return;
    cpu_set_t away = hc->cpus;
    CPU_CLR(cc, &away);
    if (sched_setaffinity(0, sizeof away, &away) == 0)
        (void)sched_setaffinity(0, sizeof hc->cpus, &hc->cpus);
}
#else
typedef int helper_cpus;
static void helper_cpus_init(helper_cpus *hc, const lrelu_crew *c)
{
    (void)c;
    *hc = 0;
}
static void step_aside(const lrelu_crew *c, const helper_cpus *hc)
{
    (void)c;
    (void)hc;
}
#endif

static void *helper(void *arg)
{
    helper_arg *h = arg;
    lrelu_crew *c = h->crew;
    uint32_t seen = atomic_load(&c->gen_pub);
    helper_cpus hc;
    helper_cpus_init(&hc, c);
    step_aside(c, &hc);
    for (;;) {
        seen = next_call(c, seen);
        if (atomic_load_explicit(&c->stop, memory_order_relaxed))
            return NULL;
        step_aside(c, &hc);
        work(c, seen, h->part);
    }
}

void lrelu_crew_destroy(lrelu_crew *c)
{
    if (c == NULL)
        return;
    pthread_mutex_lock(&c->lock);
    atomic_store(&c->stop, 1);
    pthread_cond_broadcast(&c->wake);
    pthread_mutex_unlock(&c->lock);
    for (int i = 0; i < c->threads; ++i)
        pthread_join(c->thread[i], NULL);
    pthread_cond_destroy(&c->wake);
    pthread_mutex_destroy(&c->lock);
    free(c);
}

lrelu_crew *lrelu_crew_create(int helpers)
{
    if (helpers < 1)
        return NULL;
    if (helpers > CREW_MAX_THREADS)
        helpers = CREW_MAX_THREADS;
    lrelu_crew *c = calloc(1, sizeof *c);
    if (c == NULL)
        return NULL;
    atomic_init(&c->gen_pub, 0);
    for (int i = 0; i <= CREW_MAX_THREADS; ++i)
        atomic_init(&c->part[i].ticket, 0);
    atomic_init(&c->done, 0);
    atomic_init(&c->stop, 0);
    atomic_init(&c->sleepers, 0);
    atomic_init(&c->caller_cpu, current_cpu());
    atomic_flag_clear(&c->busy);
    if (pthread_mutex_init(&c->lock, NULL) != 0) {
        free(c);
        return NULL;
    }
    if (pthread_cond_init(&c->wake, NULL) != 0) {
        pthread_mutex_destroy(&c->lock);
        free(c);
        return NULL;
    }
    /* the helpers take no signals: the caller's handlers run on the caller's threads */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    c->size = helpers + 1;
    for (int i = 0; i < helpers; ++i)
        c->arg[i] = (helper_arg){c, i + 1};
    while (c->threads < helpers &&
           pthread_create(&c->thread[c->threads], NULL, helper, &c->arg[c->threads]) == 0)
        c->threads++;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (c->threads == 0) {
        lrelu_crew_destroy(c);
        return NULL;
    }
    c->parts = c->threads + 1; /* before any call, which the helpers learn of by an atomic */
    sched_yield();             /* should the helpers have been queued behind this thread */
    return c;
}

int lrelu_crew_run(lrelu_crew *c, int may_wake, size_t n, size_t es, lrelu_crew_body body,
                   const void *job)
{
    if (c == NULL || atomic_flag_test_and_set_explicit(&c->busy, memory_order_acquire))
        return 0;
    if (!may_wake && atomic_load(&c->sleepers) == c->threads) {
        atomic_flag_clear_explicit(&c->busy, memory_order_release);
        return 0;
    }
    /* one part per thread of about 8 chunks, each at least 16 KiB of output and a whole
     * number of 64-element blocks (cache lines for every dtype), at most 0xffff in all;
     * elements of 64 bytes or more (a block of a call each) are chunked singly */
    int parts = c->parts;
    size_t per = (size_t)8 * (size_t)parts;
    size_t chunk = (n + per - 1) / per, least = ((size_t)16 << 10) / es;
    chunk = chunk < least ? least : chunk;
    if (chunk < (n + 0xfffe) / 0xffff)
        chunk = (n + 0xfffe) / 0xffff;
    if (es < 64)
        chunk = (chunk + 63) & ~(size_t)63;
    uint32_t chunks = (uint32_t)((n + chunk - 1) / chunk);
    uint32_t each = (chunks + (uint32_t)parts - 1) / (uint32_t)parts;
    c->body = body;
    c->job = job;
    c->n = n;
    c->chunk = chunk;
    atomic_store_explicit(&c->done, 0, memory_order_relaxed);
    uint32_t gen = ++c->gen;
    for (uint32_t p = 0; p < (uint32_t)parts; ++p) {
        uint32_t begin = p * each < chunks ? p * each : chunks;
        uint32_t end = begin + each < chunks ? begin + each : chunks;
        atomic_store_explicit(&c->part[p].ticket, (uint64_t)gen << 32 | (uint64_t)end << 16 | begin,
                              memory_order_relaxed);
    }
    atomic_store_explicit(&c->caller_cpu, current_cpu(), memory_order_relaxed);
    atomic_store(&c->gen_pub, gen);
    if (may_wake && atomic_load(&c->sleepers) > 0) {
        pthread_mutex_lock(&c->lock);
        pthread_cond_broadcast(&c->wake);
        pthread_mutex_unlock(&c->lock);
        sched_yield(); /* should a helper have been queued behind this thread */
    }
    work(c, gen, 0);
    /* what is left are chunks helpers claimed; should one of them have been preempted
     * (more runnable threads than cores), yield the core rather than spin it away */
    for (unsigned i = 1; atomic_load_explicit(&c->done, memory_order_acquire) != chunks; ++i) {
        cpu_relax();
        if (i % 1024 == 0)
            sched_yield();
    }
    atomic_flag_clear_explicit(&c->busy, memory_order_release);
    return 1;
}
