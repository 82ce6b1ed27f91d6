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

/* The widest channel group of the bgroup kernels (kernels/channels.cl) that
 * $LRELU_CHAN_GROUP may set; their builds take the ctx's widest as -DLRELU_GROUP_MAX. */
#define LRELU_CHAN_GROUP_MAX 1024

/* The kernel families, each its own program (kernels/common.cl, then the family's file),
 * built on a dtype's first call of that family: a plain call compiles only its own. */
typedef enum {
    LRELU_FAMILY_ELEMENTWISE, /* kernels/elementwise.cl */
    LRELU_FAMILY_CHANNELS,    /* kernels/channels.cl */
    LRELU_FAMILY_Q8,          /* kernels/q8.cl, in the f32 slot only */
    LRELU_NUM_FAMILIES
} lrelu_family;

/* Every kernel; programs.c's table names each and says its family. Where PReLU and
 * bias_act have a kernel each, bias_act's follows PReLU's: [PRELU_X + (bias_act)]. */
typedef enum {
    LRELU_K_FORWARD,
    LRELU_K_BACKWARD,
    LRELU_K_GENERAL, /* blending and strides: the _ex calls */
    LRELU_K_CHAN_FORWARD,
    LRELU_K_PRELU_ROWS, /* the forward in 2-D over channel rows of whole vectors */
    LRELU_K_BIAS_ROWS,
    LRELU_K_PRELU_COLS, /* ... and where inner is 1, over rows of channels */
    LRELU_K_BIAS_COLS,
    LRELU_K_PRELU_BACKWARD, /* dx and each block's sums */
    LRELU_K_BIAS_BACKWARD,
    LRELU_K_PRELU_BCOLS, /* the same where inner is 1, channels as vectors */
    LRELU_K_BIAS_BCOLS,
    LRELU_K_PRELU_BGROUP, /* ... and on CPU devices, rows of a group of channels */
    LRELU_K_BIAS_BGROUP,
    LRELU_K_PRELU_BTILE, /* GPUs: a work-group's tile of blocks where inner > 1 */
    LRELU_K_BIAS_BTILE,
    LRELU_K_PRELU_BCOL1, /* GPUs: one channel a work-item where inner is 1 */
    LRELU_K_BIAS_BCOL1,
    LRELU_K_CHAN_SUM,  /* the sums' final pass */
    LRELU_K_CHAN_SUMG, /* ... on GPUs, a work-group per channel */
    LRELU_K_Q8_S8,     /* [LRELU_K_Q8_S8 + qtype] */
    LRELU_K_Q8_U8,
    LRELU_NUM_KERNELS
} lrelu_kernel_id;

/* The programs and kernels of one dtype; a family's kernels are NULL until its program is
 * built (programs.c), and the bgroup kernels stay NULL off CPU devices. */
typedef struct {
    cl_program program[LRELU_NUM_FAMILIES];
    cl_kernel kern[LRELU_NUM_KERNELS];
    /* work-group size of each family's launches: the shape's, or less where its kernels
     * allow less */
    size_t local[LRELU_NUM_FAMILIES];
    size_t group_local; /* work-items a work-group of the bgroup kernels may hold, <= 64 */
    size_t vec;         /* elements per work-item in the body (LRELU_VEC) */
    size_t item;        /* ... of the plain forward and backward (LRELU_ITEM) */
} lrelu_kernels;

/* One pipeline of the host API's copying path (hostmem/elementwise.c): per operand a
 * device buffer, and pinned host memory (CL_MEM_ALLOC_HOST_PTR) mapped at `host`. */
typedef struct {
    cl_mem dev[3], pin[3];
    void *host[3];
} lrelu_stage;
/* hostmem/elementwise.c: unmaps (on q) and releases a stage, and empties it. */
void lrelu_stage_release(cl_command_queue q, lrelu_stage *s);

