/* test_crew.c: the helper threads of the in-process path (host/cpu/crew.c), driven directly
 * with a loop that counts what it touches: every element is done exactly once whatever
 * the size and however the chunks fall, helpers really take chunks, a call made while
 * the crew is busy (here: from inside its own call) is refused rather than queued, a call
 * that may not wake sleeping helpers is refused once they sleep, and destroying the crew
 * stops its threads whether they spin or sleep, and helpers that step off the caller's
 * CPU leave every thread free to run where it could before. The library's own results through the
 * crew are checked bit for bit by host/api_crew and threads/shared_ctx_crew. */
#define _GNU_SOURCE /* sched_setaffinity, CPU_SET */
#include "cpu/cpu.h"

#include <dirent.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static pthread_t caller;
static _Atomic size_t helper_chunks, nested_refused;
static lrelu_crew *crew;

static void pause_us(double us)
{
    struct timespec ts = {0, (long)(us * 1e3)}; /* under a second here */
    nanosleep(&ts, NULL);
}

/* A call: the counts, and linger, microseconds to linger per chunk; a negative linger
 * also tries a call on the crew from inside this one, from whichever thread runs it */
typedef struct {
    uint32_t *out;
    double linger;
} count_job;

/* out[i] += 1 over the chunk */
static void count(const void *job, size_t first, size_t n)
{
    const count_job *j = job;
    for (size_t i = first; i < first + n; ++i)
        j->out[i] += 1;
    if (!pthread_equal(pthread_self(), caller))
        atomic_fetch_add(&helper_chunks, 1);
    if (j->linger < 0) {
        uint32_t one = 0;
        count_job inner = {&one, 0.0};
        if (!lrelu_crew_run(crew, 1, 1, 4, count, &inner))
            atomic_fetch_add(&nested_refused, 1);
    }
    if (j->linger != 0)
        pause_us(j->linger < 0 ? -j->linger : j->linger);
}

static size_t failures;
#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            printf("FAIL %s:%d: ", __FILE__, __LINE__);                                            \
            printf(__VA_ARGS__);                                                                   \
            printf("\n");                                                                          \
            ++failures;                                                                            \
        }                                                                                          \
    } while (0)

/* runs n elements from element `at` of a guarded array; every element once, none around */
static int run_once(size_t n, size_t at, double alpha, int may_wake)
{
    const size_t GUARD = 64;
    uint32_t *buf = calloc(n + at + 2 * GUARD, sizeof *buf);
    if (buf == NULL)
        return 0;
    count_job j = {buf + GUARD + at, alpha};
    int ran = lrelu_crew_run(crew, may_wake, n, sizeof *buf, count, &j);
    if (ran) {
        size_t bad = 0;
        for (size_t i = 0; i < n + at + 2 * GUARD; ++i) {
            uint32_t want = i >= GUARD + at && i < GUARD + at + n;
            if (buf[i] != want && bad++ < 3)
                CHECK(0, "n %zu at %zu: element %zu touched %u times, want %u", n, at, i, buf[i],
                      want);
        }
    }
    free(buf);
    return ran;
}

#ifdef __linux__
/* How many of this process's threads may not run on every CPU in `want`, or differ
 * from it otherwise (from /proc/self/task/N/status); -1 if that cannot be read. */
static int threads_not_on(const char *want)
{
    DIR *d = opendir("/proc/self/task");
    if (d == NULL)
        return -1;
    int off = 0;
    const struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char path[300], line[512];
        snprintf(path, sizeof path, "/proc/self/task/%s/status", e->d_name);
        FILE *f = fopen(path, "r");
        if (f == NULL)
            continue; /* a thread that ended */
        while (fgets(line, sizeof line, f) != NULL)
            if (strncmp(line, "Cpus_allowed_list:", 18) == 0 && strcmp(line + 18, want) != 0)
                ++off;
        fclose(f);
    }
    closedir(d);
    return off;
}

/* Helpers woken by a caller pinned to one CPU are queued there by Linux often (KVM
 * guests, always); they step aside by narrowing their affinity, and must widen it back. */
