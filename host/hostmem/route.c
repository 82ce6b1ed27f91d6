/* route.c: where a host-memory call runs, decided here alone, from one table of
 * thresholds in bytes moved (inputs and outputs together): in-process through the
 * vectorized loops (cpu/), in-process through the reference's scalar loop, or on the
 * device, wrapping the caller's arrays (zero copy) or copying them through device
 * buffers. The thresholds were measured with bench/ on PoCL; docs/performance.md has the
 * measurements. */
#include "hostmem/hostmem.h"

#include <string.h>

/* The defaults for a device that is the host's own CPU, per dtype (f32, f16, bf16, f64). */
static const struct {
    /* in-process up to: with the AVX2 or AVX-512 loops shared over threads, every size
     * (no crossover was found); the same loops on one thread, 8 MiB; the portable loops
     * (and the _ex calls, which run the reference's loop), where each overtook a launch */
    size_t wide[LRELU_NUM_DTYPES], wide_alone[LRELU_NUM_DTYPES], base[LRELU_NUM_DTYPES];
    /* the crew shares a call from: where two threads beat one */
    size_t crew[LRELU_NUM_DTYPES];
    /* stores stream past the caches from: where the arrays outgrow them */
    size_t stream;
    /* the reference's loop runs the per-channel and int8 calls up to, where no faster
     * loop takes them: below a launch's round trip */
    size_t reference;
    /* the device path streams a call in chunks of at most (the device's largest
     * allocation caps it); the copying path's staging buffers (2 pipelines x 3 operands)
     * take chunks of at most, still moving at full transfer speed */
    size_t chunk, staging_chunk;
} defaults = {
    .wide = {SIZE_MAX, SIZE_MAX, SIZE_MAX, SIZE_MAX},
    .wide_alone = {(size_t)8 << 20, (size_t)8 << 20, (size_t)8 << 20, (size_t)8 << 20},
    .base = {(size_t)768 << 10, (size_t)64 << 10, (size_t)192 << 10, (size_t)1536 << 10},
    .crew = {(size_t)128 << 10, (size_t)256 << 10, (size_t)64 << 10, (size_t)256 << 10},
    .stream = (size_t)32 << 20,
    .reference = (size_t)128 << 10,
    .chunk = (size_t)64 << 20,
    .staging_chunk = (size_t)16 << 20,
};

void lrelu_route_init(lrelu_ctx *c, int unified, long cpus)
{
    const lrelu_config *cfg = &c->config;
    /* wrap the caller's arrays where the device works on host memory (PoCL, integrated
     * GPUs), unless told to copy */
    c->zero_copy = unified && !(cfg->host_zero_copy.set && !cfg->host_zero_copy.v[0]);
    c->cpu = lrelu_cpu_pick(cfg->host_simd);
    /* threads for in-process calls: one per compute unit of the (CPU) device, no more
     * than the creating thread may run on; 1 keeps calls on the calling thread */
    long n = cpus > 0 && (long)c->units > cpus ? cpus : (long)c->units;
    if (cfg->host_threads.set)
        n = cfg->host_threads.v[0] > 65 ? 65 : (long)cfg->host_threads.v[0];
    c->threads = n < 1 ? 1 : n > 65 ? 65 : (int)n;
    c->stream_bytes = cfg->stream_bytes.set ? (size_t)cfg->stream_bytes.v[0] : defaults.stream;
    int set = cfg->inprocess_bytes.set;
    size_t all = set ? (size_t)cfg->inprocess_bytes.v[0] : 0;
    int wide = strcmp(c->cpu->name, "base") != 0;
    const size_t *inprocess = !wide                             ? defaults.base
                              : c->threads > 1 || c->units == 1 ? defaults.wide
                                                                : defaults.wide_alone;
    for (int t = 0; t < LRELU_NUM_DTYPES; ++t) {
        c->crew_bytes[t] = cfg->crew_bytes.set ? (size_t)cfg->crew_bytes.v[0] : defaults.crew[t];
        c->inprocess_bytes[t] = set ? all : c->host_cpu ? inprocess[t] : 0;
        c->inprocess_ex_bytes[t] = set ? all : c->host_cpu ? defaults.base[t] : 0;
    }
    /* one setting moves every threshold: the reference's goes with f32's */
    c->reference_bytes = set ? all : c->host_cpu ? defaults.reference : 0;
    /* a lower chunk tests the streaming path on small arrays, or bounds the device
     * memory a host call takes */
    c->host_chunk_bytes = cfg->host_chunk.set && cfg->host_chunk.v[0] < SIZE_MAX
                              ? (size_t)cfg->host_chunk.v[0]
                              : defaults.chunk;
    if (c->max_alloc != 0 && c->host_chunk_bytes > c->max_alloc)
        c->host_chunk_bytes = (size_t)c->max_alloc;
    c->staging_chunk_bytes =
        c->host_chunk_bytes < defaults.staging_chunk ? c->host_chunk_bytes : defaults.staging_chunk;
}

lrelu_route lrelu_route_host(const lrelu_ctx *ctx, const lrelu_host_call *c)
{
    size_t fast = ctx->inprocess_bytes[c->kind == LRELU_HOST_Q8 ? LRELU_F32 : c->t];
    switch (c->kind) {
    case LRELU_HOST_PLAIN:
        if (c->bytes <= fast)
            return LRELU_ROUTE_INPROCESS;
        break;
    case LRELU_HOST_EX: /* blending or strides: the reference's loop */
        if (c->bytes <= ctx->inprocess_ex_bytes[c->t])
            return LRELU_ROUTE_REFERENCE;
        break;
    case LRELU_HOST_CHANNELS_SLOW: /* the kernels are as fast from the streaming size on */
        if (c->bytes <= fast && c->bytes < ctx->stream_bytes)
            return LRELU_ROUTE_INPROCESS;
        if (c->bytes <= ctx->reference_bytes)
            return LRELU_ROUTE_REFERENCE;
        break;
    case LRELU_HOST_CHANNELS:
    case LRELU_HOST_Q8:
        if (c->bytes <= fast)
            return LRELU_ROUTE_INPROCESS;
        if (c->bytes <= ctx->reference_bytes)
            return LRELU_ROUTE_REFERENCE;
        break;
    }
    return ctx->zero_copy && c->wrappable ? LRELU_ROUTE_ZERO_COPY : LRELU_ROUTE_COPY;
}
