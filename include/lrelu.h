/* lrelu.h: the whole public API of liblrelu, Leaky ReLU forward and backward as
 * OpenCL C kernels driven from C. The comments in this file are the reference manual:
 * each function states what it returns, who owns what and which threads may call it. */
#ifndef LRELU_H
#define LRELU_H

#ifndef CL_TARGET_OPENCL_VERSION
#define CL_TARGET_OPENCL_VERSION 120
#endif
#include <CL/cl.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Every exported symbol carries LRELU_API; everything else in the library is hidden. */
#if defined(LRELU_STATIC_DEFINE)
#define LRELU_API
#elif defined(_WIN32)
#ifdef LRELU_BUILDING
#define LRELU_API __declspec(dllexport)
#else
#define LRELU_API __declspec(dllimport)
#endif
#else
#define LRELU_API __attribute__((visibility("default")))
#endif

#define LRELU_VERSION_MAJOR 0
#define LRELU_VERSION_MINOR 1
#define LRELU_VERSION_PATCH 0

/* "MAJOR.MINOR.PATCH" of the library actually linked; equals the macros above when the
 * header and the library come from the same release. */
LRELU_API const char *lrelu_version(void);

/* PyTorch's default negative slope. */
#define LRELU_DEFAULT_ALPHA 0.01

/* ------------------------------------------------------------------------------------
 * Math (PyTorch leaky_relu / leaky_relu_backward, bit for bit)
 *
 *   forward:                 y  = x > 0 ? x  : x  * alpha
 *   backward (from input):   dx = x > 0 ? dy : dy * alpha
 *   backward (from output):  dx = y > 0 ? dy : dy * alpha      (alpha >= 0 only)
 *
 * x == +0 and x == -0 take the multiply branch (the forward gives a signed zero, the
 * backward dy * alpha); NaN > 0 is false, so a NaN input gives NaN forward and
 * dy * alpha backward. Any finite alpha works, also alpha > 1 and alpha < 0. The
 * comparison is exact even on devices that flush denormals: a positive subnormal x is > 0.
 * ---------------------------------------------------------------------------------- */

/* Element types. Storage is what the buffers hold; compute is where the multiply
 * happens. alpha is converted once from double to the compute type, and the product
 * is rounded once, to nearest even, to the storage type.
 *
 *   LRELU_F32   float              compute float    every device
 *   LRELU_F16   IEEE half (uint16) compute float    every device (no cl_khr_fp16 needed)
 *   LRELU_BF16  bfloat16 (uint16)  compute float    every device
 *   LRELU_F64   double             compute double   devices with fp64, else
 *                                                   LRELU_ERR_UNSUPPORTED */
typedef enum { LRELU_F32 = 0, LRELU_F16 = 1, LRELU_BF16 = 2, LRELU_F64 = 3 } lrelu_dtype;

/* Size in bytes of one element of t, or 0 for a value that is not an lrelu_dtype. */
LRELU_API size_t lrelu_dtype_size(lrelu_dtype t);
/* "f32", "f16", "bf16", "f64", or "?" for a value that is not an lrelu_dtype. */
LRELU_API const char *lrelu_dtype_name(lrelu_dtype t);

/* ------------------------------------------------------------------------------------
 * Errors
 * ---------------------------------------------------------------------------------- */
typedef enum {
    LRELU_OK = 0,
    LRELU_ERR_INVALID_ARG,   /* NULL where data is needed, unknown dtype, non-finite alpha,
                                alpha < 0 for a from-output backward, a wait list that is
                                NULL with num_wait > 0, a cl_mem that is not a buffer of the
                                ctx's context, an output created CL_MEM_READ_ONLY or an
                                input created CL_MEM_WRITE_ONLY */
    LRELU_ERR_OUT_OF_RANGE,  /* (offset + n) * element size beyond a buffer, or overflows */
    LRELU_ERR_OVERLAP,       /* an output partly overlaps an input */
    LRELU_ERR_UNSUPPORTED,   /* dtype the device cannot run (F64 without fp64) */
    LRELU_ERR_NO_DEVICE,     /* no platform/device, or the selector matched none */
    LRELU_ERR_BUILD,         /* kernel build failed; the build log is in lrelu_last_error() */
    LRELU_ERR_OUT_OF_MEMORY, /* host or device allocation failed */
    LRELU_ERR_OPENCL         /* any other OpenCL failure; its CL_* name is in lrelu_last_error() */
} lrelu_status;

/* "LRELU_ERR_OVERLAP: an output partly overlaps an input". Never NULL; a value outside
 * the enum gives "LRELU_ERR_UNKNOWN: not an lrelu_status". Static storage. */
LRELU_API const char *lrelu_status_str(lrelu_status s);

/* The calling thread's last failure in detail: the check that failed with the values
 * involved, the OpenCL call and its CL_* error name with file and line, or a build log.
 * Set by every call that returns something other than LRELU_OK; left alone by calls that
 * succeed. "" when this thread has had no failure. The string belongs to the thread and
 * stays valid until its next failing lrelu call. */
