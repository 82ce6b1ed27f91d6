/* cpu.h: the in-process backend: the loops of each instruction set (loops.h, one copy
 * per set), the copy the CPU runs (pick.c) and the crew of helper threads (crew.c). */
#ifndef LRELU_CPU_H
#define LRELU_CPU_H

#include "common/common.h"

/* out[i] = s[i] > 0 ? v[i] : v[i] * alpha on the calling thread, bit for bit what
 * the kernels compute; with av not NULL, av[i] (n elements of dtype t: PReLU's slopes)
 * instead of alpha. out may equal s or v. */
typedef void (*lrelu_cpu_fn)(lrelu_dtype t, size_t n, double alpha, const void *av, const void *s,
                             const void *v, void *out);
/* bias_act's forward in-process: the parameters (limit as the call gives it: 0 or beyond
 * the compute type for none), and the bias: none (bias 0), b for every element, or bv[i]
 * (of the call's dtype) where bv is not NULL. */
typedef struct {
    double alpha, gain, limit;
    int bias;
    double b;
    const void *bv;
} lrelu_cpu_bact;
typedef void (*lrelu_cpu_bact_fn)(lrelu_dtype t, size_t n, const lrelu_cpu_bact *k, const void *x,
                                  void *y);
/* the int8 forward in-process, as lrelu_ref_forward_q8 */
typedef void (*lrelu_cpu_q8_fn)(lrelu_qtype t, size_t n, const lrelu_q8_args *k, const void *x,
                                void *y);
/* dst[k] = per[(first + k) / inner % C] for k in [0, n): a value per element from one per
 * channel (elements of es bytes: 2, 4 or 8) */
typedef void (*lrelu_cpu_expand_fn)(void *dst, const void *per, size_t first, size_t n,
                                    size_t inner, size_t C, size_t es);
/* The per-channel backward in-process (PReLU, bias_act): dx and each block's sum of a
 * channel's terms, in the kernels' units and order (kernels/channels.cl: chan_bwd,
 * chan_bgroup). With cols (inner 1: a group width, at most LRELU_CBWD_COLS), unit g is
 * block b of the outer index over a group of cols channels, g = b * groups + group;
 * with segs (inner above 1, several channels), blocks [b * per, b * per + per) over a
 * group of segs channels, g likewise; else block b of channel c, g = b * C + c where
 * inner < LRELU_RBLOCK (neighbouring units, neighbouring memory), else g = c * nb + b.
 * partial (of the compute type: double for f64, else float) gets block b's sum of channel
 * c at [c * nb + b]; dx and partial may be NULL. */
#define LRELU_CBWD_COLS       1024
#define LRELU_CBWD_STACK_COLS 256 /* the widest group whose lanes live on the stack */
typedef struct {
    lrelu_dtype t;
    int bias; /* bias_act (else PReLU) */
    size_t cols;
    size_t segs; /* inner above 1: units of per blocks over a group of segs channels */
    size_t per;
    int stream;                /* dx stored past the caches where it can */
    double alpha, gain, limit; /* bias_act's, limit as the call gives it */
    size_t m, nb, C, inner, groups;
    const void *x, *p, *dy; /* p NULL: bias_act without a bias */
    void *dx, *partial;
} lrelu_cpu_cbwd;
typedef void (*lrelu_cpu_cbwd_fn)(const lrelu_cpu_cbwd *k, size_t first, size_t n);
/* PReLU's slopes by rows in-process: element i of a call is element first + i of an
 * (outer, C, inner) layout, of slope per[(first + i) / inner % C] (of the call's dtype);
 * out = s > 0 ? v : v * that slope. out may equal s or v. */
typedef struct {
    const void *per;
    size_t first, inner, C;
} lrelu_cpu_rows;
typedef void (*lrelu_cpu_rows_fn)(lrelu_dtype t, size_t n, const lrelu_cpu_rows *k, const void *s,
                                  const void *v, void *out);
/* bias_act's forward by rows: r's per the biases (NULL: none, r's layout unused) */
typedef void (*lrelu_cpu_bact_rows_fn)(lrelu_dtype t, size_t n, const lrelu_cpu_bact *k,
                                       const lrelu_cpu_rows *r, const void *x, void *y);
/* One copy of the loops per instruction set: its name ("avx512", "avx2", "base"), the
 * loops, the same writing the output with non-temporal stores (for arrays far larger
 * than the caches; the same as run where the copy has none), bias_act's forward, the
 * per-channel values laid out per element, the int8 forward, the per-channel
 * backward's units, and PReLU and bias_act's forward by rows (also streaming). */
typedef struct {
    const char *name;
    lrelu_cpu_fn run;
    lrelu_cpu_fn stream;
    lrelu_cpu_bact_fn bias_act;
    lrelu_cpu_expand_fn expand;
    lrelu_cpu_q8_fn q8, q8_stream;
    lrelu_cpu_cbwd_fn chan_bwd;
    lrelu_cpu_rows_fn rows, rows_stream;
    lrelu_cpu_bact_rows_fn bias_act_rows;
} lrelu_cpu_copy;

/* crew.c: helper threads that share in-process calls with the calling thread. */
typedef struct lrelu_crew lrelu_crew;
/* Starts up to `helpers` threads; NULL when none could start (the calls then run on the
 * calling thread alone). */
lrelu_crew *lrelu_crew_create(int helpers);
void lrelu_crew_destroy(lrelu_crew *c);
/* What a crew runs: elements [first, first + n) of a call, given its job. */
typedef void (*lrelu_crew_body)(const void *job, size_t first, size_t n);
/* Runs body over n elements of es bytes (which size the chunks: whole 64-element blocks
 * below 64 bytes an element, else any number), the calling thread and
 * the helpers each taking chunks; returns 0 without doing anything when c is NULL or busy
 * with another thread's call, or when every helper sleeps and may_wake is 0 (waking one
 * costs some microseconds). */
int lrelu_crew_run(lrelu_crew *c, int may_wake, size_t n, size_t es, lrelu_crew_body body,
                   const void *job);

/* pick.c: the widest copy of the in-process loops the CPU runs, no wider than the copy
 * named cap ("": no cap). */
const lrelu_cpu_copy *lrelu_cpu_pick(const char *cap);

#endif /* LRELU_CPU_H */
