/* mpi_data_parallel.c: one data-parallel training step of a PReLU layer over MPI, whose
 * slope gradient is bit for bit the single-process one whatever the number of ranks.
 *
 * Every rank makes the same global batch (a stand-in for a data loader), takes its shard
 * of the batch, cut along outer at block boundaries (multiples of 256 / gcd(inner, 256)
 * rows), and runs the forward and the backward on its device (local rank r takes GPU
 * r % GPUs; without a GPU, the default device; $LRELU_DEVICE overrides). The backward
 * leaves its block sums rather than the finished slope gradient
 * (lrelu_prelu_backward_blocks); the ranks gather every rank's sums in rank order
 * (MPI_Allgatherv) and each adds them with lrelu_chan_sums_combine, in the order one
 * process would have: the gradient is the same on every rank and equal, bit for bit, to
 * the single-process reference, at any number of ranks. An all-reduce of each rank's
 * own gradient would round differently for every rank count.
 *
 *   mpirun -np 3 ./example_mpi_data_parallel
 *
 * Checks y and dx of its shard and the gradient against the CPU reference over the whole
 * batch; exits 0 on every rank when all match. */
#include <lrelu.h>

#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { BATCH = 48, C = 16, HW = 64 }; /* NCHW: (BATCH, C, 8 x 8); 4 rows a block */

static float value(unsigned *s)
{
    *s = *s * 1664525u + 1013904223u;
    return (float)(*s >> 8) / (float)(1u << 24) * 4.0f - 2.0f;
}

/* A selector for this rank: GPU (local rank % GPUs) as "P:D", or NULL (the default;
 * also where $LRELU_DEVICE is set, which lrelu_create reads). */
static const char *device_for(int local_rank, char *buf, size_t len)
{
    const char *env = getenv("LRELU_DEVICE");
    cl_platform_id plats[16];
    cl_uint np = 0;
    if ((env != NULL && env[0] != '\0') || clGetPlatformIDs(16, plats, &np) != CL_SUCCESS)
        return NULL;
    np = np < 16 ? np : 16;
    int gpus = 0;
    for (int pass = 0; pass < 2; ++pass) { /* count the GPUs, then pick one */
        int k = 0;
        for (cl_uint p = 0; p < np; ++p) {
            cl_device_id devs[64];
            cl_uint nd = 0;
            if (clGetDeviceIDs(plats[p], CL_DEVICE_TYPE_ALL, 64, devs, &nd) != CL_SUCCESS)
                continue;
            for (cl_uint d = 0; d < nd && d < 64; ++d) {
                cl_device_type type = 0;
                if (clGetDeviceInfo(devs[d], CL_DEVICE_TYPE, sizeof type, &type, NULL) !=
                        CL_SUCCESS ||
                    !(type & CL_DEVICE_TYPE_GPU))
                    continue;
                if (pass == 1 && k == local_rank % gpus) {
                    snprintf(buf, len, "%u:%u", p, d);
                    return buf;
                }
                ++k;
            }
        }
        if ((gpus = k) == 0)
            return NULL;
    }
    return NULL;
}

