/* test_q8.c: the quantized forward, int8 and uint8, device and host APIs. Hand-worked
 * values pin the semantics (float domain, rounding to nearest even, saturation), then
 * every byte value and random bytes under many quantization pairs (scales that saturate,
 * zero points at the ends of the range, negative and large slopes), at sizes around the
 * vector width, at an offset and in place, each bit for bit the reference's with the
 * guard bands untouched. */
#include "common.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
    double alpha;
    lrelu_quant in, out;
} qparams;

static const size_t sizes[] = {1, 15, 16, 17, 256, 1000, 4099, 40009};

/* Runs one call through the device (api 0) or host (api 1), out of place or in place,
 * with x and y `shift` % 5 and shift / 5 % 4 bytes past a multiple of 256 (the kernel
 * moves words where both are multiples of 4, else bytes), and compares with the
 * reference. */
static size_t run(lrelu_ctx *ctx, int api, lrelu_qtype t, size_t n, const qparams *p,
                  const unsigned char *x, int in_place, size_t shift)
{
    unsigned char *expect = malloc(n ? n : 1);
    if (expect == NULL)
        lt_die("out of memory");
    lrelu_ref_forward_q8(t, n, p->alpha, p->in, p->out, x, expect);
    lt_arr ax, ay;
    lt_arr_init_at(&ax, n, 1, x, shift % 5);
    lt_arr_init_at(&ay, n, 1, NULL, shift / 5 % 4);
    lt_arr *out = in_place ? &ax : &ay;
    lrelu_status st;
    if (api == 0) {
        lt_arr_upload(ctx, &ax);
        lt_arr_upload(ctx, &ay);
        st = lrelu_forward_q8(ctx, t, n, p->alpha, p->in, p->out, ax.mem, ax.off, out->mem,
                              out->off, 0, NULL, NULL);
        if (st == LRELU_OK)
            lt_finish(ctx);
    } else {
        st = lrelu_forward_q8_host(ctx, t, n, p->alpha, p->in, p->out, lt_arr_data(&ax),
                                   lt_arr_data(out));
    }
    size_t bad = st != LRELU_OK;
    if (bad)
        printf("  status %s: %s\n", lrelu_status_str(st), lrelu_last_error());
    else
        bad = lt_arr_check(ctx, out, -1, expect, "y");
    if (bad)
        printf("  in %s %s n=%zu alpha=%g in=(%g, %d) out=(%g, %d) offsets %zu %zu %s\n",
               api ? "host" : "device", t == LRELU_QS8 ? "s8" : "u8", n, p->alpha, p->in.scale,
               p->in.zero_point, p->out.scale, p->out.zero_point, ax.off, out->off,
               in_place ? "in place" : "");
    lt_arr_free(&ax);
    lt_arr_free(&ay);
    free(expect);
    return bad;
}

/* Values worked out by hand, through both APIs. */
static void hand_values(lrelu_ctx *ctx)
{
    /* s8, in (0.5, 0), out (0.25, 10), alpha 0.1:
     *   -7 -> -3.5 -> -0.35 -> -1.4 -> -1 -> 9;   3 -> 1.5 -> 6 -> 16;
     *   100 -> 50 -> 200 -> 200 > 117 -> 127 (saturated);
     *   -128 -> -64 -> -6.4 -> -25.6 -> -26 -> -16 */
    qparams p = {0.1, {0.5, 0}, {0.25, 10}};
    signed char x[] = {-7, 3, 100, -128, 0};
    signed char want[] = {9, 16, 127, -16, 10};
    /* u8 with ties: in (1, 0), out (2, 0), alpha 1: 1 -> 0.5 -> 0 (even); 3 -> 1.5 -> 2;
     * 5 -> 2.5 -> 2; 255 -> 127.5 -> 128 */
    qparams q = {1.0, {1.0, 0}, {2.0, 0}};
    unsigned char ux[] = {1, 3, 5, 255, 0};
    unsigned char uwant[] = {0, 2, 2, 128, 0};
    /* u8, zero point 128 in, 0 out, alpha -1: 0 -> -128 -> 128; 255 -> 127 */
    qparams r = {-1.0, {1.0, 128}, {1.0, 0}};
    unsigned char rx[] = {0, 255, 128, 127};
    unsigned char rwant[] = {128, 127, 0, 1};
    for (int api = 0; api < 2; ++api) {
        unsigned char got[5];
        lt_arr a;
        const struct {
            lrelu_qtype t;
            const qparams *p;
            const void *x, *want;
            size_t n;
        } cases[] = {{LRELU_QS8, &p, x, want, 5},
                     {LRELU_QU8, &q, ux, uwant, 5},
                     {LRELU_QU8, &r, rx, rwant, 4}};
        for (size_t c = 0; c < 3; ++c) {
            lrelu_ref_forward_q8(cases[c].t, cases[c].n, cases[c].p->alpha, cases[c].p->in,
                                 cases[c].p->out, cases[c].x, got);
            lt_check(memcmp(got, cases[c].want, cases[c].n) == 0, "reference: hand-worked values");
            lt_arr_init(&a, cases[c].n, 1, cases[c].x);
            if (api == 0) {
                lt_arr_upload(ctx, &a);
                lt_ok(lrelu_forward_q8(ctx, cases[c].t, cases[c].n, cases[c].p->alpha,
                                       cases[c].p->in, cases[c].p->out, a.mem, a.off, a.mem, a.off,
                                       0, NULL, NULL),
                      "forward_q8");
                lt_finish(ctx);
            } else {
                lt_ok(lrelu_forward_q8_host(ctx, cases[c].t, cases[c].n, cases[c].p->alpha,
                                            cases[c].p->in, cases[c].p->out, lt_arr_data(&a),
                                            lt_arr_data(&a)),
                      "forward_q8_host");
            }
            lt_check(lt_arr_check(ctx, &a, -1, cases[c].want, "hand-worked") == 0,
                     api ? "host: hand-worked values" : "device: hand-worked values");
            lt_arr_free(&a);
        }
    }
}

