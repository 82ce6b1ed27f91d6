/* checks.c: every argument check of every call, written once, so that the contract's
 * order (INVALID_ARG, UNSUPPORTED, OUT_OF_RANGE, OVERLAP; the first failure decides)
 * cannot drift between the families and the two APIs. A call checks its own parameters
 * with the family's function here (lrelu_check_elementwise, lrelu_check_channels,
 * lrelu_check_q8), describes its arrays as lrelu_operands, and hands them to
 * lrelu_check_operands, which checks device buffers and host arrays alike. */
#include "cl/cl.h"

#include <math.h>
#include <stdint.h>

lrelu_status lrelu_check_head(const lrelu_ctx *ctx, const char *fn, lrelu_dtype t)
{
    if (ctx == NULL)
        return lrelu_fail(LRELU_ERR_INVALID_ARG, "%s: ctx is NULL", fn);
    if (lrelu_dtype_size(t) == 0)
        return lrelu_fail(LRELU_ERR_INVALID_ARG, "%s: dtype %d is not an lrelu_dtype", fn, (int)t);
    return LRELU_OK;
}

/* A factor is converted once to the compute type; a double beyond float's range would
 * become an infinite factor there. */
lrelu_status lrelu_check_finite(const char *fn, lrelu_dtype t, const char *name, double v)
{
    if (!isfinite(v) || (t != LRELU_F64 && !isfinite((float)v)))
        return lrelu_fail(LRELU_ERR_INVALID_ARG,
                          "%s: %s %g is not finite as a %s, the compute type of %s", fn, name, v,
                          t == LRELU_F64 ? "double" : "float", lrelu_dtype_name(t));
    return LRELU_OK;
}

lrelu_opts lrelu_opts_resolve(const lrelu_opts *o)
{
    lrelu_opts r = {0, 1.0, 0.0, 1, 1, 1};
    if (o != NULL) {
        if (o->flags & LRELU_BLEND) {
            r.flags = LRELU_BLEND;
            r.scale = o->scale;
            r.beta = o->beta;
        }
        r.src_stride = o->src_stride ? o->src_stride : 1;
        r.dy_stride = o->dy_stride ? o->dy_stride : 1;
        r.dst_stride = o->dst_stride ? o->dst_stride : 1;
    }
    return r;
}

int lrelu_opts_plain(const lrelu_opts *o)
{
    return o->flags == 0 && (o->src_stride | o->dy_stride | o->dst_stride) == 1;
}

lrelu_status lrelu_check_elementwise(const lrelu_ctx *ctx, const char *fn, lrelu_op op,
                                     lrelu_dtype t, double alpha, const lrelu_opts *opts)
{
    lrelu_status st = lrelu_check_head(ctx, fn, t);
    if (st == LRELU_OK)
        st = lrelu_check_finite(fn, t, "alpha", alpha);
    if (st != LRELU_OK)
        return st;
    if (op == LRELU_OP_BACKWARD_FROM_OUTPUT && alpha < 0)
        return lrelu_fail(LRELU_ERR_INVALID_ARG,
                          "%s: alpha %g < 0: y no longer tells the sign of x; use the "
                          "backward from the input",
                          fn, alpha);
    if (opts != NULL && (opts->flags & ~LRELU_BLEND) != 0)
        return lrelu_fail(LRELU_ERR_INVALID_ARG, "%s: opts->flags 0x%x has unknown bits", fn,
                          opts->flags);
    if (opts != NULL && (opts->flags & LRELU_BLEND)) {
        st = lrelu_check_finite(fn, t, "opts->scale", opts->scale);
        if (st == LRELU_OK)
            st = lrelu_check_finite(fn, t, "opts->beta", opts->beta);
    }
    return st;
}

void lrelu_elementwise_operands(const lrelu_opts *o, size_t n, lrelu_operand *ops, int nops)
{
    for (int i = 0; i < nops; ++i) {
        ops[i].n = n;
        ops[i].alias = i == nops - 1 ? (1u << (nops - 1)) - 1 : 0;
    }
    ops[0].inc = o->src_stride;
    if (nops == 3)
        ops[1].inc = o->dy_stride;
    ops[nops - 1].inc = o->dst_stride;
    ops[nops - 1].out = 1;
}

