/* common.c: the shared test harness (see common.h). */
#include "common.h"

#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define LT_GUARD ((size_t)256) /* bytes of guard band on each side; a multiple of 128 so the  */
                               /* views can be sub-buffers on devices aligning to 1024 bits   */
#define LT_POISON 0xa5         /* a byte pattern that is an ordinary number in every dtype,  */
                               /* never a NaN, so it can never pass for a NaN result          */
#define LT_MAX_PRINT 8

void lt_die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "FATAL: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    exit(1);
}

void lt_ok(lrelu_status st, const char *what)
{
    if (st != LRELU_OK)
        lt_die("%s: %s\n  %s", what, lrelu_status_str(st), lrelu_last_error());
}

lrelu_ctx *lt_open(void)
{
    lrelu_ctx *ctx = NULL;
    lrelu_status st = lrelu_create(&ctx, NULL);
    if (st == LRELU_ERR_NO_DEVICE) {
        printf("SKIP: no OpenCL device: %s\n", lrelu_last_error());
        exit(LT_SKIP);
    }
    lt_ok(st, "lrelu_create");
    return ctx;
}

cl_command_queue lt_caller_queue(cl_command_queue_properties props, cl_context *cx)
{
    lrelu_ctx *probe = lt_open();
    cl_device_id dev = lrelu_cl_device(probe);
    lrelu_destroy(probe);
    cl_int err;
    *cx = clCreateContext(NULL, 1, &dev, NULL, NULL, &err);
    if (err != CL_SUCCESS)
        lt_die("clCreateContext: %d", err);
    cl_command_queue q = clCreateCommandQueue(*cx, dev, props, &err);
    if (err != CL_SUCCESS)
        lt_die("clCreateCommandQueue: %d", err);
    return q;
}

int lt_api_on(lt_api api)
{
    const char *env = getenv("LT_API");
    if (env == NULL || env[0] == '\0')
        return 1;
    return strcmp(env, api == LT_API_HOST ? "host" : "device") == 0;
}

size_t lt_cap(size_t n)
{
    const char *env = getenv("LT_MAX_N");
    size_t max = env != NULL && env[0] != '\0' ? (size_t)strtoull(env, NULL, 10) : 0;
    return max > 0 && n > max ? max : n;
}

uint64_t lt_seed(void)
{
    const char *env = getenv("LRELU_TEST_SEED");
    uint64_t s = env ? strtoull(env, NULL, 0) : (uint64_t)time(NULL) * 2654435761u;
    if (s == 0)
        s = 1;
    printf("seed %llu (replay with LRELU_TEST_SEED=%llu)\n", (unsigned long long)s,
           (unsigned long long)s);
    return s;
}

uint64_t lt_rand(uint64_t *state)
{
    /* xorshift64* */
    uint64_t x = *state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return x * 0x2545f4914f6cdd1dull;
}

const char *lt_op_name(lt_op op)
{
    static const char *names[] = {"forward", "backward", "backward_from_output"};
    return names[op];
}

static const uint32_t special_f32[] = {
    0x00000000, 0x80000000, 0x7f800000, 0xff800000, 0x7fc00000, 0xffc00000, 0x7f800001, 0x00800000,
    0x80800000, 0x007fffff, 0x807fffff, 0x00000001, 0x80000001, 0x7f7fffff, 0xff7fffff, 0x3f800000,
    0xbf800000, 0x40000000, 0xc0000000, 0x3f000000, 0xbf000000, 0x40400000, 0xc0400000, 0x42c80000,
    0xc2c80000, 0x3c23d70a, 0xbc23d70a, 0x0da24260, 0x8da24260};
static const uint16_t special_f16[] = {
    0x0000, 0x8000, 0x7c00, 0xfc00, 0x7e00, 0xfe00, 0x7c01, 0x0400, 0x8400, 0x03ff,
    0x83ff, 0x0001, 0x8001, 0x7bff, 0xfbff, 0x3c00, 0xbc00, 0x4000, 0xc000, 0x3800,
    0xb800, 0x4200, 0xc200, 0x5640, 0xd640, 0x211f, 0xa11f, 0x0155, 0x8155};
static const uint16_t special_bf16[] = {
    0x0000, 0x8000, 0x7f80, 0xff80, 0x7fc0, 0xffc0, 0x7f81, 0x0080, 0x8080, 0x007f,
    0x807f, 0x0001, 0x8001, 0x7f7f, 0xff7f, 0x3f80, 0xbf80, 0x4000, 0xc000, 0x3f00,
    0xbf00, 0x4040, 0xc040, 0x42c8, 0xc2c8, 0x3c24, 0xbc24, 0x0da2, 0x8da2};
