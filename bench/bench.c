/* bench.c: the lrelu benchmark. For each call, dtype and size it times lrelu's
 * device-buffer API (at offset 0, and at an unaligned offset with an odd n), its
 * host-memory API (plain, PReLU's, whose backward rows compute dx alone, bias_act's
 * forward and int8's), its
 * per-channel and int8 calls, and, in the same run, the baselines an honest kernel must match: a
 * one-element kernel, a float16-vector kernel, a device copy of the same bytes and a
 * 2-thread C loop on the host. Medians over repeated runs after warm-up; GB/s counts the
 * bytes really moved (forward 2 x size, backward 3 x size). Where oneDNN is installed
 * its CPU eltwise_relu is one more baseline, on the host API's arrays. Then f32, f16 and
 * bf16 side by side in the same rounds (rows lrelu_x_f32*, whose ratio is the element rate
 * over f32's). At 2^10 elements the
 * baselines' rows are the raw enqueue + finish round trip lrelu's overhead is judged
 * against. Also the cold start. Table on stdout, CSV and JSON
 * on request, progress on stderr. Not a test: ctest never runs it. */
#define _POSIX_C_SOURCE 200809L
#include "bench.h"
#include "lrelu.h"
#ifdef LRELU_BENCH_ONEDNN
#include "onednn.h"
#endif

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

extern const char lrelu_src_baselines[];
extern const size_t lrelu_src_baselines_len;

typedef enum { FWD, BWD, BWD_Y } op_t;
static const char *op_names[] = {"forward", "backward", "backward_from_output"};

typedef struct {
    double med, lo, hi; /* seconds: median, 10th and 90th percentile */
} stats;

typedef struct {
    const char *device;
    int min_log2, max_log2, step;
    double budget; /* seconds per measurement */
    const char *csv, *json, *svg;
    const char *group; /* --group: a device group's selectors, for its rows */
    unsigned dtypes;   /* bit per lrelu_dtype */
    unsigned ops;      /* bit per op_t */
} options;

/* Everything one measurement touches. */
typedef struct {
    lrelu_ctx *ctx;
    lrelu_group *group; /* --group's, or NULL */
    cl_context cx;
    cl_command_queue q;
    cl_kernel base1[2], base16[2]; /* [forward, backward] */
    lrelu_dtype t;
    op_t op;
    size_t n, off;
    cl_mem bx, bdy, bout;
    cl_mem bper; /* the per-channel rows' slopes or biases */
    void *hx, *hdy, *hout;
    /* f32 forward: pinned host memory (CL_MEM_ALLOC_HOST_PTR, mapped for the run) to move
     * the host API's bytes at the bus's best: the baseline of the host calls */
    cl_mem pin[2];
    void *pinned[2];
} bench;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void die(const char *what, lrelu_status st)
{
    fprintf(stderr, "lrelu-bench: %s: %s\n%s\n", what, lrelu_status_str(st), lrelu_last_error());
    exit(1);
}

static void check_cl(cl_int err, const char *what)
{
    if (err != CL_SUCCESS) {
        fprintf(stderr, "lrelu-bench: %s failed (%d)\n", what, (int)err);
        exit(1);
    }
}

/* ---- the implementations; each runs one whole call and waits for it ---- */

static void run_lrelu(bench *b)
{
    lrelu_status st;
    double a = 0.01;
    if (b->op == FWD)
        st = lrelu_forward(b->ctx, b->t, b->n, a, b->bx, b->off, b->bout, b->off, 0, NULL, NULL);
    else if (b->op == BWD)
        st = lrelu_backward(b->ctx, b->t, b->n, a, b->bx, b->off, b->bdy, b->off, b->bout, b->off,
                            0, NULL, NULL);
    else
        st = lrelu_backward_from_output(b->ctx, b->t, b->n, a, b->bx, b->off, b->bdy, b->off,
                                        b->bout, b->off, 0, NULL, NULL);
    if (st != LRELU_OK)
        die("lrelu call", st);
    check_cl(clFinish(b->q), "clFinish");
}

/* The _ex calls: blending into the output (beta 1: it is read too) and stride-2 views. */
static void run_ex(bench *b, const lrelu_opts *o)
{
    lrelu_status st;
    if (b->op == FWD)
        st = lrelu_forward_ex(b->ctx, b->t, b->n, 0.01, o, b->bx, b->off, b->bout, b->off, 0, NULL,
                              NULL);
    else if (b->op == BWD)
        st = lrelu_backward_ex(b->ctx, b->t, b->n, 0.01, o, b->bx, b->off, b->bdy, b->off, b->bout,
                               b->off, 0, NULL, NULL);
    else
        st = lrelu_backward_from_output_ex(b->ctx, b->t, b->n, 0.01, o, b->bx, b->off, b->bdy,
                                           b->off, b->bout, b->off, 0, NULL, NULL);
    if (st != LRELU_OK)
        die("lrelu _ex call", st);
    check_cl(clFinish(b->q), "clFinish");
}

static void run_blend(bench *b)
{
    const lrelu_opts o = {LRELU_BLEND, 0.5, 1.0, 0, 0, 0};
    run_ex(b, &o);
}

static void run_strided2(bench *b)
{
    const lrelu_opts o = {0, 0, 0, 2, 2, 2};
    run_ex(b, &o);
}

/* PReLU and bias_act over (n / 1024, 16, 64): 16 channels of 8x8 planes, or with `last`
 * over (n / 256, 256, 1): 256 channels, channels last; the backward computes dx and the
 * per-channel gradient. */
static void run_channels(bench *b, int bias_act, int last)
{
    lrelu_status st;
    lrelu_layout l =
        last ? (lrelu_layout){b->n / 256, 256, 1} : (lrelu_layout){b->n / 1024, 16, 64};
    lrelu_bias_act p = {0.2, 1.4142135623730951, 256.0};
    cl_mem per = b->bper;
    if (b->op == FWD && bias_act)
        st =
            lrelu_bias_act_forward(b->ctx, b->t, l, p, b->bx, 0, per, 0, b->bout, 0, 0, NULL, NULL);
    else if (b->op == FWD)
        st = lrelu_prelu_forward(b->ctx, b->t, l, b->bx, 0, per, 0, b->bout, 0, 0, NULL, NULL);
    else if (bias_act) /* dx from 0, the gradient after dx */
        st = lrelu_bias_act_backward(b->ctx, b->t, l, p, b->bx, 0, per, 0, b->bdy, 0, b->bout, 0,
                                     b->bout, b->n, 0, NULL, NULL);
    else
        st = lrelu_prelu_backward(b->ctx, b->t, l, b->bx, 0, per, 0, b->bdy, 0, b->bout, 0, b->bout,
                                  b->n, 0, NULL, NULL);
    if (st != LRELU_OK)
        die("per-channel call", st);
    check_cl(clFinish(b->q), "clFinish");
}

