/* onednn.c: oneDNN's CPU eltwise_relu (alpha = the negative slope) as a baseline of the
 * benchmark, on the same host arrays the host-memory API runs on. Built when CMake finds
 * oneDNN (Debian: libdnnl-dev). */
#include "onednn.h"

#include <dnnl.h>
#include <stdlib.h>
#include <string.h>

struct onednn_op {
    dnnl_engine_t engine;
    dnnl_stream_t stream;
    dnnl_primitive_desc_t fwd_pd, pd;
    dnnl_primitive_t prim;
    dnnl_memory_t mem[3];
    dnnl_exec_arg_t args[3];
    int nargs;
};

void onednn_destroy(onednn_op *o)
{
    if (o == NULL)
        return;
    for (int i = 0; i < 3; ++i)
        if (o->mem[i])
            dnnl_memory_destroy(o->mem[i]);
    if (o->prim)
        dnnl_primitive_destroy(o->prim);
    if (o->pd)
        dnnl_primitive_desc_destroy(o->pd);
    if (o->fwd_pd)
        dnnl_primitive_desc_destroy(o->fwd_pd);
    if (o->stream)
        dnnl_stream_destroy(o->stream);
    if (o->engine)
        dnnl_engine_destroy(o->engine);
    free(o);
}

onednn_op *onednn_create(int backward, size_t n, const float *x, const float *dy, float *out,
                         float alpha)
{
    onednn_op *o = calloc(1, sizeof *o);
    if (o == NULL)
        return NULL;
    dnnl_memory_desc_t md;
    dnnl_dims_t dims = {(dnnl_dim_t)n};
    dnnl_eltwise_desc_t fd, bd;
    memset(&md, 0, sizeof md);
    memset(&fd, 0, sizeof fd);
    memset(&bd, 0, sizeof bd);
    int ok = dnnl_engine_create(&o->engine, dnnl_cpu, 0) == dnnl_success &&
             dnnl_stream_create(&o->stream, o->engine, dnnl_stream_default_flags) == dnnl_success &&
             dnnl_memory_desc_init_by_tag(&md, 1, dims, dnnl_f32, dnnl_a) == dnnl_success &&
             dnnl_eltwise_forward_desc_init(
                 &fd, backward ? dnnl_forward_training : dnnl_forward_inference, dnnl_eltwise_relu,
                 &md, alpha, 0.0f) == dnnl_success &&
             dnnl_primitive_desc_create(&o->fwd_pd, &fd, NULL, o->engine, NULL) == dnnl_success;
    if (ok && backward)
        ok = dnnl_eltwise_backward_desc_init(&bd, dnnl_eltwise_relu, &md, &md, alpha, 0.0f) ==
                 dnnl_success &&
             dnnl_primitive_desc_create(&o->pd, &bd, NULL, o->engine, o->fwd_pd) == dnnl_success;
    ok = ok && dnnl_primitive_create(&o->prim, backward ? o->pd : o->fwd_pd) == dnnl_success;
    int kinds[3] = {DNNL_ARG_SRC, backward ? DNNL_ARG_DIFF_DST : DNNL_ARG_DST, DNNL_ARG_DIFF_SRC};
    o->nargs = backward ? 3 : 2;
    for (int i = 0; ok && i < o->nargs; ++i) {
        void *ptr = i == 0 ? (void *)x : (i == 1 && backward) ? (void *)dy : (void *)out;
        ok = dnnl_memory_create(&o->mem[i], &md, o->engine, ptr) == dnnl_success;
        o->args[i] = (dnnl_exec_arg_t){kinds[i], o->mem[i]};
    }
    if (!ok) {
        onednn_destroy(o);
        return NULL;
    }
    return o;
}

void onednn_run(onednn_op *o)
{
    dnnl_primitive_execute(o->prim, o->stream, o->nargs, o->args);
    dnnl_stream_wait(o->stream);
}