LRELU_API const char *lrelu_last_error(void);

/* ------------------------------------------------------------------------------------
 * Contexts
 *
 * A ctx binds one device, one cl_context and one in-order or out-of-order queue, and
 * compiles the kernels for each dtype the first time that dtype is used. Every function
 * below may be called concurrently from several threads on the same ctx; lrelu_destroy
 * must not race with other calls on the same ctx.
 * ---------------------------------------------------------------------------------- */
typedef struct lrelu_ctx lrelu_ctx;

/* Creates a ctx with a context and queue of its own on the device that `device`
 * selects:
 *   NULL or ""    the environment variable LRELU_DEVICE, and when that is unset or empty
 *                 the default: the first GPU, else the first device of any type
 *   "gpu", "cpu", "accelerator"   the first device of that type
 *   "P:D"         device D of platform P (indices as `clinfo -l` lists them)
 *   other text    the first device whose "platform name device name" contains the text,
 *                 compared case-insensitively
 * Returns LRELU_OK and sets *ctx; LRELU_ERR_INVALID_ARG when ctx is NULL;
 * LRELU_ERR_NO_DEVICE when there is no device or the selector matches none (the devices
 * that exist are listed in lrelu_last_error()); LRELU_ERR_OUT_OF_MEMORY or
 * LRELU_ERR_OPENCL when creating the context or queue fails. On failure *ctx is NULL.
 * Environment: every LRELU_* variable is read here, once, and the ctx keeps what it read
 * (README: LRELU_DISABLE_FP64=1 makes it treat the device as lacking fp64, and others);
 * one whose value does not parse gives LRELU_ERR_INVALID_ARG naming it. */
LRELU_API lrelu_status lrelu_create(lrelu_ctx **ctx, const char *device);

/* Creates a ctx that runs on the caller's queue (and so its context and device), for
 * embedding in an existing pipeline. The ctx retains the queue and context and releases
 * exactly what it retained in lrelu_destroy; the caller keeps its own references.
 * Returns LRELU_OK, LRELU_ERR_INVALID_ARG (ctx or queue NULL, queue not a valid queue,
 * or an LRELU_* environment variable that does not parse, as for lrelu_create),
 * LRELU_ERR_OUT_OF_MEMORY. */
LRELU_API lrelu_status lrelu_create_from_queue(lrelu_ctx **ctx, cl_command_queue queue);

/* Releases everything the ctx created or retained. Work already enqueued still runs
 * (OpenCL keeps the objects it needs alive); events handed out stay valid. NULL is a
 * no-op. */
LRELU_API void lrelu_destroy(lrelu_ctx *ctx);

/* The ctx's context and queue, not retained for the caller: retain them to keep them
 * beyond lrelu_destroy. NULL for a NULL ctx. */
LRELU_API cl_context lrelu_cl_context(const lrelu_ctx *ctx);
LRELU_API cl_command_queue lrelu_cl_queue(const lrelu_ctx *ctx);
LRELU_API cl_device_id lrelu_cl_device(const lrelu_ctx *ctx);

/* ------------------------------------------------------------------------------------
 * Kernel shapes and tuning
 *
 * Each dtype's kernels run with a shape: elements per work-item (1, 2, 4, 8 or 16; at
 * 16, bf16's plain forward and backward take 32, as 16 pairs) and work-items per
 * work-group. A ctx starts from a default for the device type (64 bytes
 * per work-item on CPUs, 16 on GPUs; 256 per group), takes the measured shape from the
 * tuning cache when lrelu_tune() has written one for this device, driver and library,
 * and lets the environment variable LRELU_KERNEL_SHAPE="VEC:LOCAL" override both.
 * LRELU_TUNE=0 ignores the cache. The cache lives in $LRELU_CACHE_DIR, else
 * $XDG_CACHE_HOME/lrelu, else ~/.cache/lrelu; deleting its files resets the tuning.
 * ---------------------------------------------------------------------------------- */

/* The shape dtype t's kernels use (or will use at their first build) on this ctx.
 * LRELU_ERR_INVALID_ARG for a NULL argument or an unknown dtype. Thread-safe. */
LRELU_API lrelu_status lrelu_kernel_shape(const lrelu_ctx *ctx, lrelu_dtype t, size_t *vec,
                                          size_t *local);

/* Measures every candidate shape (1, 2, 4, 8 or 16 elements per work-item x 64, 256 or
 * 1024 per group, as far as the device allows) for each dtype the device runs, forward and
 * backward, by the device's own profiling counters on a queue of its own, over buffers of
 * four times the device's last-level cache and at least 512 MiB (within its largest
 * allocation and a quarter of its memory), and keeps the shape whose forward and backward
 * take the least time together: for this ctx from the next call on, and in the tuning
 * cache for every ctx created afterwards on the same device and driver. The cache file
 * lists each measurement (GB/s) as a comment. Takes seconds on a GPU, a minute or two on a
 * CPU (a build per candidate width); blocks other calls on the ctx meanwhile. Writes the
 * cache file's path to cache_path (cache_path_len bytes, may be NULL), or "" when the
 * cache could not be written, which is not an error. Returns LRELU_OK,
 * LRELU_ERR_INVALID_ARG (ctx NULL), or the status of a failed build, allocation or
 * launch. */