static void run_prelu(bench *b) { run_channels(b, 0, 0); }
static void run_bias_act(bench *b) { run_channels(b, 1, 0); }
static void run_prelu_last(bench *b) { run_channels(b, 0, 1); }

/* The quantized forward over n bytes of x into y. */
static void run_q8(bench *b)
{
    lrelu_quant in = {0.05, 3}, out = {0.04, -2};
    lrelu_status st = lrelu_forward_q8(b->ctx, LRELU_QS8, b->n, 0.01, in, out, b->bx, 0, b->bout, 0,
                                       0, NULL, NULL);
    if (st != LRELU_OK)
        die("lrelu_forward_q8", st);
    check_cl(clFinish(b->q), "clFinish");
}

/* The quantized forward's host call over n bytes of x into y, as run_q8 */
static void run_q8_host(bench *b)
{
    lrelu_quant in = {0.05, 3}, out = {0.04, -2};
    lrelu_status st = lrelu_forward_q8_host(b->ctx, LRELU_QS8, b->n, 0.01, in, out, b->hx, b->hout);
    if (st != LRELU_OK)
        die("lrelu_forward_q8_host", st);
}

static void run_lrelu_host(bench *b)
{
    lrelu_status st;
    size_t es = lrelu_dtype_size(b->t);
    const char *x = (const char *)b->hx + b->off * es, *dy = (const char *)b->hdy + b->off * es;
    char *out = (char *)b->hout + b->off * es;
    if (b->op == FWD)
        st = lrelu_forward_host(b->ctx, b->t, b->n, 0.01, x, out);
    else if (b->op == BWD)
        st = lrelu_backward_host(b->ctx, b->t, b->n, 0.01, x, dy, out);
    else
        st = lrelu_backward_from_output_host(b->ctx, b->t, b->n, 0.01, x, dy, out);
    if (st != LRELU_OK)
        die("lrelu host call", st);
}

/* The host calls over the --group's devices: the plain call, and PReLU's backward with
 * its gradient over run_channels' layout (block sums from every device, added in order) */
static void run_group_host(bench *b)
{
    lrelu_status st;
    if (b->op == FWD)
        st = lrelu_group_forward_host_ex(b->group, b->t, b->n, 0.01, NULL, b->hx, b->hout);
    else if (b->op == BWD)
        st = lrelu_group_backward_host_ex(b->group, b->t, b->n, 0.01, NULL, b->hx, b->hdy, b->hout);
    else
        st = lrelu_group_backward_from_output_host_ex(b->group, b->t, b->n, 0.01, NULL, b->hx,
                                                      b->hdy, b->hout);
    if (st != LRELU_OK)
        die("lrelu group host call", st);
}

static void run_group_prelu_host(bench *b)
{
    lrelu_layout l = {b->n / 1024, 16, 64};
    lrelu_status st =
        b->op == FWD
            ? lrelu_group_prelu_forward_host(b->group, b->t, l, b->hx, b->hdy, b->hout)
            : lrelu_group_prelu_backward_host(b->group, b->t, l, b->hx, b->hdy, b->hdy, b->hout,
                                              (char *)b->hout + b->n * lrelu_dtype_size(b->t));
    if (st != LRELU_OK)
        die("lrelu group PReLU host call", st);
}

/* The host API's traffic at the bus's best: n elements written from pinned host memory
 * and n read back into it, with nothing computed. */
static void run_pinned(bench *b)
{
    size_t bytes = b->n * lrelu_dtype_size(b->t);
    check_cl(clEnqueueWriteBuffer(b->q, b->bx, CL_FALSE, 0, bytes, b->pinned[0], 0, NULL, NULL),
             "pinned write");
    check_cl(clEnqueueReadBuffer(b->q, b->bout, CL_TRUE, 0, bytes, b->pinned[1], 0, NULL, NULL),
             "pinned read");
}

/* PReLU's host call over the layouts of run_channels; the backward computes dx and the
 * gradient as run_channels does, or with dx_only dx alone (on a CPU device in-process
 * wherever the plain calls are: by rows, or with the gradient the kernels' blocks). */
static void run_prelu_host_layout(bench *b, int last, int dx_only)
{
    lrelu_layout l =
        last ? (lrelu_layout){b->n / 256, 256, 1} : (lrelu_layout){b->n / 1024, 16, 64};
    lrelu_status st;
    char *ds = dx_only ? NULL : (char *)b->hout + b->n * lrelu_dtype_size(b->t);
    if (b->op == FWD)
        st = lrelu_prelu_forward_host(b->ctx, b->t, l, b->hx, b->hdy, b->hout);
    else
        st = lrelu_prelu_backward_host(b->ctx, b->t, l, b->hx, b->hdy, b->hdy, b->hout, ds);
    if (st != LRELU_OK)
        die("PReLU host call", st);
}

static void run_prelu_host(bench *b) { run_prelu_host_layout(b, 0, 0); }
static void run_prelu_host_last(bench *b) { run_prelu_host_layout(b, 1, 0); }
static void run_prelu_host_dx(bench *b) { run_prelu_host_layout(b, 0, 1); }
static void run_prelu_host_dx_last(bench *b) { run_prelu_host_layout(b, 1, 1); }

/* bias_act's host call over (n / 1024, 16, 64) with run_channels' parameters; the
 * backward computes dx and the gradient */
static void run_bias_act_host(bench *b)
{
    lrelu_bias_act p = {0.2, 1.4142135623730951, 256.0};
    lrelu_layout l = {b->n / 1024, 16, 64};
    lrelu_status st;
    if (b->op == FWD)
        st = lrelu_bias_act_forward_host(b->ctx, b->t, l, p, b->hx, b->hdy, b->hout);
    else
        st = lrelu_bias_act_backward_host(b->ctx, b->t, l, p, b->hx, b->hdy, b->hdy, b->hout,
                                          (char *)b->hout + b->n * lrelu_dtype_size(b->t));
    if (st != LRELU_OK)
        die("bias_act host call", st);
}

static void run_kernel(bench *b, cl_kernel k, size_t global, const size_t *local)
{
    float a = 0.01f;
    cl_uint i = 0;
    check_cl(clSetKernelArg(k, i++, sizeof(cl_mem), &b->bx), "arg");
    if (b->op != FWD)
        check_cl(clSetKernelArg(k, i++, sizeof(cl_mem), &b->bdy), "arg");
    check_cl(clSetKernelArg(k, i++, sizeof(cl_mem), &b->bout), "arg");
    check_cl(clSetKernelArg(k, i++, sizeof a, &a), "arg");
    check_cl(clEnqueueNDRangeKernel(b->q, k, 1, NULL, &global, local, 0, NULL, NULL), "enqueue");
    check_cl(clFinish(b->q), "clFinish");
}