size_t lrelu_layout_count(lrelu_layout l)
{
    if (l.outer == 0 || l.channels == 0 || l.inner == 0)
        return 0;
    if (l.channels > SIZE_MAX / l.inner || l.channels * l.inner > SIZE_MAX / l.outer)
        return SIZE_MAX;
    return l.outer * l.channels * l.inner;
}

lrelu_status lrelu_check_channels(const lrelu_ctx *ctx, const char *fn, lrelu_dtype t,
                                  const lrelu_bias_act *p)
{
    lrelu_status st = lrelu_check_head(ctx, fn, t);
    if (st != LRELU_OK || p == NULL)
        return st;
    st = lrelu_check_finite(fn, t, "alpha", p->alpha);
    if (st == LRELU_OK)
        st = lrelu_check_finite(fn, t, "gain", p->gain);
    if (st == LRELU_OK && !(p->limit >= 0))
        st = lrelu_fail(LRELU_ERR_INVALID_ARG, "%s: limit %g must be >= 0 (0 or inf: no clamp)", fn,
                        p->limit);
    return st;
}

lrelu_status lrelu_check_q8(const lrelu_ctx *ctx, const char *fn, lrelu_qtype t, double alpha,
                            lrelu_quant in, lrelu_quant out, lrelu_q8_args *a)
{
    if (ctx == NULL)
        return lrelu_fail(LRELU_ERR_INVALID_ARG, "%s: ctx is NULL", fn);
    if (t != LRELU_QS8 && t != LRELU_QU8)
        return lrelu_fail(LRELU_ERR_INVALID_ARG, "%s: qtype %d is not an lrelu_qtype", fn, (int)t);
    lrelu_status st = lrelu_check_finite(fn, LRELU_F32, "alpha", alpha);
    if (st != LRELU_OK)
        return st;
    int lo = t == LRELU_QS8 ? -128 : 0, hi = t == LRELU_QS8 ? 127 : 255;
    float s_in = (float)in.scale, s_out = (float)out.scale;
    if (!(in.scale > 0) || !isnormal(s_in) || !isfinite(255.0f * s_in))
        return lrelu_fail(LRELU_ERR_INVALID_ARG,
                          "%s: in.scale %g must be a normal positive float with 255 * scale finite",
                          fn, in.scale);
    float inv = 1.0f / s_out;
    if (!(out.scale > 0) || !isnormal(s_out) || !isnormal(inv))
        return lrelu_fail(LRELU_ERR_INVALID_ARG,
                          "%s: out.scale %g must be a normal positive float whose reciprocal is "
                          "normal too",
                          fn, out.scale);
    if (in.zero_point < lo || in.zero_point > hi || out.zero_point < lo || out.zero_point > hi)
        return lrelu_fail(LRELU_ERR_INVALID_ARG, "%s: zero points %d and %d must lie in [%d, %d]",
                          fn, in.zero_point, out.zero_point, lo, hi);
    a->alpha = (float)alpha;
    a->s_in = s_in;
    a->inv_out = inv;
    a->zp_in = in.zero_point;
    a->zp_out = out.zero_point;
    return LRELU_OK;
}

/* A device operand: a buffer of the ctx's context that the call may read (write, for an
 * output); fills in where its range lives (root, origin) and its size. */