LRELU_API lrelu_status lrelu_tune(lrelu_ctx *ctx, char *cache_path, size_t cache_path_len);

/* ------------------------------------------------------------------------------------
 * Device-buffer API: asynchronous. Each call checks its arguments, enqueues one kernel on
 * the ctx's queue after the events in `wait`, and returns without waiting.
 *
 * - n is the number of elements; offsets are in elements of t from the start of each
 *   cl_mem (sub-buffers are fine, at any origin the runtime accepted).
 * - done may be NULL; otherwise it receives an event, owned by the caller (release it
 *   with clReleaseEvent), that completes when the results are in the output buffer.
 * - n == 0 enqueues no kernel and checks no buffer or offset; with done given it enqueues
 *   a marker that completes when the wait list has.
 * - In place is allowed when an output is the very same range of the same buffer as an
 *   input (y == x with y_off == x_off; dx == dy or dx == x likewise). Any other overlap of
 *   an output with an input in the same memory, also through sub-buffers of one parent,
 *   is LRELU_ERR_OVERLAP.
 * - Checks run in this order and the first failing one decides the status:
 *   LRELU_ERR_INVALID_ARG (ctx, dtype, alpha, NULL buffer, num_wait > 0 with wait NULL, a
 *   cl_mem from another context, a read-only output or write-only input),
 *   LRELU_ERR_UNSUPPORTED, LRELU_ERR_OUT_OF_RANGE, LRELU_ERR_OVERLAP. A call that fails
 *   enqueues nothing and sets *done to NULL.
 * - LRELU_ERR_BUILD on the first use of a dtype whose kernels fail to build;
 *   LRELU_ERR_OPENCL or LRELU_ERR_OUT_OF_MEMORY when the enqueue fails.
 * ---------------------------------------------------------------------------------- */
LRELU_API lrelu_status lrelu_forward(lrelu_ctx *ctx, lrelu_dtype t, size_t n, double alpha,
                                     cl_mem x, size_t x_off, cl_mem y, size_t y_off,
                                     cl_uint num_wait, const cl_event *wait, cl_event *done);

LRELU_API lrelu_status lrelu_backward(lrelu_ctx *ctx, lrelu_dtype t, size_t n, double alpha,
                                      cl_mem x, size_t x_off, cl_mem dy, size_t dy_off, cl_mem dx,
                                      size_t dx_off, cl_uint num_wait, const cl_event *wait,
                                      cl_event *done);

/* As lrelu_backward, from the forward's output y instead of its input: the same result
 * for alpha >= 0 (y > 0 exactly when x > 0). alpha < 0 flips the sign of y on the
 * negative side, so it is refused with LRELU_ERR_INVALID_ARG; alpha == 0 is fine. */
LRELU_API lrelu_status lrelu_backward_from_output(lrelu_ctx *ctx, lrelu_dtype t, size_t n,
                                                  double alpha, cl_mem y, size_t y_off, cl_mem dy,
                                                  size_t dy_off, cl_mem dx, size_t dx_off,
                                                  cl_uint num_wait, const cl_event *wait,
                                                  cl_event *done);

/* ------------------------------------------------------------------------------------
 * Host-memory API: blocking. Runs on the ctx's device and returns when the result is in
 * host memory. Any n that fits in host memory works, beyond the device's largest
 * allocation too: the arrays are streamed through the device in chunks.
 *
 * - Pointers need only the alignment of their element type.
 * - In place is allowed when an output pointer equals an input pointer; any other overlap
 *   of an output with an input is LRELU_ERR_OVERLAP. Error order as above.
 * - Inputs are never written. A device failure part way through (an OpenCL error on a
 *   later chunk) can leave the output partly written; a call that fails its checks
 *   writes nothing.
 * - Calls on one ctx from several threads run concurrently and safely.
 * - When the device is the host CPU (PoCL), calls run in the library itself rather than
 *   through a kernel launch (up to a measured size where the CPU lacks AVX2), with the
 *   same bits: on the calling thread, and from a few hundred KiB on shared with helper
 *   threads the ctx starts on first need (one per compute unit, at most one per CPU the
 *   creating thread may run on; signals blocked; they inherit the affinity of the thread
 *   whose call starts them) and joins in lrelu_destroy. After each such call they spin
 *   for about 100 us, then sleep. A helper found on its caller's CPU moves off it by
 *   narrowing its own affinity for a moment; the caller's is never touched.
 *   LRELU_HOST_THREADS (README) sets the threads; LRELU_HOST_INPROCESS_BYTES (internal,
 *   docs/architecture.md) moves the crossover or turns the path off.
 * ---------------------------------------------------------------------------------- */