static void run_base1(bench *b) { run_kernel(b, b->base1[b->op != FWD], b->n, NULL); }
static void run_base16(bench *b) { run_kernel(b, b->base16[b->op != FWD], b->n / 16, NULL); }

static void run_copy(bench *b)
{
    /* the same number of bytes moved: forward reads and writes n elements, backward
     * reads 2n and writes n, as a copy of 1.5n */
    size_t bytes = b->n * lrelu_dtype_size(b->t);
    if (b->op != FWD)
        bytes += bytes / 2;
    check_cl(clEnqueueCopyBuffer(b->q, b->op == FWD ? b->bx : b->bdy, b->bout, 0, 0, bytes, 0, NULL,
                                 NULL),
             "copy");
    check_cl(clFinish(b->q), "clFinish");
}

#ifdef LRELU_BENCH_ONEDNN
static onednn_op *onednn;
static void run_onednn(bench *b)
{
    (void)b;
    onednn_run(onednn);
}
#endif

typedef struct {
    const float *x, *dy;
    float *out;
    size_t lo, hi;
    int fwd;
} loop_part;

static void *loop_worker(void *arg)
{
    const loop_part *p = arg;
    const float a = 0.01f;
    if (p->fwd) {
        for (size_t i = p->lo; i < p->hi; ++i)
            p->out[i] = p->x[i] > 0.0f ? p->x[i] : p->x[i] * a;
    } else {
        for (size_t i = p->lo; i < p->hi; ++i)
            p->out[i] = p->x[i] > 0.0f ? p->dy[i] : p->dy[i] * a;
    }
    return NULL;
}

static void run_c_loop(bench *b)
{
    pthread_t th;
    loop_part parts[2];
    for (int k = 0; k < 2; ++k)
        parts[k] = (loop_part){
            b->hx, b->hdy, b->hout, b->n * (size_t)k / 2, b->n * (size_t)(k + 1) / 2, b->op == FWD};
    if (pthread_create(&th, NULL, loop_worker, &parts[1]) != 0)
        exit(1);
    loop_worker(&parts[0]);
    pthread_join(th, NULL);
}

/* ---- timing ---- */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* One implementation in a measurement: its run function and the n and offset it runs at. */
typedef struct {
    const char *name;
    void (*fn)(bench *);
    size_t n, off;
    stats s;
    int reads_out; /* blending reads the output too: one more array moved */
    size_t es;     /* bytes per element when not the dtype's (quantized: 1) */
    bench *own;    /* its own dtype and buffers, else the measurement's */
} bench_impl;

#define MAX_IMPLS 24
#define MAX_REPS  201

static double run_once(bench *b, const bench_impl *m)
{
    b = m->own ? m->own : b;
    b->n = m->n;
    b->off = m->off;
    double t0 = now();
    m->fn(b);
    return now() - t0;
}

/* Times the implementations interleaved, one run of each per round (A B C A B C ...), so
 * that a change in the machine's load between two of them cannot skew their ratio: each
 * is warmed up twice (first build, first launch, first touch of the pages), the rounds fit
 * the budget (at least 7, at most 201), and each gets its median and 10th/90th
 * percentiles over the rounds. */
static void measure(bench *b, bench_impl *ms, int count, double budget)
{
    static double t[MAX_IMPLS][MAX_REPS];
    double round = 0;
    for (int i = 0; i < count; ++i) {
        run_once(b, &ms[i]);
        run_once(b, &ms[i]);
        round += run_once(b, &ms[i]);
    }
    int reps = round > 0 ? (int)(budget * count / round) : MAX_REPS;
    reps = reps < 7 ? 7 : reps > MAX_REPS ? MAX_REPS : reps;
    for (int r = 0; r < reps; ++r)
        for (int i = 0; i < count; ++i)
            t[i][r] = run_once(b, &ms[i]);
    for (int i = 0; i < count; ++i) {
        qsort(t[i], (size_t)reps, sizeof t[i][0], cmp_double);
        ms[i].s = (stats){t[i][reps / 2], t[i][reps / 10], t[i][reps - 1 - reps / 10]};
    }
}

/* Before a block of its own: time for threads that spin after a call (PoCL's, oneDNN's
 * OpenMP team, lrelu's in-process helpers) to go to sleep, so that they do not take a
 * core from what is measured next. */
static void settle(void)
{
    struct timespec ts = {0, 50000000L};
    nanosleep(&ts, NULL);
}

/* Implementations whose threads spin on after each call, which would take a core from
 * whatever ran next in a round: each runs in blocks of its own after a pause, the blocks
 * alternating over three rounds so that a change in the machine's load falls on all of
 * them alike. 50 ms is many times the spin of any of them (libgomp's: a few ms). */
static void measure_apart(bench *b, bench_impl *ms, int count, double budget)
{
    enum { ROUNDS = 3 };
    static double t[MAX_IMPLS][MAX_REPS];
    int got[MAX_IMPLS] = {0};
    for (int k = 0; k < ROUNDS; ++k)
        for (int i = 0; i < count; ++i) {
            settle();
            run_once(b, &ms[i]);
            run_once(b, &ms[i]);
            double one = run_once(b, &ms[i]);
            int reps = one > 0 ? (int)(budget / ROUNDS / one) : MAX_REPS / ROUNDS;
            reps = reps < 3 ? 3 : reps > MAX_REPS / ROUNDS ? MAX_REPS / ROUNDS : reps;
            for (int r = 0; r < reps; ++r)
                t[i][got[i]++] = run_once(b, &ms[i]);
        }
    for (int i = 0; i < count; ++i) {
        qsort(t[i], (size_t)got[i], sizeof t[i][0], cmp_double);
        ms[i].s = (stats){t[i][got[i] / 2], t[i][got[i] / 10], t[i][got[i] - 1 - got[i] / 10]};
    }
}

/* ---- output ---- */

typedef struct {
    const char *op, *dtype, *impl;
    size_t n, off;
    stats s;
    double bytes, gbs, gelems, ratio;
} row;

static row *rows;
static size_t nrows, caprows;

static void add_row(const bench *b, const bench_impl *m)
{
    const char *name = m->name;
    stats s = m->s;
    size_t n_elems = m->n, off = m->off, es = m->es ? m->es : lrelu_dtype_size(b->t);
    int reads_out = m->reads_out;
    if (nrows == caprows) {
        caprows = caprows ? 2 * caprows : 64;
        rows = realloc(rows, caprows * sizeof *rows);
        if (rows == NULL)
            exit(1);
    }
    double bytes = (double)n_elems * (double)es * ((b->op == FWD ? 2 : 3) + reads_out);
    rows[nrows++] =
        (row){op_names[b->op],     lrelu_dtype_name(b->t),        name, n_elems, off, s, bytes,
              bytes / s.med / 1e9, (double)n_elems / s.med / 1e9, 0};
}