int main(void)
{
    lrelu_ctx *ctx = lt_open();
    uint64_t rng = lt_seed();
    hand_values(ctx);
    size_t nmax = sizes[sizeof sizes / sizeof sizes[0] - 1];
    unsigned char *x = malloc(nmax);
    if (x == NULL)
        lt_die("out of memory");
    for (size_t i = 0; i < nmax; ++i) /* every byte value first, then random ones */
        x[i] = i < 256 ? (unsigned char)i : (unsigned char)lt_rand(&rng);
    qparams fixed[] = {
        {0.01, {0.05, 0}, {0.05, 0}},   {0.2, {0.1, -3}, {0.02, 7}},
        {3.0, {1.0, 127}, {0.5, -128}}, {-0.5, {0.7, -128}, {0.3, 127}},
        {0.0, {0.125, 5}, {1.0, 0}},    {1.0, {1e-3, 0}, {1e3, 0}},
        {0.01, {100.0, 0}, {1e-2, 0}},  {0.5, {0.5, 0}, {0.25, 0}},
    };
    size_t nfixed = sizeof fixed / sizeof fixed[0], k = 0;
    for (int t = 0; t < 2; ++t) {
        lrelu_qtype qt = (lrelu_qtype)t;
        for (size_t c = 0; c < nfixed + 24; ++c, ++k) {
            qparams p;
            if (c < nfixed) {
                p = fixed[c];
                if (qt == LRELU_QU8) { /* the same pairs moved into uint8's range */
                    p.in.zero_point += 128;
                    p.out.zero_point += 128;
                }
            } else { /* random scales over 2^-12 .. 2^4, zero points, slopes */
                p.alpha = ((double)(lt_rand(&rng) % 4001) - 1000.0) / 1000.0;
                p.in.scale = 0x1p-12 * (double)(1 + lt_rand(&rng) % 65536);
                p.out.scale = 0x1p-12 * (double)(1 + lt_rand(&rng) % 65536);
                int lo = qt == LRELU_QS8 ? -128 : 0;
                p.in.zero_point = lo + (int)(lt_rand(&rng) % 256);
                p.out.zero_point = lo + (int)(lt_rand(&rng) % 256);
            }
            size_t n = lt_cap(sizes[k % (sizeof sizes / sizeof sizes[0])]);
            for (int api = 0; api < 2; ++api)
                lt_check(run(ctx, api, qt, n, &p, x, (int)(k % 3 == 0), k % 20) == 0,
                         api ? "host: q8 matches the reference"
                             : "device: q8 matches the reference");
        }
        /* the whole byte range in one call, both APIs */
        qparams all = {0.2, {0.1, qt == LRELU_QS8 ? -3 : 125}, {0.02, qt == LRELU_QS8 ? 7 : 135}};
        for (int api = 0; api < 2; ++api)
            for (size_t shift = 0; shift < 2; ++shift) /* words, bytes */
                lt_check(run(ctx, api, qt, 256, &all, x, 0, shift) == 0, "all 256 inputs");
    }
    free(x);
    lrelu_destroy(ctx);
    return lt_report(lt_passed, lt_failed);
}