static const uint64_t special_f64[] = {
    0x0000000000000000ull, 0x8000000000000000ull, 0x7ff0000000000000ull, 0xfff0000000000000ull,
    0x7ff8000000000000ull, 0xfff8000000000000ull, 0x7ff0000000000001ull, 0x0010000000000000ull,
    0x8010000000000000ull, 0x000fffffffffffffull, 0x800fffffffffffffull, 0x0000000000000001ull,
    0x8000000000000001ull, 0x7fefffffffffffffull, 0xffefffffffffffffull, 0x3ff0000000000000ull,
    0xbff0000000000000ull, 0x4000000000000000ull, 0xc000000000000000ull, 0x3fe0000000000000ull,
    0xbfe0000000000000ull, 0x4008000000000000ull, 0xc008000000000000ull, 0x4059000000000000ull,
    0xc059000000000000ull, 0x3f847ae147ae147bull, 0xbf847ae147ae147bull, 0x0010000000000001ull,
    0x8010000000000001ull};

#define LT_COUNT(a) (sizeof(a) / sizeof((a)[0]))

size_t lt_special_count(lrelu_dtype t)
{
    switch (t) {
    case LRELU_F16:
        return LT_COUNT(special_f16);
    case LRELU_BF16:
        return LT_COUNT(special_bf16);
    case LRELU_F64:
        return LT_COUNT(special_f64);
    default:
        return LT_COUNT(special_f32);
    }
}

void lt_special(lrelu_dtype t, size_t i, void *out)
{
    i %= lt_special_count(t);
    switch (t) {
    case LRELU_F16:
        memcpy(out, &special_f16[i], 2);
        break;
    case LRELU_BF16:
        memcpy(out, &special_bf16[i], 2);
        break;
    case LRELU_F64:
        memcpy(out, &special_f64[i], 8);
        break;
    default:
        memcpy(out, &special_f32[i], 4);
        break;
    }
}

void lt_fill(lrelu_dtype t, void *p, size_t n, uint64_t *rng, int random, size_t phase)
{
    size_t es = lrelu_dtype_size(t);
    for (size_t i = 0; i < n; ++i) {
        if (random) {
            uint64_t r = lt_rand(rng);
            memcpy((char *)p + i * es, &r, es);
        } else {
            lt_special(t, phase + i, (char *)p + i * es);
        }
    }
}

int lt_supported(lrelu_ctx *ctx, lrelu_dtype t)
{
    double x = 1.0, y = 0.0; /* room for one element of any dtype */
    if (lrelu_forward_host(ctx, t, 1, 0.01, &x, &y) != LRELU_ERR_UNSUPPORTED)
        return 1;
    printf("%s: not supported by the device, not tested\n", lrelu_dtype_name(t));
    return 0;
}

int lt_device_flushes(lrelu_ctx *ctx, lrelu_dtype t)
{
    cl_device_fp_config cfg = 0;
    cl_device_info what = t == LRELU_F64 ? CL_DEVICE_DOUBLE_FP_CONFIG : CL_DEVICE_SINGLE_FP_CONFIG;
    if (clGetDeviceInfo(lrelu_cl_device(ctx), what, sizeof cfg, &cfg, NULL) != CL_SUCCESS)
        lt_die("clGetDeviceInfo(fp config) failed");
    return (cfg & CL_FP_DENORM) == 0;
}

/* The value as a double (exact for every dtype), and its class. */
static double as_double(lrelu_dtype t, const void *p)
{
    uint16_t h;
    float f;
    double d;
    switch (t) {
    case LRELU_F16:
        memcpy(&h, p, 2);
        return lrelu_f16_to_float(h);
    case LRELU_BF16:
        memcpy(&h, p, 2);
        return lrelu_bf16_to_float(h);
    case LRELU_F64:
        memcpy(&d, p, 8);
        return d;
    default:
        memcpy(&f, p, 4);
        return f;
    }
}

static int is_subnormal(lrelu_dtype t, const void *p)
{
    double v = fabs(as_double(t, p));
    double min_normal = t == LRELU_F16 ? 0x1p-14 : t == LRELU_F64 ? 0x1p-1022 : 0x1p-126;
    return v != 0 && v < min_normal;
}

int lt_same(lrelu_dtype t, const void *expect, const void *got, int flush)
{
    size_t es = lrelu_dtype_size(t);
    if (memcmp(expect, got, es) == 0)
        return 1;
    /* $LT_EXACT_NAN set: NaNs too must be the reference's bits (the in-process loops
     * quiet them as it does; devices may not). Read here, with no state of its own: the
     * thread tests compare from many threads. */
    double e = as_double(t, expect), g = as_double(t, got);
    if (isnan(e) && isnan(g) && getenv("LT_EXACT_NAN") == NULL)
        return 1;
    return flush && g == 0 && is_subnormal(t, expect);
}