struct lrelu_ctx {
    lrelu_config config; /* the environment at creation */
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
    cl_bool little_endian; /* bf16 pairs: two elements as one uint (kernels/common.cl) */
    cl_ulong max_alloc;
    size_t host_chunk_bytes;    /* largest chunk the host-memory API streams at once */
    size_t staging_chunk_bytes; /* ... through the copying path's staging buffers */
    int zero_copy;              /* host memory is device memory: wrap, don't copy */
    size_t inprocess_bytes[LRELU_NUM_DTYPES];    /* host calls moving at most this many bytes
                                                  * of each dtype run in-process; */
    size_t inprocess_ex_bytes[LRELU_NUM_DTYPES]; /* those that blend or stride, these */
    size_t reference_bytes;    /* ... and the per-channel and int8 calls the reference runs */
    const lrelu_cpu_copy *cpu; /* the in-process loops (cpu/pick.c) */
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
     * (the bgroup kernels, kernels/channels.cl; cl/channels.c says where they run):
     * LRELU_CHAN_GROUP_MAX on CPU devices, 0 (none: the GPUs' kernels) elsewhere; $LRELU_CHAN_GROUP
     * sets it. */
    size_t chan_group;
    /* the blocks a work-item of chan_bgroup (and a unit of the in-process backward) takes:
     * $LRELU_CHAN_BLOCKS, else 0 (channels.c: lrelu_chan_group_shape decides) */
    size_t chan_blocks;
    size_t units; /* CL_DEVICE_MAX_COMPUTE_UNITS, at least 1 */
    /* Guards the lazy builds and every clSetKernelArg + enqueue pair: cl_kernel argument
     * state is shared, so two threads must not interleave on one kernel. */
    pthread_mutex_t lock;
    lrelu_shape shape[LRELU_NUM_DTYPES]; /* what the next build of each dtype uses */
    /* The copying host path's two pipelines, each an in-order queue of the ctx's own so
     * one chunk's transfers overlap the other's kernel; created on first use. */
    cl_command_queue copy_queue[2];
    /* ... and their staging, kept for the next call, each buffer staging_bytes long. A
     * call that finds it in use by another thread makes its own. */
    lrelu_stage staging[2];
    size_t staging_bytes;
    int staging_busy;
    /* The per-channel backwards' block sums, kept for the next call on an in-order queue
     * (which runs the calls one after another), grown as needed; under lock. */
    int in_order; /* the queue runs commands in order */
    cl_mem sums;
    size_t sums_bytes;
    lrelu_kernels k[LRELU_NUM_DTYPES];
};

/* device.c: resolves a selector (NULL or "": env, $LRELU_DEVICE; then the default) to
 * a device. */
lrelu_status lrelu_select_device(const char *selector, const char *env, cl_platform_id *platform,
                                 cl_device_id *device);

/* programs.c: the kernels of dtype t with family f's built (on first use); call with
 * ctx->lock held. */
lrelu_status lrelu_get_kernels(lrelu_ctx *ctx, lrelu_dtype t, lrelu_family f,
                               const lrelu_kernels **out);
/* programs.c: builds dtype t's family f with the given shape into *k (the local size may
 * come out smaller where the device allows fewer work-items); with cached, from the
 * program cache where it has the binary, and keeping it there where it has not. */
lrelu_status lrelu_build_family(lrelu_ctx *ctx, lrelu_dtype t, lrelu_family f, lrelu_shape shape,
                                int cached, lrelu_kernels *k);
/* programs.c: releases every program and kernel of k and zeroes it. */
void lrelu_kernels_release(lrelu_kernels *k);
void lrelu_release_kernels(lrelu_ctx *ctx);
/* programs.c: FNV-1a of the sources of family f, for the tuning cache's key. */
unsigned long long lrelu_family_hash(lrelu_family f, unsigned long long h);

/* cache.c: FNV-1a of n bytes at p, continuing from h. */
unsigned long long lrelu_fnv(const void *p, size_t n, unsigned long long h);
/* cache.c: the device's identity as text (name, vendor, versions, the platform's version):
 * what a cached file must have been written for. */
void lrelu_device_ident(const lrelu_ctx *ctx, char *out, size_t len);
/* cache.c: the path of entry `name` of the ctx's cache folder, creating the folder with
 * create; 0 where there is no folder (none set, too long, or not creatable). */
int lrelu_cache_path(const lrelu_ctx *ctx, const char *name, char *out, size_t len, int create);
/* cache.c: writes the parts to path as a whole, never half: 1 if written. */
int lrelu_cache_write(const char *path, const void *const *parts, const size_t *lens, int count);
/* cache.c: family f built with options from its cached binary, or NULL where the cache
 * has none that this device and driver take ($LRELU_PROGRAM_CACHE=0: never). */
cl_program lrelu_program_cached(const lrelu_ctx *ctx, lrelu_family f, const char *options);
/* cache.c: keeps the binary of prog, built from source, for the next process. */
void lrelu_program_keep(const lrelu_ctx *ctx, lrelu_family f, const char *options, cl_program prog);

/* tuning.c: each dtype's shape at ctx creation: the default for the device type, then a
 * measured one from the tuning cache, then $LRELU_KERNEL_SHAPE. Reads the device's facts
 * from ctx. */
void lrelu_shapes_init(lrelu_ctx *ctx);

/* launch.c: enqueues kern over global (a multiple of local in each of dims <= 2
 * dimensions), as several launches with global offsets where it passes the ctx's launch
 * limits; `done` then completes after all of them. */
lrelu_status lrelu_enqueue_kernel(const lrelu_ctx *ctx, cl_command_queue q, cl_kernel kern,
                                  cl_uint dims, const size_t *global, const size_t *local,
                                  cl_uint num_wait, const cl_event *wait, cl_event *done);

/* launch.c: a kernel's arguments in order, their values copied in; the order in which
 * they are added is the kernel's (its file's contract), so no position is written out. */
typedef struct {
    unsigned char bytes[256];
    size_t at[24], size[24];
    cl_uint count;
} lrelu_args;
void lrelu_arg(lrelu_args *a, const void *value, size_t size);
void lrelu_arg_ulong(lrelu_args *a, size_t v);
void lrelu_arg_mem(lrelu_args *a, cl_mem m);
/* a compute-type scalar: float, or double for f64 */
void lrelu_arg_scalar(lrelu_args *a, lrelu_dtype t, double v);
/* launch.c: sets every argument of kern. */
lrelu_status lrelu_set_args(cl_kernel kern, const lrelu_args *a);
/* launch.c: enqueues kern on the ctx's queue over `items` work-items rounded up to the
 * work-group size `local`. */
lrelu_status lrelu_launch_1d(lrelu_ctx *ctx, size_t local, cl_kernel kern, size_t items,
                             cl_uint num_wait, const cl_event *wait, cl_event *done);
/* launch.c: enqueues a 2-D kernel over (items, rows) with work-groups of at most
 * local_size: a work-group takes all the items of a row where they are few (the power of
 * two at or above their count) and as many rows as that leaves room for. */
lrelu_status lrelu_launch_2d(lrelu_ctx *ctx, size_t local_size, cl_kernel kern, size_t items,
                             size_t rows, cl_uint num_wait, const cl_event *wait, cl_event *done);

/* elementwise.c: launches kernels k of op over n > 0 elements; ctx->lock held, no checks.
 * o: resolved opts; plain ones take the forward/backward kernels, others the general. */
lrelu_status lrelu_launch(lrelu_ctx *ctx, cl_command_queue q, const lrelu_kernels *k, lrelu_op op,
                          lrelu_dtype t, size_t n, double alpha, const lrelu_opts *o, cl_mem s,
                          size_t s_off, cl_mem dy, size_t dy_off, cl_mem out, size_t out_off,
                          cl_uint num_wait, const cl_event *wait, cl_event *done);

/* elementwise.c: checks nothing, enqueues the kernel of op over n > 0 elements on q. `s` is
 * x for forward and backward, y for from-output; dy is unused (NULL) for forward. */
lrelu_status lrelu_enqueue(lrelu_ctx *ctx, cl_command_queue q, lrelu_op op, lrelu_dtype t, size_t n,
                           double alpha, const lrelu_opts *o, cl_mem s, size_t s_off, cl_mem dy,
                           size_t dy_off, cl_mem out, size_t out_off, cl_uint num_wait,
                           const cl_event *wait, cl_event *done);

/* elementwise.c: n == 0's answer: a marker on the ctx's queue after the wait list when done
 * is given, else nothing. */
lrelu_status lrelu_enqueue_marker(lrelu_ctx *ctx, cl_uint num_wait, const cl_event *wait,
                                  cl_event *done);

/* channels.c: the blocks per work-item of the per-channel backward by rows of channel groups
 * (per unit in-process) and its channels per group (at most *width). */
void lrelu_chan_group_shape(const lrelu_ctx *ctx, size_t channels, size_t inner, size_t nb,
                            size_t *width, size_t *per);

#endif /* LRELU_CL_H */