static int fail(const char *what)
{
    fprintf(stderr, "%s: %s\n", what, lrelu_last_error());
    MPI_Abort(MPI_COMM_WORLD, 1);
    return 1;
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    int rank = 0, size = 1, local = 0;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    MPI_Comm node;
    MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, rank, MPI_INFO_NULL, &node);
    MPI_Comm_rank(node, &local);
    MPI_Comm_free(&node);

    /* the global batch, the same on every rank */
    enum { N = BATCH * C * HW };
    static float x[N], dy[N], slope[C], want_dx[N], want_ds[C];
    unsigned s = 2026;
    for (int i = 0; i < N; ++i)
        x[i] = value(&s), dy[i] = value(&s);
    for (int c = 0; c < C; ++c)
        slope[c] = 0.25f * value(&s);
    const lrelu_layout whole = {BATCH, C, HW};
    lrelu_ref_prelu_backward(LRELU_F32, whole, x, slope, dy, want_dx, want_ds);

    /* this rank's rows: whole blocks of 256 / gcd(HW, 256) = 4 rows */
    const int q = 4, units = BATCH / q;
    if (size > units) {
        if (rank == 0)
            fprintf(stderr, "at most %d ranks: one shard of %d rows each\n", units, q);
        MPI_Finalize();
        return 2;
    }
    int first = units * rank / size * q, last = units * (rank + 1) / size * q;
    lrelu_layout mine = {(size_t)(last - first), C, HW};
    size_t n = mine.outer * C * HW, at = (size_t)first * C * HW;

    char sel[32];
    lrelu_ctx *ctx = NULL;
    if (lrelu_create(&ctx, device_for(local, sel, sizeof sel)) != LRELU_OK)
        return fail("lrelu_create");
    char name[128] = "";
    clGetDeviceInfo(lrelu_cl_device(ctx), CL_DEVICE_NAME, sizeof name - 1, name, NULL);
    cl_context cx = lrelu_cl_context(ctx);
    cl_command_queue queue = lrelu_cl_queue(ctx);
    size_t nb = lrelu_chan_blocks(mine), sums = C * nb;
    float *y = malloc(n * sizeof *y), *dx = malloc(n * sizeof *dx);
    float *blocks = malloc(sums * sizeof *blocks);
    if (y == NULL || dx == NULL || blocks == NULL)
        return fail("malloc");
    cl_int err;
    cl_mem bx = clCreateBuffer(cx, CL_MEM_READ_ONLY | CL_MEM_COPY_HOST_PTR, n * 4, x + at, &err);
    cl_mem bdy = clCreateBuffer(cx, CL_MEM_READ_ONLY | CL_MEM_COPY_HOST_PTR, n * 4, dy + at, &err);
    cl_mem bs =
        clCreateBuffer(cx, CL_MEM_READ_ONLY | CL_MEM_COPY_HOST_PTR, sizeof slope, slope, &err);
    cl_mem by = clCreateBuffer(cx, CL_MEM_READ_WRITE, n * 4, NULL, &err);
    cl_mem bdx = clCreateBuffer(cx, CL_MEM_READ_WRITE, n * 4, NULL, &err);
    cl_mem bb = clCreateBuffer(cx, CL_MEM_READ_WRITE, sums * 4, NULL, &err);
    if (err != CL_SUCCESS)
        return fail("clCreateBuffer");

    /* forward and backward on the device, chained by events; the block sums, not dslope */
    cl_event fwd = NULL, bwd = NULL;
    if (lrelu_prelu_forward(ctx, LRELU_F32, mine, bx, 0, bs, 0, by, 0, 0, NULL, &fwd) != LRELU_OK)
        return fail("lrelu_prelu_forward");
    if (lrelu_prelu_backward_blocks(ctx, LRELU_F32, mine, bx, 0, bs, 0, bdy, 0, bdx, 0, bb, 1, &fwd,
                                    &bwd) != LRELU_OK)
        return fail("lrelu_prelu_backward_blocks");
    if (clEnqueueReadBuffer(queue, by, CL_FALSE, 0, n * 4, y, 0, NULL, NULL) != CL_SUCCESS ||
        clEnqueueReadBuffer(queue, bdx, CL_FALSE, 0, n * 4, dx, 1, &bwd, NULL) != CL_SUCCESS ||
        clEnqueueReadBuffer(queue, bb, CL_TRUE, 0, sums * 4, blocks, 1, &bwd, NULL) != CL_SUCCESS)
        return fail("clEnqueueReadBuffer");

    /* every rank's block sums, in rank order: the order of the whole batch's terms */
    int *counts = malloc((size_t)size * sizeof *counts),
        *displs = malloc((size_t)size * sizeof *displs);
    size_t *nbs = malloc((size_t)size * sizeof *nbs);
    const void **parts = malloc((size_t)size * sizeof *parts);
    int my_count = (int)sums, total = 0;
    if (counts == NULL || displs == NULL || nbs == NULL || parts == NULL)
        return fail("malloc");
    MPI_Allgather(&my_count, 1, MPI_INT, counts, 1, MPI_INT, MPI_COMM_WORLD);
    for (int r = 0; r < size; ++r)
        displs[r] = total, total += counts[r];
    float *all = malloc((size_t)total * sizeof *all);
    if (all == NULL)
        return fail("malloc");
    MPI_Allgatherv(blocks, my_count, MPI_FLOAT, all, counts, displs, MPI_FLOAT, MPI_COMM_WORLD);
    for (int r = 0; r < size; ++r) {
        nbs[r] = (size_t)counts[r] / C;
        parts[r] = all + displs[r];
    }
    float dslope[C];
    if (lrelu_chan_sums_combine(LRELU_F32, C, (size_t)size, nbs, parts, dslope) != LRELU_OK)
        return fail("lrelu_chan_sums_combine");

    /* what the usual way gives: each rank's own gradient, then an all-reduce (shown,
     * not checked: it may match by chance) */
    float own[C], reduced[C];
    size_t one_nb = nb;
    const void *one_part = blocks;
    if (lrelu_chan_sums_combine(LRELU_F32, C, 1, &one_nb, &one_part, own) != LRELU_OK)
        return fail("lrelu_chan_sums_combine");
    MPI_Allreduce(own, reduced, C, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
    int differ = 0;
    for (int c = 0; c < C; ++c)
        differ += memcmp(&reduced[c], &want_ds[c], 4) != 0;

    /* the checks: this rank's y and dx, and the gradient, against one process's */
    static float want_y[N];
    lrelu_ref_prelu_forward(LRELU_F32, whole, x, slope, want_y);
    int ok = memcmp(y, want_y + at, n * 4) == 0 && memcmp(dx, want_dx + at, n * 4) == 0 &&
             memcmp(dslope, want_ds, sizeof dslope) == 0;
    printf("rank %d of %d on %s: rows [%d, %d), %zu block sums a channel: y, dx and dslope %s\n",
           rank, size, name, first, last, nb, ok ? "match one process bit for bit" : "DIFFER");
    int all_ok = 0;
    MPI_Allreduce(&ok, &all_ok, 1, MPI_INT, MPI_LAND, MPI_COMM_WORLD);
    if (rank == 0)
        printf("dslope[0] = %.9g on %d ranks: %s; an all-reduce of each rank's own gradient "
               "differs from it in %d of %d channels\n",
               (double)dslope[0], size,
               all_ok ? "every rank has the single-process gradient" : "FAILED", differ, C);

    clReleaseEvent(fwd);
    clReleaseEvent(bwd);
    clReleaseMemObject(bx), clReleaseMemObject(bdy), clReleaseMemObject(bs);
    clReleaseMemObject(by), clReleaseMemObject(bdx), clReleaseMemObject(bb);
    lrelu_destroy(ctx);
    free(y), free(dx), free(blocks), free(counts), free(displs), free(nbs), free(parts), free(all);
    MPI_Finalize();
    return all_ok ? 0 : 1;
}