static void print_value(lrelu_dtype t, const void *p)
{
    uint64_t bits = 0;
    memcpy(&bits, p, lrelu_dtype_size(t));
    printf("0x%0*llx (%a = %g)", (int)(2 * lrelu_dtype_size(t)), (unsigned long long)bits,
           as_double(t, p), as_double(t, p));
}

static void print_case(const lt_case *c, const char *api)
{
    static const char *alias[] = {"out of place", "in place on the first input", "in place on dy"};
    printf("  %s %s %s n=%zu off=%zu alpha=%a (%g) %s\n", api, lt_op_name(c->op),
           lrelu_dtype_name(c->t), c->n, c->off, c->alpha, c->alpha, alias[c->alias]);
}

/* Compares one operand's whole image (guards included) with what it should hold:
 * `before` everywhere but [at, at + n elements), where `expect` applies. */
static size_t compare_image(const lt_case *c, const char *api, const char *what,
                            const unsigned char *got, const unsigned char *before, size_t bytes,
                            size_t at, const unsigned char *expect, const unsigned char *s,
                            const unsigned char *dy, int flush, size_t *printed)
{
    size_t es = lrelu_dtype_size(c->t), bad = 0;
    size_t end = expect ? at + c->n * es : at;
    for (size_t b = 0; b < bytes; b += (b >= at && b < end) ? es : 1) {
        int inside = b >= at && b < end;
        int ok = inside ? lt_same(c->t, expect + (b - at), got + b, flush) : got[b] == before[b];
        if (ok)
            continue;
        if (bad++ == 0 || *printed < LT_MAX_PRINT) {
            if (*printed == 0)
                print_case(c, api);
            ++*printed;
            if (inside) {
                size_t i = (b - at) / es;
                printf("    %s[%zu]: input ", what, i);
                print_value(c->t, s + i * es);
                if (dy != NULL) {
                    printf(", dy ");
                    print_value(c->t, dy + i * es);
                }
                printf("\n      expected ");
                print_value(c->t, expect + i * es);
                printf("\n      got      ");
                print_value(c->t, got + b);
                printf("\n");
            } else {
                printf("    %s byte %zu outside the output range changed: 0x%02x -> 0x%02x\n", what,
                       b, before[b], got[b]);
            }
        }
    }
    return bad;
}

static void reference(const lt_case *c, const void *s, const void *dy, void *out)
{
    switch (c->op) {
    case LT_FORWARD:
        lrelu_ref_forward(c->t, c->n, c->alpha, s, out);
        break;
    case LT_BACKWARD:
        lrelu_ref_backward(c->t, c->n, c->alpha, s, dy, out);
        break;
    case LT_BACKWARD_FROM_OUTPUT:
        lrelu_ref_backward_from_output(c->t, c->n, c->alpha, s, dy, out);
        break;
    }
}

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (p == NULL)
        lt_die("out of host memory (%zu bytes)", n);
    return p;
}

/* Images of the operands: image[k] for operand k (0 s, 1 dy, 2 out), with the data at
 * LT_GUARD + off * es and poison everywhere else; aliased outputs share their input's. */
typedef struct {
    size_t nops, es, bytes, at;
    int owner[3]; /* which image operand k lives in */
    unsigned char *image[3], *before[3];
} lt_images;

static void images_init(lt_images *im, const lt_case *c, const void *s, const void *dy)
{
    im->es = lrelu_dtype_size(c->t);
    im->nops = c->op == LT_FORWARD ? 2 : 3;
    size_t view = (c->off + c->n) * im->es;
    im->bytes = LT_GUARD + (view ? view : im->es) + LT_GUARD;
    im->at = LT_GUARD + c->off * im->es;
    const void *src[3] = {s, dy, NULL};
    for (size_t k = 0; k < 3; ++k) {
        im->image[k] = im->before[k] = NULL;
        im->owner[k] = (int)k;
    }
    size_t out = im->nops - 1;
    if (c->alias == LT_IN_PLACE_FIRST)
        im->owner[out] = 0;
    else if (c->alias == LT_IN_PLACE_DY)
        im->owner[out] = 1;
    for (size_t k = 0; k < im->nops; ++k) {
        if (im->owner[k] != (int)k)
            continue;
        im->image[k] = xmalloc(im->bytes);
        im->before[k] = xmalloc(im->bytes);
        memset(im->image[k], LT_POISON, im->bytes);
        /* inputs carry their data; a separate output holds only poison */
        if (k < out && src[k] != NULL)
            memcpy(im->image[k] + im->at, src[k], c->n * im->es);
        memcpy(im->before[k], im->image[k], im->bytes);
    }
}

