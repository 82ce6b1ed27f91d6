/* hostmem.h: the host-memory API's shared parts: where a call runs (route.c), how it runs
 * in-process (inprocess.c), and how the per-channel and int8 calls wrap their arrays
 * (arrays.c). */
#ifndef LRELU_HOSTMEM_H
#define LRELU_HOSTMEM_H

#include "cl/cl.h"

/* What a host call is, for route.c: its family, dtype and the bytes it moves (inputs
 * and outputs together). */
typedef enum {
    LRELU_HOST_PLAIN,         /* forward or backward, no blend, no strides */
    LRELU_HOST_EX,            /* ... blending or strided */
    LRELU_HOST_CHANNELS,      /* PReLU or bias_act where the in-process loops suit */
    LRELU_HOST_CHANNELS_SLOW, /* bias_act's forward over short rows: a block at a time */
    LRELU_HOST_Q8,
} lrelu_host_kind;
typedef struct {
    lrelu_host_kind kind;
    lrelu_dtype t;
    size_t bytes;
    int wrappable; /* zero copy may wrap the arrays as they are (they do not partly overlap) */
} lrelu_host_call;
typedef enum {
    LRELU_ROUTE_INPROCESS, /* the vectorized loops (cpu/), on the calling thread and crew */
    LRELU_ROUTE_REFERENCE, /* the reference's scalar loop: the same bits, no launch */
    LRELU_ROUTE_ZERO_COPY, /* the device, on the caller's arrays wrapped in place */
    LRELU_ROUTE_COPY,      /* the device, through device buffers */
} lrelu_route;

/* route.c: the ctx's thresholds, its in-process loops and threads, and whether it may
 * wrap host memory (unified: the device works on host memory), at creation. cpus: the
 * CPUs the creating thread may run on (0: unknown). */
void lrelu_route_init(lrelu_ctx *c, int unified, long cpus);
/* route.c: where call c runs. */
lrelu_route lrelu_route_host(const lrelu_ctx *ctx, const lrelu_host_call *c);

/* inprocess.c: runs an in-process call of n elements of es bytes moving `bytes` on the
 * calling thread, shared with the ctx's crew from crew_bytes on (the dtype's, from the
 * ctx: started on first need); whether a call moving `bytes` into `out` from in0 and in1
 * (NULL for none) writes with non-temporal stores: from the ctx's stream_bytes on, and
 * never in place; and the plain loop to use with that answer. */
void lrelu_inprocess_run(lrelu_ctx *ctx, size_t crew_bytes, size_t n, size_t es, size_t bytes,
                         lrelu_crew_body body, const void *job);
int lrelu_inprocess_streams(const lrelu_ctx *ctx, size_t bytes, const void *out, const void *in0,
                            const void *in1);
lrelu_cpu_fn lrelu_inprocess_loop(const lrelu_ctx *ctx, int stream);

/* pipeline.c: a call on the copying path. */
typedef struct lrelu_piped lrelu_piped;
/* A chunk on its way through a pipeline. */
typedef struct {
    cl_command_queue q; /* the pipeline's in-order queue */
    int pipe;           /* which pipeline: 0 or 1 */
    cl_mem const *dev;  /* the streamed operands' device buffers, in their order */
    size_t first, m;    /* elements [first, first + m) */
} lrelu_chunk;
/* Enqueues chunk k's kernel on k->q (or on the ctx's queue: then ctx_queue is set) after
 * the nw events of wait; done completes when the chunk's outputs are written. */
typedef lrelu_status (*lrelu_piped_kernel)(lrelu_ctx *ctx, const lrelu_piped *c,
                                           const lrelu_chunk *k, cl_uint nw, const cl_event *wait,
                                           cl_event *done);
struct lrelu_piped {
    const lrelu_operand *ops; /* the streamed operands (at most 3), contiguous on the device */
    int nops;
    int out;       /* the output's index among ops, -1 for none */
    int reads_out; /* the output's values are read too (blending) */
    int ctx_queue; /* the kernels run on the ctx's queue */
    size_t es, n;  /* bytes an element, and the elements of each operand */
    size_t chunk;  /* elements a chunk, at most (lrelu_piped_chunk) */
    /* the length of the chunk from element first on (at most chunk); NULL: as long as
     * chunk allows */
    size_t (*cut)(const lrelu_piped *c, size_t first);
    lrelu_piped_kernel kernel;
    const void *call; /* the family's own */
};
/* pipeline.c: elements a chunk of es bytes each: the staging's size, within the host
 * chunk ($LRELU_HOST_CHUNK). */
