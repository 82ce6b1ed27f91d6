/* common.h: what every layer of the host library shares: the operations, the error
 * recorder with its check macros, the options, the conversions, the overlap test, and the
 * configuration read once per ctx. */
#ifndef LRELU_COMMON_H
#define LRELU_COMMON_H

#include "lrelu.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>

#define LRELU_NUM_DTYPES 4

/* Terms per block of the per-channel sums; passed to kernels/channels.cl as a build
 * option (cl/programs.c). */
#define LRELU_RBLOCK 256

/* Vectors per work-item of the per-channel 2-D forwards, whose vectors are too little
 * work to carry a work-item's overhead alone; passed to kernels/channels.cl likewise. */
#define LRELU_ITEM_VECS 4
/* Blocks a work-group of the GPUs' per-channel backward takes (kernels/channels.cl). */
#define LRELU_CHAN_TILE 4

/* Operations the kernels implement; from-output is the backward kernel fed with y. */
typedef enum { LRELU_OP_FORWARD, LRELU_OP_BACKWARD, LRELU_OP_BACKWARD_FROM_OUTPUT } lrelu_op;

/* q8.c: the quantized call's parameters as the kernel takes them. */
typedef struct {
    float alpha, s_in, inv_out;
    cl_int zp_in, zp_out;
} lrelu_q8_args;

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

/* convert.c: element i of a float-computed dtype (f32, f16, bf16) as float, and back
 * with one rounding to storage. */
float lrelu_load_f(lrelu_dtype t, const void *p, size_t i);
void lrelu_store_f(lrelu_dtype t, void *p, size_t i, float v);

/* checks.c: opts with the defaults filled in (NULL or zeroed: plain): strides of 0
 * become 1; without LRELU_BLEND, scale 1 and beta 0 and flags 0. */
lrelu_opts lrelu_opts_resolve(const lrelu_opts *o);
/* Whether resolved opts ask for nothing the plain kernels do not do. */
int lrelu_opts_plain(const lrelu_opts *o);

/* overlap.c: whether two strided views share a byte. View A's element i occupies bytes
 * [a + i * sa, a + i * sa + es), B's likewise; both have n >= 1 elements, sa and sb are
 * multiples of es, and every byte they name is addressable (so nothing wraps). Exact
 * where the compiler has 128-bit integers, else true whenever the spans intersect. */
int lrelu_views_meet(size_t a, size_t sa, size_t b, size_t sb, size_t n, size_t es);

const char *lrelu_op_name(lrelu_op op);

/* config.c: one setting of the environment: whether it is set, and its number (a pair's
 * second in v[1], 0 where not given). */
typedef struct {
    int set;
    unsigned long long v[2];
} lrelu_setting;

/* config.c: the environment as a ctx reads it at creation. */
typedef struct {
    /* for users (README) */
    char device[256];            /* LRELU_DEVICE: the selector when the program passes none */
    lrelu_setting disable_fp64;  /* LRELU_DISABLE_FP64 */
    lrelu_setting host_threads;  /* LRELU_HOST_THREADS */
    lrelu_setting kernel_shape;  /* LRELU_KERNEL_SHAPE=VEC:LOCAL */
    lrelu_setting tune;          /* LRELU_TUNE=0: the tuning cache ignored */
    lrelu_setting program_cache; /* LRELU_PROGRAM_CACHE=0: no program binaries kept */
    char cache_dir[1024];        /* LRELU_CACHE_DIR, else the XDG default; "" for none */
    char build_options[256];     /* LRELU_BUILD_OPTIONS */
    /* internal (docs/architecture.md): tuning knobs and test seams */
    lrelu_setting host_chunk, host_zero_copy, inprocess_bytes, crew_bytes, stream_bytes;
    char host_simd[8];
    lrelu_setting chan_group, chan_blocks, launch_limits, poison_scratch, tune_bytes;
} lrelu_config;