static void print_header(lrelu_ctx *ctx)
{
    char name[256] = "", ver[256] = "", drv[256] = "", plat[256] = "";
    cl_platform_id p;
    cl_device_id d = lrelu_cl_device(ctx);
    clGetDeviceInfo(d, CL_DEVICE_NAME, sizeof name - 1, name, NULL);
    clGetDeviceInfo(d, CL_DEVICE_VERSION, sizeof ver - 1, ver, NULL);
    clGetDeviceInfo(d, CL_DRIVER_VERSION, sizeof drv - 1, drv, NULL);
    clGetDeviceInfo(d, CL_DEVICE_PLATFORM, sizeof p, &p, NULL);
    clGetPlatformInfo(p, CL_PLATFORM_VERSION, sizeof plat - 1, plat, NULL);
    printf("# lrelu %s benchmark\n# platform: %s\n# device:   %s (%s)\n# driver:   %s\n",
           lrelu_version(), plat, name, ver, drv);
}

static void write_outputs(const options *o)
{
    if (o->csv) {
        FILE *f = fopen(o->csv, "w");
        if (f == NULL) {
            perror(o->csv);
            exit(1);
        }
        fprintf(f, "op,dtype,impl,n_elements,offset_elements,median_us,p10_us,p90_us,bytes_moved,"
                   "gb_per_s,gelements_per_s,ratio_to_best_baseline\n");
        for (size_t i = 0; i < nrows; ++i) {
            const row *r = &rows[i];
            fprintf(f, "%s,%s,%s,%zu,%zu,%.3f,%.3f,%.3f,%.0f,%.3f,%.4f,%.3f\n", r->op, r->dtype,
                    r->impl, r->n, r->off, r->s.med * 1e6, r->s.lo * 1e6, r->s.hi * 1e6, r->bytes,
                    r->gbs, r->gelems, r->ratio);
        }
        fclose(f);
    }
    if (o->json) {
        FILE *f = fopen(o->json, "w");
        if (f == NULL) {
            perror(o->json);
            exit(1);
        }
        fprintf(f, "{\"lrelu_version\": \"%s\", \"rows\": [\n", lrelu_version());
        for (size_t i = 0; i < nrows; ++i) {
            const row *r = &rows[i];
            fprintf(f,
                    "  {\"op\": \"%s\", \"dtype\": \"%s\", \"impl\": \"%s\", \"n_elements\": %zu, "
                    "\"offset_elements\": %zu, \"median_us\": %.3f, \"p10_us\": %.3f, "
                    "\"p90_us\": %.3f, \"bytes_moved\": %.0f, \"gb_per_s\": %.3f, "
                    "\"gelements_per_s\": %.4f, \"ratio_to_best_baseline\": %.3f}%s\n",
                    r->op, r->dtype, r->impl, r->n, r->off, r->s.med * 1e6, r->s.lo * 1e6,
                    r->s.hi * 1e6, r->bytes, r->gbs, r->gelems, r->ratio, i + 1 < nrows ? "," : "");
        }
        fprintf(f, "]}\n");
        fclose(f);
    }
}

/* ---- the plot: GB/s against n, a panel per operation and dtype ---- */

/* text for SVG: &, < and > escaped */
static void svg_text(FILE *f, const char *s)
{
    for (; *s; ++s)
        fputs(*s == '&' ? "&amp;" : *s == '<' ? "&lt;" : *s == '>' ? "&gt;" : (char[]){*s, 0}, f);
}

/* The index of the first row of rows[0..end) with the same key (op and dtype; with the
 * impl too when by_impl), or end where none. */
static size_t first_like(size_t end, const row *r, int by_impl)
{
    for (size_t i = 0; i < end; ++i)
        if (strcmp(rows[i].op, r->op) == 0 && strcmp(rows[i].dtype, r->dtype) == 0 &&
            (!by_impl || strcmp(rows[i].impl, r->impl) == 0))
            return i;
    return end;
}

/* The dash pattern of implementation k's line: the device's copy long dashes; past the
 * ten colours, each further round of them dashed or dotted, so no two lines look alike. */
static const char *svg_dash(size_t k, int copy)
{
    static const char *const rounds[] = {"", " stroke-dasharray=\"5 2\"",
                                         " stroke-dasharray=\"1.5 2\""};
    return copy ? " stroke-dasharray=\"8 4\"" : rounds[k / 10 % 3];
}

/* The rows as an SVG: a panel per (op, dtype) in the order measured, log2(n) across and
 * GB/s up from 0, a line and points per implementation (a colour each, the same in every
 * panel), the device's copy (base_device_copy) drawn thick and dashed. Each point carries
 * its row's figures (data-*), as in the CSV, so that a reader or a test can take them
 * back. */
