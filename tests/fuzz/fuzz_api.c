/* fuzz_api.c: libFuzzer target over the API's argument space: dtype (valid or not), the
 * call, n, every offset, the slope's bits, which of three buffers (or NULL) each operand
 * is, so aliasing and overlap arise by themselves, wait lists, the host API on
 * overlapping pointers, and the _ex calls' options (blend factors' bits, strides 0-4, so
 * strided views interleave, overlap or run past their buffer by themselves); and the
 * quantized, PReLU and bias_act forwards with their parameters' bits. The oracle: a call
 * either fails with nothing written anywhere, or its output range equals the CPU reference on the
 * inputs as they were, and nothing outside that range changed. Any mismatch aborts, which libFuzzer
 * reports. */
#include "lrelu.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BUF_BYTES 8192

static lrelu_ctx *ctx;
static cl_mem bufs[3];
static unsigned char before[3][BUF_BYTES], after[3][BUF_BYTES], host[BUF_BYTES],
    host_before[BUF_BYTES];

static void die(const char *what)
{
    fprintf(stderr, "fuzz_api: %s\n", what);
    abort();
}

static void setup(void)
{
    if (lrelu_create(&ctx, NULL) != LRELU_OK)
        die(lrelu_last_error());
    cl_int err;
    for (int i = 0; i < 3; ++i) {
        bufs[i] = clCreateBuffer(lrelu_cl_context(ctx), CL_MEM_READ_WRITE, BUF_BYTES, NULL, &err);
        if (err != CL_SUCCESS)
            die("clCreateBuffer");
    }
}

/* Reads a little-endian value of `bytes` bytes from the input, 0 past its end. */
static uint64_t take(const uint8_t **p, size_t *left, size_t bytes)
{
    uint64_t v = 0;
    for (size_t i = 0; i < bytes; ++i) {
        uint64_t b = *left ? **p : 0;
        if (*left) {
            ++*p;
            --*left;
        }
        v |= b << (8 * i);
    }
    return v;
}

static int same(lrelu_dtype t, const unsigned char *a, const unsigned char *b, size_t n);

static void reference(int op, lrelu_dtype t, size_t n, double a, const lrelu_opts *o, const void *s,
                      const void *dy, void *out)
{
    if (op == 0)
        lrelu_ref_forward_ex(t, n, a, o, s, out);
    else if (op == 1)
        lrelu_ref_backward_ex(t, n, a, o, s, dy, out);
    else
        lrelu_ref_backward_from_output_ex(t, n, a, o, s, dy, out);
}

/* Checks a whole buffer image after a successful call against `want` (the image before,
 * with the reference written over the output view): the output's elements equal up to
 * NaN payloads, every other byte identical. */
static void check_image(lrelu_dtype t, size_t n, size_t at, size_t inc, const unsigned char *want,
                        unsigned char *got, const char *what)
{
    size_t es = lrelu_dtype_size(t);
    for (size_t i = 0; i < n; ++i) {
        size_t b = at + i * inc * es;
        if (!same(t, want + b, got + b, 1))
            die(what);
        memcpy(got + b, want + b, es); /* NaN payloads aside, now equal */
    }
    if (memcmp(want, got, BUF_BYTES) != 0)
        die("a call wrote outside its output elements");
}

/* Bitwise equality, NaN equal to NaN of the same dtype. */
static int same(lrelu_dtype t, const unsigned char *a, const unsigned char *b, size_t n)
{
    size_t es = lrelu_dtype_size(t);
    for (size_t i = 0; i < n; ++i, a += es, b += es) {
        if (memcmp(a, b, es) == 0)
            continue;
        float fa, fb;
        double da, db;
        uint16_t ha, hb;
        switch (t) {
        case LRELU_F32:
            memcpy(&fa, a, 4), memcpy(&fb, b, 4);
            if (fa != fa && fb != fb)
                continue;
            break;
        case LRELU_F64:
            memcpy(&da, a, 8), memcpy(&db, b, 8);
            if (da != da && db != db)
                continue;
            break;
        case LRELU_F16:
            memcpy(&ha, a, 2), memcpy(&hb, b, 2);
            if ((ha & 0x7fff) > 0x7c00 && (hb & 0x7fff) > 0x7c00)
                continue;
            break;
        default:
            memcpy(&ha, a, 2), memcpy(&hb, b, 2);
            if ((ha & 0x7fff) > 0x7f80 && (hb & 0x7fff) > 0x7f80)
                continue;
            break;
        }
        return 0;
    }
    return 1;
}

