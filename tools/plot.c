/* plot.c: `lrelu plot`, the graph of f(x) and f'(x) as SVG. Every point is computed on
 * the device through the library's device-buffer API (never on the host): axes through
 * the origin, ticks with labels, a legend entry per slope and curve, the formula in the
 * title. Each curve also carries its exact points, as C99 hex floats, in a data-points
 * attribute, so a test can compare them bit for bit with the reference. */
#include "cli.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define W  840.0
#define H  520.0
#define ML 70.0 /* margins */
#define MR 230.0
#define MT 60.0
#define MB 50.0

static const char *colors[] = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"};

/* A tick step of 1, 2 or 5 times a power of ten giving about 8 ticks. */
static double tick_step(double span)
{
    double raw = span / 8, p = pow(10, floor(log10(raw)));
    double m = raw / p;
    return (m < 1.5 ? 1 : m < 3.5 ? 2 : m < 7.5 ? 5 : 10) * p;
}

/* Runs forward and backward (dy = 1, so dx = f'(x)) over the points on the device. */
static int compute(lrelu_ctx *ctx, double alpha, const float *x, float *f, float *df, int n)
{
    cl_context cx = lrelu_cl_context(ctx);
    cl_command_queue q = lrelu_cl_queue(ctx);
    size_t bytes = (size_t)n * sizeof(float);
    float *ones = malloc(bytes);
    cl_int err = CL_SUCCESS;
    cl_mem bx = NULL, by = NULL, bdy = NULL, bdx = NULL;
    int rc = CLI_FAIL;
    if (ones == NULL)
        goto done;
    for (int i = 0; i < n; ++i)
        ones[i] = 1.0f;
    bx = clCreateBuffer(cx, CL_MEM_READ_ONLY | CL_MEM_COPY_HOST_PTR, bytes, (void *)x, &err);
    if (err == CL_SUCCESS)
        bdy = clCreateBuffer(cx, CL_MEM_READ_ONLY | CL_MEM_COPY_HOST_PTR, bytes, ones, &err);
    if (err == CL_SUCCESS)
        by = clCreateBuffer(cx, CL_MEM_WRITE_ONLY, bytes, NULL, &err);
    if (err == CL_SUCCESS)
        bdx = clCreateBuffer(cx, CL_MEM_WRITE_ONLY, bytes, NULL, &err);
    if (err != CL_SUCCESS) {
        fprintf(stderr, "lrelu: plot: clCreateBuffer failed (%d)\n", (int)err);
        goto done;
    }
    lrelu_status st = lrelu_forward(ctx, LRELU_F32, (size_t)n, alpha, bx, 0, by, 0, 0, NULL, NULL);
    if (st == LRELU_OK)
        st = lrelu_backward(ctx, LRELU_F32, (size_t)n, alpha, bx, 0, bdy, 0, bdx, 0, 0, NULL, NULL);
    if (st != LRELU_OK) {
        rc = cli_fail("plot", st);
        goto done;
    }
    if (clEnqueueReadBuffer(q, by, CL_TRUE, 0, bytes, f, 0, NULL, NULL) != CL_SUCCESS ||
        clEnqueueReadBuffer(q, bdx, CL_TRUE, 0, bytes, df, 0, NULL, NULL) != CL_SUCCESS) {
        fprintf(stderr, "lrelu: plot: reading the results failed\n");
        goto done;
    }
    rc = CLI_OK;
done:
    if (bdx)
        clReleaseMemObject(bdx);
    if (by)
        clReleaseMemObject(by);
    if (bdy)
        clReleaseMemObject(bdy);
    if (bx)
        clReleaseMemObject(bx);
    free(ones);
    return rc;
}