LRELU_API lrelu_status lrelu_forward_host(lrelu_ctx *ctx, lrelu_dtype t, size_t n, double alpha,
                                          const void *x, void *y);
LRELU_API lrelu_status lrelu_backward_host(lrelu_ctx *ctx, lrelu_dtype t, size_t n, double alpha,
                                           const void *x, const void *dy, void *dx);
LRELU_API lrelu_status lrelu_backward_from_output_host(lrelu_ctx *ctx, lrelu_dtype t, size_t n,
                                                       double alpha, const void *y, const void *dy,
                                                       void *dx);

/* ------------------------------------------------------------------------------------
 * Extended calls: blending and strided views
 *
 * The _ex calls take an lrelu_opts; NULL, or a zero-initialised one, is exactly the
 * plain call. Everything the plain calls say (checks, events, in place, n == 0) holds.
 *
 * Blending, as cuDNN defines it (flags & LRELU_BLEND):
 *     forward:   y  = scale * f(x)             + beta * y
 *     backward:  dx = scale * (x > 0 ? dy : dy * alpha) + beta * dx
 *   with this rounding order, in the compute type (float, or double for f64): the
 *   plain result r (one rounding of dy * alpha or x * alpha), then p = scale * r rounded,
 *   then, when beta != 0, q = beta * out rounded and p + q rounded; finally one rounding,
 *   to nearest even, to the storage type. No step is fused (no FMA). beta == 0 (either
 *   sign) never reads the output, so whatever it holds, NaN included, cannot leak into
 *   the result; beta == 1 accumulates into it (gradient accumulation). scale and beta
 *   must be finite in the compute type, else LRELU_ERR_INVALID_ARG.
 *
 * Strided views (BLAS's inc): element i of an operand is element off + i * stride of its
 * buffer (or pointer). A stride of 0 means 1. The range check covers the last element,
 * off + (n - 1) * stride. The overlap check is exact: views that interleave without
 * sharing a byte (x on the even elements, y on the odd ones) are fine; an output is
 * allowed to share bytes with an input only when it is the very same view (same start and
 * stride); anything else is LRELU_ERR_OVERLAP. Elements that the stride steps over are
 * never read or written, on the device and through the host API alike.
 * ---------------------------------------------------------------------------------- */

/* Flags of lrelu_opts. */
#define LRELU_BLEND 1u /* out = scale * f + beta * out */

typedef struct lrelu_opts {
    unsigned flags;    /* LRELU_BLEND or 0; other bits are LRELU_ERR_INVALID_ARG */
    double scale;      /* with LRELU_BLEND: the factor of the activation's result */
    double beta;       /* with LRELU_BLEND: the factor of the output's old value */
    size_t src_stride; /* x, or y for the from-output backward; 0 means 1 */
    size_t dy_stride;  /* dy (backward calls only); 0 means 1 */
    size_t dst_stride; /* y for the forward, dx for the backward calls; 0 means 1 */
} lrelu_opts;

LRELU_API lrelu_status lrelu_forward_ex(lrelu_ctx *ctx, lrelu_dtype t, size_t n, double alpha,
                                        const lrelu_opts *opts, cl_mem x, size_t x_off, cl_mem y,
                                        size_t y_off, cl_uint num_wait, const cl_event *wait,
                                        cl_event *done);
LRELU_API lrelu_status lrelu_backward_ex(lrelu_ctx *ctx, lrelu_dtype t, size_t n, double alpha,
                                         const lrelu_opts *opts, cl_mem x, size_t x_off, cl_mem dy,
                                         size_t dy_off, cl_mem dx, size_t dx_off, cl_uint num_wait,
                                         const cl_event *wait, cl_event *done);
LRELU_API lrelu_status lrelu_backward_from_output_ex(lrelu_ctx *ctx, lrelu_dtype t, size_t n,
                                                     double alpha, const lrelu_opts *opts, cl_mem y,
                                                     size_t y_off, cl_mem dy, size_t dy_off,
                                                     cl_mem dx, size_t dx_off, cl_uint num_wait,
                                                     const cl_event *wait, cl_event *done);

/* Host-memory versions: strides step over host elements that are never touched (the
 * copying path moves only the strided elements, with rectangle copies). */
LRELU_API lrelu_status lrelu_forward_host_ex(lrelu_ctx *ctx, lrelu_dtype t, size_t n, double alpha,
                                             const lrelu_opts *opts, const void *x, void *y);
LRELU_API lrelu_status lrelu_backward_host_ex(lrelu_ctx *ctx, lrelu_dtype t, size_t n, double alpha,
                                              const lrelu_opts *opts, const void *x, const void *dy,
                                              void *dx);
LRELU_API lrelu_status lrelu_backward_from_output_host_ex(lrelu_ctx *ctx, lrelu_dtype t, size_t n,
                                                          double alpha, const lrelu_opts *opts,
                                                          const void *y, const void *dy, void *dx);

