/* hostmem.h: the host-memory API's shared parts: the in-process runs. */
#ifndef LRELU_HOSTMEM_H
#define LRELU_HOSTMEM_H

#include "cl/cl.h"

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

/* arrays.c: the per-channel and int8 host calls, whose arrays are wrapped whole. */
/* A host array of a call: mem and off are set to the buffer that wraps it and its
 * first element there. */
typedef lrelu_operand lrelu_array;

/* Runs the device call on the wrapped operands; fills `done`. */
typedef lrelu_status (*lrelu_arrays_device)(lrelu_ctx *ctx, const void *call, const lrelu_array *ops,
                                  cl_event *done);
/* Runs the reference's loop on the host operands (in-process). */
typedef void (*lrelu_arrays_ref)(const void *call, const lrelu_array *ops);
/* Runs the call in-process by a faster way than the reference, if it has one and the
 * call moving `bytes` qualifies; returns whether it did. */
typedef int (*lrelu_arrays_fast)(lrelu_ctx *ctx, const void *call, const lrelu_array *ops, size_t bytes);

/* The checks of the arrays (after the call's own parameter checks), then the call: fast
 * or the reference in-process where it qualifies, else the device call f on the arrays
 * wrapped in buffers and the outputs brought back. n is the data operands' count. */
lrelu_status lrelu_arrays_run(lrelu_ctx *ctx, const char *fn, lrelu_dtype t, size_t es, size_t n,
                              lrelu_array *ops, int nops, lrelu_arrays_device f, lrelu_arrays_ref ref,
                              lrelu_arrays_fast fast, const void *call);

#endif /* LRELU_HOSTMEM_H */
