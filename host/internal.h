/* internal.h: what the host library's files share and users never see: the ctx layout,
 * the error recorder with its check macro, and the entry points between the files. */
#ifndef LRELU_INTERNAL_H
#define LRELU_INTERNAL_H

#include "lrelu.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>

#define LRELU_NUM_DTYPES 4

/* Terms per block of the per-channel sums; kernels/lrelu.cl has the same. */
#define LRELU_RBLOCK 256

/* Vectors per work-item of the per-channel 2-D forwards: kernels/lrelu.cl's
 * LRELU_ITEM_VECS, which the launch must match (a mismatch leaves elements unwritten: the
 * channels tests see it). */
#define LRELU_ITEM_VECS 4

/* Operations the kernels implement; from-output is the backward kernel fed with y. */
typedef enum { LRELU_OP_FORWARD, LRELU_OP_BACKWARD, LRELU_OP_BACKWARD_FROM_OUTPUT } lrelu_op;

/* cpu.c: out[i] = s[i] > 0 ? v[i] : v[i] * alpha on the calling thread, bit for bit what
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
/* ext.c: the quantized call's parameters as the kernel takes them. */
typedef struct {
    float alpha, s_in, inv_out;
    cl_int zp_in, zp_out;
} lrelu_q8_args;
/* the int8 forward in-process, as lrelu_ref_forward_q8 */
typedef void (*lrelu_cpu_q8_fn)(lrelu_qtype t, size_t n, const lrelu_q8_args *k, const void *x,
                                void *y);
/* dst[k] = per[(first + k) / inner % C] for k in [0, n): a value per element from one per
 * channel (elements of es bytes: 2, 4 or 8) */
typedef void (*lrelu_cpu_expand_fn)(void *dst, const void *per, size_t first, size_t n,
                                    size_t inner, size_t C, size_t es);
/* The per-channel backward in-process (PReLU, bias_act): dx and each block's sum of a
 * channel's terms, in the kernels' units and order (kernels/lrelu.cl: chan_bwd,
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

/* hostmem.c: runs an in-process call of n elements of es bytes moving `bytes` on the
 * calling thread, shared with the ctx's crew from crew_bytes on (the dtype's, from the
 * ctx: started on first need); whether a call moving `bytes` into `out` from in0 and in1
 * (NULL for none) writes with non-temporal stores: from the ctx's stream_bytes on, and
 * never in place; and the plain loop to use with that answer. */
void lrelu_inprocess_run(lrelu_ctx *ctx, size_t crew_bytes, size_t n, size_t es, size_t bytes,
                         lrelu_crew_body body, const void *job);
int lrelu_inprocess_streams(const lrelu_ctx *ctx, size_t bytes, const void *out, const void *in0,
                            const void *in1);
lrelu_cpu_fn lrelu_inprocess_loop(const lrelu_ctx *ctx, int stream);

/* How a kernel is launched: elements per work-item (LRELU_VEC) and work-group size. */
typedef struct {
    size_t vec;
    size_t local;
} lrelu_shape;

/* The widest channel group of chan_bgroup (kernels/lrelu.cl) that $LRELU_CHAN_GROUP may
 * set; its builds take the ctx's widest as -DLRELU_GROUP_MAX. */
#define LRELU_CHAN_GROUP_MAX 1024

/* The program of one dtype, built on first use. */
typedef struct {
    cl_program program;
    cl_kernel forward;
    cl_kernel backward;
    cl_kernel general; /* blending and strides: the _ex calls */
    /* Created on the first per-channel or quantized call (program.c), NULL before:
     * PReLU/bias_act forward, backward with block sums, the sums' final pass; and in the
     * f32 program the quantized forward of LRELU_QS8 and LRELU_QU8. */
    cl_kernel chan_forward;
    /* the forward in 2-D, [0] PReLU and [1] bias_act: over channel rows of whole vectors,
     * and where inner is 1 over rows of channels */
    cl_kernel chan_rows[2];
    cl_kernel chan_cols[2];
    cl_kernel chan_backward[2]; /* [0] PReLU, [1] bias_act */
    cl_kernel chan_bcols[2];    /* the same where inner is 1, channels as vectors */
    cl_kernel chan_bgroup[2];   /* ... and on CPU devices, rows of a group of channels */
    cl_kernel chan_sum;
    cl_kernel q8[2];
    size_t ext_local;   /* work-group size of those: local, or less where they allow less */
    size_t group_local; /* work-items a work-group of chan_bgroup may hold, at most 64 */
    size_t vec;         /* elements per work-item in the body (LRELU_VEC) */
    size_t item;        /* ... of the plain forward and backward (LRELU_ITEM) */
    size_t local;       /* work-group size used for every launch */
} lrelu_kernels;

