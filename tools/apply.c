/* apply.c: `lrelu apply`, the library over NumPy .npy files: forward, backward or backward
 * from the output, any dtype the library has (bf16 as raw 16-bit patterns, '<u2' or '<V2',
 * with --dtype bf16), C order. A bad file is an error naming it and what is wrong, and
 * leaves no output file behind. */
#include "cli.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int apply_usage(int code)
{
    fprintf(code ? stderr : stdout,
            "usage: lrelu apply [--backward | --backward-from-output] [--alpha A]\n"
            "                   [--dtype f32|f16|bf16|f64] [--device SEL] IN.npy [DY.npy] OUT.npy\n"
            "Forward: OUT = f(IN). Backward: OUT = f'(IN) * DY; from the output, IN is the\n"
            "forward's output (alpha >= 0). The dtype comes from the file: <f4 f32, <f8 f64,\n"
            "<f2 f16; bf16 arrays are stored as their 16-bit patterns (<u2 or <V2) and need\n"
            "--dtype bf16. C order only. OUT gets IN's dtype and shape. Default alpha 0.01.\n"
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

int cli_apply(int argc, char **argv)
{
    int mode = 0; /* 0 forward, 1 backward, 2 from output */
    double alpha = LRELU_DEFAULT_ALPHA;
    int want = -1;
    const char *device = NULL, *files[3];
    int nfiles = 0;
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
            alpha = strtod(argv[++i], &end);
            if (*end || !isfinite(alpha))
                return apply_usage(CLI_USAGE);
        } else if (strcmp(a, "--dtype") == 0 && i + 1 < argc) {
            const char *v = argv[++i];
            want = strcmp(v, "f32") == 0    ? LRELU_F32
                   : strcmp(v, "f16") == 0  ? LRELU_F16
                   : strcmp(v, "bf16") == 0 ? LRELU_BF16
                   : strcmp(v, "f64") == 0  ? LRELU_F64
                                            : -2;
            if (want == -2)
                return apply_usage(CLI_USAGE);
        } else if (strcmp(a, "--device") == 0 && i + 1 < argc) {
            device = argv[++i];
        } else if (a[0] == '-' && a[1] != '\0') {
            return apply_usage(CLI_USAGE);
        } else if (nfiles < 3) {
            files[nfiles++] = a;
        } else {
            return apply_usage(CLI_USAGE);
        }
    }
    if (nfiles != (mode ? 3 : 2))
        return apply_usage(CLI_USAGE);
    const char *out_path = files[nfiles - 1];
    npy_array in = {0}, dy = {0}, out = {0};
    char err[512];
    int rc = CLI_FAIL;
    lrelu_ctx *ctx = NULL;
    if (npy_read(files[0], &in, err, sizeof err) != 0 ||
        (mode && npy_read(files[1], &dy, err, sizeof err) != 0)) {
        fprintf(stderr, "lrelu: apply: %s\n", err);
        goto done;
    }
    int t = dtype_of(&in, want);
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
    out = in;
    out.data = malloc(in.count * in.elem > 0 ? in.count * in.elem : 1);
    if (out.data == NULL) {
        fprintf(stderr, "lrelu: apply: out of memory\n");
        goto done;
    }
    lrelu_status st = lrelu_create(&ctx, device);
    if (st == LRELU_OK) {
        if (mode == 0)
            st = lrelu_forward_host(ctx, (lrelu_dtype)t, in.count, alpha, in.data, out.data);
        else if (mode == 1)
            st = lrelu_backward_host(ctx, (lrelu_dtype)t, in.count, alpha, in.data, dy.data,
                                     out.data);
        else
            st = lrelu_backward_from_output_host(ctx, (lrelu_dtype)t, in.count, alpha, in.data,
                                                 dy.data, out.data);
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
    return rc;
}
