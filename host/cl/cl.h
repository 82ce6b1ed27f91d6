/* cl.h: the device layer: the ctx, the programs of each dtype and family, the checks
 * of device-buffer operands and the launches. */
#ifndef LRELU_CL_H
#define LRELU_CL_H

#include "common/common.h"
#include "cpu/cpu.h"

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

/* launch.c: enqueues kern over global (a multiple of local in each of dims <= 2
 * dimensions), as several launches with global offsets where it passes the ctx's launch
 * limits; `done` then completes after all of them. */
lrelu_status lrelu_enqueue_kernel(const lrelu_ctx *ctx, cl_command_queue q, cl_kernel kern,
                                  cl_uint dims, const size_t *global, const size_t *local,
                                  cl_uint num_wait, const cl_event *wait, cl_event *done);

/* launch.c: one kernel argument: its size and where its value is. */
typedef struct {
    size_t size;
    const void *value;
} lrelu_kernel_arg;
/* launch.c: sets count arguments of kern from argument `first` on. */
lrelu_status lrelu_set_args(cl_kernel kern, cl_uint first, const lrelu_kernel_arg *args,
                            cl_uint count);
/* launch.c: enqueues kern on the ctx's queue over `items` work-items rounded up to the
 * work-group size `local`. */
lrelu_status lrelu_launch_1d(lrelu_ctx *ctx, size_t local, cl_kernel kern, size_t items,
                             cl_uint num_wait, const cl_event *wait, cl_event *done);
/* launch.c: enqueues a 2-D kernel over (items, rows) with work-groups of at most
 * local_size: a work-group takes all the items of a row where they are few (the power of
 * two at or above their count) and as many rows as that leaves room for. */
lrelu_status lrelu_launch_2d(lrelu_ctx *ctx, size_t local_size, cl_kernel kern, size_t items,
                             size_t rows, cl_uint num_wait, const cl_event *wait, cl_event *done);

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

/* dispatch.c: n == 0's answer: a marker on the ctx's queue after the wait list when done
 * is given, else nothing. */
lrelu_status lrelu_enqueue_marker(lrelu_ctx *ctx, cl_uint num_wait, const cl_event *wait,
                                  cl_event *done);
/* dispatch.c: sets a compute-type scalar argument: float, or double for f64. */
cl_int lrelu_set_scalar(cl_kernel kern, cl_uint arg, lrelu_dtype t, double v);

/* ext.c: the blocks per work-item of the per-channel backward by rows of channel groups
 * (per unit in-process) and its channels per group (at most *width). */
void lrelu_chan_group_shape(const lrelu_ctx *ctx, size_t channels, size_t inner, size_t nb,
                            size_t *width, size_t *per);

#endif /* LRELU_CL_H */
