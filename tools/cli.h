/* cli.h: what the lrelu command's files share. */
#ifndef LRELU_CLI_H
#define LRELU_CLI_H

#include "lrelu.h"

#include <stddef.h>

/* Exit codes of every subcommand. */
#define CLI_OK    0
#define CLI_FAIL  1 /* a runtime failure: device, file, data */
#define CLI_USAGE 2 /* the command line is wrong */

#define NPY_MAX_DIMS 16

typedef struct {
    char descr[16]; /* '<f4', '<f8', '<f2', '<u2', '<V2' */
    int ndim;
    size_t dims[NPY_MAX_DIMS];
    size_t count; /* elements */
    size_t elem;  /* bytes per element */
    void *data;
} npy_array;

/* 0, or -1 with a message in err. */
int npy_read(const char *path, npy_array *a, char *err, size_t errlen);
/* Writes through a temporary file and a rename: the target appears whole or not at all. */
int npy_write(const char *path, const npy_array *a, char *err, size_t errlen);
void npy_free(npy_array *a);

/* Prints "lrelu: what: STATUS: phrase" and the last error to stderr; returns CLI_FAIL. */
int cli_fail(const char *what, lrelu_status st);
/* A usage error: "lrelu CMD: why" on one line of stderr, then the subcommand's usage text
 * (usage(CLI_USAGE)); returns CLI_USAGE. */
int cli_usage_error(int (*usage)(int), const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* plot.c: writes the SVG graph of f and f' for each slope, every point computed on the
 * ctx's device. 0 or CLI_FAIL. */
int cli_plot_svg(lrelu_ctx *ctx, const char *path, const double *alphas, int nalpha, double lo,
                 double hi, int points);
int cli_plot(int argc, char **argv);
int cli_apply(int argc, char **argv);

#endif