/* Whether the kernels build with VEC elements a work-item and work-groups of LOCAL. */
int lrelu_shape_valid(unsigned long long vec, unsigned long long local);
/* Reads and checks every LRELU_* variable; INVALID_ARG naming the first that does not
 * parse (fn names the call). */
lrelu_status lrelu_config_read(const char *fn, lrelu_config *c);

/* checks.c: the checks of every call, in the contract's order (see checks.c). */

/* One array of a call as the checks see it: a device buffer with the index of its first
 * element, or a host array; n elements, inc apart. */
typedef struct {
    const char *name;
    cl_mem mem;      /* a device call's buffer, */
    size_t off;      /* ... and its first element */
    const void *ptr; /* or a host call's array */
    size_t n;        /* elements of the view */
    size_t inc;      /* elements from one to the next, >= 1 */
    int out;
    int optional;   /* may be NULL */
    unsigned alias; /* bit i: an output may be the very same view as operand i (in place) */
    cl_mem root;    /* set by the checks: the buffer it lives in (NULL: host memory), */
    size_t origin;  /* ... the byte of its first element there, */
    size_t size;    /* ... and a buffer's bytes */
} lrelu_operand;

/* A call's arrays and what they hold: elements of es bytes, of dtype t (whose device
 * support is checked; f32 for int8), on the device or (host) in host memory. */
typedef struct {
    const char *fn;
    lrelu_dtype t;
    size_t es;
    size_t n; /* the call's elements; 0: nothing to do, no array looked at */
    int host;
    cl_uint num_wait; /* device calls: the wait list */
    const cl_event *wait;
    lrelu_operand *ops; /* inputs first */
    int nops;
} lrelu_checked;

static inline int lrelu_operand_present(const lrelu_checked *c, const lrelu_operand *o)
{
    return c->host ? o->ptr != NULL : o->mem != NULL;
}

/* INVALID_ARG unless ctx is given and t is an lrelu_dtype. */
lrelu_status lrelu_check_head(const lrelu_ctx *ctx, const char *fn, lrelu_dtype t);
/* INVALID_ARG unless v is finite in t's compute type. */
lrelu_status lrelu_check_finite(const char *fn, lrelu_dtype t, const char *name, double v);
/* The parameters of each family, after the head: the elementwise calls' alpha and opts;
 * bias_act's (p; NULL for PReLU): alpha and gain finite, limit >= 0 (+inf: none); the
 * int8 call's, converted to what the kernel takes. */
lrelu_status lrelu_check_elementwise(const lrelu_ctx *ctx, const char *fn, lrelu_op op,
                                     lrelu_dtype t, double alpha, const lrelu_opts *opts);
lrelu_status lrelu_check_channels(const lrelu_ctx *ctx, const char *fn, lrelu_dtype t,
                                  const lrelu_bias_act *p);
lrelu_status lrelu_check_q8(const lrelu_ctx *ctx, const char *fn, lrelu_qtype t, double alpha,
                            lrelu_quant in, lrelu_quant out, lrelu_q8_args *a);
/* Every check from the arrays on: the wait list, each array present (a usable buffer of
 * the ctx's context, or an aligned pointer), the device's support of t, then (n > 0) each
 * view within its memory and no output overlapping another operand. */
lrelu_status lrelu_check_operands(const lrelu_ctx *ctx, lrelu_checked *c);

/* An elementwise call's operands (inputs, then the output) given resolved opts: n
 * elements each, the strides, the output allowed in place on any input. */
void lrelu_elementwise_operands(const lrelu_opts *o, size_t n, lrelu_operand *ops, int nops);

/* outer * channels * inner, SIZE_MAX when that overflows (the range checks then refuse
 * it as OUT_OF_RANGE, after the INVALID_ARG checks, in the contract's order). */
size_t lrelu_layout_count(lrelu_layout l);

#endif /* LRELU_COMMON_H */