static lrelu_status describe_buffer(const lrelu_ctx *ctx, const char *fn, lrelu_operand *o)
{
    cl_mem_flags flags = 0;
    cl_mem_object_type type = 0;
    cl_context owner = NULL;
    cl_int err = clGetMemObjectInfo(o->mem, CL_MEM_TYPE, sizeof type, &type, NULL);
    if (err == CL_SUCCESS)
        err = clGetMemObjectInfo(o->mem, CL_MEM_CONTEXT, sizeof owner, &owner, NULL);
    if (err == CL_SUCCESS)
        err = clGetMemObjectInfo(o->mem, CL_MEM_SIZE, sizeof o->size, &o->size, NULL);
    if (err == CL_SUCCESS)
        err =
            clGetMemObjectInfo(o->mem, CL_MEM_ASSOCIATED_MEMOBJECT, sizeof o->root, &o->root, NULL);
    if (err == CL_SUCCESS)
        err = clGetMemObjectInfo(o->mem, CL_MEM_OFFSET, sizeof o->origin, &o->origin, NULL);
    if (err == CL_SUCCESS)
        err = clGetMemObjectInfo(o->mem, CL_MEM_FLAGS, sizeof flags, &flags, NULL);
    if (err != CL_SUCCESS)
        return lrelu_fail(LRELU_ERR_INVALID_ARG,
                          "%s: %s is not a valid cl_mem (clGetMemObjectInfo: %s)", fn, o->name,
                          lrelu_cl_error_name(err));
    if (type != CL_MEM_OBJECT_BUFFER)
        return lrelu_fail(LRELU_ERR_INVALID_ARG, "%s: %s is not a buffer", fn, o->name);
    /* a kernel that writes a read-only buffer, or reads a write-only one, is undefined */
    if (o->out && (flags & CL_MEM_READ_ONLY))
        return lrelu_fail(LRELU_ERR_INVALID_ARG, "%s: output %s was created CL_MEM_READ_ONLY", fn,
                          o->name);
    if (!o->out && (flags & CL_MEM_WRITE_ONLY))
        return lrelu_fail(LRELU_ERR_INVALID_ARG, "%s: input %s was created CL_MEM_WRITE_ONLY", fn,
                          o->name);
    if (owner != ctx->context)
        return lrelu_fail(LRELU_ERR_INVALID_ARG,
                          "%s: %s belongs to another cl_context than the ctx's", fn, o->name);
    if (o->root == NULL) {
        o->root = o->mem;
        o->origin = 0;
    }
    return LRELU_OK;
}

/* INVALID_ARG for a missing array, and for a device operand that is not a usable buffer
 * or a host array not aligned to its elements. */
static lrelu_status check_present(const lrelu_ctx *ctx, const lrelu_checked *c, lrelu_operand *o)
{
    int absent = c->host ? o->ptr == NULL : o->mem == NULL;
    if (absent)
        return o->optional ? LRELU_OK
                           : lrelu_fail(LRELU_ERR_INVALID_ARG, "%s: %s is NULL", c->fn, o->name);
    if (!c->host)
        return describe_buffer(ctx, c->fn, o);
    if (((uintptr_t)o->ptr & (c->es - 1)) != 0) /* element sizes are powers of two */
        return lrelu_fail(LRELU_ERR_INVALID_ARG,
                          "%s: %s %p is not aligned to its %zu-byte elements", c->fn, o->name,
                          o->ptr, c->es);
    o->root = NULL;
    o->origin = (uintptr_t)o->ptr;
    return LRELU_OK;
}

/* v / inc, without a division where inc is 1 (contiguous: nearly every call, and a
 * division costs a small host call a measurable part of its time) */
static size_t per_inc(size_t v, size_t inc) { return inc == 1 ? v : v / inc; }

/* OUT_OF_RANGE unless the view's n elements (stride inc) fit: in its buffer, or in the
 * address space (max_n: SIZE_MAX / es). Sets where the view starts (o->origin, in bytes). */