/* The quantized and per-channel forwards (feature 1: q8, 2: PReLU, 3: bias_act) on the
 * device: parameters from the input (raw bits or small values), operands any of the three
 * buffers or NULL at any offset. The same oracle: a failure writes nothing; a success
 * writes exactly the reference's output range. */
static void feature_call(int feature, const uint8_t **p, size_t *left)
{
    int dt = (int)(take(p, left, 1) % 5); /* 4: not a dtype (q8: 2 is not a qtype) */
    int which[3];
    size_t off[3];
    for (int i = 0; i < 3; ++i) {
        which[i] = (int)(take(p, left, 1) % 4); /* 3: NULL */
        off[i] = (size_t)take(p, left, 2) % 1100;
    }
    double f[3];
    for (int i = 0; i < 3; ++i) {
        uint64_t bits = take(p, left, 8);
        memcpy(&f[i], &bits, 8);
        if (take(p, left, 1) & 1) /* usually ordinary values */
            f[i] = (double)(int8_t)take(p, left, 1) / 32;
    }
    cl_mem mem[3];
    for (int i = 0; i < 3; ++i)
        mem[i] = which[i] == 3 ? NULL : bufs[which[i]];
    lrelu_status st;
    size_t n, es;
    lrelu_layout l = {(size_t)take(p, left, 1) % 5, (size_t)take(p, left, 1) % 6,
                      (size_t)take(p, left, 1) % 40};
    lrelu_quant in = {f[1], (int)(int16_t)take(p, left, 2) % 300},
                out = {f[2], (int)(int16_t)take(p, left, 2) % 300};
    lrelu_bias_act ba = {f[0], f[1], f[2]};
    if (feature == 1) {
        n = (size_t)take(p, left, 2) % 2100;
        es = 1;
        st = lrelu_forward_q8(ctx, (lrelu_qtype)(dt % 3), n, f[0], in, out, mem[0], off[0], mem[2],
                              off[2], 0, NULL, NULL);
    } else {
        n = l.outer * l.channels * l.inner;
        es = dt < 4 ? lrelu_dtype_size((lrelu_dtype)dt) : 1;
        if (feature == 2)
            st = lrelu_prelu_forward(ctx, (lrelu_dtype)dt, l, mem[0], off[0], mem[1], off[1],
                                     mem[2], off[2], 0, NULL, NULL);
        else
            st = lrelu_bias_act_forward(ctx, (lrelu_dtype)dt, l, ba, mem[0], off[0], mem[1], off[1],
                                        mem[2], off[2], 0, NULL, NULL);
    }
    cl_command_queue q = lrelu_cl_queue(ctx);
    clFinish(q);
    for (int b = 0; b < 3; ++b)
        if (clEnqueueReadBuffer(q, bufs[b], CL_TRUE, 0, BUF_BYTES, after[b], 0, NULL, NULL))
            die("read");
    for (int b = 0; b < 3; ++b) {
        if (st == LRELU_OK && n > 0 && which[2] == b) {
            unsigned char want[BUF_BYTES];
            memcpy(want, before[b], BUF_BYTES);
            const void *x = before[which[0]] + off[0] * es;
            const void *per = which[1] == 3 ? NULL : before[which[1]] + off[1] * es;
            void *y = want + off[2] * es;
            if (feature == 1) {
                lrelu_ref_forward_q8((lrelu_qtype)(dt % 3), n, f[0], in, out, x, y);
                if (memcmp(want, after[b], BUF_BYTES) != 0)
                    die("q8 result differs from the reference, or wrote outside y");
                continue;
            }
            if (feature == 2)
                lrelu_ref_prelu_forward((lrelu_dtype)dt, l, x, per, y);
            else
                lrelu_ref_bias_act_forward((lrelu_dtype)dt, l, ba, x, per, y);
            check_image((lrelu_dtype)dt, n, off[2] * es, 1, want, after[b],
                        "per-channel result differs from the reference");
        } else if (memcmp(before[b], after[b], BUF_BYTES) != 0) {
            die(st == LRELU_OK ? "a buffer that is no output changed" : "a failed call wrote");
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (ctx == NULL)
        setup();
    const uint8_t *p = data;
    size_t left = size;
    int feature = (int)(take(&p, &left, 1) % 6); /* 0-2: the _ex calls, 3-5: the others */
    int dt = (int)(take(&p, &left, 1) % 5);      /* 4: not a dtype */
    int op = (int)(take(&p, &left, 1) % 3);
    int use_host = (int)(take(&p, &left, 1) & 1);
    size_t n = (size_t)take(&p, &left, 2) % 2100;
    uint64_t abits = take(&p, &left, 8);
    double alpha;
    memcpy(&alpha, &abits, 8);
    int which[3];
    size_t off[3];
    for (int i = 0; i < 3; ++i) {
        which[i] = (int)(take(&p, &left, 1) % 4); /* 3: NULL */
        off[i] = (size_t)take(&p, &left, 2) % 2200;
    }
    int nwait = (int)(take(&p, &left, 1) % 3); /* 2: num_wait 1 with a NULL list */
    /* the _ex options, or NULL (the plain calls' path through the _ex entry points) */
    lrelu_opts opts = {0}, *o = NULL;
    if (take(&p, &left, 1) & 1) {
        o = &opts;
        opts.flags = (unsigned)take(&p, &left, 1) % 3; /* 2: an unknown bit */
        uint64_t bits = take(&p, &left, 8);
        memcpy(&opts.scale, &bits, 8);
        bits = take(&p, &left, 8);
        memcpy(&opts.beta, &bits, 8);
        if (take(&p, &left, 1) & 1) { /* small factors, so results are ordinary numbers too */
            opts.scale = (double)(int8_t)take(&p, &left, 1) / 16;
            opts.beta = (double)(int8_t)take(&p, &left, 1) / 16;
        }
        opts.src_stride = (size_t)take(&p, &left, 1) % 5;
        opts.dy_stride = (size_t)take(&p, &left, 1) % 5;
        opts.dst_stride = (size_t)take(&p, &left, 1) % 5;
    }
    size_t inc[3] = {1, 1, 1};
    if (o != NULL) {
        inc[0] = opts.src_stride ? opts.src_stride : 1;
        inc[1] = opts.dy_stride ? opts.dy_stride : 1;
        inc[2] = opts.dst_stride ? opts.dst_stride : 1;
    }
    lrelu_dtype t = (lrelu_dtype)dt;
    size_t es = dt < 4 ? lrelu_dtype_size(t) : 1;
    int nops = op == 0 ? 2 : 3;
    /* fill the buffers (and the host array) with the rest of the input, cycled */
    for (int b = 0; b < 3; ++b)
        for (size_t i = 0; i < BUF_BYTES; ++i)
            before[b][i] = size ? data[(i * 7 + (size_t)b * 131) % size] ^ (uint8_t)i : 0;
    for (size_t i = 0; i < BUF_BYTES; ++i)
        host[i] = host_before[i] = before[0][i];
    cl_command_queue q = lrelu_cl_queue(ctx);
    for (int b = 0; b < 3; ++b)
        if (clEnqueueWriteBuffer(q, bufs[b], CL_TRUE, 0, BUF_BYTES, before[b], 0, NULL, NULL))
            die("write");
    if (feature >= 3) {
        feature_call(feature - 2, &p, &left);
        return 0;
    }
    lrelu_status st;
    cl_event gate = NULL, done = NULL;
    if (use_host) {
        /* operands are pointers into one host array: offsets make them overlap or not */
        const void *ptr[3];
        size_t half = BUF_BYTES / es / 2; /* offsets and n each within half the array */
        for (int i = 0; i < 3; ++i) {
            off[i] %= half;
            ptr[i] = which[i] == 3 ? NULL : host + off[i] * es;
        }
        n %= half + 1;
        /* keep strided host views inside the array: the API cannot see its end */
        size_t incs[3] = {inc[0], nops == 2 ? inc[2] : inc[1], inc[2]}; /* per operand */
        for (int i = 0; i < nops; ++i)
            while (n > 0 && off[i] + (n - 1) * incs[i] >= BUF_BYTES / es)
                n /= 2;
        if (op == 0)
            st = lrelu_forward_host_ex(ctx, t, n, alpha, o, ptr[0], (void *)ptr[1]);
        else if (op == 1)
            st = lrelu_backward_host_ex(ctx, t, n, alpha, o, ptr[0], ptr[1], (void *)ptr[2]);
        else
            st = lrelu_backward_from_output_host_ex(ctx, t, n, alpha, o, ptr[0], ptr[1],
                                                    (void *)ptr[2]);
        if (st != LRELU_OK) {
            if (memcmp(host, host_before, BUF_BYTES) != 0)
                die("a failed host call wrote");
            return 0;
        }
        /* right: reference over the inputs as they were */
        unsigned char want[BUF_BYTES];
        size_t at = off[nops - 1] * es;
        memcpy(want, host_before, BUF_BYTES);
        reference(op, t, n, alpha, o, host_before + off[0] * es,
                  op ? host_before + off[1] * es : NULL, want + at);
        check_image(t, n, at, incs[nops - 1], want, host,
                    "host call result differs from the reference");
        return 0;
    }
    cl_mem mem[3];
    for (int i = 0; i < 3; ++i)
        mem[i] = which[i] == 3 ? NULL : bufs[which[i]];
    cl_uint num_wait = nwait ? 1 : 0;
    if (nwait == 1) {
        cl_int err;
        gate = clCreateUserEvent(lrelu_cl_context(ctx), &err);
        clSetUserEventStatus(gate, CL_COMPLETE);
    }
    const cl_event *wait = nwait == 1 ? &gate : NULL;
    if (op == 0)
        st = lrelu_forward_ex(ctx, t, n, alpha, o, mem[0], off[0], mem[1], off[1], num_wait, wait,
                              &done);
    else if (op == 1)
        st = lrelu_backward_ex(ctx, t, n, alpha, o, mem[0], off[0], mem[1], off[1], mem[2], off[2],
                               num_wait, wait, &done);
    else
        st = lrelu_backward_from_output_ex(ctx, t, n, alpha, o, mem[0], off[0], mem[1], off[1],
                                           mem[2], off[2], num_wait, wait, &done);
    if (st == LRELU_OK && done != NULL)
        clWaitForEvents(1, &done);
    if (done != NULL)
        clReleaseEvent(done);
    if (gate != NULL)
        clReleaseEvent(gate);
    if (st != LRELU_OK && done != NULL)
        die("an event was handed out on failure");
    clFinish(q);
    for (int b = 0; b < 3; ++b)
        if (clEnqueueReadBuffer(q, bufs[b], CL_TRUE, 0, BUF_BYTES, after[b], 0, NULL, NULL))
            die("read");
    int out = nops - 1;
    for (int b = 0; b < 3; ++b) {
        if (st == LRELU_OK && n > 0 && which[out] == b) {
            size_t at = off[out] * es;
            unsigned char want[BUF_BYTES];
            memcpy(want, before[b], BUF_BYTES);
            reference(op, t, n, alpha, o, before[which[0]] + off[0] * es,
                      op ? before[which[1]] + off[1] * es : NULL, want + at);
            check_image(t, n, at, inc[2], want, after[b],
                        "device result differs from the reference");
        } else if (memcmp(before[b], after[b], BUF_BYTES) != 0) {
            die(st == LRELU_OK ? "a buffer that is no output changed" : "a failed call wrote");
        }
    }
    return 0;
}