static size_t images_check(const lt_images *im, const lt_case *c, const char *api, const void *s,
                           const void *dy, int flush)
{
    unsigned char *expect = xmalloc(c->n * im->es);
    reference(c, s, dy, expect);
    static const char *names[2][3] = {{"x", "?", "y"}, {"x", "dy", "dx"}};
    size_t out = im->nops - 1, bad = 0, printed = 0;
    for (size_t k = 0; k < im->nops; ++k) {
        if (im->owner[k] != (int)k)
            continue;
        int holds_out = im->owner[out] == (int)k;
        const char *name = names[c->op != LT_FORWARD][holds_out ? out : k];
        if (c->op == LT_BACKWARD_FROM_OUTPUT && k == 0 && !holds_out)
            name = "y";
        bad += compare_image(c, api, name, im->image[k], im->before[k], im->bytes, im->at,
                             holds_out ? expect : NULL, s, dy, flush, &printed);
    }
    free(expect);
    return bad;
}

static void images_free(lt_images *im)
{
    for (size_t k = 0; k < 3; ++k) {
        free(im->image[k]);
        free(im->before[k]);
    }
}

static lrelu_status call_device(lrelu_ctx *ctx, const lt_case *c, cl_mem *v, cl_event *done)
{
    switch (c->op) {
    case LT_FORWARD:
        return lrelu_forward(ctx, c->t, c->n, c->alpha, v[0], c->off, v[1], c->off, 0, NULL, done);
    case LT_BACKWARD:
        return lrelu_backward(ctx, c->t, c->n, c->alpha, v[0], c->off, v[1], c->off, v[2], c->off,
                              0, NULL, done);
    default:
        return lrelu_backward_from_output(ctx, c->t, c->n, c->alpha, v[0], c->off, v[1], c->off,
                                          v[2], c->off, 0, NULL, done);
    }
}

size_t lt_run_device(lrelu_ctx *ctx, const lt_case *c, const void *s, const void *dy)
{
    lt_images im;
    images_init(&im, c, s, dy);
    cl_context cx = lrelu_cl_context(ctx);
    cl_command_queue q = lrelu_cl_queue(ctx);
    cl_mem parent[3] = {NULL, NULL, NULL}, view[3] = {NULL, NULL, NULL};
    cl_int err;
    size_t view_bytes = im.bytes - 2 * LT_GUARD;
    for (size_t k = 0; k < im.nops; ++k) {
        if (im.owner[k] != (int)k)
            continue;
        parent[k] = clCreateBuffer(cx, CL_MEM_READ_WRITE, im.bytes, NULL, &err);
        if (err != CL_SUCCESS)
            lt_die("clCreateBuffer(%zu): %d", im.bytes, err);
        if (clEnqueueWriteBuffer(q, parent[k], CL_TRUE, 0, im.bytes, im.image[k], 0, NULL, NULL) !=
            CL_SUCCESS)
            lt_die("clEnqueueWriteBuffer");
        cl_buffer_region region = {LT_GUARD, view_bytes};
        view[k] = clCreateSubBuffer(parent[k], CL_MEM_READ_WRITE, CL_BUFFER_CREATE_TYPE_REGION,
                                    &region, &err);
        if (err != CL_SUCCESS)
            lt_die("clCreateSubBuffer: %d", err);
    }
    cl_mem args[3];
    for (size_t k = 0; k < im.nops; ++k)
        args[k] = view[im.owner[k]];
    cl_event done = NULL;
    lrelu_status st = call_device(ctx, c, args, &done);
    size_t bad = 0;
    if (st != LRELU_OK) {
        print_case(c, "device");
        printf("    call failed: %s\n    %s\n", lrelu_status_str(st), lrelu_last_error());
        bad = 1;
    } else {
        if (done == NULL || clWaitForEvents(1, &done) != CL_SUCCESS)
            lt_die("the returned event is missing or failed");
        clReleaseEvent(done);
        for (size_t k = 0; k < im.nops; ++k)
            if (parent[k] != NULL && clEnqueueReadBuffer(q, parent[k], CL_TRUE, 0, im.bytes,
                                                         im.image[k], 0, NULL, NULL) != CL_SUCCESS)
                lt_die("clEnqueueReadBuffer");
        bad = images_check(&im, c, "device", s, dy, lt_device_flushes(ctx, c->t));
    }
    for (size_t k = 0; k < 3; ++k) {
        if (view[k] != NULL)
            clReleaseMemObject(view[k]);
        if (parent[k] != NULL)
            clReleaseMemObject(parent[k]);
    }
    images_free(&im);
    return bad;
}

