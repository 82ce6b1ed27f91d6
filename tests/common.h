/* common.h: what the test executables share: opening a ctx (or skipping with code 77
 * when there is no OpenCL device), a seeded generator, special values per dtype, and the
 * case runner that poisons outputs, keeps guard bands around every range, runs one call
 * on the device and compares it bit for bit with the CPU reference. */
#ifndef LRELU_TESTS_COMMON_H
#define LRELU_TESTS_COMMON_H

#include "lrelu.h"

#include <stdint.h>
#include <stdio.h>

#define LT_SKIP 77 /* declared as SKIP_RETURN_CODE in tests/CMakeLists.txt */

/* Which public call a case exercises. */
typedef enum { LT_FORWARD, LT_BACKWARD, LT_BACKWARD_FROM_OUTPUT } lt_op;

/* Output aliasing: none, the output is the first input (x or y), or dy. */
typedef enum { LT_OUT_OF_PLACE, LT_IN_PLACE_FIRST, LT_IN_PLACE_DY } lt_alias;

typedef struct {
    lt_op op;
    lrelu_dtype t;
    size_t n;
    size_t off; /* element offset into each operand's view */
    double alpha;
    lt_alias alias;
} lt_case;

/* Fails the test (exit 1) with a message; for set-up errors that are not the subject. */
void lt_die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
/* Creates a ctx on $LRELU_DEVICE or the default; exits LT_SKIP when there is no device. */
lrelu_ctx *lt_open(void);
/* A caller's own context and queue (with `props`) on the device lrelu picks by default,
 * as a pipeline that embeds lrelu would have them; dies on failure. */
cl_command_queue lt_caller_queue(cl_command_queue_properties props, cl_context *cx);
/* Expects st == LRELU_OK, else dies naming what and lrelu_last_error(). */
void lt_ok(lrelu_status st, const char *what);

/* n, or $LT_MAX_N where that is smaller: the largest size a test runs (the oclgrind/
 * tests set it: the simulator runs a few million instructions a second). Sweeps over
 * sizes leave out the sizes above it; other tests run them at it. */
size_t lt_cap(size_t n);

/* Seed from $LRELU_TEST_SEED or the clock, printed so a failure can be replayed. */
uint64_t lt_seed(void);
uint64_t lt_rand(uint64_t *state);

const char *lt_op_name(lt_op op);

/* Element i of a special-value table for t: ±0, ±inf, ±NaN, ±smallest normal, largest
 * and smallest subnormal, ±largest finite, ±1, small integers and fractions. */
size_t lt_special_count(lrelu_dtype t);
void lt_special(lrelu_dtype t, size_t i, void *out);
/* n elements: specials cycled from `phase`, or random bit patterns when random is set
 * (NaN payloads and all). */
void lt_fill(lrelu_dtype t, void *p, size_t n, uint64_t *rng, int random, size_t phase);

/* Whether the ctx's device runs dtype t; prints "not tested" when it does not (F64
 * without fp64), so a test can go on with the others. */
int lt_supported(lrelu_ctx *ctx, lrelu_dtype t);

/* Whether the device flushes denormals for dtype t (no CL_FP_DENORM in its float or
 * double config): then subnormal expected results may come back as ±0. */
int lt_device_flushes(lrelu_ctx *ctx, lrelu_dtype t);

/* Bitwise equality, any NaN equal to any NaN, and ±0 for an expected subnormal when
 * flush is set. */
int lt_same(lrelu_dtype t, const void *expect, const void *got, int flush);

/* Runs one case through the device-buffer API with inputs s (x or y) and dy (NULL for
 * forward). Each operand is a sub-buffer view inside a parent buffer with guard bands
 * on both sides; outputs are poisoned first. Checks the output against the reference,
 * the guard bands and the inputs untouched, and prints the first few mismatches.
 * Returns the number of failures. */
