/* test_cli.c: every subcommand of the lrelu command, run as a user would. `devices`
 * lists the device; `demo` exits 0 and its table matches the reference; `plot` writes
 * SVG that an XML parser (xmllint) accepts and whose curve points are the reference's
 * bits; `apply` round-trips .npy files of every dtype bit for bit and rejects each kind
 * of bad file with exit code 1, a message naming the file, and no output file; usage
 * errors exit 2, saying in one line what is wrong before the usage text, and --help exits
 * 0. Usage: test_cli PATH-TO-lrelu */
#include "common.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *exe;
static char dir[256];

/* Runs "lrelu ARGS" with stdout and stderr to files; returns the exit code. */
static int run(const char *args)
{
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "'%s' %s >'%s/out.txt' 2>'%s/err.txt'", exe, args, dir, dir);
    int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static char *slurp(const char *name, size_t *len)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    if (b == NULL || fread(b, 1, (size_t)n, f) != (size_t)n)
        lt_die("read %s", path);
    b[n] = '\0';
    fclose(f);
    if (len)
        *len = (size_t)n;
    return b;
}

static int exists(const char *name)
{
    char path[512];
    struct stat sb;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return stat(path, &sb) == 0;
}

static void rm_file(const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    (void)remove(path);
}

static int contains(const char *file, const char *needle)
{
    char *b = slurp(file, NULL);
    int r = b != NULL && strstr(b, needle) != NULL;
    free(b);
    return r;
}

static void test_devices(void)
{
    lt_check(run("devices") == 0, "devices exits 0");
    lt_check(contains("out.txt", "0:0") && contains("out.txt", "[default]") &&
                 contains("out.txt", "fp64") && contains("out.txt", "compute units"),
             "devices lists the device, its facts and the default");
}

/* tune, over small buffers in a cache folder of the test's own: the shapes and the
 * measurements they were picked from */
static void test_tune(void)
{
    char cache[300];
    snprintf(cache, sizeof cache, "%s/cache", dir);
    setenv("LRELU_CACHE_DIR", cache, 1);
    setenv("LRELU_TUNE_BYTES", "1048576", 1);
    lt_check(run("tune") == 0, "tune exits 0");
    unsetenv("LRELU_TUNE_BYTES");
    unsetenv("LRELU_CACHE_DIR");
    lt_check(contains("out.txt", "f32 ") && contains("out.txt", "elements per work-item") &&
                 contains("out.txt", "f32: 262144 elements (1 MiB a buffer)") &&
                 contains("out.txt", "f16 16 ") && contains("out.txt", "cached in"),
             "tune prints the shapes, the measurements and the cache");
}

static void test_demo(void)
{
    char args[512];
    snprintf(args, sizeof args, "demo -o '%s/demo.svg'", dir);
    lt_check(run(args) == 0, "demo exits 0");
    lt_check(contains("out.txt", "38 of 38 values match") && !contains("out.txt", "MISMATCH"),
             "demo confirms every value");
    /* the table, row by row, against the reference formatted the same way */
    char *out = slurp("out.txt", NULL);
    int rows = 0;
    for (int i = 0; out && i < 38; ++i) {
        float x = (float)(i - 19), y, dy = 1, dx;
        lrelu_ref_forward(LRELU_F32, 1, 0.01, &x, &y);
        lrelu_ref_backward(LRELU_F32, 1, 0.01, &x, &dy, &dx);
        char row[128];
        snprintf(row, sizeof row, "%6g | %10g | %6g\n", x, y, dx);
        rows += strstr(out, row) != NULL;
    }
    free(out);
    lt_check(rows == 38, "demo's table matches the reference");
    lt_check(contains("out.txt", "Range: (-inf, inf)") && contains("out.txt", "Bandwidth:"),
             "demo states the range and a bandwidth");
    lt_check(exists("demo.svg"), "demo writes the graph");
}

