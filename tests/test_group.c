/* test_group.c: device groups (lrelu_group_*). On the group $LT_GROUP selects (at least
 * two devices: CMake runs it with PoCL showing two, of equal or unequal speed, and with
 * Oclgrind beside PoCL; unset, every GPU, else every device, and where that is one, two
 * ctxs on the default device, as under the GPU check), each call with its speeds set to 1:1, 1:3
 * and 3:1, then measured: the split is the one the speeds ask for, and every output, the
 * per-channel gradients included, is the reference's bit for bit, with guard bands around it. Then
 * the errors: bad arguments and a device that cannot run a dtype, each with its status, the device
 * named where it is the device's, nothing written, and the group usable after. */
#include "common.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static lrelu_group *group;
static size_t devices;

static size_t n_at(size_t n) { return lt_cap(n); }

/* A call's outputs against the reference's, in guard bands. */
static void check_arr(const lt_arr *a, int t, const void *expect, const char *what)
{
    lt_check(lt_arr_check(NULL, a, t, expect, what) == 0, what);
}

static void fill(lrelu_dtype t, void *p, size_t n, uint64_t *rng)
{
    /* specials first, then random bit patterns (NaNs and all) */
    size_t k = lt_special_count(t) < n ? lt_special_count(t) : n;
    lt_fill(t, p, k, rng, 0, 0);
    lt_fill(t, (char *)p + k * lrelu_dtype_size(t), n - k, rng, 1, 0);
}

/* The split of n elements of t follows speeds s: among the devices that take a shard,
 * each but the last takes its share rounded down to 4096 elements, the last the rest;
 * a device left out (its share too small to gain) is slower than every one used. With
 * `all`, every device must take a shard. */
static void check_split(lrelu_dtype t, size_t n, const double *s, int all, const char *what)
{
    size_t counts[LRELU_GROUP_MAX] = {0}, first = 0, last = 0, used = 0;
    double total = 0, slowest_used = INFINITY;
    lt_ok(lrelu_group_split(group, t, n, counts), "lrelu_group_split");
    for (size_t i = 0; i < devices; ++i)
        if (counts[i] > 0) {
            total += s[i];
            last = i;
            ++used;
            slowest_used = s[i] < slowest_used ? s[i] : slowest_used;
        }
    int ok = used >= (all ? devices : 1);
    for (size_t i = 0; i < devices; ++i) {
        if (counts[i] == 0) {
            ok &= s[i] <= slowest_used;
            continue;
        }
        size_t want = i == last ? n - first : (size_t)((double)n * s[i] / total / 4096) * 4096;
        ok &= counts[i] == want;
        first += counts[i];
    }
    ok &= first == n;
    if (!ok)
        for (size_t i = 0; i < devices; ++i)
            printf("  %s: device %zu takes %zu of %zu (speed %g)\n", what, i, counts[i], n, s[i]);
    lt_check(ok, what);
}

static int fp64_everywhere(void)
{
    for (size_t i = 0; i < devices; ++i)
        if (!lt_supported(lrelu_group_ctx(group, i), LRELU_F64))
            return 0;
    return 1;
}