size_t lt_run_host(lrelu_ctx *ctx, const lt_case *c, const void *s, const void *dy)
{
    lt_images im;
    images_init(&im, c, s, dy);
    void *p[3];
    for (size_t k = 0; k < im.nops; ++k)
        p[k] = im.image[im.owner[k]] + im.at;
    lrelu_status st;
    switch (c->op) {
    case LT_FORWARD:
        st = lrelu_forward_host(ctx, c->t, c->n, c->alpha, p[0], p[1]);
        break;
    case LT_BACKWARD:
        st = lrelu_backward_host(ctx, c->t, c->n, c->alpha, p[0], p[1], p[2]);
        break;
    default:
        st = lrelu_backward_from_output_host(ctx, c->t, c->n, c->alpha, p[0], p[1], p[2]);
        break;
    }
    size_t bad = 0;
    if (st != LRELU_OK) {
        print_case(c, "host");
        printf("    call failed: %s\n    %s\n", lrelu_status_str(st), lrelu_last_error());
        bad = 1;
    } else {
        bad = images_check(&im, c, "host", s, dy, lt_device_flushes(ctx, c->t));
    }
    images_free(&im);
    return bad;
}

/* ---- the _ex calls ---- */

static size_t ex_nops(const lt_ex_case *c) { return c->op == LT_FORWARD ? 2 : 3; }

static size_t ex_inc(const lt_ex_case *c, size_t k)
{
    size_t v = k == 0 ? c->opts.src_stride
                      : (k == ex_nops(c) - 1 ? c->opts.dst_stride : c->opts.dy_stride);
    return v ? v : 1;
}

/* The image of each operand, bytes from the image's start to its element i. */
static size_t ex_at(const lt_ex_case *c, size_t k, size_t i)
{
    return LT_GUARD + (c->off[k] + i * ex_inc(c, k)) * lrelu_dtype_size(c->t);
}

typedef struct {
    size_t bytes[3];
    unsigned char *img[3], *expect[3];
    unsigned char *is_out[3]; /* per byte: inside an output element */
} ex_images;

static void ex_images_init(ex_images *im, const lt_ex_case *c, const void *s, const void *dy,
                           const void *old)
{
    size_t es = lrelu_dtype_size(c->t), nops = ex_nops(c), out = nops - 1;
    memset(im, 0, sizeof *im);
    for (size_t k = 0; k < nops; ++k) {
        size_t end = c->n ? ex_at(c, k, c->n - 1) + es : LT_GUARD + es;
        if (end + LT_GUARD > im->bytes[c->img[k]])
            im->bytes[c->img[k]] = end + LT_GUARD;
    }
    for (int g = 0; g < 3; ++g) {
        if (im->bytes[g] == 0)
            continue;
        im->img[g] = xmalloc(im->bytes[g]);
        im->expect[g] = xmalloc(im->bytes[g]);
        im->is_out[g] = xmalloc(im->bytes[g]);
        memset(im->img[g], LT_POISON, im->bytes[g]);
        memset(im->is_out[g], 0, im->bytes[g]);
    }
    const unsigned char *src[3] = {s, c->op == LT_FORWARD ? NULL : dy, NULL};
    /* outputs first, so an input sharing an element (in place) overwrites `old` */
    for (size_t i = 0; i < c->n; ++i) {
        size_t at = ex_at(c, out, i);
        memcpy(im->img[c->img[out]] + at, (const unsigned char *)old + i * es, es);
        memset(im->is_out[c->img[out]] + at, 1, es);
    }
    for (size_t k = 0; k < out; ++k)
        if (src[k] != NULL)
            for (size_t i = 0; i < c->n; ++i)
                memcpy(im->img[c->img[k]] + ex_at(c, k, i), src[k] + i * es, es);
    for (int g = 0; g < 3; ++g)
        if (im->img[g] != NULL)
            memcpy(im->expect[g], im->img[g], im->bytes[g]);
}

static void ex_images_free(ex_images *im)
{
    for (int g = 0; g < 3; ++g) {
        free(im->img[g]);
        free(im->expect[g]);
        free(im->is_out[g]);
    }
}

static void ex_print_case(const lt_ex_case *c, lt_api api)
{
    printf("  %s %s_ex %s n=%zu alpha=%g flags=%u scale=%a beta=%a strides %zu/%zu/%zu, "
           "images %d/%d/%d offsets %zu/%zu/%zu\n",
           api == LT_API_DEVICE ? "device" : "host", lt_op_name(c->op), lrelu_dtype_name(c->t),
           c->n, c->alpha, c->opts.flags, c->opts.scale, c->opts.beta, c->opts.src_stride,
           c->opts.dy_stride, c->opts.dst_stride, c->img[0], c->img[1], c->img[2], c->off[0],
           c->off[1], c->off[2]);
}