/* ------------------------------------------------------------------------------------
 * CPU reference: the same semantics on the host, one element at a time, what the tests
 * compare the device against. No checks: the caller passes valid arguments (alpha < 0
 * in the from-output reference computes the formula as written). Thread-safe.
 * ---------------------------------------------------------------------------------- */
LRELU_API void lrelu_ref_forward(lrelu_dtype t, size_t n, double alpha, const void *x, void *y);
LRELU_API void lrelu_ref_backward(lrelu_dtype t, size_t n, double alpha, const void *x,
                                  const void *dy, void *dx);
LRELU_API void lrelu_ref_backward_from_output(lrelu_dtype t, size_t n, double alpha, const void *y,
                                              const void *dy, void *dx);

/* The references of the _ex calls: blending and strides as described above. */
LRELU_API void lrelu_ref_forward_ex(lrelu_dtype t, size_t n, double alpha, const lrelu_opts *opts,
                                    const void *x, void *y);
LRELU_API void lrelu_ref_backward_ex(lrelu_dtype t, size_t n, double alpha, const lrelu_opts *opts,
                                     const void *x, const void *dy, void *dx);
LRELU_API void lrelu_ref_backward_from_output_ex(lrelu_dtype t, size_t n, double alpha,
                                                 const lrelu_opts *opts, const void *y,
                                                 const void *dy, void *dx);

/* ------------------------------------------------------------------------------------
 * Quantized forward: int8 / uint8, as the Arm Compute Library's QASYMM8(_SIGNED) leaky
 * ReLU, in the float domain, with separate input and output quantization:
 *
 *     f = (float)(x - in.zero_point) * in.scale        rounded in float
 *     f = f > 0 ? f : f * alpha                          rounded in float
 *     v = rint(f * inv)      inv = 1.0f / out.scale in float (PyTorch's quantize_val);
 *                            the product rounded in float, rint to nearest even
 *     y = clamp(v, lo - out.zero_point, hi - out.zero_point) + out.zero_point
 *
 * with [lo, hi] = [-128, 127] (LRELU_QS8) or [0, 255] (LRELU_QU8): saturation, never
 * wrap-around. The scales are converted once to float and must be normal positive floats
 * with 255 * in.scale finite and inv normal; the zero points must lie in [lo, hi]; alpha
 * must be finite as a float; else LRELU_ERR_INVALID_ARG. The device call follows the
 * device-buffer API's rules (offsets in bytes, which are elements here; in place when
 * y is x at the same offset; events), the host call the host-memory API's, and the
 * reference is what both are compared with, bit for bit. No device extension is needed.
 * ---------------------------------------------------------------------------------- */
typedef enum { LRELU_QS8 = 0, LRELU_QU8 = 1 } lrelu_qtype;

typedef struct lrelu_quant {
    double scale;   /* real value of one step */
    int zero_point; /* the integer that stands for 0.0 */
} lrelu_quant;

LRELU_API lrelu_status lrelu_forward_q8(lrelu_ctx *ctx, lrelu_qtype t, size_t n, double alpha,
                                        lrelu_quant in, lrelu_quant out, cl_mem x, size_t x_off,
                                        cl_mem y, size_t y_off, cl_uint num_wait,
                                        const cl_event *wait, cl_event *done);
LRELU_API lrelu_status lrelu_forward_q8_host(lrelu_ctx *ctx, lrelu_qtype t, size_t n, double alpha,
                                             lrelu_quant in, lrelu_quant out, const void *x,
                                             void *y);
LRELU_API void lrelu_ref_forward_q8(lrelu_qtype t, size_t n, double alpha, lrelu_quant in,
                                    lrelu_quant out, const void *x, void *y);

/* ------------------------------------------------------------------------------------
 * Per-channel calls: PReLU and bias_act
 *
 * The data is laid out as (outer, channels, inner), row-major: element
 * (o * channels + c) * inner + r belongs to channel c. NCHW is (N, C, H * W); NHWC is
 * (N * H * W, C, 1); one shared slope is channels == 1. n = outer * channels * inner
 * elements in every data operand; a per-channel operand (slope, bias and their
 * gradients) has `channels` elements. Every dtype, computed as the plain calls (float,
 * or double for f64; one rounding to storage); any extent 0 does nothing, as n == 0.
 *
 * PReLU (PyTorch's prelu):
 *     forward:   y  = x > 0 ? x  : x  * slope[c]
 *     backward:  dx = x > 0 ? dy : dy * slope[c]
 *                dslope[c] = sum over o, r of (x > 0 ? 0 : x * dy)
 *
 * bias_act (StyleGAN2/3's fused bias + leaky ReLU + gain + clamp):
 *     forward:   t = x + bias[c]  (t = x when bias is NULL)
 *                y = clamp(gain * (t > 0 ? t : t * alpha), -limit, limit)
 *                no clamp when limit is 0 or +inf; NaN stays NaN
 *     backward:  dx = 0 where the forward clamped (|y| > limit, or y NaN), else
 *                     g = dy * gain, t > 0 ? g : g * alpha
 *                dbias[c] = sum over o, r of dx (before dx is rounded to storage)
 *   Each arithmetic step is rounded in the compute type, in the order written.
 *
 * The sums are deterministic: the same bits on every run, device and work-group size.
 * Channel c's m = outer * inner terms, in (o, r) order, are cut into blocks of 256; in a
 * block, term k is added to lane k % 8 (8 lanes, each summed from +0 in order), and the
 * block's sum is its lanes' summed from +0 in lane order; the channel's sum is its
 * blocks' summed from +0 in order, rounded once to storage. All in the compute type.
 * The reference does exactly this.
 *
 * Backward calls write dx, the per-channel gradient, or both: either may be NULL, not
 * both. In place: y may be x, dx may be x or dy (the very same range); a per-channel
 * output may overlap nothing. Inputs and the rest of the rules are the device-buffer
 * API's (checks in the same order, events, nothing written on failure). The backward
 * calls allocate a scratch buffer of channels * ceil(m / 256) compute-type values for
 * the block sums, released once the kernels are done.
 * ---------------------------------------------------------------------------------- */
