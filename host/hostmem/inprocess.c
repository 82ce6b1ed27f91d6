/* inprocess.c: how a host call runs in-process: on the calling thread, shared with the
 * ctx's crew of helper threads from a size on, and whether its stores stream past the
 * caches. route.c decides whether a call runs here at all. */
#include "hostmem/hostmem.h"

/* The crew of ctx, started on first use; NULL when it has none (one thread, or none could
 * start). */
static lrelu_crew *ctx_crew(lrelu_ctx *ctx)
{
    lrelu_crew *c = atomic_load_explicit(&ctx->crew, memory_order_acquire);
    if (c != NULL || ctx->threads < 2)
        return c;
    pthread_mutex_lock(&ctx->lock);
    if (!ctx->crew_started) {
        ctx->crew_started = 1;
        atomic_store_explicit(&ctx->crew, lrelu_crew_create(ctx->threads - 1),
                              memory_order_release);
    }
    pthread_mutex_unlock(&ctx->lock);
    return atomic_load_explicit(&ctx->crew, memory_order_acquire);
}

void lrelu_inprocess_run(lrelu_ctx *ctx, size_t crew_bytes, size_t n, size_t es, size_t bytes,
                         lrelu_crew_body body, const void *job)
{
    if (bytes < crew_bytes ||
        !lrelu_crew_run(ctx_crew(ctx), bytes / 4 >= crew_bytes, n, es, body, job))
        body(job, 0, n);
}

/* In place, a non-temporal store saves nothing: the line was just read into the cache,
 * and writing it past the cache is slower (docs/performance.md, design measurements). */
int lrelu_inprocess_streams(const lrelu_ctx *ctx, size_t bytes, const void *out, const void *in0,
                            const void *in1)
{
    return bytes >= ctx->stream_bytes && out != in0 && out != in1;
}

lrelu_cpu_fn lrelu_inprocess_loop(const lrelu_ctx *ctx, int stream)
{
    return stream ? ctx->cpu->stream : ctx->cpu->run;
}
