/* test_blocks.c: block sums that compose (lrelu_prelu_backward_blocks,
 * lrelu_bias_act_backward_blocks, lrelu_chan_sums_combine). For every dtype, both
 * families and layouts whose blocks straddle rows: a batch cut along outer at block
 * boundaries into 1, 2 and 3 shards, each shard's backward on its own rows (buffer
 * offsets) with its block sums, then the shards combined in order, gives dx and the
 * per-channel gradient of one call over the whole, and the reference's, bit for bit.
 * The blocks buffers are poisoned first and checked to the byte after their sums. Then
 * every bad argument: a NULL or short blocks buffer, one overlapping an input, NULL
 * pointers and an unknown dtype to combine; nothing written, the ctx usable. */
#include "common.h"

#include <stdlib.h>
#include <string.h>

static void fill_moderate(lrelu_dtype t, void *p, size_t n, uint64_t *rng)
{
    for (size_t i = 0; i < n; ++i) {
        double d = (double)(lt_rand(rng) >> 11) * 0x1p-53 * 4.0 - 2.0;
        float f = (float)d;
        uint16_t h = t == LRELU_F16 ? lrelu_float_to_f16(f) : lrelu_float_to_bf16(f);
        if (t == LRELU_F64)
            memcpy((char *)p + 8 * i, &d, 8);
        else if (t == LRELU_F32)
            memcpy((char *)p + 4 * i, &f, 4);
        else
            memcpy((char *)p + 2 * i, &h, 2);
    }
}

static size_t gcd(size_t a, size_t b)
{
    while (b != 0) {
        size_t r = a % b;
        a = b;
        b = r;
    }
    return a;
}

static cl_mem buffer(lrelu_ctx *ctx, size_t bytes, const void *data)
{
    cl_int err;
    cl_mem m =
        clCreateBuffer(lrelu_cl_context(ctx), CL_MEM_READ_WRITE | (data ? CL_MEM_COPY_HOST_PTR : 0),
                       bytes, (void *)data, &err);
    if (err != CL_SUCCESS)
        lt_die("clCreateBuffer: %d", (int)err);
    return m;
}

static void read_buf(lrelu_ctx *ctx, cl_mem m, size_t bytes, void *out)
{
    if (clEnqueueReadBuffer(lrelu_cl_queue(ctx), m, CL_TRUE, 0, bytes, out, 0, NULL, NULL) !=
        CL_SUCCESS)
        lt_die("clEnqueueReadBuffer");
}

/* one shard's backward with its block sums, into blocks (poisoned first, with a guard
 * band of 64 bytes after the sums that must stay as it was) */
static lrelu_status shard(lrelu_ctx *ctx, int bias_act, lrelu_dtype t, lrelu_layout l,
                          lrelu_bias_act p, cl_mem x, size_t off, cl_mem per, cl_mem dy, cl_mem dx,
                          cl_mem blocks)
{
    if (bias_act)
        return lrelu_bias_act_backward_blocks(ctx, t, l, p, x, off, per, 0, dy, off, dx, off,
                                              blocks, 0, NULL, NULL);
    return lrelu_prelu_backward_blocks(ctx, t, l, x, off, per, 0, dy, off, dx, off, blocks, 0, NULL,
                                       NULL);
}