typedef struct lrelu_layout {
    size_t outer;
    size_t channels;
    size_t inner;
} lrelu_layout;

typedef struct lrelu_bias_act {
    double alpha; /* negative slope, as alpha of the plain calls */
    double gain;  /* factor after the activation (StyleGAN: sqrt(2)) */
    double limit; /* clamp to [-limit, limit]; 0 or +inf: none */
} lrelu_bias_act;

LRELU_API lrelu_status lrelu_prelu_forward(lrelu_ctx *ctx, lrelu_dtype t, lrelu_layout l, cl_mem x,
                                           size_t x_off, cl_mem slope, size_t slope_off, cl_mem y,
                                           size_t y_off, cl_uint num_wait, const cl_event *wait,
                                           cl_event *done);
LRELU_API lrelu_status lrelu_prelu_backward(lrelu_ctx *ctx, lrelu_dtype t, lrelu_layout l, cl_mem x,
                                            size_t x_off, cl_mem slope, size_t slope_off, cl_mem dy,
                                            size_t dy_off, cl_mem dx, size_t dx_off, cl_mem dslope,
                                            size_t dslope_off, cl_uint num_wait,
                                            const cl_event *wait, cl_event *done);
LRELU_API lrelu_status lrelu_bias_act_forward(lrelu_ctx *ctx, lrelu_dtype t, lrelu_layout l,
                                              lrelu_bias_act p, cl_mem x, size_t x_off, cl_mem bias,
                                              size_t bias_off, cl_mem y, size_t y_off,
                                              cl_uint num_wait, const cl_event *wait,
                                              cl_event *done);
LRELU_API lrelu_status lrelu_bias_act_backward(lrelu_ctx *ctx, lrelu_dtype t, lrelu_layout l,
                                               lrelu_bias_act p, cl_mem x, size_t x_off,
                                               cl_mem bias, size_t bias_off, cl_mem dy,
                                               size_t dy_off, cl_mem dx, size_t dx_off,
                                               cl_mem dbias, size_t dbias_off, cl_uint num_wait,
                                               const cl_event *wait, cl_event *done);

/* Block sums that compose, for a batch split across devices or ranks (data parallel):
 * each shard's gradient summed on its own, then added across shards, would round
 * differently from one call over the whole batch. These backwards leave their block sums
 * (the steps above but the last) in `blocks`, from the buffer's start:
 * channels * lrelu_chan_blocks(l) values of the compute type (float; double for f64),
 * channel after channel, block after block. Everything else is the backward's (dx may be
 * NULL; blocks is required and may overlap nothing). lrelu_chan_sums_combine then adds,
 * per channel, the sums of `shards` shards taken in order (shard s holding nb[s] blocks a
 * channel: lrelu_chan_blocks of its layout) from +0 and rounds once into ds (`channels`
 * elements of t). Where every shard but the last holds whole blocks of each channel (its
 * outer * inner a multiple of 256: cut a batch along outer in multiples of
 * 256 / gcd(inner, 256) rows) and the shards are in the order of the whole's terms, ds is
 * bit for bit the one call's over the whole; cut elsewhere, a block straddles two shards,
 * and ds, deterministic for that cut, may differ from the one call's in its last bits.
 * lrelu_chan_sums_combine checks its arguments (LRELU_ERR_INVALID_ARG: a NULL pointer,
 * an unknown dtype) and writes ds alone. docs/scaling.md shows its use over MPI. */
LRELU_API size_t lrelu_chan_blocks(lrelu_layout l);
LRELU_API lrelu_status lrelu_prelu_backward_blocks(lrelu_ctx *ctx, lrelu_dtype t, lrelu_layout l,
                                                   cl_mem x, size_t x_off, cl_mem slope,
                                                   size_t slope_off, cl_mem dy, size_t dy_off,
                                                   cl_mem dx, size_t dx_off, cl_mem blocks,
                                                   cl_uint num_wait, const cl_event *wait,
                                                   cl_event *done);