/* Compares every "x,y" pair of each curve's data-points with the reference. */
static void test_plot(void)
{
    char args[512], cmd[600];
    snprintf(args, sizeof args, "plot -o '%s/p.svg' --alpha 0.01,0.2,-0.5 --range -4:3 --points 57",
             dir);
    lt_check(run(args) == 0, "plot exits 0");
    snprintf(cmd, sizeof cmd, "xmllint --noout '%s/p.svg'", dir);
    lt_check(system(cmd) == 0, "plot writes well-formed XML (xmllint)");
    char *svg = slurp("p.svg", NULL);
    if (svg == NULL) {
        lt_check(0, "plot's file exists");
        return;
    }
    int curves = 0, points = 0, bad = 0;
    for (const char *p = strstr(svg, "<polyline"); p; p = strstr(p + 1, "<polyline")) {
        int deriv = strncmp(strstr(p, "class=\"") + 7, "derivative", 10) == 0;
        double alpha = strtod(strstr(p, "data-alpha=\"") + 12, NULL);
        const char *q = strstr(p, "data-points=\"") + 13;
        ++curves;
        while (*q != '"') {
            char *end;
            float x = (float)strtod(q, &end), y = (float)strtod(end + 1, &end), want, one = 1;
            if (deriv)
                lrelu_ref_backward(LRELU_F32, 1, alpha, &x, &one, &want);
            else
                lrelu_ref_forward(LRELU_F32, 1, alpha, &x, &want);
            bad += memcmp(&want, &y, sizeof y) != 0;
            ++points;
            q = *end == ' ' ? end + 1 : end;
        }
    }
    free(svg);
    lt_check(curves == 6 && points == 6 * 57, "plot draws f and f' for each slope at every point");
    lt_check(bad == 0, "plot's points are the reference's values, bit for bit");
    lt_check(run("plot --points 1") == 2 && run("plot --range 3:1") == 2 && run("plot --help") == 0,
             "plot: usage errors exit 2, --help 0");
}

/* ---- .npy files written by hand, independently of the tool's reader ---- */

static void write_npy(const char *name, const char *descr, const char *shape, const void *data,
                      size_t bytes, const char *fortran)
{
    char path[512], dict[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    int dl = snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': %s, 'shape': %s, }",
                      descr, fortran, shape);
    size_t pad = (64 - (10 + (size_t)dl + 1) % 64) % 64, hlen = (size_t)dl + pad + 1;
    FILE *f = fopen(path, "wb");
    unsigned char pre[10] = {
        0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, (unsigned char)hlen, (unsigned char)(hlen >> 8)};
    fwrite(pre, 1, 10, f);
    fwrite(dict, 1, (size_t)dl, f);
    for (size_t i = 0; i < pad; ++i)
        fputc(' ', f);
    fputc('\n', f);
    if (bytes > 0)
        fwrite(data, 1, bytes, f);
    fclose(f);
}

/* The data of an .npy file the tool wrote, after checking its descr and shape text. */
static void *read_npy(const char *name, const char *descr, const char *shape, size_t bytes)
{
    size_t len;
    char *b = slurp(name, &len);
    if (b == NULL || memcmp(b, "\x93NUMPY", 6) != 0)
        return NULL;
    size_t hlen = (size_t)(unsigned char)b[8] | (size_t)(unsigned char)b[9] << 8;
    char want_d[64], want_s[64];
    snprintf(want_d, sizeof want_d, "'descr': '%s'", descr);
    snprintf(want_s, sizeof want_s, "'shape': %s", shape);
    /* the header is text, but the bytes before it hold the version's zero byte */
    char *h = malloc(hlen + 1);
    if (h == NULL || len < 10 + hlen)
        lt_die("read_npy");
    memcpy(h, b + 10, hlen);
    h[hlen] = '\0';
    int ok = len == 10 + hlen + bytes && strstr(h, want_d) && strstr(h, want_s) &&
             strstr(h, "'fortran_order': False") && (10 + hlen) % 64 == 0;
    free(h);
    if (!ok) {
        free(b);
        return NULL;
    }
    unsigned char *d = malloc(bytes ? bytes : 1);
    memcpy(d, b + 10 + hlen, bytes);
    free(b);
    return d;
}

