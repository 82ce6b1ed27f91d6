/* apply.c: `lrelu apply`, the library over NumPy .npy files: forward, backward or backward
 * from the output, any dtype the library has (bf16 as raw 16-bit patterns, '<u2' or '<V2',
 * with --dtype bf16), C order. A bad file is an error naming it and what is wrong, and
 * leaves no output file behind. */
#include "cli.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A usage error with its reason (cli_usage_error). */
#define BAD(...) cli_usage_error(apply_usage, "apply", __VA_ARGS__)

static int apply_usage(int code)
{
    fprintf(code ? stderr : stdout,
            "usage: lrelu apply [--backward | --backward-from-output] [--alpha A]\n"
            "                   [--scale S] [--beta B]\n"
            "                   [--slope SLOPE.npy | --bias BIAS.npy [--gain G] [--limit L]]\n"
            "                   [--axis K] [--q8 SI:ZI:SO:ZO] [--dtype f32|f16|bf16|f64]\n"
            "                   [--device SEL]\n"
            "                   IN.npy [DY.npy] OUT.npy\n"
            "Forward: OUT = f(IN). Backward: OUT = f'(IN) * DY; from the output, IN is the\n"
            "forward's output (alpha >= 0). The dtype comes from the file: <f4 f32, <f8 f64,\n"
            "<f2 f16; bf16 arrays are stored as their 16-bit patterns (<u2 or <V2) and need\n"
            "--dtype bf16. C order only. OUT gets IN's dtype and shape. Default alpha 0.01.\n"
            "--scale/--beta blend: OUT = S * f + B * OUT, reading OUT.npy's old values when\n"
            "B != 0 (it must then exist with IN's dtype and shape).\n"
            "--slope: PReLU with one slope per channel; --bias: bias_act (bias + leaky ReLU\n"
            "with --alpha, times --gain G (default 1), clamped to [-L, L] when --limit L > 0).\n"
            "The channel axis is K of IN's shape (default 1; 0 for 1-d data); the file holds\n"
            "one value per channel, of IN's dtype. Their backward writes the input gradient.\n"
            "--q8: the quantized forward of int8 (|i1) or uint8 (|u1) arrays, with input scale\n"
            "SI and zero point ZI, output scale SO and zero point ZO (e.g. 0.05:0:0.04:-3).\n"
            "exit codes: 0 ok, 1 runtime failure (device, file), 2 usage\n");
    return code;
}

/* The lrelu dtype of a file's descr; -1 when it does not fit `want` (-1: any). */
static int dtype_of(const npy_array *a, int want)
{
    int t = strcmp(a->descr, "<f4") == 0   ? LRELU_F32
            : strcmp(a->descr, "<f8") == 0 ? LRELU_F64
            : strcmp(a->descr, "<f2") == 0 ? LRELU_F16
                                           : LRELU_BF16; /* <u2, <V2, |V2 */
    if (t == LRELU_BF16 && want != LRELU_BF16)
        return -1; /* 16-bit patterns are bf16 only when the user says so */
    if (want >= 0 && t != want)
        return -1;
    return t;
}

/* A finite number from text, else -1. */
static int number(const char *text, double *v)
{
    char *end;
    *v = strtod(text, &end);
    return *end || end == text || isnan(*v) ? -1 : 0;
}

/* (outer, channels, inner) of a shape around axis k; -1 when k is not an axis. */
static int layout_of(const npy_array *a, int k, lrelu_layout *l)
{
    int nd = a->ndim;
    if (nd == 0 && k == 0) { /* a scalar: one channel of one */
        *l = (lrelu_layout){1, 1, 1};
        return 0;
    }
    if (k < 0 || k >= nd)
        return -1;
    *l = (lrelu_layout){1, a->dims[k], 1};
    for (int i = 0; i < k; ++i)
        l->outer *= a->dims[i];
    for (int i = k + 1; i < nd; ++i)
        l->inner *= a->dims[i];
    return 0;
}

/* The per-channel call (PReLU when bias_act is 0) on host arrays. */
static lrelu_status run_channels(lrelu_ctx *ctx, int mode, lrelu_dtype t, lrelu_layout l,
                                 int bias_act, lrelu_bias_act p, const void *x, const void *per,
                                 const void *dy, void *out)
{
    if (bias_act)
        return mode ? lrelu_bias_act_backward_host(ctx, t, l, p, x, per, dy, out, NULL)
                    : lrelu_bias_act_forward_host(ctx, t, l, p, x, per, out);
    return mode ? lrelu_prelu_backward_host(ctx, t, l, x, per, dy, out, NULL)
                : lrelu_prelu_forward_host(ctx, t, l, x, per, out);
}