static void write_svg(const char *path, const char *device)
{
    enum { PW = 440, PH = 280, ML = 56, MT = 34, MB = 40, COLS = 2, GAP = 24 };
    static const char *const colours[] = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e",
                                          "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#7f7f7f"};
    FILE *f = fopen(path, "w");
    if (f == NULL) {
        perror(path);
        exit(1);
    }
    size_t panels = 0, impls = 0;
    double lo = 1e300, hi = 0;
    for (size_t i = 0; i < nrows; ++i) {
        panels += first_like(i, &rows[i], 0) == i;
        lo = log2((double)rows[i].n) < lo ? log2((double)rows[i].n) : lo;
        hi = log2((double)rows[i].n) > hi ? log2((double)rows[i].n) : hi;
    }
    if (hi <= lo)
        hi = lo + 1;
    /* implementations in the order first seen, for the colours and the legend */
    const char **names = calloc(nrows + 1, sizeof *names);
    if (names == NULL)
        exit(1);
    for (size_t i = 0; i < nrows; ++i) {
        size_t k = 0;
        while (k < impls && strcmp(names[k], rows[i].impl) != 0)
            ++k;
        if (k == impls)
            names[impls++] = rows[i].impl;
    }
    size_t prow = (panels + COLS - 1) / COLS, legend = (impls + 3) / 4;
    int width = COLS * (ML + PW + GAP), height = (int)prow * (MT + PH + MB) + 40 + 18 * (int)legend;
    fprintf(f,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
            "viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"11\">\n"
            "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n<title>lrelu %s: GB/s "
            "against n on ",
            width, height, width, height, lrelu_version());
    svg_text(f, device);
    fprintf(f, "</title>\n");
    size_t p = 0;
    for (size_t i = 0; i < nrows; ++i) {
        if (first_like(i, &rows[i], 0) != i)
            continue;
        double ymax = 0;
        for (size_t j = i; j < nrows; ++j)
            if (first_like(j + 1, &rows[j], 0) == i && rows[j].gbs > ymax)
                ymax = rows[j].gbs;
        ymax = ymax > 0 ? ymax * 1.1 : 1;
        int x0 = (int)(p % COLS) * (ML + PW + GAP) + ML, y0 = (int)(p / COLS) * (MT + PH + MB) + MT;
        ++p;
        fprintf(f,
                "<g data-op=\"%s\" data-dtype=\"%s\" data-x0=\"%d\" data-y0=\"%d\" "
                "data-width=\"%d\" data-height=\"%d\" data-log2-min=\"%.6f\" "
                "data-log2-max=\"%.6f\" data-gbs-max=\"%.6f\">\n"
                "<text x=\"%d\" y=\"%d\" font-size=\"13\">%s %s</text>\n"
                "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" "
                "stroke=\"#999\"/>\n",
                rows[i].op, rows[i].dtype, x0, y0, PW, PH, lo, hi, ymax, x0, y0 - 8, rows[i].op,
                rows[i].dtype, x0, y0, PW, PH);
        for (int t = 0; t <= 4; ++t) { /* the axes' ticks */
            double g = ymax * t / 4, e = lo + (hi - lo) * t / 4;
            fprintf(f,
                    "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%.3g</text>\n"
                    "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">2^%.3g</text>\n",
                    x0 - 4, y0 + PH - PH * t / 4.0 + 4, g, x0 + PW * t / 4.0, y0 + PH + 14, e);
        }
        fprintf(f,
                "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">n (elements)</text>\n"
                "<text x=\"%d\" y=\"%d\" transform=\"rotate(-90 %d %d)\" "
                "text-anchor=\"middle\">GB/s</text>\n",
                x0 + PW / 2, y0 + PH + 30, x0 - 40, y0 + PH / 2, x0 - 40, y0 + PH / 2);
        for (size_t k = 0; k < impls; ++k) {
            const char *colour = colours[k % 10];
            int copy = strcmp(names[k], "base_device_copy") == 0, any = 0;
            for (size_t j = i; j < nrows; ++j) {
                const row *r = &rows[j];
                if (first_like(j + 1, r, 0) != i || strcmp(r->impl, names[k]) != 0)
                    continue;
                if (!any)
                    fprintf(f,
                            "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"%s\"%s "
                            "data-impl=\"%s\" points=\"",
                            copy ? "#444" : colour, copy ? "3" : "1.5", svg_dash(k, copy),
                            names[k]);
                any = 1;
                fprintf(f, "%.2f,%.2f ", x0 + PW * (log2((double)r->n) - lo) / (hi - lo),
                        y0 + PH - PH * r->gbs / ymax);
            }
            if (any)
                fprintf(f, "\"/>\n");
        }
        for (size_t j = i; j < nrows; ++j) {
            const row *r = &rows[j];
            if (first_like(j + 1, r, 0) != i)
                continue;
            size_t k = 0;
            while (strcmp(names[k], r->impl) != 0)
                ++k;
            fprintf(f,
                    "<circle cx=\"%.2f\" cy=\"%.2f\" r=\"2.5\" fill=\"%s\" data-impl=\"%s\" "
                    "data-n=\"%zu\" data-gbs=\"%.3f\"><title>%s n=%zu: %.3f GB/s</title>"
                    "</circle>\n",
                    x0 + PW * (log2((double)r->n) - lo) / (hi - lo), y0 + PH - PH * r->gbs / ymax,
                    strcmp(r->impl, "base_device_copy") == 0 ? "#444" : colours[k % 10], r->impl,
                    r->n, r->gbs, r->impl, r->n, r->gbs);
        }
        fprintf(f, "</g>\n");
    }
    for (size_t k = 0; k < impls; ++k) { /* the legend, four a line */
        int x = (int)(k % 4) * 220 + ML, y = (int)prow * (MT + PH + MB) + 20 + 18 * (int)(k / 4);
        int copy = strcmp(names[k], "base_device_copy") == 0;
        fprintf(f,
                "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"%s\" "
                "stroke-width=\"%s\"%s/><text x=\"%d\" y=\"%d\">%s%s</text>\n",
                x, y - 4, x + 20, y - 4, copy ? "#444" : colours[k % 10], copy ? "3" : "1.5",
                svg_dash(k, copy), x + 26, y, names[k], copy ? " (the device's copy)" : "");
    }
    fprintf(f, "</svg>\n");
    free(names);
    if (fclose(f) != 0) {
        perror(path);
        exit(1);
    }
}

/* ---- the sweep ---- */

static cl_mem make_buffer(cl_context cx, size_t bytes, const void *init)
{
    cl_int err;
    cl_mem m = clCreateBuffer(cx, CL_MEM_READ_WRITE | (init ? CL_MEM_COPY_HOST_PTR : 0), bytes,
                              (void *)init, &err);
    return err == CL_SUCCESS ? m : NULL;
}

static void fill(lrelu_dtype t, void *p, size_t n)
{
    /* mixed signs, so both branches run; the values matter little to the speed */
    for (size_t i = 0; i < n; ++i) {
        float v = (float)((int)(i % 1999) - 999) * 0.5f;
        switch (t) {
        case LRELU_F32:
            ((float *)p)[i] = v;
            break;
        case LRELU_F64:
            ((double *)p)[i] = v;
            break;
        case LRELU_F16:
            ((uint16_t *)p)[i] = lrelu_float_to_f16(v);
            break;
        case LRELU_BF16:
            ((uint16_t *)p)[i] = lrelu_float_to_bf16(v);
            break;
        }
    }
}

/* The host arrays and buffers of n elements of b->t; 0 when memory ends (free them with
 * bench_free all the same). */
static int bench_alloc(bench *b, size_t n)
{
    size_t es = lrelu_dtype_size(b->t), pad = 8, bytes = (n + pad) * es;
    b->hx = malloc(bytes);
    b->hdy = malloc(bytes);
    b->hout = malloc(bytes + 256 * es); /* and the per-channel host gradient after n */
    if (!b->hx || !b->hdy || !b->hout)
        return 0;
    fill(b->t, b->hx, n + pad);
    fill(b->t, b->hdy, n + pad);
    memset(b->hout, 0, bytes + 256 * es);
    /* dy and the output hold the 1.5n elements the copy baseline of a backward moves,
     * the output also the per-channel gradient after dx (at most 256 channels) */
    b->bx = make_buffer(b->cx, bytes, b->hx);
    b->bdy = make_buffer(b->cx, bytes + bytes / 2, NULL);
    b->bout = make_buffer(b->cx, bytes + bytes / 2, NULL);
    b->bper = make_buffer(b->cx, (n + pad < 256 ? n + pad : 256) * es, b->hdy);
    for (int i = 0; i < 2 && b->t == LRELU_F32 && b->op == FWD; ++i) {
        cl_int err = CL_SUCCESS;
        b->pin[i] = clCreateBuffer(b->cx, CL_MEM_ALLOC_HOST_PTR, bytes, NULL, &err);
        if (b->pin[i] != NULL)
            b->pinned[i] = clEnqueueMapBuffer(b->q, b->pin[i], CL_TRUE, CL_MAP_READ | CL_MAP_WRITE,
                                              0, bytes, 0, NULL, NULL, &err);
        if (b->pinned[i] == NULL)
            return 0;
        memcpy(b->pinned[i], b->hx, bytes);
    }
    return b->bx && b->bdy && b->bout && b->bper &&
           clEnqueueWriteBuffer(b->q, b->bdy, CL_TRUE, 0, bytes, b->hdy, 0, NULL, NULL) ==
               CL_SUCCESS;
}