static void check_step_aside(void)
{
    char want[512] = "";
    FILE *f = fopen("/proc/self/status", "r");
    if (f == NULL)
        return;
    char line[512];
    while (fgets(line, sizeof line, f) != NULL)
        if (strncmp(line, "Cpus_allowed_list:", 18) == 0)
            snprintf(want, sizeof want, "%s", line + 18);
    fclose(f);
    cpu_set_t all, one;
    if (sched_getaffinity(0, sizeof all, &all) != 0 || CPU_COUNT(&all) < 2)
        return; /* nothing to step aside to */
    crew = lrelu_crew_create(1);
    CHECK(crew != NULL, "lrelu_crew_create(1)");
    if (crew == NULL)
        return;
    int cpu = sched_getcpu();
    CPU_ZERO(&one);
    CPU_SET(cpu, &one);
    CHECK(sched_setaffinity(0, sizeof one, &one) == 0, "pinning the caller to CPU %d", cpu);
    for (int round = 0; round < 5; ++round) {
        pause_us(20000.0); /* the helper sleeps */
        for (int i = 0; i < 50; ++i)
            CHECK(run_once(100000, 0, 0.0, 1), "a free crew refused a call");
    }
    CHECK(sched_setaffinity(0, sizeof all, &all) == 0, "unpinning the caller");
    /* A helper that wakes late for the last call steps aside after it returned, and once
     * narrowed waits for a turn on its other CPU before it widens back: on a loaded
     * machine that took longer than the check (1 run in 15 beside a ctest -j2 here). So
     * the helpers get up to 2 s to be back, and must be. */
    int off = threads_not_on(want);
    for (int tries = 0; off != 0 && tries < 100; ++tries) {
        pause_us(20000.0);
        off = threads_not_on(want);
    }
    const char *cpus = want + strspn(want, " \t");
    CHECK(off == 0, "%d threads no longer may run on CPUs %.*s", off, (int)strcspn(cpus, "\n"),
          cpus);
    lrelu_crew_destroy(crew);
}
#endif

int main(void)
{
    caller = pthread_self();
    CHECK(lrelu_crew_create(0) == NULL, "a crew of no helpers is no crew");
    uint32_t none[10] = {0};
    count_job nj = {none, 0.0};
    CHECK(!lrelu_crew_run(NULL, 1, 10, 4, count, &nj) && none[0] == 0, "no crew runs nothing");

    crew = lrelu_crew_create(3); /* more threads than this machine's cores, on purpose */
    CHECK(crew != NULL, "lrelu_crew_create(3)");
    if (crew == NULL)
        return 1;

    /* sizes around the 64-element rounding and the chunk counts, at odd offsets */
    static const size_t sizes[] = {1, 63, 64, 65, 4095, 4096, 4097, 100003, 1 << 20, 3000017};
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; ++k)
        for (size_t at = 0; at < 3; ++at)
            CHECK(run_once(sizes[k], at, 0.0, 1), "n %zu: a free crew refused a call", sizes[k]);

    /* helpers take part: chunks that linger give them time to wake and claim */
    atomic_store(&helper_chunks, 0);
    for (int i = 0; i < 20 && atomic_load(&helper_chunks) == 0; ++i)
        run_once((size_t)1 << 20, 0, 200.0, 1);
    CHECK(atomic_load(&helper_chunks) > 0, "no helper took a chunk in 20 calls");

    /* busy: a call from inside a call is refused, and the outer one still completes */
    atomic_store(&nested_refused, 0);
    CHECK(run_once(100000, 1, -1.0, 1), "the outer call ran");
    CHECK(atomic_load(&nested_refused) > 0, "a nested call was not refused");

    /* once every helper sleeps, a call that may not wake them is refused; one that may
     * wake them runs (a helper descheduled past its spin can keep this from showing on a
     * loaded machine, hence the tries) */
    int refused = 0;
    for (int i = 0; i < 50 && !refused; ++i) {
        pause_us(20000.0);
        refused = !run_once(4096, 0, 0.0, 0);
    }
    CHECK(refused, "calls that may not wake sleeping helpers ran anyway");
    CHECK(run_once(4096, 0, 0.0, 1), "a call that may wake them was refused");

    lrelu_crew_destroy(crew); /* helpers spinning after that call */
    crew = lrelu_crew_create(2);
    CHECK(crew != NULL, "lrelu_crew_create(2)");
    pause_us(20000.0);
    lrelu_crew_destroy(crew); /* helpers asleep */
    lrelu_crew_destroy(NULL);
#ifdef __linux__
    check_step_aside();
#endif

    printf("%s\n", failures == 0 ? "crew: all passed" : "crew: FAILED");
    return failures == 0 ? 0 : 1;
}