static lrelu_status check_range(const lrelu_checked *c, size_t max_n, lrelu_operand *o)
{
    size_t es = c->es, n = o->n, inc = o->inc;
    if (!c->host) {
        size_t end = o->off + (n - 1) * inc + 1;
        if ((n - 1) > per_inc(SIZE_MAX - 1, inc) || end <= o->off || end > max_n)
            return lrelu_fail(LRELU_ERR_OUT_OF_RANGE,
                              "%s: %s offset %zu + n %zu elements (stride %zu) of %zu bytes "
                              "overflows size_t",
                              c->fn, o->name, o->off, n, inc, es);
        if (end * es > o->size)
            return lrelu_fail(LRELU_ERR_OUT_OF_RANGE,
                              "%s: %s elements [%zu, %zu) (stride %zu) of %zu bytes end past its "
                              "%zu bytes",
                              c->fn, o->name, o->off, end, inc, es, o->size);
        o->origin += o->off * es; /* both fit the buffer: no wrap */
        return LRELU_OK;
    }
    if (n - 1 > per_inc(max_n - 1, inc))
        return lrelu_fail(LRELU_ERR_OUT_OF_RANGE,
                          "%s: %s: n %zu elements (stride %zu) of %zu bytes overflows size_t",
                          c->fn, o->name, n, inc, es);
    size_t span = ((n - 1) * inc + 1) * es;
    if (o->origin > UINTPTR_MAX - span)
        return lrelu_fail(LRELU_ERR_OUT_OF_RANGE, "%s: %s + %zu bytes wraps the address space",
                          c->fn, o->name, span);
    return LRELU_OK;
}

/* OVERLAP where output a shares a byte with b (operand bi: an input, or an earlier
 * output), unless a is the very same view of an input it may alias (in place). Both fit
 * their memory, so no address here wraps. */
static lrelu_status check_pair(const lrelu_checked *c, const lrelu_operand *a, int bi,
                               const lrelu_operand *b)
{
    size_t es = c->es, pa = a->origin, pb = b->origin;
    if (a->root != b->root || a->n == 0 || b->n == 0)
        return LRELU_OK;
    int may_alias = (a->alias >> bi & 1u) != 0;
    if (may_alias && pa == pb && a->n == b->n && (a->inc == b->inc || a->n == 1))
        return LRELU_OK;
    int meet = a->inc == 1 && b->inc == 1
                   ? pa < pb + b->n * es && pb < pa + a->n * es
                   : lrelu_views_meet(pa, a->inc * es, pb, b->inc * es, a->n, es);
    if (!meet)
        return LRELU_OK;
    return lrelu_fail(LRELU_ERR_OVERLAP,
                      "%s: output %s overlaps %s (%s partly overlaps %s %s: %zu elements from "
                      "byte %zu with a stride of %zu, against %zu from byte %zu with %zu)%s",
                      c->fn, a->name, b->name, a->name, b->out ? "output" : "input", b->name, a->n,
                      pa, a->inc, b->n, pb, b->inc,
                      may_alias ? "; only the very same view is allowed (in place)" : "");
}

lrelu_status lrelu_check_operands(const lrelu_ctx *ctx, lrelu_checked *c)
{
    lrelu_status st;
    if (!c->host && c->num_wait > 0 && c->wait == NULL)
        return lrelu_fail(LRELU_ERR_INVALID_ARG, "%s: num_wait is %u but wait is NULL", c->fn,
                          (unsigned)c->num_wait);
    for (int i = 0; i < c->nops && c->n > 0; ++i)
        if ((st = check_present(ctx, c, &c->ops[i])) != LRELU_OK)
            return st;
    if (c->t == LRELU_F64 && !ctx->has_fp64)
        return lrelu_fail(LRELU_ERR_UNSUPPORTED, "%s: the device has no fp64 (cl_khr_fp64)", c->fn);
    if (c->n == 0)
        return LRELU_OK;
    size_t max_n = SIZE_MAX / c->es;
    for (int i = 0; i < c->nops; ++i)
        if (lrelu_operand_present(c, &c->ops[i]) &&
            (st = check_range(c, max_n, &c->ops[i])) != LRELU_OK)
            return st;
    for (int i = 0; i < c->nops; ++i)
        for (int j = 0; j < c->nops && c->ops[i].out && lrelu_operand_present(c, &c->ops[i]); ++j)
            if (j != i && lrelu_operand_present(c, &c->ops[j]) && (j < i || !c->ops[j].out) &&
                (st = check_pair(c, &c->ops[i], j, &c->ops[j])) != LRELU_OK)
                return st;
    return LRELU_OK;
}