struct lrelu_ctx {
    cl_context context;
    cl_command_queue queue;
    cl_device_id device;
    /* What the device offers, read once at creation. */
    cl_device_type type;
    /* The device is the host's own CPU: its type has the CPU bit and neither GPU nor
     * ACCELERATOR. Only then the in-process path and the CPU-only kernels (rows of channel
     * groups); a device reporting several bits (Oclgrind: all of them) gets the GPUs'. */
    int host_cpu;
    int has_fp64;
    int cl_c_1_2;          /* OpenCL C 1.2 or later: pass -cl-std=CL1.2 */
    cl_bool little_endian; /* bf16 pairs: two elements as one uint (kernels/lrelu.cl) */
    cl_ulong max_alloc;
    size_t host_chunk_bytes; /* largest chunk the host-memory API streams at once */
    int zero_copy;           /* host memory is device memory: wrap, don't copy */
    size_t inprocess_bytes[LRELU_NUM_DTYPES];    /* host calls moving at most this many bytes
                                                  * of each dtype run in-process; */
    size_t inprocess_ex_bytes[LRELU_NUM_DTYPES]; /* those that blend or stride, these */
    int inprocess_set;         /* $LRELU_HOST_INPROCESS_BYTES set (hostext.c: decides by bytes) */
    const lrelu_cpu_copy *cpu; /* the in-process loops (cpu.c) */
    size_t stream_bytes;       /* in-process calls moving at least this many bytes stream */
    /* In-process calls moving at least crew_bytes of a dtype share the work with a crew of
     * threads-1 helpers (threads: the device's compute units, or $LRELU_HOST_THREADS),
     * started on the first such call; crew_started is set under lock. Helpers asleep are
     * woken for calls of 4 x crew_bytes and more. */
    size_t crew_bytes[LRELU_NUM_DTYPES];
    int threads;
    int crew_started;
    lrelu_crew *_Atomic crew;
    size_t base_align;   /* CL_DEVICE_MEM_BASE_ADDR_ALIGN, in bytes */
    size_t max_items[2]; /* CL_DEVICE_MAX_WORK_ITEM_SIZES of dimensions 0 and 1 */
    /* Launch limits (launch.c): work-items along dimension 0 and work-groups along
     * dimension 1 of one enqueue; 2^31 and 65 535, or lower through $LRELU_LAUNCH_LIMITS
     * (tests). */
    size_t launch_items, launch_groups;
    /* $LRELU_POISON_SCRATCH (tests): the block sums' scratch is filled with NaN before
     * every per-channel backward, so that a sum read before it is written shows */
    int poison_scratch;
    /* Channels per work-item of the per-channel backward by rows of channel groups
     * (chan_bgroup, kernels/lrelu.cl; ext.c says where it runs): LRELU_CHAN_GROUP_MAX on
     * CPU devices, 0 (none: the GPUs' kernels) elsewhere; $LRELU_CHAN_GROUP sets it. */
    size_t chan_group;
    /* the blocks a work-item of chan_bgroup (and a unit of the in-process backward) takes:
     * $LRELU_CHAN_BLOCKS, else 0 (ext.c: lrelu_chan_group_per decides) */
    size_t chan_blocks;
    size_t units;          /* CL_DEVICE_MAX_COMPUTE_UNITS, at least 1 */
    char build_extra[256]; /* $LRELU_BUILD_OPTIONS at creation, appended to builds */
    /* Guards the lazy builds and every clSetKernelArg + enqueue pair: cl_kernel argument
     * state is shared, so two threads must not interleave on one kernel. */
    pthread_mutex_t lock;
    lrelu_shape shape[LRELU_NUM_DTYPES]; /* what the next build of each dtype uses */
    /* The copying host path's two pipelines, each an in-order queue of the ctx's own so
     * one chunk's transfers overlap the other's kernel; created on first use. */
    cl_command_queue copy_queue[2];
    /* ... and their staging buffers, kept for the next call: [pipeline][operand], each
     * staging_bytes long. A call that finds them in use by another thread makes its own. */
    cl_mem staging[2][3];
    size_t staging_bytes;
    int staging_busy;
    /* The per-channel backwards' block sums, kept for the next call on an in-order queue
     * (which runs the calls one after another), grown as needed; under lock. */
    int in_order; /* the queue runs commands in order */
    cl_mem sums;
    size_t sums_bytes;
    lrelu_kernels k[LRELU_NUM_DTYPES];
};