LRELU_API lrelu_status lrelu_bias_act_backward_blocks(lrelu_ctx *ctx, lrelu_dtype t, lrelu_layout l,
                                                      lrelu_bias_act p, cl_mem x, size_t x_off,
                                                      cl_mem bias, size_t bias_off, cl_mem dy,
                                                      size_t dy_off, cl_mem dx, size_t dx_off,
                                                      cl_mem blocks, cl_uint num_wait,
                                                      const cl_event *wait, cl_event *done);
LRELU_API lrelu_status lrelu_chan_sums_combine(lrelu_dtype t, size_t channels, size_t shards,
                                               const size_t *nb, const void *const *blocks,
                                               void *ds);

/* Host-memory versions: blocking, the same checks on pointers (overlap by address).
 * Where the device does not share host memory they stream as the plain host calls do,
 * in chunks of whole rows, channels or blocks (with the sums: at block boundaries, so
 * the bits are one call's); a layout that cannot be cut so, and every call where the
 * device shares host memory, wraps its arrays whole: each must then fit one device
 * allocation, else LRELU_ERR_OUT_OF_MEMORY. */
LRELU_API lrelu_status lrelu_prelu_forward_host(lrelu_ctx *ctx, lrelu_dtype t, lrelu_layout l,
                                                const void *x, const void *slope, void *y);
LRELU_API lrelu_status lrelu_prelu_backward_host(lrelu_ctx *ctx, lrelu_dtype t, lrelu_layout l,
                                                 const void *x, const void *slope, const void *dy,
                                                 void *dx, void *dslope);
LRELU_API lrelu_status lrelu_bias_act_forward_host(lrelu_ctx *ctx, lrelu_dtype t, lrelu_layout l,
                                                   lrelu_bias_act p, const void *x,
                                                   const void *bias, void *y);
LRELU_API lrelu_status lrelu_bias_act_backward_host(lrelu_ctx *ctx, lrelu_dtype t, lrelu_layout l,
                                                    lrelu_bias_act p, const void *x,
                                                    const void *bias, const void *dy, void *dx,
                                                    void *dbias);

/* References (no checks; NULL outputs are skipped as in the calls). */
LRELU_API void lrelu_ref_prelu_forward(lrelu_dtype t, lrelu_layout l, const void *x,
                                       const void *slope, void *y);
LRELU_API void lrelu_ref_prelu_backward(lrelu_dtype t, lrelu_layout l, const void *x,
                                        const void *slope, const void *dy, void *dx, void *dslope);
LRELU_API void lrelu_ref_bias_act_forward(lrelu_dtype t, lrelu_layout l, lrelu_bias_act p,
                                          const void *x, const void *bias, void *y);
LRELU_API void lrelu_ref_bias_act_backward(lrelu_dtype t, lrelu_layout l, lrelu_bias_act p,
                                           const void *x, const void *bias, const void *dy,
                                           void *dx, void *dbias);

/* ------------------------------------------------------------------------------------
 * Device groups: one host call over several devices (docs/scaling.md)
 *
 * A group holds a ctx per device. Each of its calls is the host-memory call of the same
 * name, checked whole on every device (a failure there names the device where it is the
 * device's: fp64, say), then cut into one shard a device, in proportion to the devices'
 * measured speeds, and run on all of them at once: the calling thread takes the first
 * shard, a thread a call each of the others. The results are bit for bit one ctx's:
 * elementwise and int8 calls are cut anywhere; per-channel calls along outer, in whole
 * rows, and with dslope or dbias in multiples of 256 / gcd(inner, 256) rows, so that
 * each shard's block sums are the one call's and are added on the host in its order.
 * A layout too short to cut (or a call too small to gain: under 1 MiB moved a device)
 * runs on the fastest device alone.
 *
 * Speeds: each shard that moves at least 1 MiB is timed, and the device's speed (bytes
 * moved a second) follows its last shards; until every device has one, the unmeasured
 * ones count as the measured ones' mean (all equal at first). lrelu_group_set_speeds
 * fixes them instead.
 *
 * Errors: a device whose shard fails makes the call fail with that shard's status, and
 * lrelu_last_error() names the call, the device's index and name, then what failed
 * there. The other shards finish first; the outputs may then be partly written (as a
 * host call's after a device failure), never reported done. The group stays usable.
 * Calls on one group from several threads run concurrently and safely;
 * lrelu_group_destroy must not race with them.
 * ---------------------------------------------------------------------------------- */
typedef struct lrelu_group lrelu_group;

/* At most this many devices in a group. */
#define LRELU_GROUP_MAX 64