/* Calls the API with operand k at base[img[k]] (a buffer view or a host pointer). */
static lrelu_status ex_call(lrelu_ctx *ctx, const lt_ex_case *c, lt_api api, void *const *base,
                            cl_event *done)
{
    const lrelu_opts *o = &c->opts;
    if (api == LT_API_HOST) {
        size_t es = lrelu_dtype_size(c->t);
        char *p[3];
        for (size_t k = 0; k < ex_nops(c); ++k)
            p[k] = (char *)base[c->img[k]] + c->off[k] * es;
        switch (c->op) {
        case LT_FORWARD:
            return lrelu_forward_host_ex(ctx, c->t, c->n, c->alpha, o, p[0], p[1]);
        case LT_BACKWARD:
            return lrelu_backward_host_ex(ctx, c->t, c->n, c->alpha, o, p[0], p[1], p[2]);
        default:
            return lrelu_backward_from_output_host_ex(ctx, c->t, c->n, c->alpha, o, p[0], p[1],
                                                      p[2]);
        }
    }
    cl_mem m[3];
    for (size_t k = 0; k < ex_nops(c); ++k)
        m[k] = (cl_mem)base[c->img[k]];
    switch (c->op) {
    case LT_FORWARD:
        return lrelu_forward_ex(ctx, c->t, c->n, c->alpha, o, m[0], c->off[0], m[1], c->off[1], 0,
                                NULL, done);
    case LT_BACKWARD:
        return lrelu_backward_ex(ctx, c->t, c->n, c->alpha, o, m[0], c->off[0], m[1], c->off[1],
                                 m[2], c->off[2], 0, NULL, done);
    default:
        return lrelu_backward_from_output_ex(ctx, c->t, c->n, c->alpha, o, m[0], c->off[0], m[1],
                                             c->off[1], m[2], c->off[2], 0, NULL, done);
    }
}

/* Runs the call on the images (device: through buffers, read back after). */
static lrelu_status ex_run(lrelu_ctx *ctx, const lt_ex_case *c, lt_api api, ex_images *im)
{
    void *base[3] = {NULL, NULL, NULL};
    if (api == LT_API_HOST) {
        for (int g = 0; g < 3; ++g)
            base[g] = im->img[g] ? im->img[g] + LT_GUARD : NULL;
        return ex_call(ctx, c, api, base, NULL);
    }
    cl_context cx = lrelu_cl_context(ctx);
    cl_command_queue q = lrelu_cl_queue(ctx);
    cl_mem parent[3] = {NULL, NULL, NULL};
    cl_int err;
    for (int g = 0; g < 3; ++g) {
        if (im->img[g] == NULL)
            continue;
        parent[g] = clCreateBuffer(cx, CL_MEM_READ_WRITE | CL_MEM_COPY_HOST_PTR, im->bytes[g],
                                   im->img[g], &err);
        if (err != CL_SUCCESS)
            lt_die("clCreateBuffer(%zu): %d", im->bytes[g], err);
        cl_buffer_region region = {LT_GUARD, im->bytes[g] - 2 * LT_GUARD};
        base[g] = clCreateSubBuffer(parent[g], CL_MEM_READ_WRITE, CL_BUFFER_CREATE_TYPE_REGION,
                                    &region, &err);
        if (err != CL_SUCCESS)
            lt_die("clCreateSubBuffer: %d", err);
    }
    cl_event done = NULL;
    lrelu_status st = ex_call(ctx, c, api, base, &done);
    if (st == LRELU_OK) {
        if (done == NULL || clWaitForEvents(1, &done) != CL_SUCCESS)
            lt_die("the returned event is missing or failed");
        clReleaseEvent(done);
    }
    for (int g = 0; g < 3; ++g) {
        if (parent[g] == NULL)
            continue;
        if (clEnqueueReadBuffer(q, parent[g], CL_TRUE, 0, im->bytes[g], im->img[g], 0, NULL,
                                NULL) != CL_SUCCESS)
            lt_die("clEnqueueReadBuffer");
        clReleaseMemObject((cl_mem)base[g]);
        clReleaseMemObject(parent[g]);
    }
    return st;
}