int cli_plot_svg(lrelu_ctx *ctx, const char *path, const double *alphas, int nalpha, double lo,
                 double hi, int points)
{
    size_t bytes = (size_t)points * sizeof(float);
    float *x = malloc(bytes), *f = calloc((size_t)points * (size_t)nalpha, sizeof(float)),
          *df = calloc((size_t)points * (size_t)nalpha, sizeof(float));
    if (x == NULL || f == NULL || df == NULL) {
        free(x), free(f), free(df);
        fprintf(stderr, "lrelu: plot: out of memory\n");
        return CLI_FAIL;
    }
    for (int i = 0; i < points; ++i)
        x[i] = (float)(lo + (hi - lo) * i / (points - 1));
    double ymin = 0, ymax = 0;
    for (int a = 0; a < nalpha; ++a) {
        if (compute(ctx, alphas[a], x, f + (size_t)a * points, df + (size_t)a * points, points) !=
            CLI_OK) {
            free(x), free(f), free(df);
            return CLI_FAIL;
        }
        for (int i = 0; i < points; ++i) {
            float v[2] = {f[(size_t)a * points + i], df[(size_t)a * points + i]};
            for (int k = 0; k < 2; ++k)
                if (isfinite(v[k])) {
                    ymin = v[k] < ymin ? v[k] : ymin;
                    ymax = v[k] > ymax ? v[k] : ymax;
                }
        }
    }
    if (ymax - ymin < 1e-9)
        ymax = ymin + 1;
    double pad = (ymax - ymin) * 0.06;
    ymin -= pad, ymax += pad;
    double pw = W - ML - MR, ph = H - MT - MB;
#define SX(v) (ML + ((v)-lo) / (hi - lo) * pw)
#define SY(v) (MT + (ymax - (v)) / (ymax - ymin) * ph)
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.partial", path);
    FILE *o = fopen(tmp, "w");
    if (o == NULL) {
        fprintf(stderr, "lrelu: plot: cannot create %s\n", path);
        free(x), free(f), free(df);
        return CLI_FAIL;
    }
    fprintf(o,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
            "viewBox=\"0 0 %.0f %.0f\" font-family=\"sans-serif\" font-size=\"13\">\n"
            "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n"
            "<text x=\"%.1f\" y=\"30\" font-size=\"16\" text-anchor=\"middle\">Leaky ReLU: "
            "f(x) = x &gt; 0 ? x : &#945;x, f&#8242;(x) = x &gt; 0 ? 1 : &#945;</text>\n",
            W, H, W, H, ML + pw / 2);
    /* grid, ticks and labels */
    double xs = tick_step(hi - lo), ys = tick_step(ymax - ymin);
    double ax = (lo <= 0 && hi >= 0) ? SX(0) : ML, ay = (ymin <= 0 && ymax >= 0) ? SY(0) : MT + ph;
    fprintf(o, "<g stroke=\"#e5e5e5\" stroke-width=\"1\">\n");
    for (long i = (long)ceil(lo / xs); i <= (long)floor(hi / xs + 1e-9); ++i) {
        double t = (double)i * xs;
        fprintf(o, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\"/>\n", SX(t), MT, SX(t),
                MT + ph);
    }
    for (long i = (long)ceil(ymin / ys); i <= (long)floor(ymax / ys + 1e-9); ++i) {
        double t = (double)i * ys;
        fprintf(o, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\"/>\n", ML, SY(t), ML + pw,
                SY(t));
    }
    fprintf(o,
            "</g>\n<g stroke=\"black\" stroke-width=\"1.2\">\n"
            "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\"/>\n"
            "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\"/>\n</g>\n",
            ML, ay, ML + pw, ay, ax, MT, ax, MT + ph);
    fprintf(o, "<g fill=\"#333\">\n");
    for (long i = (long)ceil(lo / xs); i <= (long)floor(hi / xs + 1e-9); ++i) {
        double t = (double)i * xs;
        double v = fabs(t) < xs * 1e-6 ? 0 : t;
        fprintf(o, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"black\"/>\n",
                SX(t), ay - 4, SX(t), ay + 4);
        if (v != 0)
            fprintf(o, "<text x=\"%.2f\" y=\"%.2f\" text-anchor=\"middle\">%g</text>\n", SX(t),
                    ay + 18, v);
    }
    for (long i = (long)ceil(ymin / ys); i <= (long)floor(ymax / ys + 1e-9); ++i) {
        double t = (double)i * ys;
        double v = fabs(t) < ys * 1e-6 ? 0 : t;
        fprintf(o, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"black\"/>\n",
                ax - 4, SY(t), ax + 4, SY(t));
        if (v != 0)
            fprintf(o, "<text x=\"%.2f\" y=\"%.2f\" text-anchor=\"end\">%g</text>\n", ax - 7,
                    SY(t) + 4, v);
    }
    fprintf(o, "<text x=\"%.2f\" y=\"%.2f\">x</text>\n</g>\n", ML + pw + 6, ay + 4);
    /* the curves and the legend */
    for (int a = 0; a < nalpha; ++a) {
        const char *c = colors[a % 6];
        for (int k = 0; k < 2; ++k) {
            const float *v = (k == 0 ? f : df) + (size_t)a * points;
            fprintf(o,
                    "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\"%s "
                    "class=\"%s\" data-alpha=\"%a\" data-points=\"",
                    c, k ? " stroke-dasharray=\"6 4\"" : "", k ? "derivative" : "function",
                    alphas[a]);
            for (int i = 0; i < points; ++i)
                fprintf(o, "%s%a,%a", i ? " " : "", (double)x[i], (double)v[i]);
            fprintf(o, "\" points=\"");
            for (int i = 0; i < points; ++i)
                if (isfinite(v[i]))
                    fprintf(o, "%.2f,%.2f ", SX(x[i]), SY(v[i]));
            fprintf(o, "\"/>\n");
            double ly = MT + 10 + (2 * a + k) * 22;
            fprintf(o,
                    "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
                    "stroke-width=\"2\"%s/>\n",
                    W - MR + 20, ly, W - MR + 50, ly, c, k ? " stroke-dasharray=\"6 4\"" : "");
            fprintf(o, "<text x=\"%.1f\" y=\"%.1f\">%s, &#945; = %g</text>\n", W - MR + 58, ly + 4,
                    k ? "f&#8242;(x)" : "f(x)", alphas[a]);
        }
    }
    fprintf(o, "</svg>\n");
    int ok = fclose(o) == 0;
    free(x), free(f), free(df);
    if (!ok || rename(tmp, path) != 0) {
        remove(tmp);
        fprintf(stderr, "lrelu: plot: cannot write %s\n", path);
        return CLI_FAIL;
    }
    return CLI_OK;
#undef SX
#undef SY
}