/* forward, backward and the backward from the output; plain, then strided and blended */
static void elementwise(lrelu_dtype t, size_t n, uint64_t *rng)
{
    size_t es = lrelu_dtype_size(t);
    char *s = malloc(3 * n * es), *dy = malloc(3 * n * es), *old = malloc(3 * n * es);
    char *want = malloc(3 * n * es);
    if (s == NULL || dy == NULL || old == NULL || want == NULL)
        lt_die("malloc");
    fill(t, s, 3 * n, rng);
    fill(t, dy, 3 * n, rng);
    fill(t, old, 3 * n, rng);
    const lrelu_opts ex = {LRELU_BLEND, 0.5, 0.25, 3, 1, 2};
    for (int strided = 0; strided < 2; ++strided)
        for (int op = 0; op < 3; ++op) {
            const lrelu_opts *o = strided ? &ex : NULL;
            size_t span = strided ? 2 * n - 1 : n; /* the output's span: stride 2 */
            double alpha = op == LT_BACKWARD_FROM_OUTPUT ? 0.1 : -0.3;
            lt_arr out;
            lt_arr_init(&out, span, es, old);
            memcpy(want, old, span * es);
            char what[96];
            snprintf(what, sizeof what, "%s %s%s n=%zu", lt_op_name((lt_op)op), lrelu_dtype_name(t),
                     strided ? " strided, blended" : "", n);
            lrelu_status st;
            if (op == LT_FORWARD) {
                lrelu_ref_forward_ex(t, n, alpha, o, s, want);
                st = lrelu_group_forward_host_ex(group, t, n, alpha, o, s, lt_arr_data(&out));
            } else if (op == LT_BACKWARD) {
                lrelu_ref_backward_ex(t, n, alpha, o, s, dy, want);
                st = lrelu_group_backward_host_ex(group, t, n, alpha, o, s, dy, lt_arr_data(&out));
            } else {
                lrelu_ref_backward_from_output_ex(t, n, alpha, o, s, dy, want);
                st = lrelu_group_backward_from_output_host_ex(group, t, n, alpha, o, s, dy,
                                                              lt_arr_data(&out));
            }
            lt_check(st == LRELU_OK, what);
            check_arr(&out, t, want, what);
            lt_arr_free(&out);
        }
    free(s);
    free(dy);
    free(old);
    free(want);
}

static void q8(size_t n, uint64_t *rng)
{
    unsigned char *x = malloc(n), *want = malloc(n);
    if (x == NULL || want == NULL)
        lt_die("malloc");
    for (size_t i = 0; i < n; ++i)
        x[i] = (unsigned char)lt_rand(rng);
    lrelu_quant in = {0.05, 3}, out = {0.03, -7};
    lrelu_ref_forward_q8(LRELU_QS8, n, 0.1, in, out, x, want);
    lt_arr y;
    lt_arr_init(&y, n, 1, NULL);
    lt_check(lrelu_group_forward_q8_host(group, LRELU_QS8, n, 0.1, in, out, x, lt_arr_data(&y)) ==
                 LRELU_OK,
             "q8 forward");
    check_arr(&y, -1, want, "q8 forward");
    lt_arr_free(&y);
    free(x);
    free(want);
}

/* PReLU and bias_act, forward and backward: dx and the gradient, each alone, both */
static void channels(lrelu_dtype t, lrelu_layout l, uint64_t *rng)
{
    size_t es = lrelu_dtype_size(t), n = l.outer * l.channels * l.inner, C = l.channels;
    char *x = malloc(n * es), *dy = malloc(n * es), *p = malloc(C * es);
    char *y = malloc(n * es), *dx = malloc(n * es), *ds = malloc(C * es);
    if (!x || !dy || !p || !y || !dx || !ds)
        lt_die("malloc");
    fill(t, x, n, rng);
    /* moderate gradients: sums of random bit patterns are mostly NaN or infinity */
    for (size_t i = 0; i < n; ++i) {
        float f = (float)((double)(lt_rand(rng) >> 11) * 0x1p-53 * 4.0 - 2.0);
        double d = f;
        uint16_t h = t == LRELU_F16 ? lrelu_float_to_f16(f) : lrelu_float_to_bf16(f);
        memcpy(dy + i * es, t == LRELU_F64 ? (void *)&d : t == LRELU_F32 ? (void *)&f : &h, es);
        if (t != LRELU_F64 || i % 7 != 0)
            continue;
        d = -d; /* x moderate too in places, so that sums see both signs */
        memcpy(x + i * es, &d, es);
    }
    fill(t, p, C, rng);
    lrelu_bias_act ba = {0.2, 1.41421356, 0.0};
    for (int fam = 0; fam < 2; ++fam) {
        char what[128];
        snprintf(what, sizeof what, "%s %s (%zu, %zu, %zu)", fam ? "bias_act" : "prelu",
                 lrelu_dtype_name(t), l.outer, l.channels, l.inner);
        lt_arr out;
        lt_arr_init(&out, n, es, NULL);
        if (fam)
            lrelu_ref_bias_act_forward(t, l, ba, x, p, y);
        else
            lrelu_ref_prelu_forward(t, l, x, p, y);
        lrelu_status st =
            fam ? lrelu_group_bias_act_forward_host(group, t, l, ba, x, p, lt_arr_data(&out))
                : lrelu_group_prelu_forward_host(group, t, l, x, p, lt_arr_data(&out));
        lt_check(st == LRELU_OK, what);
        check_arr(&out, t, y, what);
        lt_arr_free(&out);
        for (int ask = 1; ask <= 3; ++ask) { /* 1: dx, 2: the gradient, 3: both */
            lt_arr gx, gs;
            lt_arr_init(&gx, n, es, NULL);
            lt_arr_init(&gs, C, es, NULL);
            void *odx = ask & 1 ? lt_arr_data(&gx) : NULL, *ods = ask & 2 ? lt_arr_data(&gs) : NULL;
            if (fam) {
                lrelu_ref_bias_act_backward(t, l, ba, x, p, dy, dx, ds);
                st = lrelu_group_bias_act_backward_host(group, t, l, ba, x, p, dy, odx, ods);
            } else {
                lrelu_ref_prelu_backward(t, l, x, p, dy, dx, ds);
                st = lrelu_group_prelu_backward_host(group, t, l, x, p, dy, odx, ods);
            }
            char w2[160];
            snprintf(w2, sizeof w2, "%s backward (%s)", what,
                     ask == 1   ? "dx"
                     : ask == 2 ? "gradient"
                                : "dx and gradient");
            lt_check(st == LRELU_OK, w2);
            if (ask & 1)
                check_arr(&gx, t, dx, w2);
            else
                check_arr(&gx, -1, lt_arr_data(&gx), w2); /* guards only: nothing written */
            if (ask & 2)
                check_arr(&gs, t, ds, w2);
            lt_arr_free(&gx);
            lt_arr_free(&gs);
        }
    }
    free(x);
    free(dy);
    free(p);
    free(y);
    free(dx);
    free(ds);
}