static void release(cl_mem *m)
{
    if (*m)
        clReleaseMemObject(*m);
    *m = NULL;
}

static void bench_free(bench *b)
{
    for (int i = 0; i < 2; ++i) {
        if (b->pinned[i] != NULL)
            (void)clEnqueueUnmapMemObject(b->q, b->pin[i], b->pinned[i], 0, NULL, NULL);
        b->pinned[i] = NULL;
        release(&b->pin[i]);
    }
    (void)clFinish(b->q);
    release(&b->bx);
    release(&b->bdy);
    release(&b->bout);
    release(&b->bper);
    free(b->hx);
    free(b->hdy);
    free(b->hout);
    b->hx = b->hdy = b->hout = NULL;
}

static int bench_size(bench *b, const options *o, size_t n)
{
    int ok = bench_alloc(b, n);
    if (ok) {
        size_t first = nrows;
        bench_impl ms[MAX_IMPLS];
        int count = 0;
        ms[count++] = (bench_impl){"lrelu", run_lrelu, n, 0, {0, 0, 0}, 0, 0, NULL};
        /* odd, a multiple of nothing, at an unaligned offset */
        ms[count++] =
            (bench_impl){"lrelu_odd_n_offset3", run_lrelu, n - 5, 3, {0, 0, 0}, 0, 0, NULL};
        /* the _ex calls: 0.5 f + 1 out (GB/s counts the output's read), and every
         * operand at stride 2 over n / 2 elements (GB/s counts the elements used) */
        ms[count++] = (bench_impl){"lrelu_blend_beta1", run_blend, n, 0, {0, 0, 0}, 1, 0, NULL};
        ms[count++] = (bench_impl){"lrelu_strided2", run_strided2, n / 2, 0, {0, 0, 0}, 0, 0, NULL};
        if (n % 1024 == 0 && b->op != BWD_Y) {
            ms[count++] = (bench_impl){"lrelu_prelu_c16", run_prelu, n, 0, {0, 0, 0}, 0, 0, NULL};
            ms[count++] =
                (bench_impl){"lrelu_bias_act_c16", run_bias_act, n, 0, {0, 0, 0}, 0, 0, NULL};
            ms[count++] =
                (bench_impl){"lrelu_prelu_c256_last", run_prelu_last, n, 0, {0, 0, 0}, 0, 0, NULL};
        }
        /* int8 in and out: GB/s over bytes, elements/s four times f32's at the same GB/s */
        if (b->t == LRELU_F32 && b->op == FWD)
            ms[count++] = (bench_impl){"lrelu_q8_s8", run_q8, n, 0, {0, 0, 0}, 0, 1, NULL};
        int baselines = b->t == LRELU_F32 && b->op != BWD_Y;
        if (baselines) {
            ms[count++] = (bench_impl){"base_one_element", run_base1, n, 0, {0, 0, 0}, 0, 0, NULL};
            if (n % 16 == 0)
                ms[count++] = (bench_impl){"base_float16", run_base16, n, 0, {0, 0, 0}, 0, 0, NULL};
            ms[count++] = (bench_impl){"base_device_copy", run_copy, n, 0, {0, 0, 0}, 0, 0, NULL};
            ms[count++] =
                (bench_impl){"base_c_loop_2threads", run_c_loop, n, 0, {0, 0, 0}, 0, 0, NULL};
        }
        measure(b, ms, count, o->budget);
        /* the host API, and oneDNN where it is built in, apart from the rounds: on a CPU
         * device both share each call with threads that spin for a while after it */
        int apart = count;
        ms[count++] = (bench_impl){"lrelu_host", run_lrelu_host, n, 0, {0, 0, 0}, 0, 0, NULL};
        if (n % 1024 == 0 && b->op != BWD_Y) {
            ms[count++] =
                (bench_impl){"lrelu_prelu_host_c16", run_prelu_host, n, 0, {0, 0, 0}, 0, 0, NULL};
            ms[count++] = (bench_impl){
                "lrelu_bias_act_host_c16", run_bias_act_host, n, 0, {0, 0, 0}, 0, 0, NULL};
            ms[count++] = (bench_impl){
                "lrelu_prelu_host_c256_last", run_prelu_host_last, n, 0, {0, 0, 0}, 0, 0, NULL};
        }
        if (n % 1024 == 0 && b->op == BWD) {
            ms[count++] = (bench_impl){
                "lrelu_prelu_host_dx_c16", run_prelu_host_dx, n, 0, {0, 0, 0}, 0, 0, NULL};
            ms[count++] = (bench_impl){"lrelu_prelu_host_dx_c256_last",
                                       run_prelu_host_dx_last,
                                       n,
                                       0,
                                       {0, 0, 0},
                                       0,
                                       0,
                                       NULL};
        }
        if (b->group != NULL) {
            ms[count++] =
                (bench_impl){"lrelu_group_host", run_group_host, n, 0, {0, 0, 0}, 0, 0, NULL};
            if (n % 1024 == 0 && b->op != BWD_Y)
                ms[count++] = (bench_impl){"lrelu_group_prelu_host_c16",
                                           run_group_prelu_host,
                                           n,
                                           0,
                                           {0, 0, 0},
                                           0,
                                           0,
                                           NULL};
        }
        if (b->t == LRELU_F32 && b->op == FWD) {
            ms[count++] =
                (bench_impl){"lrelu_q8_s8_host", run_q8_host, n, 0, {0, 0, 0}, 0, 1, NULL};
            ms[count++] =
                (bench_impl){"base_pinned_roundtrip", run_pinned, n, 0, {0, 0, 0}, 0, 0, NULL};
        }
#ifdef LRELU_BENCH_ONEDNN
        if (baselines &&
            (onednn = onednn_create(b->op != FWD, n, b->hx, b->hdy, b->hout, 0.01f)) != NULL)
            ms[count++] = (bench_impl){"base_onednn_cpu", run_onednn, n, 0, {0, 0, 0}, 0, 0, NULL};
#endif
        measure_apart(b, &ms[apart], count - apart, o->budget);
#ifdef LRELU_BENCH_ONEDNN
        onednn_destroy(onednn);
        onednn = NULL;
#endif
        for (int i = 0; i < count; ++i)
            add_row(b, &ms[i]);
        if (baselines) {
            double best = 0;
            for (size_t i = first; i < nrows; ++i)
                /* the pinned transfer is the host calls' yardstick, not the kernels' */
                if (strncmp(rows[i].impl, "base_", 5) == 0 &&
                    strcmp(rows[i].impl, "base_pinned_roundtrip") != 0 && rows[i].gbs > best)
                    best = rows[i].gbs;
            for (size_t i = first; i < nrows; ++i)
                rows[i].ratio = best > 0 ? rows[i].gbs / best : 0;
        }
    }
    bench_free(b);
    return ok;
}