size_t lrelu_piped_chunk(const lrelu_ctx *ctx, size_t es);
/* pipeline.c: runs c through the copying path's two pipelines; returns once the outputs
 * are in the caller's arrays, or the first failure once nothing uses them any more. */
lrelu_status lrelu_piped_run(lrelu_ctx *ctx, const lrelu_piped *c);

/* What a host call does: run; check its arguments alone and return (a device group
 * checks the whole call on each of its devices before any shard runs); or, a per-channel
 * backward, run and leave its block sums where ds would be (the channels' sums in the
 * layout of lrelu_prelu_backward_blocks), for a group to add up in the one call's order. */
typedef enum { LRELU_HOST_RUN, LRELU_HOST_CHECK, LRELU_HOST_BLOCKS } lrelu_host_mode;

/* elementwise.c: an elementwise host call named fn; in1 is dy (NULL for the forward). */
lrelu_status lrelu_ew_host(lrelu_ctx *ctx, const char *fn, lrelu_op op, lrelu_dtype t, size_t n,
                           double alpha, const lrelu_opts *opts, const void *in0, const void *in1,
                           void *out, lrelu_host_mode mode);
/* q8.c: the int8 host forward named fn. */
lrelu_status lrelu_q8_host(lrelu_ctx *ctx, const char *fn, lrelu_qtype t, size_t n, double alpha,
                           lrelu_quant in, lrelu_quant out, const void *x, void *y,
                           lrelu_host_mode mode);
/* channels.c: a per-channel host call named fn: PReLU (p the slopes) or bias_act (p the
 * biases), forward (x, p, y as dx) or backward (x, p, dy, dx, ds). */
typedef struct {
    lrelu_dtype t;
    lrelu_layout l;
    int bias_act; /* else PReLU */
    int backward;
    lrelu_bias_act p;
    lrelu_host_mode mode;
} lrelu_chan_host;
/* channels.c: the rows of a layout with this inner whose terms fill whole blocks of each
 * channel: 256 / gcd(inner, 256). A cut along outer in multiples of them keeps the
 * block sums the whole call's. */
size_t lrelu_chan_block_rows(size_t inner);
lrelu_status lrelu_chan_host_call(lrelu_ctx *ctx, const char *fn, const lrelu_chan_host *c,
                                  const void *x, const void *p, const void *dy, void *dx, void *ds);

/* arrays.c: the per-channel and int8 host calls, whose arrays are wrapped whole. */
/* A host array of a call: mem and off are set to the buffer that wraps it and its
 * first element there. */
typedef lrelu_operand lrelu_array;

/* Runs the device call on the wrapped operands; fills `done`. */
typedef lrelu_status (*lrelu_arrays_device)(lrelu_ctx *ctx, const void *call,
                                            const lrelu_array *ops, cl_event *done);
/* Runs the reference's loop on the host operands (in-process). */
typedef void (*lrelu_arrays_ref)(const void *call, const lrelu_array *ops);
/* Runs the call in-process through the vectorized loops; returns 0 where it could not
 * (no memory for its scratch: the device runs it then). */
typedef int (*lrelu_arrays_fast)(lrelu_ctx *ctx, const void *call, const lrelu_array *ops,
                                 size_t bytes);
/* Runs the call on the copying path (pipeline.c), setting *taken; leaves it 0 where the
 * call cannot be cut into chunks (the arrays are then copied whole). */
typedef lrelu_status (*lrelu_arrays_piped)(lrelu_ctx *ctx, const void *call, const lrelu_array *ops,
                                           int *taken);
/* A family's ways to run a call. */
typedef struct {
    lrelu_arrays_device device;
    lrelu_arrays_ref ref; /* NULL: none (the device runs what the reference's loop would) */
    lrelu_arrays_fast fast;
    lrelu_arrays_piped piped;
} lrelu_arrays_ways;

/* The checks of the arrays (after the call's own parameter checks), then the call where
 * route.c sends a call of this kind: in-process (fast or the reference), else on the
 * device: streamed through the copying path where the device does not work on host
 * memory, else (and where a call cannot be cut) the device call on the arrays wrapped
 * in buffers and the outputs brought back. n is the data operands' count. With
 * LRELU_HOST_CHECK, returns after the checks. */
lrelu_status lrelu_arrays_run(lrelu_ctx *ctx, const char *fn, lrelu_dtype t, size_t es, size_t n,
                              lrelu_array *ops, int nops, lrelu_host_kind kind,
                              const lrelu_arrays_ways *ways, const void *call,
                              lrelu_host_mode mode);

#endif /* LRELU_HOSTMEM_H */