static void every_call(uint64_t *rng)
{
    lrelu_dtype ts[] = {LRELU_F32, LRELU_F16, LRELU_BF16, LRELU_F64};
    int f64 = fp64_everywhere();
    for (int i = 0; i < 4; ++i)
        if (ts[i] != LRELU_F64 || f64)
            elementwise(ts[i], n_at((size_t)1 << 19) + 77, rng);
    q8(n_at((size_t)3 << 20) + 5, rng);
    /* rows that end on block boundaries every 32 rows (inner 1000), every row, every 256
     * rows (channels last), and one channel */
    lrelu_layout ls[] = {{512, 4, 1000}, {64, 3, 4096}, {65536, 16, 1}, {300, 1, 4096}};
    /* on a simulator ($LT_MAX_N): the same kinds of layout, smaller */
    const lrelu_layout small[] = {{32, 4, 64}, {16, 3, 256}, {2048, 4, 1}, {32, 1, 512}};
    if (lt_cap((size_t)1 << 30) < ((size_t)1 << 30))
        memcpy(ls, small, sizeof ls);
    for (int i = 0; i < 4; ++i)
        for (int k = 0; k < 4; ++k)
            if ((ts[k] != LRELU_F64 || f64) && (k == 0 || i == 0))
                channels(ts[k], ls[i], rng);
    if (f64)
        channels(LRELU_F64, ls[2], rng);
}