size_t lt_run_ex(lrelu_ctx *ctx, const lt_ex_case *c, lt_api api, const void *s, const void *dy,
                 const void *old)
{
    ex_images im;
    ex_images_init(&im, c, s, dy, old);
    size_t es = lrelu_dtype_size(c->t), bad = 0, printed = 0;
    /* the reference on the expected images, laid out as the call sees them */
    char *p[3];
    for (size_t k = 0; k < ex_nops(c); ++k)
        p[k] = (char *)im.expect[c->img[k]] + LT_GUARD + c->off[k] * es;
    switch (c->op) {
    case LT_FORWARD:
        lrelu_ref_forward_ex(c->t, c->n, c->alpha, &c->opts, p[0], p[1]);
        break;
    case LT_BACKWARD:
        lrelu_ref_backward_ex(c->t, c->n, c->alpha, &c->opts, p[0], p[1], p[2]);
        break;
    default:
        lrelu_ref_backward_from_output_ex(c->t, c->n, c->alpha, &c->opts, p[0], p[1], p[2]);
        break;
    }
    lrelu_status st = ex_run(ctx, c, api, &im);
    if (st != LRELU_OK) {
        ex_print_case(c, api);
        printf("    call failed: %s\n    %s\n", lrelu_status_str(st), lrelu_last_error());
        ex_images_free(&im);
        return 1;
    }
    int flush = lt_device_flushes(ctx, c->t);
    for (int g = 0; g < 3; ++g) {
        for (size_t b = 0; b < im.bytes[g]; b += im.is_out[g] && im.is_out[g][b] ? es : 1) {
            int inside = im.is_out[g][b];
            int ok = inside ? lt_same(c->t, im.expect[g] + b, im.img[g] + b, flush)
                            : im.img[g][b] == im.expect[g][b];
            if (ok)
                continue;
            if (bad++ == 0 || printed < LT_MAX_PRINT) {
                if (printed++ == 0)
                    ex_print_case(c, api);
                if (inside) {
                    printf("    image %d byte %zu (an output element): expected ", g, b);
                    print_value(c->t, im.expect[g] + b);
                    printf(", got ");
                    print_value(c->t, im.img[g] + b);
                    printf("\n");
                } else {
                    printf("    image %d byte %zu (not an output element) changed: 0x%02x -> "
                           "0x%02x\n",
                           g, b, im.expect[g][b], im.img[g][b]);
                }
            }
        }
    }
    ex_images_free(&im);
    return bad;
}

lrelu_status lt_call_ex_status(lrelu_ctx *ctx, const lt_ex_case *c, lt_api api)
{
    size_t es = lrelu_dtype_size(c->t);
    size_t n = c->n ? c->n : 1;
    unsigned char *v = xmalloc(n * 8);
    memset(v, 0x3c, n * 8); /* ordinary positive numbers in every dtype */
    (void)es;
    ex_images im;
    ex_images_init(&im, c, v, v, v);
    lrelu_status st = ex_run(ctx, c, api, &im);
    ex_images_free(&im);
    free(v);
    return st;
}

size_t lt_passed, lt_failed;

void lt_check(int ok, const char *what)
{
    if (ok) {
        ++lt_passed;
        return;
    }
    ++lt_failed;
    printf("FAIL %s (last error: %s)\n", what, lrelu_last_error());
}

int lt_report(size_t passed, size_t failed)
{
    printf("%zu passed, %zu failed\n", passed, failed);
    return failed ? 1 : 0;
}

/* ----------------------------------------------------------- arrays in guard bands */

void lt_arr_init_at(lt_arr *a, size_t n, size_t es, const void *data, size_t shift)
{
    a->n = n;
    a->es = es;
    a->off = LT_GUARD / es + shift;
    a->bytes = a->off * es + n * es + LT_GUARD;
    a->mem = NULL;
    a->img = xmalloc(a->bytes);
    memset(a->img, LT_POISON, a->bytes);
    if (data != NULL)
        memcpy(a->img + a->off * es, data, n * es);
}

void lt_arr_init(lt_arr *a, size_t n, size_t es, const void *data)
{
    lt_arr_init_at(a, n, es, data, 0);
}

void *lt_arr_data(const lt_arr *a) { return a->img + a->off * a->es; }

void lt_arr_upload(lrelu_ctx *ctx, lt_arr *a)
{
    cl_int err = CL_SUCCESS;
    a->mem = clCreateBuffer(lrelu_cl_context(ctx), CL_MEM_READ_WRITE | CL_MEM_COPY_HOST_PTR,
                            a->bytes, a->img, &err);
    if (err != CL_SUCCESS)
        lt_die("clCreateBuffer of %zu bytes: %d", a->bytes, err);
}

size_t lt_arr_check(lrelu_ctx *ctx, const lt_arr *a, int t, const void *expect, const char *what)
{
    unsigned char *got = a->img;
    if (a->mem != NULL) {
        got = xmalloc(a->bytes);
        cl_int err = clEnqueueReadBuffer(lrelu_cl_queue(ctx), a->mem, CL_TRUE, 0, a->bytes, got, 0,
                                         NULL, NULL);
        if (err != CL_SUCCESS)
            lt_die("clEnqueueReadBuffer: %d", err);
    }
    size_t bad = 0, lead = a->off * a->es;
    for (size_t b = 0; b < a->bytes; ++b)
        if ((b < lead || b >= lead + a->n * a->es) && got[b] != LT_POISON) {
            if (bad++ < LT_MAX_PRINT)
                printf("  %s: guard byte %td (from the data) written\n", what,
                       (ptrdiff_t)b - (ptrdiff_t)lead);
        }
    const unsigned char *e = expect, *g = got + lead;
    for (size_t i = 0; i < a->n; ++i) {
        int ok = t < 0 ? memcmp(e + i * a->es, g + i * a->es, a->es) == 0
                       : lt_same((lrelu_dtype)t, e + i * a->es, g + i * a->es, 0);
        if (!ok && bad++ < LT_MAX_PRINT) {
            uint64_t ve = 0, vg = 0;
            memcpy(&ve, e + i * a->es, a->es);
            memcpy(&vg, g + i * a->es, a->es);
            printf("  %s[%zu]: expected 0x%llx, got 0x%llx\n", what, i, (unsigned long long)ve,
                   (unsigned long long)vg);
        }
    }
    if (got != a->img)
        free(got);
    return bad;
}