size_t lt_run_device(lrelu_ctx *ctx, const lt_case *c, const void *s, const void *dy);

/* The same case through the host-memory API, with guard bands in host memory. */
size_t lt_run_host(lrelu_ctx *ctx, const lt_case *c, const void *s, const void *dy);

/* A case of the _ex calls: operand k (0 s, 1 dy, 2 out; forward: 0 x, 1 y) lives in
 * image img[k] (0..2; operands may share one) at element off[k], stride opts.*_stride.
 * Inputs get `s`/`dy` values at their elements (the first operand to claim an element
 * decides it); an output's own elements get `old` (its value before the call: what beta
 * blends, or NaN when beta is 0 to show it is never read); all else in an image is
 * poison, and must stay so. */
typedef struct {
    lt_op op;
    lrelu_dtype t;
    size_t n;
    double alpha;
    lrelu_opts opts;
    int img[3];
    size_t off[3];
} lt_ex_case;

typedef enum { LT_API_DEVICE, LT_API_HOST } lt_api;

/* Whether $LT_API ("device" or "host"; unset: both) lets a test run calls of `api`: the
 * oclgrind/ tests run the strided host calls apart from the device ones (see
 * docs/reliability.md). */
int lt_api_on(lt_api api);

/* Runs the case through the device API (each image a buffer, views sub-buffers past a
 * guard band) or the host API, and compares every byte of every image with the
 * reference run on a copy. Returns the number of failures; prints the first few. */
size_t lt_run_ex(lrelu_ctx *ctx, const lt_ex_case *c, lt_api api, const void *s, const void *dy,
                 const void *old);
/* The status of the case's call on fresh images, for the overlap checks, without
 * comparing anything: the call's status. */
lrelu_status lt_call_ex_status(lrelu_ctx *ctx, const lt_ex_case *c, lt_api api);

/* One operand of the quantized and per-channel tests: n elements of es bytes in the
 * middle of an image with poisoned guard bands on both sides, in host memory and, after
 * lt_arr_upload, in a buffer of its own (the data at element `off`). */
typedef struct {
    unsigned char *img;
    size_t n, es, off, bytes;
    cl_mem mem;
} lt_arr;

/* The image with `data` (NULL: poison) in the middle. */
void lt_arr_init(lt_arr *a, size_t n, size_t es, const void *data);
/* The same with the data `shift` elements further on: an offset of another parity and
 * alignment. */
void lt_arr_init_at(lt_arr *a, size_t n, size_t es, const void *data, size_t shift);
/* Element 0 in the host image. */
void *lt_arr_data(const lt_arr *a);
/* A buffer holding the image; dies on failure. */
void lt_arr_upload(lrelu_ctx *ctx, lt_arr *a);
/* Compares the image (read back from the buffer when there is one) with poison in the
 * guards and `expect` in the middle: bytes when t < 0, else lt_same for dtype t. Prints
 * the first mismatches under `what`; returns their count. */
size_t lt_arr_check(lrelu_ctx *ctx, const lt_arr *a, int t, const void *expect, const char *what);
void lt_arr_free(lt_arr *a);
/* clFinish on the ctx's queue; dies on failure. */
void lt_finish(lrelu_ctx *ctx);
/* PReLU backwards of growing and shrinking layouts, f32, each with buffers of its own,
 * enqueued one after another with no wait between them, then waited for once: every dx
 * and dslope must be the reference's (the block sums' scratch is kept between calls on
 * an in-order queue, made per call on an out-of-order one). Returns the calls that
 * differ. */
size_t lt_chan_pipeline(lrelu_ctx *ctx, uint64_t *rng);

/* Counts one check: passed, or failed with "FAIL what" and the last error printed. */
extern size_t lt_passed, lt_failed;
void lt_check(int ok, const char *what);

/* Prints "N passed, M failed" and returns the exit code. */
int lt_report(size_t passed, size_t failed);

#endif