/* Records "<status name>: <message>" as this thread's last error and returns s. */
lrelu_status lrelu_fail(lrelu_status s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Records a failed OpenCL call (its CL_* name, the call, file and line) and returns the
 * status it maps to: OUT_OF_MEMORY for allocation failures, BUILD for a failed build,
 * OPENCL for anything else. */
lrelu_status lrelu_cl_fail(cl_int err, const char *call, const char *file, int line);
/* "CL_INVALID_VALUE" for -30, "CL_UNKNOWN_ERROR" for a code it does not know. */
const char *lrelu_cl_error_name(cl_int err);

/* Inside a function with `lrelu_status st` and a `cleanup:` label: runs an OpenCL call
 * and on failure records it (the first error wins) and jumps to the cleanup ladder. */
#define LRELU_CL(call)                                                                             \
    do {                                                                                           \
        cl_int lrelu_e_ = (call);                                                                  \
        if (lrelu_e_ != CL_SUCCESS) {                                                              \
            if (st == LRELU_OK)                                                                    \
                st = lrelu_cl_fail(lrelu_e_, #call, __FILE__, __LINE__);                           \
            goto cleanup;                                                                          \
        }                                                                                          \
    } while (0)

/* The same for an error code a call left in a variable (creators, map): `name` is the
 * call to name in the message. */
#define LRELU_CL_AS(err, name)                                                                     \
    do {                                                                                           \
        cl_int lrelu_e_ = (err);                                                                   \
        if (lrelu_e_ != CL_SUCCESS) {                                                              \
            if (st == LRELU_OK)                                                                    \
                st = lrelu_cl_fail(lrelu_e_, name, __FILE__, __LINE__);                            \
            goto cleanup;                                                                          \
        }                                                                                          \
    } while (0)

/* device.c: resolves a selector (NULL: $LRELU_DEVICE, then the default) to a device. */
lrelu_status lrelu_select_device(const char *selector, cl_platform_id *platform,
                                 cl_device_id *device);

/* program.c: the kernels of dtype t, built on first use; call with ctx->lock held. */
lrelu_status lrelu_get_kernels(lrelu_ctx *ctx, lrelu_dtype t, const lrelu_kernels **out);
/* program.c: builds dtype t's program with the given shape into *k (the local size may
 * come out smaller where the device allows fewer work-items). */
lrelu_status lrelu_build_kernels(lrelu_ctx *ctx, lrelu_dtype t, lrelu_shape shape,
                                 lrelu_kernels *k);
void lrelu_kernels_release(lrelu_kernels *k);
/* program.c: dtype t's kernels with the per-channel and quantized ones created; call
 * with ctx->lock held. */
lrelu_status lrelu_get_ext_kernels(lrelu_ctx *ctx, lrelu_dtype t, const lrelu_kernels **out);
void lrelu_release_kernels(lrelu_ctx *ctx);

/* tune.c: each dtype's shape at ctx creation: the default for the device type, then a
 * measured one from the tuning cache, then $LRELU_KERNEL_SHAPE. Reads the device's facts
 * from ctx. */
void lrelu_shapes_init(lrelu_ctx *ctx);

/* reference.c: element i of a float-computed dtype (f32, f16, bf16) as float, and back
 * with one rounding to storage. */
float lrelu_load_f(lrelu_dtype t, const void *p, size_t i);
void lrelu_store_f(lrelu_dtype t, void *p, size_t i, float v);

/* reference.c: opts with the defaults filled in (NULL or zeroed: plain): strides of 0
 * become 1; without LRELU_BLEND, scale 1 and beta 0 and flags 0. */
lrelu_opts lrelu_opts_resolve(const lrelu_opts *o);
/* Whether resolved opts ask for nothing the plain kernels do not do. */
int lrelu_opts_plain(const lrelu_opts *o);

/* launch.c: enqueues kern over global (a multiple of local in each of dims <= 2
 * dimensions), as several launches with global offsets where it passes the ctx's launch
 * limits; `done` then completes after all of them. */
lrelu_status lrelu_enqueue_kernel(const lrelu_ctx *ctx, cl_command_queue q, cl_kernel kern,
                                  cl_uint dims, const size_t *global, const size_t *local,
                                  cl_uint num_wait, const cl_event *wait, cl_event *done);

/* dispatch.c: launches kernels k of op over n > 0 elements; ctx->lock held, no checks.
 * o: resolved opts; plain ones take the forward/backward kernels, others the general. */
lrelu_status lrelu_launch(lrelu_ctx *ctx, cl_command_queue q, const lrelu_kernels *k, lrelu_op op,
                          lrelu_dtype t, size_t n, double alpha, const lrelu_opts *o, cl_mem s,
                          size_t s_off, cl_mem dy, size_t dy_off, cl_mem out, size_t out_off,
                          cl_uint num_wait, const cl_event *wait, cl_event *done);

/* dispatch.c: checks nothing, enqueues the kernel of op over n > 0 elements on q. `s` is
 * x for forward and backward, y for from-output; dy is unused (NULL) for forward. */
lrelu_status lrelu_enqueue(lrelu_ctx *ctx, cl_command_queue q, lrelu_op op, lrelu_dtype t, size_t n,
                           double alpha, const lrelu_opts *o, cl_mem s, size_t s_off, cl_mem dy,
                           size_t dy_off, cl_mem out, size_t out_off, cl_uint num_wait,
                           const cl_event *wait, cl_event *done);

/* One buffer operand as the checks see it: where its range starts in the memory it lives
 * in (the parent buffer for a sub-buffer) and how large it is. */
typedef struct {
    const char *name;
    cl_mem mem;
    size_t off; /* elements */
    size_t inc; /* elements between consecutive elements of the view, >= 1 */
    cl_mem root;
    size_t origin; /* bytes from the start of root */
    size_t size;   /* bytes of mem */
} lrelu_operand;

/* dispatch.c: fills in root, origin and size of o from its cl_mem, checking that it is a
 * buffer of the ctx's context that may be read (written when is_output); fn names the
 * call in the message. */
lrelu_status lrelu_describe_operand(const lrelu_ctx *ctx, const char *fn, lrelu_operand *o,
                                    int is_output);
/* dispatch.c: OUT_OF_RANGE unless o's n elements (stride o->inc) of es bytes fit o. */
lrelu_status lrelu_check_range(const char *fn, size_t n, size_t es, const lrelu_operand *o);

/* dispatch.c: the argument checks shared by both APIs, in the contract's order up to and
 * including UNSUPPORTED (ctx, dtype, alpha, opts, wait list, device support). */
lrelu_status lrelu_check_call(const lrelu_ctx *ctx, lrelu_op op, lrelu_dtype t, double alpha,
                              const lrelu_opts *opts);

/* overlap.c: whether two strided views share a byte. View A's element i occupies bytes
 * [a + i * sa, a + i * sa + es), B's likewise; both have n >= 1 elements, sa and sb are
 * multiples of es, and every byte they name is addressable (so nothing wraps). Exact
 * where the compiler has 128-bit integers, else true whenever the spans intersect. */
int lrelu_views_meet(size_t a, size_t sa, size_t b, size_t sb, size_t n, size_t es);

const char *lrelu_op_name(lrelu_op op);

/* dispatch.c: n == 0's answer: a marker on the ctx's queue after the wait list when done
 * is given, else nothing. */
lrelu_status lrelu_enqueue_marker(lrelu_ctx *ctx, cl_uint num_wait, const cl_event *wait,
                                  cl_event *done);
/* dispatch.c: sets a compute-type scalar argument: float, or double for f64. */
cl_int lrelu_set_scalar(cl_kernel kern, cl_uint arg, lrelu_dtype t, double v);
/* ext.c: bias_act's parameters: alpha and gain finite in t's compute type, limit >= 0
 * (+inf: none); INVALID_ARG naming fn otherwise. */
lrelu_status lrelu_check_bias_act(const char *fn, lrelu_dtype t, lrelu_bias_act p);

/* ext.c: outer * channels * inner, SIZE_MAX when that overflows. */
size_t lrelu_layout_count(lrelu_layout l);

/* ext.c: the blocks per work-item of the per-channel backward by rows of channel groups
 * (per unit in-process) and its channels per group (at most *width). */
void lrelu_chan_group_shape(const lrelu_ctx *ctx, size_t channels, size_t inner, size_t nb,
                            size_t *width, size_t *per);

/* ext.c: checks ctx, the qtype and the parameters (INVALID_ARG) and converts them. */
lrelu_status lrelu_q8_check(const lrelu_ctx *ctx, const char *fn, lrelu_qtype t, double alpha,
                            lrelu_quant in, lrelu_quant out, lrelu_q8_args *a);

/* cpu.c: the widest copy of the in-process loops the CPU runs, capped by
 * $LRELU_HOST_SIMD. */
const lrelu_cpu_copy *lrelu_cpu_pick(void);

#endif /* LRELU_INTERNAL_H */