void lt_arr_free(lt_arr *a)
{
    if (a->mem != NULL)
        (void)clReleaseMemObject(a->mem);
    free(a->img);
    a->img = NULL;
    a->mem = NULL;
}

void lt_finish(lrelu_ctx *ctx)
{
    cl_int err = clFinish(lrelu_cl_queue(ctx));
    if (err != CL_SUCCESS)
        lt_die("clFinish: %d", err);
}

size_t lt_chan_pipeline(lrelu_ctx *ctx, uint64_t *rng)
{
    static const lrelu_layout ls[] = {{2, 3, 300},  {40, 16, 64}, {1, 2, 4099},
                                      {300, 20, 1}, {8, 64, 512}, {2, 3, 300}};
    enum { K = sizeof ls / sizeof ls[0] };
    cl_context cx = lrelu_cl_context(ctx);
    cl_command_queue q = lrelu_cl_queue(ctx);
    float *host[K][5];
    cl_mem dev[K][5];
    size_t size[K][5], bad = 0;
    for (int k = 0; k < K; ++k) {
        size_t n = ls[k].outer * ls[k].channels * ls[k].inner, c = ls[k].channels;
        const size_t sz[5] = {n, c, n, n, c}; /* x, slope, dy, dx, dslope */
        for (int i = 0; i < 5; ++i) {
            size[k][i] = sz[i] * sizeof(float);
            host[k][i] = malloc(size[k][i]);
            if (host[k][i] == NULL)
                lt_die("out of memory");
            for (size_t j = 0; j < sz[i]; ++j) /* moderate: the sums' order shows */
                host[k][i][j] = (float)((int)(lt_rand(rng) % 2001) - 1000) / 61.0f;
            cl_int err;
            dev[k][i] = clCreateBuffer(cx, CL_MEM_READ_WRITE | CL_MEM_COPY_HOST_PTR, size[k][i],
                                       host[k][i], &err);
            if (err != CL_SUCCESS)
                lt_die("clCreateBuffer: %d", err);
        }
        lt_ok(lrelu_prelu_backward(ctx, LRELU_F32, ls[k], dev[k][0], 0, dev[k][1], 0, dev[k][2], 0,
                                   dev[k][3], 0, dev[k][4], 0, 0, NULL, NULL),
              "lrelu_prelu_backward, pipelined");
    }
    lt_finish(ctx);
    for (int k = 0; k < K; ++k) {
        size_t n = size[k][0] / sizeof(float), c = size[k][1] / sizeof(float);
        float *want_dx = malloc(n * sizeof(float)), *want_ds = malloc(c * sizeof(float));
        float *got_dx = malloc(n * sizeof(float)), *got_ds = malloc(c * sizeof(float));
        if (!want_dx || !want_ds || !got_dx || !got_ds)
            lt_die("out of memory");
        lrelu_ref_prelu_backward(LRELU_F32, ls[k], host[k][0], host[k][1], host[k][2], want_dx,
                                 want_ds);
        if (clEnqueueReadBuffer(q, dev[k][3], CL_TRUE, 0, n * sizeof(float), got_dx, 0, NULL,
                                NULL) != CL_SUCCESS ||
            clEnqueueReadBuffer(q, dev[k][4], CL_TRUE, 0, c * sizeof(float), got_ds, 0, NULL,
                                NULL) != CL_SUCCESS)
            lt_die("clEnqueueReadBuffer");
        if (memcmp(got_dx, want_dx, n * sizeof(float)) != 0 ||
            memcmp(got_ds, want_ds, c * sizeof(float)) != 0) {
            printf("  pipelined call %d, layout (%zu, %zu, %zu): dx or dslope differs\n", k,
                   ls[k].outer, ls[k].channels, ls[k].inner);
            ++bad;
        }
        free(want_dx);
        free(want_ds);
        free(got_dx);
        free(got_ds);
        for (int i = 0; i < 5; ++i) {
            clReleaseMemObject(dev[k][i]);
            free(host[k][i]);
        }
    }
    return bad;
}