/* A usage error with its reason (cli_usage_error). */
#define BAD(...) cli_usage_error(plot_usage, "plot", __VA_ARGS__)

static int plot_usage(int code)
{
    fprintf(code ? stderr : stdout,
            "usage: lrelu plot [-o FILE] [--alpha A[,B...]] [--range LO:HI] [--points N]\n"
            "                  [--device SEL]\n"
            "The graph of f(x) and f'(x) for each slope as SVG, every point computed on the\n"
            "device. Defaults: -o leaky_relu.svg --alpha 0.01,0.2 --range -5:5 --points 201.\n");
    return code;
}

int cli_plot(int argc, char **argv)
{
    const char *out = "leaky_relu.svg", *device = NULL;
    double alphas[6] = {0.01, 0.2};
    int nalpha = 2, points = 201;
    double lo = -5, hi = 5;
    for (int i = 1; i < argc; ++i) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--help") == 0)
            return plot_usage(CLI_OK);
        if (v == NULL)
            return BAD(strncmp(a, "-", 1) == 0 ? "'%s' wants a value" : "unexpected '%s'", a);
        ++i;
        char *end;
        if (strcmp(a, "-o") == 0) {
            out = v;
        } else if (strcmp(a, "--device") == 0) {
            device = v;
        } else if (strcmp(a, "--points") == 0) {
            long p = strtol(v, &end, 10);
            if (*end || end == v || p < 2 || p > 1000000)
                return BAD("--points wants a whole number from 2 to 1000000, not '%s'", v);
            points = (int)p;
        } else if (strcmp(a, "--range") == 0) {
            lo = strtod(v, &end);
            if (*end != ':' || end == v)
                return BAD("--range wants LO:HI, not '%s'", v);
            const char *h = end + 1;
            hi = strtod(h, &end);
            if (*end || end == h || !isfinite(lo) || !isfinite(hi))
                return BAD("--range wants LO:HI, two finite numbers, not '%s'", v);
            if (!(hi > lo))
                return BAD("--range %s is empty: HI must be above LO", v);
        } else if (strcmp(a, "--alpha") == 0) {
            nalpha = 0;
            for (const char *p = v; *p && nalpha < 6;) {
                alphas[nalpha++] = strtod(p, &end);
                if (end == p || (*end && *end != ',') || !isfinite(alphas[nalpha - 1]))
                    return BAD("--alpha wants finite numbers separated by commas, not '%s'", v);
                p = *end ? end + 1 : end;
            }
        } else {
            return BAD("unknown option '%s'", a);
        }
    }
    lrelu_ctx *ctx = NULL;
    lrelu_status st = lrelu_create(&ctx, device);
    if (st != LRELU_OK)
        return cli_fail("plot", st);
    int rc = cli_plot_svg(ctx, out, alphas, nalpha, lo, hi, points);
    lrelu_destroy(ctx);
    if (rc == CLI_OK)
        printf("wrote %s\n", out);
    return rc;
}