/* Creates a group with a ctx of its own on each device `devices` lists:
 *   NULL or ""  every GPU of every platform, else (none) every device
 *   "all"       every device of every platform
 *   "S1,S2,..." a ctx for each selector, in order, as lrelu_create takes them ("0:1",
 *               "gpu", a name); one device may appear twice (two ctxs, two shards)
 * Returns LRELU_OK and sets *g; LRELU_ERR_INVALID_ARG (g NULL, an empty selector, more
 * than LRELU_GROUP_MAX); LRELU_ERR_NO_DEVICE and the others of lrelu_create, naming the
 * selector that failed. On failure *g is NULL and nothing is left behind. */
LRELU_API lrelu_status lrelu_group_create(lrelu_group **g, const char *devices);
/* A group over the caller's ctxs (count of them, 1 to LRELU_GROUP_MAX), for their own
 * queues: it keeps the pointers, and the caller destroys the ctxs after the group.
 * LRELU_ERR_INVALID_ARG for g or ctxs NULL, a NULL ctx, or a count out of range. */
LRELU_API lrelu_status lrelu_group_create_from_ctxs(lrelu_group **g, size_t count,
                                                    lrelu_ctx *const *ctxs);
/* Releases the group and the ctxs it created. NULL is a no-op. */
LRELU_API void lrelu_group_destroy(lrelu_group *g);
/* The number of devices (0 for NULL), and device i's ctx (NULL out of range), for the
 * device-buffer API on one device. */
LRELU_API size_t lrelu_group_size(const lrelu_group *g);
LRELU_API lrelu_ctx *lrelu_group_ctx(const lrelu_group *g, size_t i);
/* Each device's speed in bytes a second into speeds[size]: measured (0 while not yet)
 * or set. LRELU_ERR_INVALID_ARG for a NULL argument. */
LRELU_API lrelu_status lrelu_group_speeds(const lrelu_group *g, double *speeds);
/* Fixes the speeds (size of them, each finite and > 0; only their ratios matter), or
 * with NULL forgets them and measures again. LRELU_ERR_INVALID_ARG otherwise, naming
 * the value; the speeds are then unchanged. */
LRELU_API lrelu_status lrelu_group_set_speeds(lrelu_group *g, const double *speeds);
/* How an elementwise forward of n elements of t would be cut now: counts[size] elements
 * each device, in order, summing to n (0 for a device left out). LRELU_ERR_INVALID_ARG
 * for a NULL argument or an unknown dtype. */
LRELU_API lrelu_status lrelu_group_split(const lrelu_group *g, lrelu_dtype t, size_t n,
                                         size_t *counts);

LRELU_API lrelu_status lrelu_group_forward_host_ex(lrelu_group *g, lrelu_dtype t, size_t n,
                                                   double alpha, const lrelu_opts *opts,
                                                   const void *x, void *y);
LRELU_API lrelu_status lrelu_group_backward_host_ex(lrelu_group *g, lrelu_dtype t, size_t n,
                                                    double alpha, const lrelu_opts *opts,
                                                    const void *x, const void *dy, void *dx);
LRELU_API lrelu_status lrelu_group_backward_from_output_host_ex(lrelu_group *g, lrelu_dtype t,
                                                                size_t n, double alpha,
                                                                const lrelu_opts *opts,
                                                                const void *y, const void *dy,
                                                                void *dx);
LRELU_API lrelu_status lrelu_group_forward_q8_host(lrelu_group *g, lrelu_qtype t, size_t n,
                                                   double alpha, lrelu_quant in, lrelu_quant out,
                                                   const void *x, void *y);
LRELU_API lrelu_status lrelu_group_prelu_forward_host(lrelu_group *g, lrelu_dtype t, lrelu_layout l,
                                                      const void *x, const void *slope, void *y);
LRELU_API lrelu_status lrelu_group_prelu_backward_host(lrelu_group *g, lrelu_dtype t,
                                                       lrelu_layout l, const void *x,
                                                       const void *slope, const void *dy, void *dx,
                                                       void *dslope);
LRELU_API lrelu_status lrelu_group_bias_act_forward_host(lrelu_group *g, lrelu_dtype t,
                                                         lrelu_layout l, lrelu_bias_act p,
                                                         const void *x, const void *bias, void *y);
LRELU_API lrelu_status lrelu_group_bias_act_backward_host(lrelu_group *g, lrelu_dtype t,
                                                          lrelu_layout l, lrelu_bias_act p,
                                                          const void *x, const void *bias,
                                                          const void *dy, void *dx, void *dbias);

/* ------------------------------------------------------------------------------------
 * Storage conversions used by the reference and matching the kernels: widening is exact;
 * narrowing rounds once to nearest even, overflows to infinity, keeps the sign of zero
 * and keeps NaN a (quiet) NaN.
 * ---------------------------------------------------------------------------------- */
LRELU_API float lrelu_f16_to_float(uint16_t h);
LRELU_API uint16_t lrelu_float_to_f16(float f);
LRELU_API float lrelu_bf16_to_float(uint16_t b);
LRELU_API uint16_t lrelu_float_to_bf16(float f);

#ifdef __cplusplus
}
#endif
#endif /* LRELU_H */