/* f32, f16 and bf16 in the same rounds, at offset 0 and at n - 5 from offset 3: their
 * element rates side by side, each row's ratio its rate over f32's of the same kind
 * (elements per second: the half types should move 2 x f32's). Measured apart from the
 * sweep, which takes one dtype at a time, minutes apart on a large sweep. */
static int bench_side_by_side(const bench *proto, const options *o, op_t op, size_t n)
{
    static const lrelu_dtype types[] = {LRELU_F32, LRELU_F16, LRELU_BF16};
    enum { NT = sizeof types / sizeof types[0] };
    bench bs[NT];
    bench_impl ms[2 * NT];
    int count = 0, ok = 1;
    for (int i = 0; i < NT; ++i) {
        bs[i] = *proto;
        bs[i].t = types[i];
        bs[i].op = op;
        bs[i].bx = bs[i].bdy = bs[i].bout = bs[i].bper = NULL;
        bs[i].hx = bs[i].hdy = bs[i].hout = NULL;
    }
    for (int i = 0; i < NT && ok; ++i) {
        if (i > 0 && !(o->dtypes & (1u << types[i])))
            continue;
        ok = bench_alloc(&bs[i], n);
        ms[count++] = (bench_impl){"lrelu_x_f32", run_lrelu, n, 0, {0, 0, 0}, 0, 0, &bs[i]};
        ms[count++] =
            (bench_impl){"lrelu_x_f32_odd_n_offset3", run_lrelu, n - 5, 3, {0, 0, 0}, 0, 0, &bs[i]};
    }
    if (ok && count > 2) {
        measure(&bs[0], ms, count, o->budget);
        size_t first = nrows;
        for (int i = 0; i < count; ++i)
            add_row(ms[i].own, &ms[i]);
        for (size_t i = first; i < nrows; ++i)
            rows[i].ratio = rows[i].gelems / rows[first + (i - first) % 2].gelems;
    }
    for (int i = 0; i < NT; ++i)
        bench_free(&bs[i]);
    return ok;
}

static void usage(void)
{
    printf("usage: lrelu-bench [--device SEL] [--min-log2 K] [--max-log2 K] [--step K]\n"
           "                   [--dtypes f32,f16,bf16,f64] [--ops forward,backward,"
           "backward_from_output]\n"
           "                   [--budget SECONDS] [--csv FILE] [--json FILE] [--svg FILE]\n"
           "                   [--group SEL,SEL...]\n"
           "Sizes run from 2^min to 2^max in steps of 2^step elements (default 10..26, step 2);\n"
           "each measurement repeats for about --budget seconds (default 0.3), at least 7\n"
           "times, and reports the median and the 10th..90th percentile spread. --svg draws\n"
           "GB/s against n, a panel per operation and dtype, a line per implementation and the\n"
           "device's copy (base_device_copy) as a thick dashed line. --group adds the host\n"
           "calls over a device group (lrelu_group_create's list, \"all\" or \"\" for every\n"
           "GPU) beside the one device's.\n");
}

static unsigned parse_list(const char *s, const char *const *names, int count)
{
    unsigned bits = 0;
    char buf[256];
    snprintf(buf, sizeof buf, "%s", s);
    for (char *tok = strtok(buf, ","); tok; tok = strtok(NULL, ","))
        for (int i = 0; i < count; ++i)
            if (strcmp(tok, names[i]) == 0)
                bits |= 1u << i;
    return bits;
}

/* Milliseconds from lrelu_create to the end of a first f32 forward on device buffers,
 * with the program cache on or off ($LRELU_PROGRAM_CACHE, read at creation): the median
 * of three. With the cache on, one unmeasured run first makes sure the entry exists. */
static double cold_start_ms(const char *device, int cache)
{
    const char *was = getenv("LRELU_PROGRAM_CACHE");
    char saved[16] = "";
    if (was != NULL)
        snprintf(saved, sizeof saved, "%s", was);
    setenv("LRELU_PROGRAM_CACHE", cache ? "1" : "0", 1);
    double ms[3] = {0};
    for (int r = cache ? -1 : 0; r < 3; ++r) {
        double t0 = now();
        lrelu_ctx *ctx = NULL;
        lrelu_status st = lrelu_create(&ctx, device);
        if (st != LRELU_OK)
            die("lrelu_create", st);
        cl_int err = CL_SUCCESS;
        cl_mem x = clCreateBuffer(lrelu_cl_context(ctx), CL_MEM_READ_WRITE, 256, NULL, &err);
        check_cl(err, "cold start buffer");
        cl_event done = NULL;
        if ((st = lrelu_forward(ctx, LRELU_F32, 64, 0.01, x, 0, x, 0, 0, NULL, &done)) != LRELU_OK)
            die("cold start forward", st);
        check_cl(clWaitForEvents(1, &done), "cold start wait");
        if (r >= 0)
            ms[r] = (now() - t0) * 1e3;
        (void)clReleaseEvent(done);
        (void)clReleaseMemObject(x);
        lrelu_destroy(ctx);
    }
    if (was != NULL)
        setenv("LRELU_PROGRAM_CACHE", saved, 1);
    else
        unsetenv("LRELU_PROGRAM_CACHE");
    double lo = ms[0] < ms[1] ? ms[0] : ms[1], hi = ms[0] < ms[1] ? ms[1] : ms[0];
    return ms[2] < lo ? lo : ms[2] > hi ? hi : ms[2];
}