int cli_apply(int argc, char **argv)
{
    int mode = 0; /* 0 forward, 1 backward, 2 from output */
    double alpha = LRELU_DEFAULT_ALPHA;
    int want = -1;
    const char *device = NULL, *files[3], *per_path = NULL;
    int nfiles = 0, bias_act = 0, axis = 1, axis_given = 0;
    lrelu_opts opts = {0};
    double num;
    lrelu_bias_act ba = {0, 1.0, 0.0};
    int q8 = 0;
    lrelu_quant qin = {0, 0}, qout = {0, 0};
    for (int i = 1; i < argc; ++i) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0)
            return apply_usage(CLI_OK);
        if (strcmp(a, "--backward") == 0) {
            mode = 1;
        } else if (strcmp(a, "--backward-from-output") == 0) {
            mode = 2;
        } else if (strcmp(a, "--alpha") == 0 && i + 1 < argc) {
            char *end;
            const char *v = argv[++i];
            alpha = strtod(v, &end);
            if (*end || end == v || !isfinite(alpha))
                return BAD("--alpha wants a finite number, not '%s'", v);
        } else if (strcmp(a, "--dtype") == 0 && i + 1 < argc) {
            const char *v = argv[++i];
            want = strcmp(v, "f32") == 0    ? LRELU_F32
                   : strcmp(v, "f16") == 0  ? LRELU_F16
                   : strcmp(v, "bf16") == 0 ? LRELU_BF16
                   : strcmp(v, "f64") == 0  ? LRELU_F64
                                            : -2;
            if (want == -2)
                return BAD("--dtype is f32, f16, bf16 or f64, not '%s'", v);
        } else if (strcmp(a, "--device") == 0 && i + 1 < argc) {
            device = argv[++i];
        } else if ((strcmp(a, "--scale") == 0 || strcmp(a, "--beta") == 0) && i + 1 < argc) {
            if (number(argv[++i], &num) != 0)
                return BAD("%s wants a number, not '%s'", a, argv[i]);
            if (!(opts.flags & LRELU_BLEND))
                opts = (lrelu_opts){LRELU_BLEND, 1.0, 0.0, 0, 0, 0};
            *(a[2] == 's' ? &opts.scale : &opts.beta) = num;
        } else if ((strcmp(a, "--slope") == 0 || strcmp(a, "--bias") == 0) && i + 1 < argc &&
                   per_path == NULL) {
            bias_act = a[2] == 'b';
            per_path = argv[++i];
        } else if ((strcmp(a, "--gain") == 0 || strcmp(a, "--limit") == 0) && i + 1 < argc) {
            if (number(argv[++i], &num) != 0)
                return BAD("%s wants a number, not '%s'", a, argv[i]);
            *(a[2] == 'g' ? &ba.gain : &ba.limit) = num;
        } else if (strcmp(a, "--q8") == 0 && i + 1 < argc) {
            char tail;
            if (sscanf(argv[++i], "%lf:%d:%lf:%d%c", &qin.scale, &qin.zero_point, &qout.scale,
                       &qout.zero_point, &tail) != 4)
                return BAD("--q8 wants SCALE_IN:ZERO_IN:SCALE_OUT:ZERO_OUT, not '%s'", argv[i]);
            q8 = 1;
        } else if (strcmp(a, "--axis") == 0 && i + 1 < argc) {
            char *end;
            axis = (int)strtol(argv[++i], &end, 10);
            axis_given = 1;
            if (*end || end == argv[i] || axis < 0)
                return BAD("--axis wants an axis number (0 or more), not '%s'", argv[i]);
        } else if (a[0] == '-' && a[1] != '\0') {
            return BAD(i + 1 < argc || strncmp(a, "--", 2) != 0
                           ? "unknown option '%s' (or given twice)"
                           : "'%s' wants a value",
                       a);
        } else if (nfiles < 3) {
            files[nfiles++] = a;
        } else {
            return BAD("too many files from '%s' on", a);
        }
    }
    /* blending and the per-channel calls do not mix; no per-channel from-output call */
    if (nfiles != (mode ? 3 : 2))
        return BAD("%s takes %d files (%s), not %d", mode ? "the backward" : "the forward",
                   mode ? 3 : 2, mode ? "IN.npy DY.npy OUT.npy" : "IN.npy OUT.npy", nfiles);
    if (per_path && ((opts.flags & LRELU_BLEND) || mode == 2))
        return BAD("%s does not go with %s", bias_act ? "--bias" : "--slope",
                   mode == 2 ? "--backward-from-output" : "--scale and --beta");
    if (q8 && (mode || per_path || opts.flags))
        return BAD("--q8 is a forward of its own: no --backward, --slope, --bias, --scale or "
                   "--beta with it");
    const char *out_path = files[nfiles - 1];
    npy_array in = {0}, dy = {0}, out = {0}, per = {0}, old = {0};
    char err[512];
    int rc = CLI_FAIL;
    lrelu_ctx *ctx = NULL;
    if (npy_read(files[0], &in, err, sizeof err) != 0 ||
        (mode && npy_read(files[1], &dy, err, sizeof err) != 0)) {
        fprintf(stderr, "lrelu: apply: %s\n", err);
        goto done;
    }
    int qt = strcmp(in.descr, "|i1") == 0   ? LRELU_QS8
             : strcmp(in.descr, "|u1") == 0 ? LRELU_QU8
                                            : -1;
    if (q8 != (qt >= 0)) {
        fprintf(stderr, "lrelu: apply: %s: %s\n", files[0],
                q8 ? "--q8 needs int8 (|i1) or uint8 (|u1) data"
                   : "int8 and uint8 data need --q8 with their quantization");
        goto done;
    }
    int t = q8 ? LRELU_F32 : dtype_of(&in, want);
    if (t < 0) {
        fprintf(stderr, "lrelu: apply: %s: dtype '%s' %s\n", files[0], in.descr,
                want < 0 ? "holds 16-bit patterns: pass --dtype bf16 if they are bfloat16"
                         : "does not match --dtype");
        goto done;
    }
    if (mode && (strcmp(dy.descr, in.descr) != 0 || dy.ndim != in.ndim ||
                 memcmp(dy.dims, in.dims, sizeof(size_t) * (size_t)in.ndim) != 0)) {
        fprintf(stderr, "lrelu: apply: %s: dtype or shape differs from %s\n", files[1], files[0]);
        goto done;
    }
    lrelu_layout l = {0, 0, 0};
    if (per_path != NULL) {
        if (in.ndim <= 1 && !axis_given)
            axis = 0;
        if (npy_read(per_path, &per, err, sizeof err) != 0) {
            fprintf(stderr, "lrelu: apply: %s\n", err);
            goto done;
        }
        if (layout_of(&in, axis, &l) != 0) {
            fprintf(stderr, "lrelu: apply: --axis %d is not an axis of %s\n", axis, files[0]);
            goto done;
        }
        if (strcmp(per.descr, in.descr) != 0 || per.count != l.channels) {
            fprintf(stderr, "lrelu: apply: %s: needs %zu values of dtype '%s' (one per channel)\n",
                    per_path, l.channels, in.descr);
            goto done;
        }
    }
    out = in;
    out.data = malloc(in.count * in.elem > 0 ? in.count * in.elem : 1);
    if (out.data == NULL) {
        fprintf(stderr, "lrelu: apply: out of memory\n");
        goto done;
    }
    if ((opts.flags & LRELU_BLEND) && opts.beta != 0) { /* the old output is blended in */
        if (npy_read(out_path, &old, err, sizeof err) != 0) {
            fprintf(stderr, "lrelu: apply: --beta reads the old output: %s\n", err);
            goto done;
        }
        if (strcmp(old.descr, in.descr) != 0 || old.count != in.count) {
            fprintf(stderr, "lrelu: apply: %s: dtype or size differs from %s\n", out_path,
                    files[0]);
            goto done;
        }
        memcpy(out.data, old.data, in.count * in.elem);
    }
    ba.alpha = alpha;
    lrelu_status st = lrelu_create(&ctx, device);
    if (st == LRELU_OK && q8)
        st = lrelu_forward_q8_host(ctx, (lrelu_qtype)qt, in.count, alpha, qin, qout, in.data,
                                   out.data);
    else if (st == LRELU_OK && per_path != NULL)
        st = run_channels(ctx, mode, (lrelu_dtype)t, l, bias_act, ba, in.data, per.data, dy.data,
                          out.data);
    else if (st == LRELU_OK) {
        if (mode == 0)
            st = lrelu_forward_host_ex(ctx, (lrelu_dtype)t, in.count, alpha, &opts, in.data,
                                       out.data);
        else if (mode == 1)
            st = lrelu_backward_host_ex(ctx, (lrelu_dtype)t, in.count, alpha, &opts, in.data,
                                        dy.data, out.data);
        else
            st = lrelu_backward_from_output_host_ex(ctx, (lrelu_dtype)t, in.count, alpha, &opts,
                                                    in.data, dy.data, out.data);
    }
    if (st != LRELU_OK) {
        rc = cli_fail("apply", st);
        goto done;
    }
    if (npy_write(out_path, &out, err, sizeof err) != 0) {
        fprintf(stderr, "lrelu: apply: %s\n", err);
        goto done;
    }
    rc = CLI_OK;
done:
    lrelu_destroy(ctx);
    npy_free(&in);
    npy_free(&dy);
    npy_free(&out);
    npy_free(&per);
    npy_free(&old);
    return rc;
}
