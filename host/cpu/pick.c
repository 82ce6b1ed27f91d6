/* pick.c: the host-memory API's in-process path. When the ctx's device is the host CPU,
 * an array below a measured crossover is done right here: a kernel launch costs tens of
 * microseconds, the loop a fraction of one. The loops are in loops.h; this file holds
 * their portable copy and picks, once per ctx, the widest copy the CPU runs. */
#define LRELU_CPU_FN(name) name##_base
#include "cpu/loops.h"

#include <string.h>

#ifdef LRELU_CPU_X86
#include <cpuid.h>
#endif

/* A copy's entry points (loops.h, built with that copy's flags) */
#define LRELU_CPU_COPY(name)                                                                       \
    void lrelu_cpu_run_##name(lrelu_dtype t, size_t n, double alpha, const void *av,               \
                              const void *s, const void *v, void *out);                            \
    void lrelu_cpu_stream_##name(lrelu_dtype t, size_t n, double alpha, const void *av,            \
                                 const void *s, const void *v, void *out);                         \
    void lrelu_cpu_bias_act_##name(lrelu_dtype t, size_t n, const lrelu_cpu_bact *k,               \
                                   const void *x, void *y);                                        \
    void lrelu_cpu_expand_##name(void *dst, const void *per, size_t first, size_t n, size_t inner, \
                                 size_t C, size_t es);                                             \
    void lrelu_cpu_q8_##name(lrelu_qtype t, size_t n, const lrelu_q8_args *k, const void *x,       \
                             void *y);                                                             \
    void lrelu_cpu_q8_stream_##name(lrelu_qtype t, size_t n, const lrelu_q8_args *k,               \
                                    const void *x, void *y);                                       \
    void lrelu_cpu_chan_bwd_##name(const lrelu_cpu_cbwd *k, size_t first, size_t n);               \
    void lrelu_cpu_rows_##name(lrelu_dtype t, size_t n, const lrelu_cpu_rows *k, const void *s,    \
                               const void *v, void *out);                                          \
    void lrelu_cpu_rows_stream_##name(lrelu_dtype t, size_t n, const lrelu_cpu_rows *k,            \
                                      const void *s, const void *v, void *out);                    \
    void lrelu_cpu_bias_act_rows_##name(lrelu_dtype t, size_t n, const lrelu_cpu_bact *k,          \
                                        const lrelu_cpu_rows *r, const void *x, void *y);
#define LRELU_CPU_ENTRY(isa)                                                                       \
    {                                                                                              \
        .name = #isa, .run = lrelu_cpu_run_##isa, .stream = lrelu_cpu_stream_##isa,                \
        .bias_act = lrelu_cpu_bias_act_##isa, .expand = lrelu_cpu_expand_##isa,                    \
        .q8 = lrelu_cpu_q8_##isa, .q8_stream = lrelu_cpu_q8_stream_##isa,                          \
        .chan_bwd = lrelu_cpu_chan_bwd_##isa, .rows = lrelu_cpu_rows_##isa,                        \
        .rows_stream = lrelu_cpu_rows_stream_##isa, .bias_act_rows = lrelu_cpu_bias_act_rows_##isa \
    }
#ifdef LRELU_CPU_X86
LRELU_CPU_COPY(avx2)
LRELU_CPU_COPY(avx512)
#endif

/* Widest first. A copy is offered when the build made it and the CPU (and the OS, which
 * must save the wider registers: __builtin_cpu_supports checks both) runs it. */
static const lrelu_cpu_copy copies[] = {
#ifdef LRELU_CPU_X86
    LRELU_CPU_ENTRY(avx512),
    LRELU_CPU_ENTRY(avx2),
#endif
    LRELU_CPU_ENTRY(base),
};

#ifdef LRELU_CPU_X86
/* FMA and F16C, which not every compiler's __builtin_cpu_supports knows: CPUID leaf 1 */
static int has_fma_f16c(void)
{
    unsigned a, b, c, d;
    return __get_cpuid(1, &a, &b, &c, &d) && (c & bit_FMA) && (c & bit_F16C);
}
#endif

static int cpu_runs(const char *name)
{
#ifdef LRELU_CPU_X86
    __builtin_cpu_init();
    if (strcmp(name, "avx512") == 0)
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
               __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx2") &&
               has_fma_f16c();
    if (strcmp(name, "avx2") == 0)
        return __builtin_cpu_supports("avx2") && has_fma_f16c();
#endif
    return strcmp(name, "base") == 0;
}

const lrelu_cpu_copy *lrelu_cpu_pick(const char *cap)
{
    /* a cap this build has no copy of (avx2 off x86) leaves the choice alone */
    size_t first = 0, count = sizeof copies / sizeof copies[0];
    for (size_t i = 0; i < count; ++i)
        if (strcmp(cap, copies[i].name) == 0)
            first = i;
    for (size_t i = first; i < count; ++i)
        if (cpu_runs(copies[i].name))
            return &copies[i];
    return &copies[count - 1]; /* not reached: every CPU runs the portable copy */
}