static void compose(lrelu_ctx *ctx, lrelu_dtype t, lrelu_layout whole, int bias_act, uint64_t *rng)
{
    size_t es = lrelu_dtype_size(t), cs = t == LRELU_F64 ? 8 : 4, C = whole.channels;
    size_t n = whole.outer * C * whole.inner, q = 256 / gcd(whole.inner, 256);
    lrelu_bias_act p = {0.2, 1.4142135623730951, t == LRELU_F16 ? 100.0 : 0.0};
    unsigned char *hx = malloc(n * es), *hdy = malloc(n * es), *hp = malloc(C * es);
    unsigned char *want_dx = malloc(n * es), *want_ds = malloc(C * es);
    unsigned char *got_dx = malloc(n * es), *got_ds = malloc(C * es), *one_ds = malloc(C * es);
    if (!hx || !hdy || !hp || !want_dx || !want_ds || !got_dx || !got_ds || !one_ds)
        lt_die("out of memory");
    fill_moderate(t, hx, n, rng);
    fill_moderate(t, hdy, n, rng);
    fill_moderate(t, hp, C, rng);
    if (bias_act)
        lrelu_ref_bias_act_backward(t, whole, p, hx, hp, hdy, want_dx, want_ds);
    else
        lrelu_ref_prelu_backward(t, whole, hx, hp, hdy, want_dx, want_ds);
    cl_mem x = buffer(ctx, n * es, hx), dy = buffer(ctx, n * es, hdy),
           per = buffer(ctx, C * es, hp);
    cl_mem dx = buffer(ctx, n * es, NULL), ds = buffer(ctx, C * es, NULL);
    /* the one call over the whole, for comparison */
    lt_ok(bias_act ? lrelu_bias_act_backward(ctx, t, whole, p, x, 0, per, 0, dy, 0, dx, 0, ds, 0, 0,
                                             NULL, NULL)
                   : lrelu_prelu_backward(ctx, t, whole, x, 0, per, 0, dy, 0, dx, 0, ds, 0, 0, NULL,
                                          NULL),
          "one call");
    read_buf(ctx, ds, C * es, one_ds);
    char what[160];
    for (size_t shards = 1; shards <= 3; ++shards) {
        /* cut points: multiples of q rows, as even as they come */
        size_t units = whole.outer / q, cut[4] = {0, 0, 0, whole.outer};
        if (shards > 1 && units < shards)
            continue;
        for (size_t s = 1; s < shards; ++s)
            cut[s] = units * s / shards * q;
        cut[shards] = whole.outer;
        void *host_blocks[3] = {NULL, NULL, NULL};
        size_t nb[3] = {0, 0, 0};
        const unsigned char poison[8] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
        memset(got_dx, 0xa5, n * es);
        cl_mem ddx = buffer(ctx, n * es, got_dx);
        int ok = 1;
        for (size_t s = 0; s < shards; ++s) {
            lrelu_layout l = {cut[s + 1] - cut[s], C, whole.inner};
            nb[s] = lrelu_chan_blocks(l);
            size_t bytes = C * nb[s] * cs;
            unsigned char *hb = malloc(bytes + 64);
            if (hb == NULL)
                lt_die("out of memory");
            memset(hb, 0xff, bytes + 64); /* NaN sums, then a guard band */
            cl_mem blocks = buffer(ctx, bytes + 64, hb);
            lrelu_status st =
                shard(ctx, bias_act, t, l, p, x, cut[s] * C * whole.inner, per, dy, ddx, blocks);
            if (st != LRELU_OK)
                ok = 0, printf("FAIL shard %zu: %s\n", s, lrelu_last_error());
            read_buf(ctx, blocks, bytes + 64, hb);
            for (size_t g = 0; g < 64; g += 8)
                ok &= memcmp(hb + bytes + g, poison, 8) == 0;
            host_blocks[s] = hb;
            clReleaseMemObject(blocks);
        }
        read_buf(ctx, ddx, n * es, got_dx);
        clReleaseMemObject(ddx);
        memset(got_ds, 0xa5, C * es);
        lt_ok(lrelu_chan_sums_combine(t, C, shards, nb, (const void *const *)host_blocks, got_ds),
              "lrelu_chan_sums_combine");
        snprintf(what, sizeof what, "%s %s (%zu, %zu, %zu) in %zu shards: dx",
                 bias_act ? "bias_act" : "PReLU", lrelu_dtype_name(t), whole.outer, C, whole.inner,
                 shards);
        size_t bad = 0;
        for (size_t i = 0; i < n; ++i)
            bad += !lt_same(t, want_dx + i * es, got_dx + i * es, 0);
        lt_check(ok && bad == 0, what);
        snprintf(what + strlen(what) - 2, 40, "ds, the one call's and the reference's");
        lt_check(memcmp(got_ds, want_ds, C * es) == 0 && memcmp(got_ds, one_ds, C * es) == 0, what);
        for (size_t s = 0; s < shards; ++s)
            free(host_blocks[s]);
    }
    clReleaseMemObject(x);
    clReleaseMemObject(dy);
    clReleaseMemObject(per);
    clReleaseMemObject(dx);
    clReleaseMemObject(ds);
    free(hx), free(hdy), free(hp), free(want_dx), free(want_ds), free(got_dx), free(got_ds);
    free(one_ds);
}