static void test_apply(void)
{
    static const struct {
        lrelu_dtype t;
        const char *descr, *flag;
    } kinds[] = {{LRELU_F32, "<f4", ""},
                 {LRELU_F64, "<f8", ""},
                 {LRELU_F16, "<f2", ""},
                 {LRELU_BF16, "<u2", "--dtype bf16"},
                 {LRELU_BF16, "<V2", "--dtype bf16"}};
    uint64_t rng = 99;
    enum { N = 2 * 3 * 5 };
    for (int k = 0; k < 5; ++k) {
        lrelu_dtype t = kinds[k].t;
        size_t es = lrelu_dtype_size(t);
        unsigned char x[N * 8], dy[N * 8], want[N * 8];
        lt_fill(t, x, N, &rng, 0, 0);
        lt_fill(t, dy, N, &rng, 1, 0);
        write_npy("x.npy", kinds[k].descr, "(2, 3, 5)", x, N * es, "False");
        write_npy("dy.npy", kinds[k].descr, "(2, 3, 5)", dy, N * es, "False");
        for (int mode = 0; mode < 3; ++mode) {
            static const char *flags[] = {"", "--backward", "--backward-from-output"};
            char args[1024];
            snprintf(args, sizeof args, "apply %s %s --alpha 0.2 '%s/x.npy' %s%s%s '%s/o.npy'",
                     flags[mode], kinds[k].flag, dir, mode ? "'" : "", mode ? dir : "",
                     mode ? "/dy.npy'" : "", dir);
            int rc = run(args);
            if (mode == 0)
                lrelu_ref_forward(t, N, 0.2, x, want);
            else if (mode == 1)
                lrelu_ref_backward(t, N, 0.2, x, dy, want);
            else
                lrelu_ref_backward_from_output(t, N, 0.2, x, dy, want);
            unsigned char *got = read_npy("o.npy", kinds[k].descr, "(2, 3, 5)", N * es);
            int same = got != NULL && rc == 0;
            for (size_t i = 0; same && i < N; ++i)
                same = lt_same(t, want + i * es, got + i * es, 0);
            free(got);
            char what[128];
            snprintf(what, sizeof what, "apply %s %s round trip", flags[mode], kinds[k].descr);
            lt_check(same, what);
            rm_file("o.npy");
        }
    }
    /* blending into the old output, PReLU and bias_act along axis 1 of (2, 3, 5) */
    {
        float x[N], dy[N], old[N], per[3] = {0.5f, -2.0f, 0.0f}, want[N];
        lt_fill(LRELU_F32, x, N, &rng, 0, 0);
        lt_fill(LRELU_F32, dy, N, &rng, 0, 5);
        lt_fill(LRELU_F32, old, N, &rng, 0, 9);
        write_npy("x.npy", "<f4", "(2, 3, 5)", x, sizeof x, "False");
        write_npy("dy.npy", "<f4", "(2, 3, 5)", dy, sizeof dy, "False");
        write_npy("o.npy", "<f4", "(2, 3, 5)", old, sizeof old, "False");
        write_npy("p.npy", "<f4", "(3,)", per, sizeof per, "False");
        lrelu_layout l = {2, 3, 5};
        lrelu_bias_act ba = {0.2, 2.0, 0.5};
        lrelu_opts o = {LRELU_BLEND, 0.5, 1.0, 0, 0, 0};
        static const char *what[] = {"apply --scale --beta blends into the old output",
                                     "apply --slope: PReLU along axis 1",
                                     "apply --backward --bias: bias_act's dx"};
        for (int c = 0; c < 3; ++c) {
            char args[1536];
            if (c == 0) {
                snprintf(args, sizeof args,
                         "apply --alpha 0.2 --scale 0.5 --beta 1 '%s/x.npy' '%s/o.npy'", dir, dir);
                memcpy(want, old, sizeof want);
                lrelu_ref_forward_ex(LRELU_F32, N, 0.2, &o, x, want);
            } else if (c == 1) {
                snprintf(args, sizeof args, "apply --slope '%s/p.npy' '%s/x.npy' '%s/o.npy'", dir,
                         dir, dir);
                lrelu_ref_prelu_forward(LRELU_F32, l, x, per, want);
            } else {
                snprintf(args, sizeof args,
                         "apply --backward --alpha 0.2 --bias '%s/p.npy' --gain 2 --limit 0.5 "
                         "--axis 1 '%s/x.npy' '%s/dy.npy' '%s/o.npy'",
                         dir, dir, dir, dir);
                lrelu_ref_bias_act_backward(LRELU_F32, l, ba, x, per, dy, want, NULL);
            }
            int rc = run(args);
            float *got = read_npy("o.npy", "<f4", "(2, 3, 5)", rc == 0 ? sizeof want : 0);
            int same = got != NULL;
            for (size_t i = 0; same && i < N; ++i)
                same = lt_same(LRELU_F32, &want[i], &got[i], 0);
            free(got);
            lt_check(same, what[c]);
        }
        char args[1024];
        snprintf(args, sizeof args, "apply --slope '%s/x.npy' '%s/x.npy' '%s/o.npy'", dir, dir,
                 dir);
        lt_check(run(args) == 1 && contains("err.txt", "one per channel"),
                 "apply --slope rejects a file of the wrong length");
        lt_check(run("apply --slope p.npy --beta 1 x.npy o.npy") == 2 &&
                     run("apply --scale nan x.npy o.npy") == 2,
                 "apply: per-channel with blending, or a NaN factor, is a usage error");
        rm_file("o.npy");
        rm_file("p.npy");
    }
    /* the quantized forward over int8 and uint8 files */
    {
        unsigned char q[N], want[N];
        for (int i = 0; i < N; ++i)
            q[i] = (unsigned char)(i * 37 + 11);
        static const char *descr[] = {"|i1", "|u1"};
        for (int k = 0; k < 2; ++k) {
            write_npy("q.npy", descr[k], "(2, 3, 5)", q, N, "False");
            lrelu_quant in = {0.05, k ? 130 : 2}, out = {0.04, k ? 120 : -3};
            char args[1536];
            snprintf(args, sizeof args,
                     "apply --alpha 0.2 --q8 0.05:%d:0.04:%d '%s/q.npy' '%s/o.npy'", in.zero_point,
                     out.zero_point, dir, dir);
            int rc = run(args);
            lrelu_ref_forward_q8(k ? LRELU_QU8 : LRELU_QS8, N, 0.2, in, out, q, want);
            unsigned char *got = read_npy("o.npy", descr[k], "(2, 3, 5)", rc == 0 ? N : 0);
            lt_check(got != NULL && memcmp(got, want, N) == 0,
                     k ? "apply --q8 on uint8" : "apply --q8 on int8");
            free(got);
            rm_file("o.npy");
        }
        char args[1024];
        snprintf(args, sizeof args, "apply '%s/q.npy' '%s/o.npy'", dir, dir);
        lt_check(run(args) == 1 && contains("err.txt", "need --q8"),
                 "apply: int8 data without --q8 is refused");
        snprintf(args, sizeof args, "apply --q8 1:0:1:300 '%s/q.npy' '%s/o.npy'", dir, dir);
        lt_check(run(args) == 1 && contains("err.txt", "LRELU_ERR_INVALID_ARG"),
                 "apply --q8 reports a bad zero point by status");
        lt_check(run("apply --q8 1:0:1 q.npy o.npy") == 2 &&
                     run("apply --backward --q8 1:0:1:0 q.npy q.npy o.npy") == 2,
                 "apply: a malformed --q8, or --q8 with --backward, is a usage error");
        rm_file("q.npy");
    }
    /* an empty array and a 0-d array */
    float one = -3.0f, want = -0.6f;
    write_npy("s.npy", "<f4", "()", &one, 4, "False");
    char args[1024];
    snprintf(args, sizeof args, "apply --alpha 0.2 '%s/s.npy' '%s/o.npy'", dir, dir);
    float *got = read_npy("o.npy", "<f4", "()", run(args) == 0 ? 4 : 0);
    lt_check(got != NULL && memcmp(got, &want, 4) == 0, "apply on a 0-d array");
    free(got);
    write_npy("e.npy", "<f4", "(0,)", NULL, 0, "False");
    snprintf(args, sizeof args, "apply '%s/e.npy' '%s/o.npy'", dir, dir);
    lt_check(run(args) == 0 && (got = read_npy("o.npy", "<f4", "(0,)", 0)) != NULL,
             "apply on an empty array");
    free(got);

    /* bad files: exit 1, the file named, no output left behind */
    float data[6] = {1, -2, 3, -4, 5, -6};
    struct {
        const char *what, *descr, *shape, *fortran, *flag;
        size_t bytes;
    } bad[] = {
        {"Fortran order", "<f4", "(2, 3)", "True", "", 24},
        {"truncated data", "<f4", "(2, 3)", "False", "", 20},
        {"trailing data", "<f4", "(2, 2)", "False", "", 24},
        {"integer dtype", "<i4", "(2, 3)", "False", "", 24},
        {"int8 without --q8", "|i1", "(2, 3)", "False", "", 6},
        {"big-endian floats", ">f4", "(2, 3)", "False", "", 24},
        {"16-bit patterns without --dtype bf16", "<u2", "(2, 3)", "False", "", 12},
        {"dtype that contradicts --dtype", "<f4", "(2, 3)", "False", "--dtype f64", 24},
        {"malformed shape", "<f4", "(2, x)", "False", "", 24},
        /* found by tests/fuzz/fuzz_npy: the shape must not make the reader allocate */
        {"a shape far larger than the file", "<f4", "(1000000000000, 1000)", "False", "", 24},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; ++i) {
        write_npy("bad.npy", bad[i].descr, bad[i].shape, data, bad[i].bytes, bad[i].fortran);
        rm_file("o.npy");
        snprintf(args, sizeof args, "apply %s '%s/bad.npy' '%s/o.npy'", bad[i].flag, dir, dir);
        int rc = run(args);
        char what[160];
        snprintf(what, sizeof what, "apply rejects %s (exit 1, names the file, no output)",
                 bad[i].what);
        lt_check(rc == 1 && contains("err.txt", "bad.npy") && !exists("o.npy") &&
                     !exists("o.npy.partial"),
                 what);
    }
    {
        char path[512];
        snprintf(path, sizeof path, "%s/junk.npy", dir);
        FILE *f = fopen(path, "wb");
        fputs("PK\x03\x04 not numpy at all", f);
        fclose(f);
        snprintf(args, sizeof args, "apply '%s/junk.npy' '%s/o.npy'", dir, dir);
        lt_check(run(args) == 1 && contains("err.txt", "magic") && !exists("o.npy"),
                 "apply rejects a file that is not .npy");
        snprintf(args, sizeof args, "apply '%s/missing.npy' '%s/o.npy'", dir, dir);
        lt_check(run(args) == 1 && contains("err.txt", "missing.npy"), "apply: a missing file");
        /* dy of another shape */
        write_npy("x.npy", "<f4", "(6,)", data, 24, "False");
        write_npy("dy.npy", "<f4", "(3, 2)", data, 24, "False");
        snprintf(args, sizeof args, "apply --backward '%s/x.npy' '%s/dy.npy' '%s/o.npy'", dir, dir,
                 dir);
        lt_check(run(args) == 1 && contains("err.txt", "shape") && !exists("o.npy"),
                 "apply rejects a dy of another shape");
        snprintf(args, sizeof args,
                 "apply --backward-from-output --alpha -1 '%s/x.npy' '%s/x.npy' '%s/o.npy'", dir,
                 dir, dir);
        lt_check(run(args) == 1 && contains("err.txt", "LRELU_ERR_INVALID_ARG") && !exists("o.npy"),
                 "apply reports the library's status by name");
    }
    lt_check(run("apply") == 2 && run("apply a.npy") == 2 && run("apply --dtype f8 a b") == 2 &&
                 run("apply --help") == 0,
             "apply: usage errors exit 2, --help 0");
}