static void errors(uint64_t *rng)
{
    (void)rng;
    float x[64] = {0}, y[64];
    memset(y, 0x5a, sizeof y);
    unsigned char before[sizeof y];
    memcpy(before, y, sizeof y);
    lt_check(lrelu_group_forward_host_ex(NULL, LRELU_F32, 64, 0.1, NULL, x, y) ==
                     LRELU_ERR_INVALID_ARG &&
                 strstr(lrelu_last_error(), "group is NULL") != NULL,
             "NULL group");
    lt_check(lrelu_group_forward_host_ex(group, LRELU_F32, 64, 0.1, NULL, NULL, y) ==
                 LRELU_ERR_INVALID_ARG,
             "NULL x");
    lt_check(lrelu_group_forward_host_ex(group, (lrelu_dtype)9, 64, 0.1, NULL, x, y) ==
                 LRELU_ERR_INVALID_ARG,
             "unknown dtype");
    lt_check(lrelu_group_backward_host_ex(group, LRELU_F32, 64, 0.1, NULL, x, y + 1, y) ==
                 LRELU_ERR_OVERLAP,
             "partial overlap");
    lt_check(lrelu_group_forward_q8_host(group, LRELU_QS8, 64, 0.1, (lrelu_quant){0, 0},
                                         (lrelu_quant){1, 0}, x, y) == LRELU_ERR_INVALID_ARG,
             "q8 zero scale");
    lrelu_layout l = {4, 4, 4};
    lt_check(lrelu_group_prelu_backward_host(group, LRELU_F32, l, x, x, x, NULL, NULL) ==
                 LRELU_ERR_INVALID_ARG,
             "prelu backward with no output");
    lt_check(lrelu_group_bias_act_forward_host(group, LRELU_F32, l, (lrelu_bias_act){0.2, 1, -1}, x,
                                               NULL, y) == LRELU_ERR_INVALID_ARG,
             "bias_act negative limit");
    lt_check(memcmp(y, before, sizeof y) == 0, "nothing written by a failed call");

    double s[LRELU_GROUP_MAX] = {0}, s2[LRELU_GROUP_MAX] = {0};
    lt_ok(lrelu_group_speeds(group, s), "lrelu_group_speeds");
    for (size_t i = 0; i < devices; ++i)
        s2[i] = i == devices - 1 ? NAN : 1.0;
    lt_check(lrelu_group_set_speeds(group, s2) == LRELU_ERR_INVALID_ARG &&
                 strstr(lrelu_last_error(), "speeds[") != NULL,
             "a NaN speed");
    s2[devices - 1] = 0.0;
    lt_check(lrelu_group_set_speeds(group, s2) == LRELU_ERR_INVALID_ARG, "a zero speed");
    lt_ok(lrelu_group_speeds(group, s2), "lrelu_group_speeds");
    lt_check(memcmp(s, s2, devices * sizeof *s) == 0, "speeds unchanged by a refused set");
    lt_check(lrelu_group_speeds(group, NULL) == LRELU_ERR_INVALID_ARG, "NULL speeds");
    lt_check(lrelu_group_split(group, (lrelu_dtype)7, 10, (size_t[LRELU_GROUP_MAX]){0}) ==
                 LRELU_ERR_INVALID_ARG,
             "split of an unknown dtype");
    lt_check(lrelu_group_size(NULL) == 0 && lrelu_group_ctx(group, devices) == NULL,
             "size and ctx out of range");

    lrelu_group *g = (lrelu_group *)1;
    lt_check(lrelu_group_create(&g, "0:0,,0:0") == LRELU_ERR_INVALID_ARG && g == NULL &&
                 strstr(lrelu_last_error(), "empty") != NULL,
             "an empty selector");
    lt_check(lrelu_group_create(&g, "0:0,no such device here") == LRELU_ERR_NO_DEVICE &&
                 g == NULL && strstr(lrelu_last_error(), "device 1") != NULL,
             "a selector that matches nothing names it");
    lt_check(lrelu_group_create_from_ctxs(&g, 0, (lrelu_ctx *[1]){NULL}) == LRELU_ERR_INVALID_ARG,
             "no ctx");
    lt_check(lrelu_group_create_from_ctxs(
                 &g, 2, (lrelu_ctx *[2]){lrelu_group_ctx(group, 0), NULL}) == LRELU_ERR_INVALID_ARG,
             "a NULL ctx");
    lt_check(lrelu_group_create(NULL, NULL) == LRELU_ERR_INVALID_ARG, "NULL g");

    /* a device that cannot run f64 (told so by the environment): named, nothing written */
    lrelu_ctx *c[2] = {lrelu_group_ctx(group, 0), NULL};
    setenv("LRELU_DISABLE_FP64", "1", 1);
    lt_ok(lrelu_create(&c[1], "0:0"), "lrelu_create without fp64");
    unsetenv("LRELU_DISABLE_FP64");
    lt_ok(lrelu_group_create_from_ctxs(&g, 2, c), "lrelu_group_create_from_ctxs");
    if (lt_supported(c[0], LRELU_F64)) {
        double dx[64] = {0}, dy[64], was[64];
        memset(dy, 0x5a, sizeof dy);
        memcpy(was, dy, sizeof was);
        lt_check(lrelu_group_forward_host_ex(g, LRELU_F64, 64, 0.1, NULL, dx, dy) ==
                         LRELU_ERR_UNSUPPORTED &&
                     strstr(lrelu_last_error(), "device 1 (") != NULL,
                 "f64 on a device without fp64 names it");
        lt_check(memcmp(dy, was, sizeof was) == 0, "nothing written where one device lacks fp64");
    }
    lt_check(lrelu_group_forward_host_ex(g, LRELU_F32, 64, 0.1, NULL, x, y) == LRELU_OK &&
                 y[0] == 0.0f,
             "the group usable after");
    lrelu_group_destroy(g);
    lrelu_destroy(c[1]);
    lrelu_group_destroy(NULL);
}