/* every bad argument: the status, nothing written, the ctx usable after */
static void errors(lrelu_ctx *ctx)
{
    lrelu_layout l = {8, 3, 100}; /* 800 terms: 4 blocks a channel */
    size_t n = (size_t)8 * 3 * 100, nb = lrelu_chan_blocks(l);
    lt_check(nb == 4, "lrelu_chan_blocks: ceil(outer * inner / 256)");
    lt_check(lrelu_chan_blocks((lrelu_layout){5, 0, 7}) == 0, "lrelu_chan_blocks: no channels");
    float *h = calloc(n, sizeof *h);
    if (h == NULL)
        lt_die("out of memory");
    cl_mem x = buffer(ctx, n * 4, h), per = buffer(ctx, 12, h), dx = buffer(ctx, n * 4, h);
    cl_mem small = buffer(ctx, 3 * nb * 4 - 4, NULL), blocks = buffer(ctx, 3 * nb * 4, NULL);
    lrelu_status st = lrelu_prelu_backward_blocks(ctx, LRELU_F32, l, x, 0, per, 0, x, 0, dx, 0,
                                                  NULL, 0, NULL, NULL);
    lt_check(st == LRELU_ERR_INVALID_ARG && strstr(lrelu_last_error(), "blocks") != NULL,
             "blocks NULL: LRELU_ERR_INVALID_ARG naming blocks");
    st = lrelu_prelu_backward_blocks(ctx, LRELU_F32, l, x, 0, per, 0, x, 0, dx, 0, small, 0, NULL,
                                     NULL);
    lt_check(st == LRELU_ERR_OUT_OF_RANGE && strstr(lrelu_last_error(), "blocks") != NULL,
             "blocks one sum short: LRELU_ERR_OUT_OF_RANGE naming blocks");
    st =
        lrelu_prelu_backward_blocks(ctx, LRELU_F32, l, x, 0, per, 0, x, 0, dx, 0, x, 0, NULL, NULL);
    lt_check(st == LRELU_ERR_OVERLAP, "blocks on x: LRELU_ERR_OVERLAP");
    st = lrelu_bias_act_backward_blocks(ctx, LRELU_F32, l, (lrelu_bias_act){0.2, 1, -1}, x, 0, per,
                                        0, x, 0, dx, 0, blocks, 0, NULL, NULL);
    lt_check(st == LRELU_ERR_INVALID_ARG, "bias_act limit -1: LRELU_ERR_INVALID_ARG");
    float got[4] = {7, 7, 7, 7}, sums[12] = {0};
    const void *b[1] = {sums};
    size_t nbs[1] = {4};
    lt_check(lrelu_chan_sums_combine((lrelu_dtype)9, 3, 1, nbs, b, got) == LRELU_ERR_INVALID_ARG,
             "combine: unknown dtype");
    lt_check(lrelu_chan_sums_combine(LRELU_F32, 3, 1, nbs, b, NULL) == LRELU_ERR_INVALID_ARG,
             "combine: ds NULL");
    lt_check(lrelu_chan_sums_combine(LRELU_F32, 3, 1, NULL, b, got) == LRELU_ERR_INVALID_ARG,
             "combine: nb NULL");
    const void *nob[1] = {NULL};
    lt_check(lrelu_chan_sums_combine(LRELU_F32, 3, 1, nbs, nob, got) == LRELU_ERR_INVALID_ARG &&
                 strstr(lrelu_last_error(), "blocks[0]") != NULL,
             "combine: blocks[0] NULL, named");
    lt_check(got[0] == 7 && got[1] == 7 && got[2] == 7 && got[3] == 7,
             "combine: nothing written on failure");
    /* the ctx still works */
    st = lrelu_prelu_backward_blocks(ctx, LRELU_F32, l, x, 0, per, 0, x, 0, dx, 0, blocks, 0, NULL,
                                     NULL);
    lt_check(st == LRELU_OK, "the ctx works after the failures");
    lt_check(clFinish(lrelu_cl_queue(ctx)) == CL_SUCCESS, "clFinish");
    clReleaseMemObject(x), clReleaseMemObject(per), clReleaseMemObject(dx);
    clReleaseMemObject(small), clReleaseMemObject(blocks);
    free(h);
}

int main(void)
{
    lrelu_ctx *ctx = lt_open();
    uint64_t rng = lt_seed();
    /* blocks straddle rows (inner 100, 7, 1; 3 channels), a row of whole blocks (512),
     * channels last, one channel */
    static const lrelu_layout layouts[] = {{192, 3, 100}, {768, 2, 7},  {1024, 5, 1},
                                           {6, 4, 512},   {768, 16, 1}, {768, 1, 33}};
    for (int ti = 0; ti < 4; ++ti) {
        lrelu_dtype t = (lrelu_dtype)ti;
        if (!lt_supported(ctx, t))
            continue;
        for (size_t li = 0; li < sizeof layouts / sizeof layouts[0]; ++li)
            for (int bias_act = 0; bias_act < 2; ++bias_act)
                compose(ctx, t, layouts[li], bias_act, &rng);
    }
    errors(ctx);
    lrelu_destroy(ctx);
    return lt_report(lt_passed, lt_failed);
}