/* A usage error says what is wrong in its first line of stderr, before the usage text:
 * exit 2, the line naming `why`, "usage:" on a later line. */
static void usage_says(const char *args, const char *why)
{
    char what[512];
    snprintf(what, sizeof what, "lrelu %s: exits 2 saying \"%s\" before the usage text", args, why);
    int code = run(args);
    char *err = slurp("err.txt", NULL);
    char *nl = err != NULL ? strchr(err, '\n') : NULL;
    int ok = code == 2 && nl != NULL;
    if (ok) {
        *nl = '\0';
        ok = strstr(err, why) != NULL && strncmp(err, "lrelu", 5) == 0 &&
             strstr(nl + 1, "usage:") != NULL;
    }
    if (!ok)
        printf("  got exit %d, stderr: %s\n", code, err ? err : "(none)");
    lt_check(ok, what);
    free(err);
}

static void test_usage_errors(void)
{
    usage_says("apply --alpha nan x.npy y.npy", "--alpha wants a finite number, not 'nan'");
    usage_says("plot --range 5:-5", "--range 5:-5 is empty");
    usage_says("plot --points 0", "--points wants a whole number");
    usage_says("plot --range a:b", "--range wants LO:HI");
    usage_says("plot --alpha 1,inf", "--alpha wants finite numbers");
    usage_says("plot --bogus 1", "unknown option '--bogus'");
    usage_says("plot -o", "'-o' wants a value");
    usage_says("apply x.npy", "takes 2 files");
    usage_says("apply --backward x.npy y.npy", "takes 3 files");
    usage_says("apply --dtype f8 a b", "--dtype is f32, f16, bf16 or f64, not 'f8'");
    usage_says("apply --scale nan x.npy o.npy", "--scale wants a number, not 'nan'");
    usage_says("apply --q8 1:0:1 q.npy o.npy", "--q8 wants SCALE_IN:ZERO_IN:SCALE_OUT:ZERO_OUT");
    usage_says("apply --backward --q8 1:0:1:0 q.npy q.npy o.npy", "--q8 is a forward");
    usage_says("apply --slope p.npy --beta 1 x.npy o.npy", "--slope does not go with --scale");
    usage_says("apply --axis -1 x.npy o.npy", "--axis wants an axis number");
    usage_says("demo --alpha x", "--alpha wants a finite number, not 'x'");
    usage_says("demo --bogus", "unknown option '--bogus'");
    usage_says("tune --bogus", "takes only --device SEL");
    usage_says("devices -x", "takes no options");
    usage_says("", "no command given");
    usage_says("nonsense", "unknown command 'nonsense'");
}

int main(int argc, char **argv)
{
    if (argc != 2)
        lt_die("usage: test_cli PATH-TO-lrelu");
    exe = argv[1];
    snprintf(dir, sizeof dir, "/tmp/lrelu-cli-XXXXXX");
    if (mkdtemp(dir) == NULL)
        lt_die("mkdtemp");
    test_devices();
    test_tune();
    test_demo();
    test_plot();
    test_apply();
    test_usage_errors();
    lt_check(run("") == 2 && run("nonsense") == 2 && run("--help") == 0 &&
                 run("demo --help") == 0 && run("devices --help") == 0 && run("tune --help") == 0,
             "top level: usage errors exit 2, --help 0");
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        printf("note: could not remove %s\n", dir);
    return lt_report(lt_passed, lt_failed);
}
