/* test_crew.c: the helper threads of the in-process path (host/crew.c), driven directly
 * with a loop that counts what it touches: every element is done exactly once whatever
 * the size and however the chunks fall, helpers really take chunks, a call made while
 * the crew is busy (here: from inside its own call) is refused rather than queued, a call
 * that may not wake sleeping helpers is refused once they sleep, and destroying the crew
 * stops its threads whether they spin or sleep. The library's own results through the
 * crew are checked bit for bit by host/api_crew and threads/shared_ctx_crew. */
#define _POSIX_C_SOURCE 200809L
#include "internal.h"

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

/* out[i] += 1 over the chunk; alpha: microseconds to linger per chunk; a negative alpha
 * also tries a call on the crew from inside this one, from whichever thread runs it */
static void count(lrelu_dtype t, size_t n, double alpha, const void *s, const void *v, void *out)
{
    (void)t;
    (void)s;
    (void)v;
    uint32_t *o = out;
    for (size_t i = 0; i < n; ++i)
        o[i] += 1;
    if (!pthread_equal(pthread_self(), caller))
        atomic_fetch_add(&helper_chunks, 1);
    if (alpha < 0) {
        uint32_t one = 0;
        if (!lrelu_crew_run(crew, 1, count, LRELU_F32, 1, 0.0, &one, &one, &one))
            atomic_fetch_add(&nested_refused, 1);
    }
    if (alpha != 0)
        pause_us(alpha < 0 ? -alpha : alpha);
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
    int ran = lrelu_crew_run(crew, may_wake, count, LRELU_F32, n, alpha, buf + GUARD + at,
                             buf + GUARD + at, buf + GUARD + at);
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

int main(void)
{
    caller = pthread_self();
    CHECK(lrelu_crew_create(0) == NULL, "a crew of no helpers is no crew");
    CHECK(!lrelu_crew_run(NULL, 1, count, LRELU_F32, 10, 0.0, &caller, &caller, &caller),
          "no crew runs nothing");

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

    printf("%s\n", failures == 0 ? "crew: all passed" : "crew: FAILED");
    return failures == 0 ? 0 : 1;
}