int lrelu_bench_main(int argc, char **argv)
{
    options o = {NULL, 10, 26, 2, 0.3, NULL, NULL, NULL, NULL, 0xf, 0x7};
    static const char *const dtype_names[] = {"f32", "f16", "bf16", "f64"};
    for (int i = 1; i < argc; ++i) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--help") == 0) {
            usage();
            return 0;
        }
        if (v == NULL) {
            usage();
            return 2;
        }
        ++i;
        if (strcmp(a, "--device") == 0)
            o.device = v;
        else if (strcmp(a, "--min-log2") == 0)
            o.min_log2 = atoi(v);
        else if (strcmp(a, "--max-log2") == 0)
            o.max_log2 = atoi(v);
        else if (strcmp(a, "--step") == 0)
            o.step = atoi(v) > 0 ? atoi(v) : 1;
        else if (strcmp(a, "--budget") == 0)
            o.budget = atof(v);
        else if (strcmp(a, "--csv") == 0)
            o.csv = v;
        else if (strcmp(a, "--json") == 0)
            o.json = v;
        else if (strcmp(a, "--svg") == 0)
            o.svg = v;
        else if (strcmp(a, "--group") == 0)
            o.group = v;
        else if (strcmp(a, "--dtypes") == 0)
            o.dtypes = parse_list(v, dtype_names, 4);
        else if (strcmp(a, "--ops") == 0)
            o.ops = parse_list(v, op_names, 3);
        else {
            usage();
            return 2;
        }
    }

    /* cold start: create + first forward, with whatever the driver has cached */
    double t0 = now();
    bench b = {0};
    lrelu_status st = lrelu_create(&b.ctx, o.device);
    if (st != LRELU_OK)
        die("lrelu_create", st);
    float one = -1.0f, out;
    if ((st = lrelu_forward_host(b.ctx, LRELU_F32, 1, 0.01, &one, &out)) != LRELU_OK)
        die("first forward", st);
    double cold = now() - t0;
    if (o.group != NULL && (st = lrelu_group_create(&b.group, o.group)) != LRELU_OK)
        die("lrelu_group_create", st);
    print_header(b.ctx);
    for (size_t i = 0; i < lrelu_group_size(b.group); ++i) {
        char name[256] = "";
        clGetDeviceInfo(lrelu_cl_device(lrelu_group_ctx(b.group, i)), CL_DEVICE_NAME,
                        sizeof name - 1, name, NULL);
        printf("# group device %zu: %s\n", i, name);
    }
    printf("# cold start (lrelu_create + first f32 forward): %.1f ms\n", cold * 1e3);
    printf("# cold start on device buffers (lrelu_create + first f32 forward; medians of 3, the "
           "driver's own cache as it is): %.1f ms compiling (LRELU_PROGRAM_CACHE=0), %.1f ms "
           "from the program cache\n",
           cold_start_ms(o.device, 0), cold_start_ms(o.device, 1));
    {
        const char *zc = getenv("LRELU_HOST_ZERO_COPY"), *ip = getenv("LRELU_HOST_INPROCESS_BYTES");
        const char *simd = getenv("LRELU_HOST_SIMD"), *th = getenv("LRELU_HOST_THREADS");
        printf("# host API: LRELU_HOST_ZERO_COPY=%s LRELU_HOST_INPROCESS_BYTES=%s "
               "LRELU_HOST_SIMD=%s LRELU_HOST_THREADS=%s\n"
               "#   (unset: zero copy on unified memory; on CPUs in-process, over one thread per "
               "core, at every size with AVX2 or AVX-512 (non-temporal stores from 32 MiB "
               "moved; up to 8 MiB on one thread), else up to 768 KiB f32, 1.5 MiB f64, "
               "192 KiB bf16, 64 KiB f16; the per-channel and int8 calls as the plain calls)\n",
               zc ? zc : "(unset)", ip ? ip : "(unset)", simd ? simd : "(unset)",
               th ? th : "(unset)");
        for (int t = 0; t < 4; ++t) {
            size_t vec, local;
            if (lrelu_kernel_shape(b.ctx, (lrelu_dtype)t, &vec, &local) == LRELU_OK)
                printf("# %-4s kernels: %zu elements per work-item, %zu per group\n",
                       lrelu_dtype_name((lrelu_dtype)t), vec, local);
        }
    }
    b.cx = lrelu_cl_context(b.ctx);
    b.q = lrelu_cl_queue(b.ctx);
    cl_int err;
    const char *src = lrelu_src_baselines;
    size_t len = lrelu_src_baselines_len;
    cl_program prog = clCreateProgramWithSource(b.cx, 1, &src, &len, &err);
    check_cl(err, "baselines source");
    cl_device_id dev = lrelu_cl_device(b.ctx);
    check_cl(clBuildProgram(prog, 1, &dev, "", NULL, NULL), "baselines build");
    const char *kn[4] = {"base_forward_1", "base_backward_1", "base_forward_16",
                         "base_backward_16"};
    cl_kernel *ks[4] = {&b.base1[0], &b.base1[1], &b.base16[0], &b.base16[1]};
    for (int i = 0; i < 4; ++i) {
        *ks[i] = clCreateKernel(prog, kn[i], &err);
        check_cl(err, kn[i]);
    }

    for (int t = 0; t < 4; ++t) {
        if (!(o.dtypes & (1u << t)))
            continue;
        for (int op = 0; op < 3; ++op) {
            if (!(o.ops & (1u << op)))
                continue;
            for (int k = o.min_log2; k <= o.max_log2; k += o.step) {
                b.t = (lrelu_dtype)t;
                b.op = (op_t)op;
                fprintf(stderr, "\r%-22s %-5s n = 2^%-2d ", op_names[op], dtype_names[t], k);
                if (!bench_size(&b, &o, (size_t)1 << k)) {
                    fprintf(stderr, "\nout of memory at 2^%d: stopping this sweep\n", k);
                    break;
                }
            }
        }
    }
    if (o.dtypes & ((1u << LRELU_F16) | (1u << LRELU_BF16)))
        for (int op = 0; op < 3; ++op) {
            if (!(o.ops & (1u << op)))
                continue;
            for (int k = o.min_log2; k <= o.max_log2; k += o.step) {
                fprintf(stderr, "\r%-22s dtypes side by side n = 2^%-2d ", op_names[op], k);
                if (!bench_side_by_side(&b, &o, (op_t)op, (size_t)1 << k)) {
                    fprintf(stderr, "\nout of memory at 2^%d: stopping these\n", k);
                    break;
                }
            }
        }
    fprintf(stderr, "\r%60s\r", "");
    printf("%-20s %-5s %-29s %11s %7s %10s %10s %9s %9s %7s\n", "op", "dtype", "impl", "n",
           "offset", "median_us", "spread_us", "GB/s", "Gelem/s", "ratio");
    for (size_t i = 0; i < nrows; ++i) {
        const row *r = &rows[i];
        char ratio[16] = "";
        if (r->ratio > 0)
            snprintf(ratio, sizeof ratio, "%.2f", r->ratio);
        printf("%-20s %-5s %-29s %11zu %7zu %10.1f %10.1f %9.2f %9.3f %7s\n", r->op, r->dtype,
               r->impl, r->n, r->off, r->s.med * 1e6, (r->s.hi - r->s.lo) * 1e6, r->gbs, r->gelems,
               ratio);
    }
    write_outputs(&o);
    if (o.svg != NULL) {
        char name[256] = "";
        clGetDeviceInfo(lrelu_cl_device(b.ctx), CL_DEVICE_NAME, sizeof name - 1, name, NULL);
        write_svg(o.svg, name);
    }
    for (int i = 0; i < 4; ++i)
        (void)clReleaseKernel(*ks[i]);
    clReleaseProgram(prog);
    lrelu_group_destroy(b.group);
    lrelu_destroy(b.ctx);
    free(rows);
    return 0;
}