int main(void)
{
    uint64_t rng = lt_seed();
    lrelu_status st = lrelu_group_create(&group, getenv("LT_GROUP"));
    if (st == LRELU_ERR_NO_DEVICE && getenv("LT_GROUP") == NULL) {
        printf("no OpenCL device: skipped\n");
        return LT_SKIP;
    }
    lt_ok(st, "lrelu_group_create");
    devices = lrelu_group_size(group);
    lrelu_ctx *own[2] = {NULL, NULL};
    if (devices < 2 && getenv("LT_GROUP") == NULL) {
        /* one device (a single GPU under the GPU check): two ctxs on it, the default's */
        printf("one device: a group of two ctxs on it\n");
        lrelu_group_destroy(group);
        lt_ok(lrelu_create(&own[0], NULL), "lrelu_create");
        lt_ok(lrelu_create(&own[1], NULL), "lrelu_create");
        lt_ok(lrelu_group_create_from_ctxs(&group, 2, own), "lrelu_group_create_from_ctxs");
        devices = lrelu_group_size(group);
    }
    if (devices < 2)
        lt_die("the group has %zu device; LT_GROUP must list two", devices);
    for (size_t i = 0; i < devices; ++i) {
        char name[128] = "?";
        clGetDeviceInfo(lrelu_cl_device(lrelu_group_ctx(group, i)), CL_DEVICE_NAME, sizeof name,
                        name, NULL);
        printf("device %zu: %s\n", i, name);
    }
    double ratios[3][2] = {{1, 1}, {1, 3}, {3, 1}}, s[LRELU_GROUP_MAX] = {0};
    for (int r = 0; r < 3; ++r) {
        for (size_t i = 0; i < devices; ++i)
            s[i] = ratios[r][i % 2];
        lt_ok(lrelu_group_set_speeds(group, s), "lrelu_group_set_speeds");
        char what[64];
        snprintf(what, sizeof what, "split at speeds %g:%g", ratios[r][0], ratios[r][1]);
        check_split(LRELU_F32, n_at((size_t)1 << 22) + 3, s, 1, what);
        printf("speeds %g:%g\n", ratios[r][0], ratios[r][1]);
        every_call(&rng);
    }
    /* measured: every device that took a large enough shard has a speed, and the split
     * follows the speeds */
    lt_ok(lrelu_group_set_speeds(group, NULL), "lrelu_group_set_speeds(NULL)");
    lt_ok(lrelu_group_speeds(group, s), "lrelu_group_speeds");
    int zero = 1;
    for (size_t i = 0; i < devices; ++i)
        zero &= s[i] == 0;
    lt_check(zero, "speeds forgotten");
    printf("measured\n");
    every_call(&rng);
    lt_ok(lrelu_group_speeds(group, s), "lrelu_group_speeds");
    int measured = 1;
    for (size_t i = 0; i < devices; ++i) {
        printf("device %zu: %.3g GB/s\n", i, s[i] * 1e-9);
        measured &= isfinite(s[i]) && s[i] > 0;
    }
    lt_check(measured, "every device measured");
    if (measured)
        check_split(LRELU_F32, n_at((size_t)1 << 22) + 3, s, 0, "split at the measured speeds");
    errors(&rng);
    lrelu_group_destroy(group);
    lrelu_destroy(own[0]);
    lrelu_destroy(own[1]);
    return lt_report(lt_passed, lt_failed);
}
